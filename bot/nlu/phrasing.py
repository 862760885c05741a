"""Phrasings that change what a named thing means: a purpose named as one to keep
("trackingen er ok", "keep the tracking"), wanting to know who or where about a
policy subject (an indirect question, not a request), a backstory that ends in a
question about the policy, and taking back what was just said ("… nej vent …")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from bot.nlu.cues import Cue
from bot.nlu.lexicon import load_json
from bot.nlu.text import BOUNDARIES, CLAUSE, is_word

_DETAILS = load_json("rules.json")["details"]

_KNOW = frozenset({"know", "find", "understand", "vide", "hoere", "forstaa"})
_WH = frozenset(
    {
        "who",
        "where",
        "which",
        "how",
        "whether",
        "why",
        "hvem",
        "hvor",
        "hvilken",
        "hvilket",
        "hvilke",
        "hvordan",
        "hvorfor",
    }
)


def wants_to_know(tokens: Sequence[str], start: int, end: int, inside: Sequence[Cue]) -> bool:
    """A part that wants to know who/where/how about a policy subject is an indirect
    question ("jeg vil gerne vide, hvem der er ansvarlig"), not a request for a copy.
    ("... what data you hold" stays a request: "what" is not among the words here.)"""
    if not any(c.concept.startswith("T_") for c in inside):
        return False
    words = [t for t in tokens[start:end] if is_word(t)]
    return any(a in _KNOW and b in _WH for a, b in pairwise(words))


def _by_word(phrases: list[str], index: int) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Phrases grouped by their first (index 0) or last (index -1) word: a purpose is
    compared only with the phrases that can start or end beside it."""
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(phrase.split())
        grouped.setdefault(words[index], []).append(words)
    return {word: tuple(group) for word, group in grouped.items()}


_KEPT_AFTER = _by_word(_DETAILS["purpose_kept_after"], 0)
_KEPT_BEFORE = _by_word(_DETAILS["purpose_kept_before"], -1)
_NOT_BEFORE = frozenset({"the", "den", "det"})


def kept(tokens: Sequence[str], start: int, end: int) -> bool:
    """Whether the purpose at tokens[start:end] is named as one to keep: "X er ok", "X is
    fine", "keep (the) X", "except X"."""
    if end < len(tokens) and tokens[end] in _KEPT_AFTER:
        after = tuple(tokens[end : end + 4])
        if any(after[: len(p)] == p for p in _KEPT_AFTER[tokens[end]]):
            return True
    before = tuple(t for t in tokens[max(0, start - 3) : start] if t not in _NOT_BEFORE)
    return bool(before) and any(before[-len(p) :] == p for p in _KEPT_BEFORE.get(before[-1], ()))


_ENDS = BOUNDARIES - {CLAUSE}  # what ends a sentence
_WH_CONCEPTS = frozenset({"WHAT_Q", "WHERE_Q", "WHO_Q"})
# verbs that ask to be told something: "please confirm …", "oplys venligst …"
_TELL_ME = frozenset(
    {"confirm", "explain", "state", "specify", "cite", "clarify", "describe", "tell"}
    | {"bekraeft", "forklar", "oplys", "angiv", "fortael", "beskriv"}
)
_OWN = frozenset({"MINE", "ABOUT_ME"})
# the verbs by which a sentence asks for something to be done
REQUESTING = frozenset(
    {"DELETE", "FORGET", "CLOSE", "CANCEL", "CHANGE", "RECTIFY", "EXPORT", "MOVE", "COPY"}
    | {"STOP", "UNSUB", "OBJECT", "RESTRICT", "PAUSE", "REVIEW", "MANUAL", "WANT"}
)


def ends_asking(tokens: Sequence[str], cues: Sequence[Cue]) -> bool:
    """Whether the last sentence is a question about a policy subject that asks for
    nothing: a backstory followed by "What cookies and tracking do you use?", or "Thank
    you. Please also confirm the legal entity acting as controller."."""
    if not tokens or tokens[-1] not in ("?", "."):
        return False
    start = max((at for at, t in enumerate(tokens[:-1]) if t in _ENDS), default=-1)
    last = [c for c in cues if c.start > start]
    concepts = {c.concept for c in last}
    topical = any(c.startswith("T_") for c in concepts)
    acting = any(c.concept in REQUESTING and not c.negated for c in last)
    if not topical or acting:
        return False
    if tokens[-1] == ".":  # no question mark: a request to be told
        return any(t in _TELL_ME for t in tokens[start + 1 :])
    mine = bool(concepts & _OWN)  # "what you have stored on me" asks for a copy
    return bool(concepts & _WH_CONCEPTS) and not mine


# "slette hele kontoen. Nej vent... jeg vil bare af med nyhedsbrevet": what came before
# is taken back (the look-ahead names the first letters of the phrases: positions starting
# with another letter are passed over at once, which makes the search about 40 % faster)
_RETRACTION = re.compile(
    r"\b(?=[nhsgfeaov])"
    r"(?:(?:nej|no|nah|hov)[\s,.!]+(?:vent|wait|nej)|scratch that|glem det|forget that|"
    r"never ?mind(?: that)?|eller nej|actually,? no|on second thought|ved nærmere eftertanke)\b",
    re.IGNORECASE,
)
_TAIL_WORDS = 3
# a word every match of _RETRACTION in ASCII text holds: most messages lack them all,
# and looking for them is cheaper than the search
_RETRACTION_WORDS = (
    "nej", "vent", "wait", "scratch that", "glem det", "forget that", "never", "actually",
    "on second thought",
)  # fmt: skip


def after_retraction(text: str) -> str | None:
    """What follows the last phrase that takes back what was said, when enough follows."""
    if text.isascii():  # (other letters may match case-insensitively: "ſ" is an "s")
        lowered = text.lower()
        if not any(word in lowered for word in _RETRACTION_WORDS):
            return None
    found = list(_RETRACTION.finditer(text))
    if not found:
        return None
    last = found[-1]
    if len(re.findall(r"\w+", text[: found[0].start()])) < _TAIL_WORDS:
        return None  # "never mind the correction I asked for": an earlier message taken back
    tail = text[last.end() :].lstrip(" .,!…-–")
    return tail if len(re.findall(r"\w+", tail)) >= _TAIL_WORDS else None
