"""Find concept cues in a token list: phrases first (they consume their words), then words,
then the cues the engine makes from the sentence form (`bot.nlu.forms`: a question, "my",
"my request").

Each cue carries the negation and scale of its place (`bot.nlu.scopes`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from itertools import pairwise
from typing import Any, NamedTuple, cast

from bot.nlu import forms
from bot.nlu.lexicon import (
    GAP_WORDS,
    LEXICON,
    PHRASE_CANDIDATES,
    Hit,
    Phrase,
    TokenPattern,
    load_json,
    token_hits,
)
from bot.nlu.memo import WordMemo
from bot.nlu.scopes import structure
from bot.nlu.text import BOUNDARIES, folded

_RULES = load_json("rules.json")["structure"]

POSSESSIVES = folded(_RULES["possessives"])
# what the verb that frames a question evokes on its own ("know", "tell me": to see)
FRAMED = frozenset({"SEE", "DATA"})  # Danish "oplyse" is "oplys*"
POSSESSIVE_BLOCKS = frozenset(_RULES["possessive_blocks"])
# concepts that name what is objected to (marketing, tracking, messages, calls) rather
# than the objecting: "no more newsletters" asks, "we're not spammers" describes
OBJECT_NOUNS = frozenset(_RULES["object_nouns"])
FUZZY = "fuzzy"  # how a typo's cue was found
# concepts whose family keeps full weight under hedges and sequences
UNSCALED = frozenset(c for c, family in LEXICON.family.items() if family in LEXICON.unscaled)


def foreign(pattern_language: str, language: str | None) -> bool:
    """True when a pattern of one language is read in a message of the other."""
    return bool(language and pattern_language and pattern_language != language)


class Cue(NamedTuple):
    """A concept found at tokens [start, end); `scale` weighs it, `negated` flips it.

    A named tuple rather than a frozen dataclass: a message makes dozens of cues, and a
    frozen dataclass takes several times as long to build (`_replace` changes one)."""

    concept: str
    start: int
    end: int
    text: str
    language: str
    how: str
    negated: bool
    scale: float
    later: bool = False  # after "and then": a later step, scaled by LATER_SCALE
    # an object noun the message describes ("we're not spammers", "we sent our
    # newsletter out"): it asks neither for nor against anything
    described: bool = False


# `Cue(...)` runs the named tuple's generated `__new__`, a Python function; building the
# tuple directly with all ten fields takes half as long
_new_cue = cast("Callable[[tuple[Any, ...]], Cue]", partial(tuple.__new__, Cue))


def _match_parts(
    tokens: Sequence[str], parts: Sequence[TokenPattern | None], at: int, index: int = 1
) -> list[int] | None:
    """Positions of the literal words of `parts[index:]` matched from `at`, or None.

    Parts are read by index rather than by slicing: a slice per word was half the cost."""
    if index == len(parts):
        return []
    head = parts[index]
    if head is None:
        for skip in range(GAP_WORDS + 1):
            pos = at + skip
            if skip and (pos - 1 >= len(tokens) or tokens[pos - 1] in BOUNDARIES):
                return None
            found = _match_parts(tokens, parts, pos, index + 1)
            if found is not None:
                return found
        return None
    if at >= len(tokens) or tokens[at] in BOUNDARIES or not head.matches(tokens[at]):
        return None
    found = _match_parts(tokens, parts, at + 1, index + 1)
    return None if found is None else [at, *found]


# the intent and the overlay phrases that may start at a position
_Starts = tuple[tuple[Phrase, ...], tuple[Phrase, ...]]
_NO_PHRASES: _Starts = ((), ())


def _phrase_starts(tokens: Sequence[str]) -> list[_Starts]:
    """Per position, the intent and overlay phrases that may start there: looked up once
    for both layers, and only where a second word follows before any boundary."""
    starts = list(map(PHRASE_CANDIDATES.__getitem__, pairwise(tokens)))
    if tokens:
        starts.append(_NO_PHRASES)  # the last word has none after it
    return starts


def _phrase_at(
    tokens: Sequence[str], at: int, words: frozenset[str], candidates: tuple[Phrase, ...]
) -> tuple[list[Phrase], list[int]] | None:
    """The longest phrases matching at `at`; several concepts may share the same words."""
    chosen: list[Phrase] = []
    where: list[int] = []
    for phrase in candidates:
        if chosen and phrase.words < chosen[0].words:
            break
        if not phrase.possible(words):
            continue
        found = _match_parts(tokens, phrase.parts, at + 1)
        if found is None:
            continue
        positions = [at, *found]
        if not chosen:
            chosen, where = [phrase], positions
        elif positions == where:
            chosen.append(phrase)
    return (chosen, where) if chosen else None


def find_cues(tokens: Sequence[str], language: str | None = None) -> list[Cue]:
    """All concept cues of `tokens`, with negation and scale applied.

    Intent concepts are matched as one layer: a phrase consumes its words, so they
    evoke nothing else. Overlay concepts (details such as topics and dialog acts) are
    matched apart, each family (`Lexicon.family`) consuming words only within itself:
    "my phone number" may be both the recipient's number and the field to correct.
    With `language` (the message's, once known), a typo counts only for a pattern of
    that language: English "spring" is no misspelt Danish "sporing".
    """
    place = _Placer(tokens, *structure(tokens))
    cues: list[Cue] = []
    words = frozenset(tokens)
    starts = _phrase_starts(tokens)
    consumed = _match_phrases(place, words, cues, starts)
    taken = _match_overlay_phrases(place, words, cues, starts)
    _match_words(place, cues, consumed, taken, language)
    framing = forms.framing_verbs(tokens)
    if framing:  # "I'd like to *know* whether...": the frame of a question, no wish to see
        cues = [
            c for c in cues if c.concept not in FRAMED or not framing & set(range(c.start, c.end))
        ]
    requests = [(c.start, c.end) for c in cues if c.concept == "REQUEST"]
    cues.extend(
        [
            place.cue(concept, range(start, end), "", "structure")
            for concept, start, end in forms.sentence_cues(tokens, requests)
        ]
    )
    return cues


def _match_words(
    place: _Placer,
    cues: list[Cue],
    consumed: list[bool],
    taken: dict[str, set[int]],
    language: str | None,
) -> None:
    """Add the cues of single words not consumed by a phrase of their layer (family)."""
    tokens = place.tokens
    family = LEXICON.family
    negators = place.negators
    plain, negator = _hits_of(True, language), _hits_of(False, language)
    for at, token in enumerate(tokens):
        if token in BOUNDARIES:
            continue
        for hit in (negator if at in negators else plain)[token]:
            concept = hit.concept
            group = family.get(concept)
            if consumed[at] if group is None else at in taken.get(group, ()):
                continue
            if concept in POSSESSIVE_BLOCKS and at and tokens[at - 1] in POSSESSIVES:
                continue  # "my employees" are not a request for a person
            cues.append(place.word_cue(concept, at, hit.language, hit.how))


# a word's hits, per (typos allowed, language): `_word_hits` cached
_HITS: dict[tuple[bool, str | None], WordMemo[str, tuple[Hit, ...]]] = {}


def _hits_of(fuzzy_allowed: bool, language: str | None) -> WordMemo[str, tuple[Hit, ...]]:
    """The cached hits of words read with or without typos, for `language`."""
    memo = _HITS.get((fuzzy_allowed, language))
    if memo is None:
        memo = _HITS[fuzzy_allowed, language] = WordMemo(
            lambda token: _word_hits(token, fuzzy_allowed, language)
        )
    return memo


def _word_hits(token: str, fuzzy_allowed: bool, language: str | None) -> tuple[Hit, ...]:
    """The first hit of each concept a word evokes, without typos of a pattern of another
    language than `language`; the same for every place the word stands."""
    found: dict[str, Hit] = {}
    for hit in token_hits(token, fuzzy_allowed):
        if hit.concept not in found and not (hit.how == FUZZY and foreign(hit.language, language)):
            found[hit.concept] = hit
    return tuple(found.values())


class _Placer:
    """Makes cues at token positions, with the negation and scale of those positions."""

    def __init__(
        self,
        tokens: Sequence[str],
        negated: list[bool],
        scale: list[float],
        negators: set[int],
        later: list[bool],
        described: set[int],
    ) -> None:
        self.tokens = tokens
        self.negated = negated
        self.scale = scale
        self.negators = negators
        self.later = later
        self.described = described

    def word_cue(self, concept: str, at: int, language: str, how: str) -> Cue:
        """The cue of one word, the common case."""
        return _new_cue(
            (
                concept,
                at,
                at + 1,
                self.tokens[at],
                language,
                how,
                self.negated[at] and at not in self.negators,
                1.0 if concept in UNSCALED else self.scale[at],
                self.later[at],
                concept in OBJECT_NOUNS and at in self.described,
            )
        )

    def cue(self, concept: str, positions: Sequence[int], language: str, how: str) -> Cue:
        start, end = positions[0], positions[-1] + 1
        if end == start + 1:
            return self.word_cue(concept, start, language, how)
        negated = True in self.negated[start:end] and self.negators.isdisjoint(range(start, end))
        return _new_cue(
            (
                concept,
                start,
                end,
                " ".join([self.tokens[p] for p in positions]),
                language,
                how,
                negated,
                1.0 if concept in UNSCALED else min(self.scale[start:end]),
                True in self.later[start:end],
                self._described(concept, start, end),
            )
        )

    def _described(self, concept: str, start: int, end: int) -> bool:
        """An object noun that the message describes ("not spammers", "we send texts")."""
        if not self.described or concept not in OBJECT_NOUNS:
            return False
        return any(p in self.described for p in range(start, end))


def _match_phrases(
    place: _Placer, words: frozenset[str], cues: list[Cue], starts: list[_Starts]
) -> list[bool]:
    """Add the intent concepts' phrase cues, longest first; the words they consumed."""
    tokens = place.tokens
    consumed = [False] * len(tokens)
    for at, (candidates, _overlay) in enumerate(starts):
        if not candidates or consumed[at]:
            continue
        found = _phrase_at(tokens, at, words, candidates)
        if found is None:
            continue
        phrases, positions = found
        if any(consumed[p] for p in positions):
            continue
        for p in positions:
            consumed[p] = True
        for phrase in {p.concept: p for p in phrases}.values():
            cues.append(place.cue(phrase.concept, positions, phrase.language, "phrase"))
    return consumed


def _match_overlay_phrases(
    place: _Placer, words: frozenset[str], cues: list[Cue], starts: list[_Starts]
) -> dict[str, set[int]]:
    """Add the overlay phrase cues, longest first within each family; the words each
    family consumed."""
    tokens = place.tokens
    taken: dict[str, set[int]] = {}
    family = LEXICON.family
    for at, (_intent, candidates) in enumerate(starts):
        if not candidates:
            continue
        matched: set[str] = set()
        for phrase in candidates:
            if not phrase.possible(words):
                continue  # most candidates lack a word they need: the cheap test first
            group = family[phrase.concept]
            used = taken.setdefault(group, set())
            if group in matched or at in used:
                continue
            found = _match_parts(tokens, phrase.parts, at + 1)
            if found is None or any(p in used for p in found):
                continue
            matched.add(group)
            used.update((at, *found))
            cues.append(place.cue(phrase.concept, (at, *found), phrase.language, "phrase"))
    return taken
