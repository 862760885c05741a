"""Find concept cues in a token list: phrases first (they consume their words), then words,
then the cues the engine makes from the sentence form (a question, "my", "my request").

Each cue carries the negation and scale of its place (`bot.nlu.scopes`).
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
    phrase_candidates,
    token_hits,
)
from bot.nlu.scopes import structure
from bot.nlu.text import CLAUSE, QUESTION, SENTENCE, folded, is_word

_RULES = load_json("rules.json")["structure"]

QUESTION_AUX = folded(_RULES["question_aux"])
QUESTION_STARTERS = folded(_RULES["question_starters"])
QUESTION_LEADS = folded(_RULES["question_leads"])
QUESTION_WORDS = folded(_RULES["question_words"])
AUX_FOLLOWERS = folded(_RULES["question_aux_followers"])
POSSESSIVES = folded(_RULES["possessives"])
EMBEDDING_VERBS = folded(_RULES["embedding_verbs"])
EMBEDDING_OBJECTS = folded(_RULES["embedding_objects"])
EMBEDDED_QUESTION_WORDS = folded(_RULES["embedded_question_words"])
# what the verb that frames a question evokes on its own ("know", "tell me": to see)
FRAMED = frozenset({"SEE", "DATA"})  # Danish "oplyse" is "oplys*"
POSSESSIVE_BLOCKS = frozenset(_RULES["possessive_blocks"])
# concepts that name what is objected to (marketing, tracking, messages, calls) rather
# than the objecting: "no more newsletters" asks, "we're not spammers" describes
OBJECT_NOUNS = frozenset(_RULES["object_nouns"])
MESSAGE_NOUNS = folded(_RULES["message_nouns"])
SENDER_FROM = folded(_RULES["sender_from"])
NOT_SENDERS = folded(_RULES["not_senders"])


FUZZY = "fuzzy"


def foreign(pattern_language: str, language: str | None) -> bool:
    """True when a pattern of one language is read in a message of the other."""
    return bool(language and pattern_language and pattern_language != language)


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
    framing = {verb for verb, at in _embedded_questions(tokens) if not _of_mine(tokens, at)}
    if framing:  # "I'd like to *know* whether...": the frame of a question, no wish to see
        cues = [
            c for c in cues if c.concept not in FRAMED or not framing & set(range(c.start, c.end))
        ]
    synthetic = [*_question_aux(tokens), *_own_requests(tokens, cues), *_possessive(tokens)]
    synthetic.extend(_named_sender(tokens))
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
    for _verb, at in _embedded_questions(tokens)[:1]:
        return [Cue("QFORM", at, at + 1, tokens[at], "", "structure", False, 1.0)]
    return []


def _embedded_questions(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(verb, question word) of each question put inside a sentence: "I'd like to know
    *whether* you share data", "please explain *what* you use cookies for", "fortæl mig,
    *hvor* længe..."; not "tell me how." (nothing is asked after the question word)."""
    found: list[tuple[int, int]] = []
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
    """Whether the sentence from `at` speaks of the writer's own things ("...what you use
    *my* data for"): to be told that is what an access request asks."""
    for token in tokens[at:]:
        if token in (SENTENCE, QUESTION):
            return False
        if token in POSSESSIVES:
            return True
    return False


def _possessive(tokens: Sequence[str]) -> list[Cue]:
    """A MINE cue when the customer speaks of something of theirs ("my", "mine", "vores")."""
    for at, token in enumerate(tokens):
        if token in POSSESSIVES:
            return [Cue("MINE", at, at + 1, token, "", "structure", False, 1.0)]
    return []


def _named_sender(tokens: Sequence[str]) -> list[Cue]:
    """A SENDER_BIZ cue for messages from someone named: "beskeder fra Annas Bageri",
    "texts from Dr Jensen"; not "sms'er fra jer", "a message from you", "from a ..."
    (what follows an article is read by the lexicon: "fra et bageri")."""
    for at in range(len(tokens) - 2):
        if (
            tokens[at] in MESSAGE_NOUNS
            and tokens[at + 1] in SENDER_FROM
            and is_word(tokens[at + 2])
            and tokens[at + 2] not in NOT_SENDERS
            and not tokens[at + 2].isdigit()
        ):
            return [Cue("SENDER_BIZ", at + 1, at + 3, "", "", "structure", False, 1.0)]
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
