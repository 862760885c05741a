"""Find concept cues in a token list: phrases first (they consume their words), then words.

Also marks which cues sit inside a negation's scope, after a contrast word following
a negation ("don't delete anything, *just change my email*"), inside a temporal
clause ("until *my complaint is resolved*"), after a sequence word ("see my data and
*afterwards delete it*": the first step is what the customer asks for now), after a
hedge ("before I decide *whether to delete it*") or waved aside ("*unsubscribing* isn't
enough"), which scale how much a cue counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.nlu.lexicon import (
    GAP_WORDS,
    LEXICON,
    Phrase,
    TokenPattern,
    load_json,
    phrases_starting,
    token_hits,
)
from bot.nlu.text import CLAUSE, QUESTION, SENTENCE, fold, is_word

_RULES = load_json("rules.json")["structure"]


def _phrases(words: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(fold(w).split()) for w in words)


NEGATORS = _phrases(_RULES["negators"])
BACKWARD = frozenset(fold(w) for w in _RULES["backward_negators"])
NOT_BEFORE = frozenset(fold(w) for w in _RULES["not_negating_before"])
NOT_AFTER = frozenset(fold(w) for w in _RULES["not_negating_after"])
CONTRAST = _phrases(_RULES["contrast"])
TEMPORAL = frozenset(fold(w) for w in _RULES["temporal"])
NOT_TEMPORAL = frozenset(fold(w) for w in _RULES["temporal_not_before"])  # "until then"
QUESTION_AUX = frozenset(fold(w) for w in _RULES["question_aux"])
QUESTION_STARTERS = frozenset(fold(w) for w in _RULES["question_starters"])
QUESTION_LEADS = frozenset(fold(w) for w in _RULES["question_leads"])
QUESTION_WORDS = frozenset(fold(w) for w in _RULES["question_words"])
AUX_FOLLOWERS = frozenset(fold(w) for w in _RULES["question_aux_followers"])
POSSESSIVES = frozenset(fold(w) for w in _RULES["possessives"])
POSSESSIVE_BLOCKS = frozenset(_RULES["possessive_blocks"])
SCOPE = int(_RULES["scope_words"])
BACK = int(_RULES["backward_words"])
TEMPORAL_WORDS = int(_RULES["temporal_words"])
TEMPORAL_SCALE = float(_RULES["temporal_scale"])
CONTRAST_SCALE = float(_RULES["contrast_scale"])
LATER = _phrases(_RULES["later"])
LATER_SCALE = float(_RULES["later_scale"])
_FIRST_WORDS = frozenset(p[0] for p in (*NEGATORS, *CONTRAST))
HEDGES = _phrases(_RULES["hedges"])
HEDGE_SCALE = float(_RULES["hedge_scale"])
HEDGE_WORDS = int(_RULES["hedge_words"])
DISMISS_BEFORE = _phrases(_RULES["dismiss_before"])
DISMISS_AFTER = _phrases(_RULES["dismiss_after"])
DISMISS_SCALE = float(_RULES["dismiss_scale"])
_DISMISS_FIRST = frozenset(p[0] for p in (*DISMISS_BEFORE, *DISMISS_AFTER))
_LATER_FIRST = frozenset(p[0] for p in LATER)
_HEDGE_FIRST = frozenset(p[0] for p in HEDGES)


@dataclass(frozen=True, slots=True)
class Cue:
    """A concept found at tokens [start, end); `scale` weighs it, `negated` flips it."""

    concept: str
    start: int
    end: int
    text: str
    language: str
    how: str
    negated: bool
    scale: float
    later: bool = False  # after "and then": a later step, scaled by LATER_SCALE


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


def _phrase_at(
    tokens: Sequence[str], at: int, words: frozenset[str]
) -> tuple[list[Phrase], list[int]] | None:
    """The longest phrases matching at `at`; several concepts may share the same words."""
    chosen: list[Phrase] = []
    where: list[int] = []
    for phrase in phrases_starting(tokens[at]):
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


def _sequence_at(tokens: Sequence[str], at: int, options: tuple[tuple[str, ...], ...]) -> int:
    """Length of the longest option starting at `at`, 0 if none."""
    best = 0
    for option in options:
        if tuple(tokens[at : at + len(option)]) == option:
            best = max(best, len(option))
    return best


def _clause_start(tokens: Sequence[str], at: int) -> int:
    while at > 0 and is_word(tokens[at - 1]):
        at -= 1
    return at


def structure(tokens: Sequence[str]) -> tuple[list[bool], list[float], set[int], list[bool]]:
    """Per token: inside a negation scope, its scale, the set of negator positions, and
    whether it follows a sequence word ("and then")."""
    size = len(tokens)
    negated = [False] * size
    scale = [1.0] * size
    later_steps = [False] * size
    negators: set[int] = set()
    sentence_negated = False
    at = 0
    while at < size:
        token = tokens[at]
        if token in (SENTENCE, QUESTION):
            sentence_negated = False
            at += 1
            continue
        if token in TEMPORAL and not _followed_by(tokens, at, NOT_TEMPORAL):
            _mark_temporal(tokens, at, scale)
        hedge = _sequence_at(tokens, at, HEDGES) if token in _HEDGE_FIRST else 0
        if hedge:
            end = at + hedge
            while end < min(size, at + hedge + HEDGE_WORDS) and is_word(tokens[end]):
                scale[end] *= HEDGE_SCALE
                end += 1
        dismissed = _dismissal(tokens, at, scale) if token in _DISMISS_FIRST else 0
        if dismissed:
            at += dismissed
            continue
        later = _sequence_at(tokens, at, LATER) if token in _LATER_FIRST else 0
        if later:
            _mark_rest_of_sentence(tokens, at + later, scale, LATER_SCALE, later_steps)
            at += later
            continue
        length = _sequence_at(tokens, at, NEGATORS) if token in _FIRST_WORDS else 0
        if length and _negates(tokens, at, length):
            negators.update(range(at, at + length))
            sentence_negated = True
            _mark_scope(tokens, at, length, negated)
            at += length
            continue
        contrast = _sequence_at(tokens, at, CONTRAST) if token in _FIRST_WORDS else 0
        if contrast and sentence_negated:
            _mark_rest_of_sentence(tokens, at + contrast, scale, CONTRAST_SCALE)
        at += max(contrast, 1)
    return negated, scale, negators, later_steps


def _followed_by(tokens: Sequence[str], at: int, words: frozenset[str]) -> bool:
    return at + 1 < len(tokens) and tokens[at + 1] in words


def _dismissal(tokens: Sequence[str], at: int, scale: list[float]) -> int:
    """Scale down what "X isn't enough" / "not interested in X" waves aside; its length.

    The customer names X only to say it is not what they want, so X's cues barely count
    (and the words of the phrase are no negation of what follows).
    """
    before = _sequence_at(tokens, at, DISMISS_BEFORE)
    if before:
        for pos in range(_clause_start(tokens, at), at):
            scale[pos] *= DISMISS_SCALE
        return before
    after = _sequence_at(tokens, at, DISMISS_AFTER)
    pos = at + after
    while after and pos < len(tokens) and is_word(tokens[pos]):
        if _sequence_at(tokens, pos, CONTRAST):
            break
        scale[pos] *= DISMISS_SCALE
        pos += 1
    return after


def _negates(tokens: Sequence[str], at: int, length: int) -> bool:
    before = tokens[at - 1] if at > 0 else ""
    after = tokens[at + length] if at + length < len(tokens) else ""
    return before not in NOT_BEFORE and after not in NOT_AFTER


def _mark_scope(tokens: Sequence[str], at: int, length: int, negated: list[bool]) -> None:
    words = 0
    pos = at + length
    while pos < len(tokens) and words < SCOPE and is_word(tokens[pos]):
        if _sequence_at(tokens, pos, CONTRAST):
            break
        negated[pos] = True
        words += 1
        pos += 1
    if tokens[at] in BACKWARD:
        limit = max(_clause_start(tokens, at), at - BACK)
        pos = at - 1
        while pos >= limit and not _sequence_at(tokens, pos, CONTRAST):
            negated[pos] = True
            pos -= 1


def _mark_rest_of_sentence(
    tokens: Sequence[str], at: int, scale: list[float], by: float, marks: list[bool] | None = None
) -> None:
    while at < len(tokens) and tokens[at] not in (SENTENCE, QUESTION):
        scale[at] *= by
        if marks is not None:
            marks[at] = True
        at += 1


def _mark_temporal(tokens: Sequence[str], at: int, scale: list[float]) -> None:
    pos = at + 1
    words = 0
    while pos < len(tokens) and words < TEMPORAL_WORDS and is_word(tokens[pos]):
        scale[pos] *= TEMPORAL_SCALE
        words += 1
        pos += 1


def find_cues(tokens: Sequence[str]) -> list[Cue]:
    """All concept cues of `tokens`, with negation and scale applied.

    Intent concepts are matched as one layer: a phrase consumes its words, so they
    evoke nothing else. Overlay concepts (details such as topics and dialog acts) are
    matched apart, each family (`Lexicon.family`) consuming words only within itself:
    "my phone number" may be both the recipient's number and the field to correct.
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
            if hit.concept in seen:
                continue
            seen.add(hit.concept)
            group = family.get(hit.concept)
            if consumed[at] if group is None else at in taken.get(group, ()):
                continue
            if hit.concept in POSSESSIVE_BLOCKS and at and tokens[at - 1] in POSSESSIVES:
                continue  # "my employees" are not a request for a person
            cues.append(place.cue(hit.concept, (at,), hit.language, hit.how))
    synthetic = [*_question_aux(tokens), *_own_requests(tokens, cues), *_possessive(tokens)]
    synthetic.extend(_question_form(tokens))
    if QUESTION in tokens:
        synthetic.append(Cue("QMARK", 0, 1, "?", "", "structure", False, 1.0))
    cues.extend(place.cue(c.concept, range(c.start, c.end), "", "structure") for c in synthetic)
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
    ) -> None:
        self.tokens = tokens
        self.negated = negated
        self.scale = scale
        self.negators = negators
        self.later = later

    def cue(self, concept: str, positions: Sequence[int], language: str, how: str) -> Cue:
        start, end = positions[0], positions[-1] + 1
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
        )


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
        matched: set[str] = set()
        for phrase in phrases_starting(token, True):
            group = family[phrase.concept]
            used = taken.setdefault(group, set())
            if group in matched or at in used or not phrase.possible(words):
                continue
            found = _match_parts(tokens, phrase.parts[1:], at + 1)
            if found is None or any(p in used for p in found):
                continue
            matched.add(group)
            used.update((at, *found))
            cues.append(place.cue(phrase.concept, (at, *found), phrase.language, "phrase"))
    return taken


