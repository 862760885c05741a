"""Cues the engine makes from the form of a sentence rather than from its words: a
question (with or without "?", or put inside a sentence), an auxiliary that asks, "my",
"my request", and messages from a named sender.

Each is returned as (concept, start, end); `bot.nlu.cues` gives it the negation and
scale of its place.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.nlu.lexicon import load_json
from bot.nlu.text import BOUNDARIES, CLAUSE, QUESTION, SENTENCE, folded, is_word

_RULES = load_json("rules.json")["structure"]

QUESTION_AUX = folded(_RULES["question_aux"])
QUESTION_STARTERS = folded(_RULES["question_starters"])
QUESTION_LEADS = folded(_RULES["question_leads"])
QUESTION_TAGS = tuple(tuple(tag.split()) for tag in folded(_RULES["question_tags"]))
# the tags by their last word: a sentence end is compared only with tags ending in its word
_TAGS_BY_LAST: dict[str, tuple[tuple[str, ...], ...]] = {
    last: tuple(tag for tag in QUESTION_TAGS if tag[-1] == last)
    for last in {tag[-1] for tag in QUESTION_TAGS}
}
_TAG_ENDS = frozenset(_TAGS_BY_LAST)
QUESTION_WORDS = folded(_RULES["question_words"])
AUX_FOLLOWERS = folded(_RULES["question_aux_followers"])
POSSESSIVES = folded(_RULES["possessives"])
EMBEDDING_VERBS = folded(_RULES["embedding_verbs"])
EMBEDDING_OBJECTS = folded(_RULES["embedding_objects"])
EMBEDDED_QUESTION_WORDS = folded(_RULES["embedded_question_words"])
MESSAGE_NOUNS = folded(_RULES["message_nouns"])
SENDER_FROM = folded(_RULES["sender_from"])
NOT_SENDERS = folded(_RULES["not_senders"])

Form = tuple[str, int, int]  # (concept, start, end)


def sentence_cues(tokens: Sequence[str], requests: Sequence[tuple[int, int]]) -> list[Form]:
    """The cues of the sentence form; `requests` are the spans of REQUEST cues."""
    found = [*_question_aux(tokens), *_own_requests(tokens, requests), *_possessive(tokens)]
    found.extend(_named_sender(tokens))
    found.extend(_question_form(tokens))
    if QUESTION in tokens:
        found.append(("QMARK", 0, 1))
    return found


def framing_verbs(tokens: Sequence[str]) -> set[int]:
    """Where a verb frames a question put inside a sentence ("I'd like to *know* whether
    you share data"), unless the question is about the writer's own things ("tell me
    what you use *my* data for": to be told that is what an access request asks)."""
    return {verb for verb, at in _embedded_questions(tokens) if not _of_mine(tokens, at)}


def _question_aux(tokens: Sequence[str]) -> list[Form]:
    """A synthetic Q_AUX cue for questions like "has my data been..." or "er min konto...".

    The auxiliary may follow a question word or a lead-in ("men hvornår er min konto
    slettet").
    """
    found: list[Form] = []
    if QUESTION_AUX.isdisjoint(tokens):
        return found  # most messages: no auxiliary to look at
    start = True
    for at, token in enumerate(tokens):
        if token in (SENTENCE, QUESTION):
            start = True
            continue
        if token == CLAUSE:
            start = True
            continue
        if (
            start
            and token in QUESTION_AUX
            and at + 1 < len(tokens)
            and tokens[at + 1] in AUX_FOLLOWERS
        ):
            found.append(("Q_AUX", at, at + 1))
        start = start and token in QUESTION_WORDS
    return found


def _question_form(tokens: Sequence[str]) -> list[Form]:
    """A QFORM cue when a sentence is put as a question, with or without "?".

    A sentence opening (after lead-ins such as "hi", "ok", "so") with a question word or
    an auxiliary ("do you", "is there", "er det"), or a Danish verb before "I"
    ("sælger I", "bruger i"), is a question even when typed without a question mark.
    """
    start = True
    for at, token in enumerate(tokens):
        if token in BOUNDARIES:
            start = token != CLAUSE or start
            continue
        if not start:
            continue
        if token in QUESTION_LEADS:
            continue
        if token in QUESTION_STARTERS or (
            token.endswith("r") and at + 1 < len(tokens) and tokens[at + 1] == "i"
        ):
            return [("QFORM", at, at + 1)]
        start = False
    if QUESTION in tokens:
        at = tokens.index(QUESTION)
        return [("QFORM", at, at + 1)]
    tagged = _question_tag(tokens)
    if tagged is not None:
        return [("QFORM", tagged, tagged + 1)]
    return [("QFORM", at, at + 1) for _verb, at in _embedded_questions(tokens)[:1]]


def _question_tag(tokens: Sequence[str]) -> int | None:
    """Where a sentence ends in a tag that makes it a question ("... til inkasso el hvad",
    "... or what")."""
    if _TAG_ENDS.isdisjoint(tokens):
        return None  # most messages: no word that ends a tag
    for end in range(1, len(tokens) + 1):
        if end < len(tokens) and tokens[end] != SENTENCE:
            continue
        for tag in _TAGS_BY_LAST.get(tokens[end - 1], ()):
            if end >= len(tag) and tuple(tokens[end - len(tag) : end]) == tag:
                return end - len(tag)
    return None


def _embedded_questions(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(verb, question word) of each question put inside a sentence: "I'd like to know
    *whether* you share data", "please explain *what* you use cookies for", "fortæl mig,
    *hvor* længe..."; not "tell me how." (nothing is asked after the question word)."""
    found: list[tuple[int, int]] = []
    if EMBEDDING_VERBS.isdisjoint(tokens):
        return found  # most messages: no verb to look after
    for at, token in enumerate(tokens):
        if token not in EMBEDDING_VERBS:
            continue
        following = at + 1
        while following < len(tokens) and (
            tokens[following] in EMBEDDING_OBJECTS or tokens[following] == CLAUSE
        ):
            following += 1
        asked = following + 1
        if (
            asked < len(tokens)
            and tokens[following] in EMBEDDED_QUESTION_WORDS
            and is_word(tokens[asked])
        ):
            found.append((at, following))
    return found


def _of_mine(tokens: Sequence[str], at: int) -> bool:
    """Whether the sentence from `at` speaks of the writer's own things."""
    for token in tokens[at:]:
        if token in (SENTENCE, QUESTION):
            return False
        if token in POSSESSIVES:
            return True
    return False


def _possessive(tokens: Sequence[str]) -> list[Form]:
    """A MINE cue when the customer speaks of something of theirs ("my", "mine", "vores")."""
    if POSSESSIVES.isdisjoint(tokens):
        return []
    for at, token in enumerate(tokens):
        if token in POSSESSIVES:
            return [("MINE", at, at + 1)]
    return []


def _named_sender(tokens: Sequence[str]) -> list[Form]:
    """A SENDER_BIZ cue for messages from someone named: "beskeder fra Annas Bageri",
    "texts from Dr Jensen"; not "sms'er fra jer", "a message from you", "from a ..."
    (what follows an article is read by the lexicon: "fra et bageri")."""
    if MESSAGE_NOUNS.isdisjoint(tokens):
        return []
    for at in range(len(tokens) - 2):
        if (
            tokens[at] in MESSAGE_NOUNS
            and tokens[at + 1] in SENDER_FROM
            and is_word(tokens[at + 2])
            and tokens[at + 2] not in NOT_SENDERS
            and not tokens[at + 2].isdigit()
        ):
            return [("SENDER_BIZ", at + 1, at + 3)]
    return []


def _own_requests(tokens: Sequence[str], requests: Sequence[tuple[int, int]]) -> list[Form]:
    """A MY_REQUEST cue for "my request", "min sletningsanmodning", "our export"..."""
    for start, end in requests:
        window = tokens[max(0, start - 2) : start + 1]
        if any(word in POSSESSIVES for word in window):
            return [("MY_REQUEST", start, end)]
    return []
