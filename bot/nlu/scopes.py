"""Scopes over a token list: what a negation, contrast, time clause, sequence word, hedge
or dismissal covers, and how much the words inside count.

A negation marks the words after it ("don't *delete anything*") and, for "ikke",
"aldrig" and "heller", a few before it; a negation after "to be" or a comma describes
rather than refuses ("we're a shop, not *spammers*", "vi er ikke *spammere*"), and so
does the writer's own sending ("we had just sent *our newsletter* out"): what such words
name is marked as described; a contrast word after a negation lifts what
follows ("don't delete anything, *just change my email*"); a temporal clause ("until
*my complaint is resolved*"), a sequence word ("and then *delete it*"), a hedge ("before
I decide *whether to delete it*") and a dismissal ("*unsubscribing* isn't enough") lower
it. The words come from `data/rules.json` ("structure"), folded like the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.nlu.lexicon import load_json
from bot.nlu.text import QUESTION, SENTENCE, fold, folded, is_word

_RULES = load_json("rules.json")["structure"]


# word sequences by their first word: a position is compared only with those it can start
Sequences = dict[str, tuple[tuple[str, ...], ...]]


def _phrases(words: Sequence[str]) -> Sequences:
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for word in words:
        phrase = tuple(fold(word).split())
        grouped.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(group) for first, group in grouped.items()}


NEGATORS = _phrases(_RULES["negators"])
BACKWARD = folded(_RULES["backward_negators"])
NOT_BEFORE = folded(_RULES["not_negating_before"])
# "kan jeg ikke bare få en person", "can't I just …": a wish put as a question
RHETORICAL = tuple(tuple(p.split()) for p in folded(_RULES["rhetorical_negations"]))
NOT_AFTER = folded(_RULES["not_negating_after"])
DESCRIBING = folded(_RULES["describing_negators"])
COPULAS = folded(_RULES["copulas"])
ARTICLES = folded(_RULES["articles"])
# the writer's own sending ("we had just sent our newsletter out", "vi sender 300 sms'er"):
# a subject of the writer and a sending verb of the same language
OWN_SENDING = tuple(
    (folded(rule["subjects"]), folded(rule["verbs"])) for rule in _RULES["own_sending"].values()
)
SENDING_VERBS = frozenset().union(*(verbs for _subjects, verbs in OWN_SENDING))
SENDING_BETWEEN = folded(_RULES["own_sending_between"])
SENDING_STOPS = folded(_RULES["own_sending_stops"])
SENDING_WORDS = int(_RULES["own_sending_words"])
ABOUT = frozenset({"om", "about"})
ABOUT_OWN = frozenset({"vores", "min", "mit", "mine", "our", "my", "the", "de", "den", "det"})
CONTRAST = _phrases(_RULES["contrast"])
TEMPORAL = folded(_RULES["temporal"])
NOT_TEMPORAL = folded(_RULES["temporal_not_before"])  # "until then"
SCOPE = int(_RULES["scope_words"])
BACK = int(_RULES["backward_words"])
TEMPORAL_WORDS = int(_RULES["temporal_words"])
TEMPORAL_SCALE = float(_RULES["temporal_scale"])
CONTRAST_SCALE = float(_RULES["contrast_scale"])
LATER = _phrases(_RULES["later"])
LATER_SCALE = float(_RULES["later_scale"])
_FIRST_WORDS = frozenset({*NEGATORS, *CONTRAST})
HEDGES = _phrases(_RULES["hedges"])
HEDGE_SCALE = float(_RULES["hedge_scale"])
HEDGE_WORDS = int(_RULES["hedge_words"])
DISMISS_BEFORE = _phrases(_RULES["dismiss_before"])
DISMISS_AFTER = _phrases(_RULES["dismiss_after"])
DISMISS_SCALE = float(_RULES["dismiss_scale"])
_DISMISS_FIRST = frozenset({*DISMISS_BEFORE, *DISMISS_AFTER})
_LATER_FIRST = frozenset(LATER)
_HEDGE_FIRST = frozenset(HEDGES)
# the words at which structure() does anything: any other word is passed over at once
_TRIGGERS = frozenset(
    {SENTENCE, QUESTION}
    | TEMPORAL
    | _HEDGE_FIRST
    | _DISMISS_FIRST
    | _LATER_FIRST
    | _FIRST_WORDS
    | SENDING_VERBS
)


def sequence_at(tokens: Sequence[str], at: int, options: Sequences) -> int:
    """Length of the longest option starting at `at`, 0 if none."""
    group = options.get(tokens[at]) if at < len(tokens) else None
    if group is None:
        return 0
    best = 0
    for option in group:
        if len(option) > best and tuple(tokens[at : at + len(option)]) == option:
            best = len(option)
    return best


def clause_start(tokens: Sequence[str], at: int) -> int:
    while at > 0 and is_word(tokens[at - 1]):
        at -= 1
    return at


Structure = tuple[list[bool], list[float], set[int], list[bool], set[int]]


def structure(tokens: Sequence[str]) -> Structure:
    """Per token: inside a negation scope, its scale, the set of negator positions,
    whether it follows a sequence word ("and then"), and the set of positions of
    nouns a negation describes ("not spammers")."""
    size = len(tokens)
    negated = [False] * size
    scale = [1.0] * size
    later_steps = [False] * size
    described: set[int] = set()
    negators: set[int] = set()
    if _TRIGGERS.isdisjoint(tokens):
        return negated, scale, negators, later_steps, described  # nothing to mark
    sentence_negated = False
    at = 0
    while at < size:
        token = tokens[at]
        if token not in _TRIGGERS:
            at += 1
            continue
        if token in (SENTENCE, QUESTION):
            sentence_negated = False
            at += 1
            continue
        if token in TEMPORAL and not _followed_by(tokens, at, NOT_TEMPORAL):
            _mark_temporal(tokens, at, scale)
        hedge = sequence_at(tokens, at, HEDGES) if token in _HEDGE_FIRST else 0
        if hedge:
            end = at + hedge
            while end < min(size, at + hedge + HEDGE_WORDS) and is_word(tokens[end]):
                scale[end] *= HEDGE_SCALE
                end += 1
        dismissed = _dismissal(tokens, at, scale) if token in _DISMISS_FIRST else 0
        if dismissed:
            at += dismissed
            continue
        later = sequence_at(tokens, at, LATER) if token in _LATER_FIRST else 0
        if later:
            _mark_rest_of_sentence(tokens, at + later, scale, LATER_SCALE, later_steps)
            at += later
            continue
        length = sequence_at(tokens, at, NEGATORS) if token in _FIRST_WORDS else 0
        if length and _negates(tokens, at, length):
            negators.update(range(at, at + length))
            sentence_negated = True
            _mark_scope(tokens, at, length, negated)
            described.update(_described(tokens, at, length))
            at += length
            continue
        if token in SENDING_VERBS:
            described.update(_sent_by_writer(tokens, at))
        contrast = sequence_at(tokens, at, CONTRAST) if token in _FIRST_WORDS else 0
        if contrast and sentence_negated:
            _mark_rest_of_sentence(tokens, at + contrast, scale, CONTRAST_SCALE)
        at += max(contrast, 1)
    return negated, scale, negators, later_steps, described


def _sent_by_writer(tokens: Sequence[str], at: int) -> range:
    """The words naming what the writer sends, when the verb at `at` is their own
    sending: "we (had just) sent *our newsletter* out", "(i går) sendte vi *tilbud*";
    not "I sent you a request to stop the newsletter" (the request is what was sent)."""
    verb = tokens[at]
    following = tokens[at + 1] if at + 1 < len(tokens) else ""
    for subjects, verbs in OWN_SENDING:
        if verb not in verbs:
            continue
        if following in subjects or _subject_before(tokens, at, subjects):
            end = at + 1
            while (
                end < min(len(tokens), at + 1 + SENDING_WORDS)
                and is_word(tokens[end])
                and (tokens[end] not in SENDING_STOPS or _about_what(tokens, end))
            ):
                end += 1
            return range(at + 1, end)
    return range(0)


def _about_what(tokens: Sequence[str], at: int) -> bool:
    """ "(vi skulle sende sms ud) om *vores påsketilbud*": what the writer's messages are
    about is theirs too; "om at stoppe", "about stopping" is what was asked."""
    following = tokens[at + 1] if at + 1 < len(tokens) else ""
    return tokens[at] in ABOUT and following in ABOUT_OWN


def _subject_before(tokens: Sequence[str], at: int, subjects: frozenset[str]) -> bool:
    pos = at - 1
    while pos >= 0 and tokens[pos] in SENDING_BETWEEN:
        pos -= 1
    return pos >= 0 and tokens[pos] in subjects


def _described(tokens: Sequence[str], at: int, length: int) -> tuple[int, ...]:
    """The word a negation describes: "(we are) not (a) *spammer*", "(a shop,) not
    *spammers*", "(vi er) ikke *spammere*"; none for "no spam", "don't send offers"."""
    if length != 1 or tokens[at] not in DESCRIBING or at == 0:
        return ()
    before = tokens[at - 1]
    if before not in COPULAS and is_word(before):
        return ()
    after = at + 1
    if after < len(tokens) and tokens[after] in ARTICLES:
        after += 1
    return (after,) if after < len(tokens) and is_word(tokens[after]) else ()


