"""Language, intent and the details of a message for the privacy support bot.

Rule-based, local and deterministic: concept cues from `data/concepts.json`, scored by
`data/rules.json`, with negation, contrast and typo handling. When the rules are unsure,
a small n-gram model (`bot.nlu.ngram`) trained on labelled phrasings picks the intent,
and the confidence stays low so the bot still offers choices. Overlay cues
(`data/details.json`) add what a dialog needs beyond the intent: the policy topic of a
question, the dialog act of a reply (`bot.nlu.acts`), every right asked for with the
objection purposes and the field to correct (`bot.nlu.slots`), and the tone
(`bot.nlu.tone`). `recognise` never raises on any text and never logs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from bot.nlu import phrasing, purposes, slots
from bot.nlu.acts import CONFIDENCE as ACT_CONFIDENCE
from bot.nlu.acts import find_act, implied_intent, reported
from bot.nlu.cues import FUZZY, Cue, find_cues, foreign
from bot.nlu.language import clear, detect, requested_language
from bot.nlu.lexicon import LEXICON
from bot.nlu.ngram import MODEL
from bot.nlu.scopes import OWN_SENDING
from bot.nlu.scoring import (
    INTENTS,
    RULES,
    Scores,
    alternatives,
    confidence,
    ranked,
    score,
    summarise,
)
from bot.nlu.slots import RIGHTS
from bot.nlu.text import danish_letter_words, tokenise
from bot.nlu.tone import language_sure, upset

__all__ = ["INTENTS", "RIGHTS", "Recognition", "recognise"]

# A message this long tells a story whose parts may ask for rights the rules can't place
STORY_WORDS = 25
# Intents a backstory may suggest when its last sentence asks about the policy
OVERHEARD = frozenset({"other", "greeting"})
# Intents that stand even when unsure: what a person needs a person for
DIRECT = frozenset({"complaint", "recipient", "handover"})
# Intents whose questions name a topic: policy questions, and asking how to complain
TOPICAL = frozenset({"question", "complaint"})


@dataclass(frozen=True, slots=True)
class Recognition:
    """What one message says: language, intent, how sure, why, and its details.

    See `handlers.types.Understanding` for the meaning of the detail fields.
    """

    text: str
    language: str
    intent: str
    confidence: float
    explanation: str
    alternatives: tuple[tuple[str, float], ...]
    language_request: str | None
    topic: str | None = None
    topics: tuple[str, ...] = ()
    act: str | None = None
    rights: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    field: str | None = None
    upset: bool = False
    language_sure: bool = False
    complains: bool = False


def _backed(intent: str, scores: Scores) -> bool:
    """True when some cue of the message speaks for `intent` (not just the prior)."""
    return any(name == intent and amount > 0 for _text, name, amount in scores.contributions)


def _may_overrule(intent: str, probability: float, scores: Scores) -> bool:
    """The n-gram guess wins over a bare default if fairly sure, or when near-certain.

    The n-gram model cannot read negation ("I don't want to delete...") and is often
    overconfident, so a rule-backed privacy intent only yields to a near-certain guess.
    """
    if intent in ("greeting", "other") and not _backed(intent, scores):
        return probability >= RULES.fallback_floor
    return probability >= RULES.fallback_certainty and not scores.negated


def _question_form(cues: Sequence[Cue]) -> bool:
    return any(c.concept == "QFORM" for c in cues)


def _own_sending(tokens: Sequence[str], cues: Sequence[Cue]) -> bool:
    """The writer tells of messages they send ("de sms'er vi sender", "we send appointment
    reminders by text"): a customer."""
    if any(c.described or c.concept == "T_MESSAGE_CONTENT" for c in cues):
        return True
    return any(
        first in subjects and second in verbs
        for subjects, verbs in OWN_SENDING
        for first, second in pairwise(tokens)
    )


def _story(tokens: Sequence[str]) -> bool:
    """A message long enough to tell a story (counted only when it matters)."""
    return sum(1 for t in tokens if t.isalpha()) >= STORY_WORDS


def _without(intent: str, ranking: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """Runner-ups after the intent changed: the former intent leads, the new one goes."""
    return tuple(o for o in ranking if o[0] != intent)[:3]


def recognise(text: str, hint: str | None = None) -> Recognition:
    """Language, intent and details of `text`; `hint` decides the language only without
    evidence."""
    text = text if isinstance(text, str) else ""
    taken_back = phrasing.after_retraction(text)
    if taken_back is not None:
        found = recognise(taken_back, hint)
        note = f"{found.explanation}; read after what was taken back"
        return replace(found, text=text, explanation=note)
    tokens = tokenise(text)
    cues = find_cues(tokens)
    phrase_languages = [
        c.language for c in cues if c.how == "phrase" and c.concept not in LEXICON.overlay
    ]
    danish_letters = danish_letter_words(text)
    verdict = detect(tokens, danish_letters, phrase_languages, hint)
    if clear(verdict) and any(
        c.how == FUZZY and foreign(c.language, verdict.language) for c in cues
    ):
        cues = find_cues(tokens, verdict.language)  # typos of the other language go
    scores = score(cues)
    ranking = ranked(scores.by_intent)
    intent = ranking[0][0]
    conf = confidence(ranking)
    shown = summarise(scores.contributions)
    if verdict.from_hint:
        language_note = f"no clear evidence, used {'hint' if hint else 'default'}"
    else:
        language_note = f"{verdict.danish_cues} Danish cues, {verdict.english_cues} English cues"
    explanation = (
        f"cues: {', '.join(shown) or 'none'}; "
        f"negated: {', '.join(scores.negated) or 'none'}; "
        f"language: {language_note}"
    )
    described = dict.fromkeys(c.text for c in cues if c.described)
    if described:  # "we're not spammers", "we send 300 texts": told, not asked for
        explanation += f"; described: {', '.join(described)}"
    others = alternatives(ranking, conf)
    language_request = requested_language(tokens)
    if language_request and conf < RULES.fallback_below and not _backed(intent, scores):
        # "english please", "kan du skrive på dansk?": a switch of language, not a right
        explanation += f"; asks for {language_request}, nothing else"
        intent = "other"
    elif conf < RULES.fallback_below:
        guess, probability = MODEL.posterior(tokens)[0]
        asked = intent == "question" and bool(slots.topics(cues)) and _question_form(cues)
        several = intent in RIGHTS and len(slots.requested(tokens, cues, intent)[0]) > 1
        if asked and (guess == "other" or (guess == "recipient" and _own_sending(tokens, cues))):
            pass  # a question naming a policy subject stays one ("... my invoices if I ...?")
        elif several:
            pass  # "(i) rectify …, and (ii) cease processing …": two rights are no doubt
        elif guess != intent and _may_overrule(intent, probability, scores):
            explanation += f"; unsure, n-grams chose {guess} ({probability:.2f}) over {intent}"
            others = ((intent, round(conf, 3)), *(o for o in others if o[0] != guess))[:3]
            intent = guess
    if conf < RULES.fallback_below and intent not in slots.ASKING and _story(tokens):
        wanted, _where = slots.requested(tokens, cues, "question")
        if wanted:  # a long story the rules can't place, whose parts want rights done
            explanation += f"; its parts ask for {', '.join(wanted)}, not {intent}"
            others = _without(wanted[0], ((intent, round(conf, 3)), *others))
            intent = wanted[0]
    unsure = conf < RULES.fallback_below and intent not in DIRECT
    if (intent in OVERHEARD or unsure) and phrasing.ends_asking(tokens, cues):
        explanation += f"; ends with a question about the policy, not {intent}"
        others = _without("question", ((intent, round(conf, 3)), *others))
        intent, conf = "question", max(conf, RULES.fallback_below)
    act = find_act(tokens, cues, intent)
    implied = implied_intent(act, intent, conf < RULES.fallback_below)
    if implied is not None:
        explanation += f"; act {reported(act)} makes it {implied}"
        others = _without(implied, ((intent, round(conf, 3)), *others))
        intent, conf = implied, max(conf, ACT_CONFIDENCE)
    rights, where = slots.requested(tokens, cues, intent)
    # a short reply naming only purposes or a field answers the dialog's question
    answer = not rights and slots.short(tokens)
    objecting = "objection" in rights or answer
    correcting = "rectification" in rights or answer
    if intent in RIGHTS and rights and rights[0] != intent:
        # several requests: the one named first is the intent
        explanation += f"; asks for {', '.join(rights)}"
        others = _without(rights[0], ((intent, round(conf, 3)), *others))
        intent = rights[0]
    return Recognition(
        text=text,
        language=verdict.language,
        intent=intent,
        confidence=round(conf, 3),
        explanation=explanation,
        alternatives=others,
        language_request=language_request,
        topic=slots.topic(cues, intent) if intent in TOPICAL else None,
        topics=slots.topics(cues) if intent in TOPICAL or slots.asks(cues) else (),
        act=reported(act),
        rights=rights,
        # with one request, its details may stand anywhere in the message ("stop the
        # newsletters and turn tracking and profiling off"); with several, in its parts
        # and in the parts that ask for nothing else
        purposes=(
            (
                purposes.objection_purposes(cues, where, tokens)
                if len(rights) > 1
                else purposes.purposes(cues, (), tokens)
            )
            if objecting
            else ()
        ),
        field=slots.field(cues, where.get("rectification", ())) if correcting else None,
        upset=upset(text, cues),
        language_sure=language_sure(verdict, tokens, danish_letters),
        # "review that automatic block, and I want to make a formal complaint": both
        complains=any(c.concept == "COMPLAIN_DECLARED" and not c.negated for c in cues),
    )
