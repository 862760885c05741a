"""Language and intent recognition (`bot.nlu`): accuracy on labelled sets and behaviour rules."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.nlu import INTENTS, Recognition, recognise
from tests.nlu.score import score

HERE = Path(__file__).resolve().parent
LABELLED = HERE / "nlu" / "labelled.jsonl"
LANGUAGE_CASES = HERE / "nlu" / "language_cases.jsonl"
# Written blind for the question/complaint/recipient intents and the detail fields:
# the dev set was measured untouched, then its misses fixed by general rules; the
# unseen set was measured once, with the final recogniser (tests/nlu/README.md), and
# no test measures it again: only its absence from the n-gram training is checked.
DEV = HERE / "nlu" / "questions_dev.jsonl"
UNSEEN = HERE / "nlu" / "questions_unseen.jsonl"
# The intents the tuned sets were written for; the three newer ones appear there
# only where a line was relabelled.
ORIGINAL_INTENTS = set(INTENTS) - {"question", "complaint", "recipient"}
# Customer-voice phrasings written apart from the lexicons, each set measured untouched
# once (figures in tests/nlu/README.md), then the rules tuned on its misses by general
# rules: they are regression sets now, not a measure of unseen text. The n-gram model
# is trained on the first thirteen.
TUNED = sorted(
    (HERE / "nlu").glob("tuned*.jsonl"),
    key=lambda path: int(path.stem.removeprefix("tuned")),
)  # in the order they were written
# Tuned sets the n-gram model never trained on: they show what the fallback does on
# text it has not seen (the rules have).
NOT_IN_NGRAM = ("tuned14.jsonl", "tuned15.jsonl")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "nlu" / "examples.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _report(rows: list[dict[str, Any]]) -> tuple[float, float, str]:
    """Intent accuracy, language accuracy and a per-intent table with the misses."""
    per: dict[str, list[int]] = {name: [0, 0] for name in INTENTS}
    misses: list[str] = []
    intent_ok = language_ok = 0
    for row in rows:
        result = recognise(row["text"])
        per[row["intent"]][1] += 1
        if result.intent == row["intent"]:
            intent_ok += 1
            per[row["intent"]][0] += 1
        else:
            misses.append(f"  {row['intent']:>13} → {result.intent:<13} {row['text']}")
        if result.language == row["language"]:
            language_ok += 1
        else:
            misses.append(f"  language {row['language']} → {result.language}: {row['text']}")
    table = "\n".join(f"  {name:14} {ok}/{n}" for name, (ok, n) in per.items() if n)
    report = f"per intent:\n{table}\nmisses:\n" + "\n".join(misses)
    return intent_ok / len(rows), language_ok / len(rows), report


def test_labelled_set_is_large_balanced_and_separate_from_the_shared_examples() -> None:
    rows = _rows(LABELLED)
    assert len(rows) >= 600
    assert {row["intent"] for row in rows} == set(INTENTS)
    per_pair = Counter((row["intent"], row["language"]) for row in rows)
    assert min(per_pair.values()) >= 20, per_pair
    texts = [row["text"] for row in rows]
    assert len(set(texts)) == len(texts)
    if SHARED.exists():
        shared = {row["text"].casefold() for row in _rows(SHARED)}
        assert not shared & {t.casefold() for t in texts}


def test_accuracy_on_own_labelled_set() -> None:
    intent, language, report = _report(_rows(LABELLED))
    assert intent >= 0.95, f"intent accuracy {intent:.3f}\n{report}"
    assert language >= 0.98, f"language accuracy {language:.3f}\n{report}"


@pytest.mark.skipif(not SHARED.exists(), reason="shared examples not present")
def test_accuracy_on_shared_examples() -> None:
    intent, language, report = _report(_rows(SHARED))
    assert intent >= 0.95, f"intent accuracy {intent:.3f}\n{report}"
    assert language >= 0.95, f"language accuracy {language:.3f}\n{report}"


@pytest.mark.parametrize("path", TUNED, ids=lambda path: path.stem)
def test_accuracy_on_the_tuned_phrasings(path: Path) -> None:
    intent, language, report = _report(_rows(path))
    assert intent >= 0.95, f"{path.name}: intent accuracy {intent:.3f}\n{report}"
    assert language >= 0.98, f"{path.name}: language accuracy {language:.3f}\n{report}"


# Per-field thresholds on the blind set for the newer labels (figures in the README).
DEV_THRESHOLDS = {
    "intent": 0.95,
    "language": 0.98,
    "topic": 0.95,
    "topics": 0.95,
    "act": 0.97,
    "rights": 0.9,
    "purposes": 0.95,
    "field": 0.95,
}


def test_detail_accuracy_on_the_dev_set() -> None:
    tallies = score(_rows(DEV))
    low = {
        name: f"{t.ok}/{t.total}\n" + "\n".join(t.misses)
        for name, t in tallies.items()
        if t.total and t.ok / t.total < DEV_THRESHOLDS[name]
    }
    assert not low, low
    assert all(tallies[name].total >= 30 for name in DEV_THRESHOLDS), tallies


def test_tuned_sets_are_new_varied_and_cover_every_intent() -> None:
    known = {row["text"].casefold() for row in _rows(LABELLED)}
    if SHARED.exists():
        known |= {row["text"].casefold() for row in _rows(SHARED)}
    for path in TUNED:
        rows = _rows(path)
        texts = [row["text"].casefold() for row in rows]
        assert len(rows) >= 120, path.name
        assert len(set(texts)) == len(texts), path.name
        assert not known & set(texts), (path.name, sorted(known & set(texts)))
        assert {row["intent"] for row in rows} >= ORIGINAL_INTENTS, path.name
        per_language = Counter(row["language"] for row in rows)
        assert min(per_language["da"], per_language["en"]) >= len(rows) * 0.4, per_language
        known |= set(texts)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # the first step of a sequence is what is asked for now
        ("show me what you store about me and afterwards remove it all", "access"),
        ("giv mig en kopi af mine oplysninger og bagefter skal I slette dem", "access"),
        # a question word before the auxiliary still makes a status question
        ("hvornår bliver min profil fjernet?", "status"),
        ("have you removed my profile yet", "status"),
        # a negated "not a bot/machine" is a wish for a person, not a decision review
        ("I'd like a person to reply, not a robot", "handover"),
        # product words next to a rights verb are product questions
        ("how do I download the delivery report for yesterday's campaign", "other"),
        ("how do I remove a sender name from the dashboard", "other"),
        # keeping the account while stopping marketing is an objection
        ("I want to keep my profile, just no more promotional emails", "objection"),
        ("kan I blokere mine oplysninger mens sagen kører", "restriction"),
        ("jeg har ikke modtaget kopien af mine data endnu", "status"),
        # a hedge ("whether", "hvis jeg") weakens what follows it
        ("I'd like to see my data before I decide whether to remove my profile", "access"),
        # a question about using cookies is not an objection to them
        ("bruger I cookies til statistik?", "question"),
        ("jeg vil ikke have at I bruger cookies", "objection"),
        # what "isn't enough" or "not interested in" waves aside is not the wish
        ("Turning off the newsletter is not enough, erase my profile", "erasure"),
        ("ikke interesseret i at afmelde nyhedsbrevet, slet hele kontoen", "erasure"),
        ("don't just freeze it, remove everything", "erasure"),
        # "heller ikke" negates the verb before it, as "ikke" does
        ("I må ikke bruge mine data, men slet dem heller ikke", "restriction"),
        # "never mind" is no negation of what follows it
        ("never mind my export request, I no longer need it", "cancel"),
        # withdrawing a named request is a cancel, not that right again
        ("please disregard my erasure request", "cancel"),
        ("jeg trækker hermed min anmodning om indsigt af 3. juni tilbage", "cancel"),
        # "cancel my account" is closing it, whatever else the message mentions
        ("opsig min konto tak", "erasure"),
        ("Cancel my account, we no longer need SMS", "erasure"),
        # one misspelt word evoking two concepts is no combination of them
        ("remove my email from ur systems completly", "erasure"),
        # idioms whose words would otherwise mislead
        ("I was wondering if you could erase my data? We closed the shop.", "erasure"),
        ("vi har fundet ud af det selv, I kan bare droppe sagen", "cancel"),
        # asking what the bot can do gets the greeting with its capabilities
        ("what can you do?", "greeting"),
        ("hvad kan du hjælpe med?", "greeting"),
        # a language switch on its own is no right
        ("kan du skrive på engelsk?", "other"),
        ("can we switch to danish?", "other"),
        # how long data is kept is a policy question, also for "my" data; what is kept
        # about me is an access request
        ("How long do you retain SMS logs?", "question"),
        ("how long do you keep my personal data?", "question"),
        ("what data do you keep about me?", "access"),
    ],
)
def test_general_rules(text: str, intent: str) -> None:
    assert recognise(text).intent == intent


@pytest.mark.parametrize(("text", "intent"), [("jeg kan ikke finde min kvittering", "other")])
def test_fuzzy_matching_ignores_short_everyday_words(text: str, intent: str) -> None:
    result = recognise(text)
    assert result.intent == intent
    assert "greeting" not in result.explanation


def test_ngram_model_is_rebuilt_from_its_listed_training_files() -> None:
    """The shipped model must match its sources, none of which is an unseen set."""
    from bot.nlu.ngram import train
    from bot.nlu.train_ngram import is_unseen, main

    root = HERE.parent
    stored = json.loads((root / "bot" / "nlu" / "data" / "ngram.json").read_text("utf-8"))
    sources = stored["trained_on"]
    assert is_unseen(UNSEEN)
    assert not [source for source in sources if is_unseen(source)], sources
    assert not {f"tests/nlu/{name}" for name in NOT_IN_NGRAM} & set(sources), sources
    assert {path.name for path in TUNED} >= set(NOT_IN_NGRAM)
    rows = [row for source in sources for row in _rows(root / source)]
    assert train(rows, INTENTS, sources) == stored
    with pytest.raises(SystemExit) as usage:
        main([])  # no training files: a usage error
    assert usage.value.code == 2


def test_the_trainer_refuses_an_unseen_set_before_opening_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.nlu.train_ngram import main

    output = tmp_path / "model.json"
    for files in ([str(UNSEEN)], [str(LABELLED), str(tmp_path / "more_unseen.jsonl")]):
        with pytest.raises(SystemExit) as usage:
            main(["--output", str(output), *files])
        assert usage.value.code == 2
        assert "unseen set is never trained on" in capsys.readouterr().err
    assert not output.exists()


def test_ngram_fallback_only_when_the_rules_are_unsure() -> None:
    sure = recognise("Please delete my account")
    assert "n-grams" not in sure.explanation
    # no lexicon word says "access" here; the n-gram model does, and the bot still asks
    guess = recognise("I would like a dossier of everything")
    assert guess.intent == "access"
    assert "n-grams chose access" in guess.explanation
    assert guess.confidence < 0.6
    assert guess.alternatives[0][0] == "other"
    # the model cannot read negation, so it never overrules negated rule evidence
    negated = recognise("I don't want to delete my account anymore")
    assert negated.intent == "cancel"


def test_language_cases() -> None:
    rows = _rows(LANGUAGE_CASES)
    assert len(rows) >= 80
    wrong = [
        f"{row['text']!r} (hint {row.get('hint')}): expected {row['language']}, got {got}"
        for row in rows
        if (got := recognise(row["text"], hint=row.get("hint")).language) != row["language"]
    ]
    assert len(wrong) <= len(rows) * 0.02, "\n".join(wrong)


@pytest.mark.parametrize(
    ("text", "language"),
    [("hej", "da"), ("hi", "en"), ("tak", "da"), ("thanks", "en"), ("Hej!", "da")],
)
def test_very_short_texts_have_a_language(text: str, language: str) -> None:
    assert recognise(text, hint="da" if language == "en" else "en").language == language


@pytest.mark.parametrize("text", ["ok", "123", "👍", "!!!", "   "])
def test_hint_decides_only_without_evidence(text: str) -> None:
    assert recognise(text, hint="da").language == "da"
    assert recognise(text, hint="en").language == "en"
    assert recognise(text).language == "en"


def test_hint_does_not_override_evidence() -> None:
    assert recognise("thanks", hint="da").language == "en"
    assert recognise("slet min konto", hint="en").language == "da"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("don't delete anything, just change my email", "rectification"),
        ("I don't want to delete my account, just stop the newsletters", "objection"),
        ("Jeg vil ikke slette min konto, bare stoppe nyhedsbrevene", "objection"),
        ("I skal ikke slette noget, bare rette min adresse", "rectification"),
        ("Please don't use my data for marketing", "objection"),
        ("Kan I stoppe brugen af mine data uden at slette dem?", "restriction"),
        ("keep my data but don't process it", "restriction"),
        ("I no longer want my data exported", "cancel"),
        ("I don't want to talk to a bot", "handover"),
    ],
)
def test_negation(text: str, intent: str) -> None:
    assert recognise(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("jeg vil gerne se mine data", "access"),
        ("jeg vil aendre min email", "rectification"),
        ("sletning af mine oplysninger", "erasure"),
        ("begraens behandlingen af mine data", "restriction"),
        ("jeg vil ikke modtage markedsforing", "objection"),
        ("hvornaar faar jeg svar paa min anmodning", "status"),
    ],
)
def test_danish_without_diacritics(text: str, intent: str) -> None:
    result = recognise(text)
    assert (result.intent, result.language) == (intent, "da")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hvilke oplysniger har i om mig", "access"),
        ("deleet my acount", "erasure"),
        ("pls chnage my emial", "rectification"),
        ("cancle my request", "cancel"),
        ("slett min konto", "erasure"),
        ("unsubscibe me from the newsleter", "objection"),
    ],
)
def test_typos(text: str, intent: str) -> None:
    assert recognise(text).intent == intent


@pytest.mark.parametrize(
    ("text", "requested"),
    [
        ("english please", "en"),
        ("can you write in English", "en"),
        ("skriv på dansk", "da"),
        ("på dansk tak", "da"),
        ("dansk", "da"),
        ("Kan vi tage det på engelsk?", "en"),
        ("Do you have Danish phone numbers?", None),
        ("slet min konto", None),
        ("hello", None),
    ],
)
def test_language_switch_requests(text: str, requested: str | None) -> None:
    assert recognise(text).language_request == requested


@pytest.mark.parametrize(
    "text",
    [
        "How much does an SMS to Sweden cost?",
        "Hvordan får jeg en API-nøgle?",
        "do you support webhooks for delivery reports",
        "jeg kan ikke logge ind",
        "how do I change the sender name on my messages",
    ],
)
def test_product_questions_are_other(text: str) -> None:
    assert recognise(text).intent == "other"


def test_confidence_is_lower_for_ambiguous_and_multi_topic_messages() -> None:
    clear = recognise("Please delete my account")
    multi = recognise("change my email, delete my account and send me a copy of my data")
    vague = recognise("my data")
    assert clear.confidence >= 0.75
    assert multi.confidence < clear.confidence
    assert vague.confidence < 0.6
    assert len(multi.alternatives) >= 1


def test_alternatives_are_ranked_and_exclude_the_intent() -> None:
    result = recognise("I want to see my data and then delete it and stop the newsletter")
    names = [name for name, _score in result.alternatives]
    assert result.intent not in names
    assert len(names) <= 3
    scores = [score for _name, score in result.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_short_messages() -> None:
    assert recognise("hej").intent == "greeting"
    assert recognise("tak").intent == "greeting"
    assert recognise("stop").intent == "cancel"
    assert recognise("slet mig").intent == "erasure"
    assert recognise("👍").intent == "other"  # a yes: a reply, not a greeting
    assert recognise("👍").act == "yes"


def test_same_results_under_any_hash_seed() -> None:
    """Fuzzy look-ups must not depend on set iteration order (PYTHONHASHSEED)."""
    texts = [row["text"] for row in _rows(TUNED[0])]
    script = (
        "import json, sys\n"
        "from bot.nlu import recognise\n"
        "texts = json.load(sys.stdin)\n"
        "print(json.dumps([[recognise(t).intent, recognise(t).explanation] for t in texts]))\n"
    )
    outputs = []
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).resolve().parents[1],
            timeout=120,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


def test_deterministic() -> None:
    texts = [row["text"] for row in _rows(LABELLED)[:50]]
    first = [recognise(t) for t in texts]
    assert first == [recognise(t) for t in texts]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "👍👍🙏",
        "x" * 10_000,
        "slet min konto " * 700,
        "ikke " * 2000,
        "\x00\x01\u202e weird \ufeff text",
        "?!.,;:-–—()[]",
        "Ünïcödé façade naïve café",
    ],
)
def test_never_raises(text: str) -> None:
    result = recognise(text)
    assert isinstance(result, Recognition)
    assert result.intent in INTENTS
    assert result.language in ("da", "en")
    assert 0.0 <= result.confidence <= 1.0


def test_result_shape_and_explanation() -> None:
    result = recognise("Slet venligst min konto")
    assert len(INTENTS) == 15
    assert result.text == "Slet venligst min konto"
    assert (result.intent, result.language) == ("erasure", "da")
    assert result.explanation.startswith("cues: ")
    assert "negated:" in result.explanation
    assert "language:" in result.explanation
    assert "slet→erasure" in result.explanation


def test_no_personal_data_in_logs_or_explanation(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        result = recognise("change my email to jens.hansen@example.com, phone +45 12 34 56 78")
    assert not caplog.records
    assert "jens" not in result.explanation
    assert "12 34" not in result.explanation


def test_rules_only_name_known_concepts() -> None:
    data = Path(__file__).resolve().parents[1] / "bot" / "nlu" / "data"
    concepts = set(json.loads((data / "concepts.json").read_text(encoding="utf-8")))
    concepts |= set(json.loads((data / "details.json").read_text(encoding="utf-8")))
    concepts |= {"Q_AUX", "QMARK", "MY_REQUEST", "MINE", "QFORM"}  # made by the engine
    rules = json.loads((data / "rules.json").read_text(encoding="utf-8"))
    named = set(rules["weights"]) | set(rules["negated"])
    for combo in rules["combos"]:
        for group in [*combo["all"], *combo.get("none", ())]:
            named |= {alt.lstrip("~") for alt in group.split("|")}
    assert named <= concepts, named - concepts