def _followed_by(tokens: Sequence[str], at: int, words: frozenset[str]) -> bool:
    return at + 1 < len(tokens) and tokens[at + 1] in words


def _dismissal(tokens: Sequence[str], at: int, scale: list[float]) -> int:
    """Scale down what "X isn't enough" / "not interested in X" waves aside; its length.

    The customer names X only to say it is not what they want, so X's cues barely count
    (and the words of the phrase are no negation of what follows).
    """
    before = sequence_at(tokens, at, DISMISS_BEFORE)
    if before:
        for pos in range(clause_start(tokens, at), at):
            scale[pos] *= DISMISS_SCALE
        return before
    after = sequence_at(tokens, at, DISMISS_AFTER)
    pos = at + after
    while after and pos < len(tokens) and is_word(tokens[pos]):
        if sequence_at(tokens, pos, CONTRAST):
            break
        scale[pos] *= DISMISS_SCALE
        pos += 1
    return after


def _negates(tokens: Sequence[str], at: int, length: int) -> bool:
    before = tokens[at - 1] if at > 0 else ""
    after = tokens[at + length] if at + length < len(tokens) else ""
    ending = tuple(tokens[max(0, at - 2) : at + length])
    if any(ending[-len(p) :] == p for p in RHETORICAL):
        return False
    return before not in NOT_BEFORE and after not in NOT_AFTER


def _mark_scope(tokens: Sequence[str], at: int, length: int, negated: list[bool]) -> None:
    words = 0
    pos = at + length
    while pos < len(tokens) and words < SCOPE and is_word(tokens[pos]):
        if sequence_at(tokens, pos, CONTRAST):
            break
        negated[pos] = True
        words += 1
        pos += 1
    if tokens[at] in BACKWARD:
        limit = max(clause_start(tokens, at), at - BACK)
        pos = at - 1
        while pos >= limit and not sequence_at(tokens, pos, CONTRAST):
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
