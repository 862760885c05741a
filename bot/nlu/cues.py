"""Find concept cues in a token list: phrases first (they consume their words), then words,
then the cues the engine makes from the sentence form (`bot.nlu.forms`: a question, "my",
"my request").

Each cue carries the negation and scale of its place (`bot.nlu.scopes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bot.nlu import forms
from bot.nlu.lexicon import (
    GAP_WORDS,
    LEXICON,
    Phrase,
    TokenPattern,
    load_json,
    phrase_candidates,
    token_hits,
)
from bot.nlu.scopes import structure
from bot.nlu.text import folded, is_word

_RULES = load_json("rules.json")["structure"]

POSSESSIVES = folded(_RULES["possessives"])
# what the verb that frames a question evokes on its own ("know", "tell me": to see)
FRAMED = frozenset({"SEE", "DATA"})  # Danish "oplyse" is "oplys*"
POSSESSIVE_BLOCKS = frozenset(_RULES["possessive_blocks"])
# concepts that name what is objected to (marketing, tracking, messages, calls) rather
# than the objecting: "no more newsletters" asks, "we're not spammers" describes
OBJECT_NOUNS = frozenset(_RULES["object_nouns"])
FUZZY = "fuzzy"  # how a typo's cue was found


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


def _match_parts(
    tokens: Sequence[str], parts: Sequence[TokenPattern | None], at: int
) -> list[int] | None:
    """Positions of the literal words of `parts` matched from `at`, or None."""
    if not parts:
        return []
    head, rest = parts[0], parts[1:]
    if head is None:
        for skip in range(GAP_WORDS + 1):
            pos = at + skip
            if skip and (pos - 1 >= len(tokens) or not is_word(tokens[pos - 1])):
                return None
            found = _match_parts(tokens, rest, pos)
            if found is not None:
                return found
        return None
    if at >= len(tokens) or not is_word(tokens[at]) or not head.matches(tokens[at]):
        return None
    found = _match_parts(tokens, rest, at + 1)
    return None if found is None else [at, *found]


def _next_word(tokens: Sequence[str], at: int) -> str:
    following = tokens[at + 1] if at + 1 < len(tokens) else ""
    return following if following and is_word(following) else ""


def _phrase_at(
    tokens: Sequence[str], at: int, words: frozenset[str]
) -> tuple[list[Phrase], list[int]] | None:
    """The longest phrases matching at `at`; several concepts may share the same words."""
    chosen: list[Phrase] = []
    where: list[int] = []
    second = _next_word(tokens, at)
    if not second:
        return None  # a phrase needs a second word before any boundary
    for phrase in phrase_candidates(tokens[at], second):
        if chosen and phrase.words < chosen[0].words:
            break
        if not phrase.possible(words):
            continue
        found = _match_parts(tokens, phrase.parts[1:], at + 1)
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
    consumed = _match_phrases(place, words, cues)
    taken = _match_overlay_phrases(place, words, cues)
    family = LEXICON.family
    negators = place.negators
    for at, token in enumerate(tokens):
        if not is_word(token):
            continue
        seen: set[str] = set()
        for hit in token_hits(token, at not in negators):
            if hit.concept in seen or (hit.how == FUZZY and foreign(hit.language, language)):
                continue
            seen.add(hit.concept)
            group = family.get(hit.concept)
            if consumed[at] if group is None else at in taken.get(group, ()):
                continue
            if hit.concept in POSSESSIVE_BLOCKS and at and tokens[at - 1] in POSSESSIVES:
                continue  # "my employees" are not a request for a person
            cues.append(place.cue(hit.concept, (at,), hit.language, hit.how))
    framing = forms.framing_verbs(tokens)
    if framing:  # "I'd like to *know* whether...": the frame of a question, no wish to see
        cues = [
            c for c in cues if c.concept not in FRAMED or not framing & set(range(c.start, c.end))
        ]
    requests = [(c.start, c.end) for c in cues if c.concept == "REQUEST"]
    cues.extend(
        place.cue(concept, range(start, end), "", "structure")
        for concept, start, end in forms.sentence_cues(tokens, requests)
    )
    return cues


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

    def cue(self, concept: str, positions: Sequence[int], language: str, how: str) -> Cue:
        start, end = positions[0], positions[-1] + 1
        if end == start + 1:  # one word, the common case
            unscaled = LEXICON.family.get(concept) in LEXICON.unscaled
            negated = self.negated[start] and start not in self.negators
            return Cue(
                concept,
                start,
                end,
                self.tokens[start],
                language,
                how,
                negated,
                1.0 if unscaled else self.scale[start],
                self.later[start],
                self._described(concept, start, end),
            )
        span = range(start, end)
        negated = any(self.negated[p] for p in span) and not any(p in self.negators for p in span)
        unscaled = LEXICON.family.get(concept) in LEXICON.unscaled
        return Cue(
            concept,
            start,
            end,
            " ".join(self.tokens[p] for p in positions),
            language,
            how,
            negated,
            1.0 if unscaled else min(self.scale[p] for p in span),
            any(self.later[p] for p in span),
            self._described(concept, start, end),
        )

    def _described(self, concept: str, start: int, end: int) -> bool:
        """An object noun that the message describes ("not spammers", "we send texts")."""
        if not self.described or concept not in OBJECT_NOUNS:
            return False
        return any(p in self.described for p in range(start, end))


def _match_phrases(place: _Placer, words: frozenset[str], cues: list[Cue]) -> list[bool]:
    """Add the intent concepts' phrase cues, longest first; the words they consumed."""
    tokens = place.tokens
    consumed = [False] * len(tokens)
    for at, token in enumerate(tokens):
        if consumed[at] or not is_word(token):
            continue
        found = _phrase_at(tokens, at, words)
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
    place: _Placer, words: frozenset[str], cues: list[Cue]
) -> dict[str, set[int]]:
    """Add the overlay phrase cues, longest first within each family; the words each
    family consumed."""
    tokens = place.tokens
    taken: dict[str, set[int]] = {}
    family = LEXICON.family
    for at, token in enumerate(tokens):
        if not is_word(token):
            continue
        second = _next_word(tokens, at)
        if not second:
            continue
        matched: set[str] = set()
        for phrase in phrase_candidates(token, second, True):
            if not phrase.possible(words):
                continue  # most candidates lack a word they need: the cheap test first
            group = family[phrase.concept]
            used = taken.setdefault(group, set())
            if group in matched or at in used:
                continue
            found = _match_parts(tokens, phrase.parts[1:], at + 1)
            if found is None or any(p in used for p in found):
                continue
            matched.add(group)
            used.update((at, *found))
            cues.append(place.cue(phrase.concept, (at, *found), phrase.language, "phrase"))
    return taken