def _question_aux(tokens: Sequence[str]) -> list[Cue]:
    """A synthetic Q_AUX cue for questions like "has my data been..." or "er min konto...".

    The auxiliary may follow a question word or a lead-in ("men hvornår er min konto
    slettet").
    """
    found: list[Cue] = []
    start = True
    for at, token in enumerate(tokens):
        if token in (SENTENCE, QUESTION):
            start = True
            continue
        if token == CLAUSE:
            start = True
            continue
        following = tokens[at + 1] if at + 1 < len(tokens) else ""
        if start and token in QUESTION_AUX and following in AUX_FOLLOWERS:
            found.append(Cue("Q_AUX", at, at + 1, token, "", "structure", False, 1.0))
        start = start and token in QUESTION_WORDS
    return found


def _question_form(tokens: Sequence[str]) -> list[Cue]:
    """A QFORM cue when a sentence is put as a question, with or without "?".

    A sentence opening (after lead-ins such as "hi", "ok", "so") with a question word or
    an auxiliary ("do you", "is there", "er det"), or a Danish verb before "I"
    ("sælger I", "bruger i"), is a question even when typed without a question mark.
    """
    start = True
    for at, token in enumerate(tokens):
        if not is_word(token):
            start = token != CLAUSE or start
            continue
        if not start:
            continue
        if token in QUESTION_LEADS:
            continue
        following = tokens[at + 1] if at + 1 < len(tokens) else ""
        if token in QUESTION_STARTERS or (following == "i" and token.endswith("r")):
            return [Cue("QFORM", at, at + 1, token, "", "structure", False, 1.0)]
        start = False
    if QUESTION in tokens:
        at = tokens.index(QUESTION)
        return [Cue("QFORM", at, at + 1, "?", "", "structure", False, 1.0)]
    return []


def _possessive(tokens: Sequence[str]) -> list[Cue]:
    """A MINE cue when the customer speaks of something of theirs ("my", "mine", "vores")."""
    for at, token in enumerate(tokens):
        if token in POSSESSIVES:
            return [Cue("MINE", at, at + 1, token, "", "structure", False, 1.0)]
    return []


def _own_requests(tokens: Sequence[str], cues: Sequence[Cue]) -> list[Cue]:
    """A MY_REQUEST cue for "my request", "min sletningsanmodning", "our export"..."""
    found: list[Cue] = []
    for cue in cues:
        if cue.concept != "REQUEST":
            continue
        window = tokens[max(0, cue.start - 2) : cue.start + 1]
        if any(word in POSSESSIVES for word in window):
            found.append(
                Cue("MY_REQUEST", cue.start, cue.end, cue.text, "", "structure", False, 1.0)
            )
            break
    return found
