"""Turn cues into intent scores with the weights and combinations of `data/rules.json`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple, cast

from bot.nlu.cues import Cue
from bot.nlu.lexicon import LEXICON, load_json

KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Combo:
    """Extra score when every group in `groups` has a present member and nothing in `none`."""

    groups: tuple[tuple[tuple[str, bool], ...], ...]  # (concept, only-negated)
    none: frozenset[str]
    add: tuple[tuple[str, float], ...]
    # per group, its members looked up among the present and among the negated concepts;
    # and all of them: set operations that test a combination without a loop per member
    members: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()
    plain: frozenset[str] = frozenset()
    negated: frozenset[str] = frozenset()


class Scores(NamedTuple):
    """Intent scores plus what produced them, for the explanation."""

    by_intent: dict[str, float]
    contributions: tuple[tuple[str, str, float], ...]  # (cue text, intent, amount)
    negated: tuple[str, ...]


# built as a tuple directly: the named tuple's generated `__new__` is a Python function
_new_scores = cast("Callable[[tuple[Any, ...]], Scores]", partial(tuple.__new__, Scores))


class Rules:
    """The scoring tables, parsed once."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.intents: tuple[str, ...] = tuple(data["intents"])
        self.prior: dict[str, float] = {k: float(v) for k, v in data["prior"].items()}
        self.weights: dict[str, dict[str, float]] = {
            c: {i: float(w) for i, w in by.items()} for c, by in data["weights"].items()
        }
        self.negated: dict[str, dict[str, float]] = {}
        for concept, rule in data["negated"].items():
            if rule == KEEP:
                self.negated[concept] = self.weights.get(concept, {})
            else:
                self.negated[concept] = {i: float(w) for i, w in rule.items()}
        self.keeps = frozenset(c for c, r in data["negated"].items() if r == KEEP)
        self.combos = tuple(_combo(raw) for raw in data["combos"])
        # concept -> (combination, the concepts of a second group it needs)
        index: dict[str, list[tuple[int, frozenset[str]]]] = {}
        for number, combo in enumerate(self.combos):
            first, second = _index_groups(combo)
            needed = frozenset(concept for concept, _only_negated in second)
            for concept, _only_negated in first:
                index.setdefault(concept, []).append((number, needed))
        self.combo_index = {c: tuple(entries) for c, entries in index.items()}
        self.combo_adds = tuple(dict(combo.add) for combo in self.combos)
        self.relevant = frozenset(
            {*self.weights, *self.negated}
            | {c for combo in self.combos for group in combo.groups for c, _neg in group}
            | {c for combo in self.combos for c in combo.none}
        )
        # the scores every message starts from, and the intents of privacy matters
        self.start = dict.fromkeys(self.intents, 0.0)
        for intent, value in self.prior.items():
            self.start[intent] += value
        self.privacy = tuple(i for i in self.intents if i not in ("greeting", "other"))
        self.privacy_floor = float(data["privacy_floor"])
        self.greeting_damping = float(data["greeting_damping"])
        self.fallback_below = float(data["fallback_below"])
        self.fallback_certainty = float(data["fallback_certainty"])
        self.fallback_floor = float(data["fallback_floor"])
        confidence = data["confidence"]
        self.conf: dict[str, float] = {k: float(v) for k, v in confidence.items()}
        unknown = {i for by in self.weights.values() for i in by} - set(self.intents)
        assert not unknown, f"rules.json names unknown intents: {unknown}"


# Cues found in most messages: a combination is looked up by another of its groups, so
# that a question mark does not make every question-and-topic combination a candidate.
COMMON = frozenset({"QFORM", "QMARK", "MINE", "WANT", "DATA", "Q_AUX"})


Group = tuple[tuple[str, bool], ...]


def _index_groups(combo: Combo) -> tuple[Group, Group]:
    """The group a combination is indexed by, and a second group whose concepts the
    message must have too (the first again when there is no other): every member of a
    group is needed anyway, so the least common groups are chosen."""
    order = sorted(
        range(len(combo.groups)),
        key=lambda at: any(concept in COMMON for concept, _neg in combo.groups[at]),
    )
    first = combo.groups[order[0]]
    return first, combo.groups[order[1]] if len(order) > 1 else first


def _combo(raw: dict[str, Any]) -> Combo:
    groups = tuple(
        tuple((alt.lstrip("~"), alt.startswith("~")) for alt in group.split("|"))
        for group in raw["all"]
    )
    add = tuple((intent, float(w)) for intent, w in raw["add"].items())
    members = tuple(
        (
            frozenset(c for c, only_negated in group if not only_negated),
            frozenset(c for c, only_negated in group if only_negated),
        )
        for group in groups
    )
    plain = frozenset().union(*(p for p, _n in members))
    negated = frozenset().union(*(n for _p, n in members))
    return Combo(groups, frozenset(raw.get("none", ())), add, members, plain, negated)


RULES = Rules(load_json("rules.json"))
INTENTS = RULES.intents
# the scores of the privacy intents, read in one call
_PRIVACY = itemgetter(*RULES.privacy)


def _strongest(cues: Sequence[Cue]) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """The strongest scale of each weighing concept, plain and negated, and the text of
    its first cue."""
    positive: dict[str, float] = {}
    negative: dict[str, float] = {}
    texts: dict[str, str] = {}
    relevant = RULES.relevant
    for cue in cues:
        concept = cue.concept
        if concept not in relevant:
            continue  # details that weigh for no intent (acts, purposes, fields...)
        if cue.described:
            continue  # "not spammers" describes: it asks neither for nor against
        bucket = negative if cue.negated else positive
        if cue.scale > bucket.get(concept, 0.0):
            bucket[concept] = cue.scale
            if concept not in texts:
                texts[concept] = cue.text
    return positive, negative, texts


def score(cues: Sequence[Cue]) -> Scores:
    """Sum cue weights (negated cues per the `negated` table), then add combinations."""
    positive, negative, texts = _strongest(cues)
    totals = RULES.start.copy()
    contributions: list[tuple[str, str, float]] = []
    weights = RULES.weights
    for concept, scale in positive.items():
        if concept in weights:
            _add(totals, contributions, texts[concept], weights[concept], scale)
    if negative:  # most messages negate nothing
        negated_weights = RULES.negated
        for concept, scale in negative.items():
            if concept not in positive and concept in negated_weights:
                _add(totals, contributions, texts[concept], negated_weights[concept], scale)
        keeps = RULES.keeps
        present = {c: s for c, s in negative.items() if c in keeps}
        present.update(positive)
    else:
        present = positive
    _add_combos(totals, contributions, present, negative, cues)
    if max(_PRIVACY(totals)) >= RULES.privacy_floor:
        totals["greeting"] *= RULES.greeting_damping
    # overlay details ("bruge til" of a purposes question) are no negated intent cue
    overlay = LEXICON.overlay
    negated = tuple(
        [texts[c] for c in negative if c not in positive and c not in overlay] if negative else ()
    )
    return _new_scores((totals, tuple(contributions), negated))


def _add(
    totals: dict[str, float],
    contributions: list[tuple[str, str, float]],
    text: str,
    weights: dict[str, float],
    scale: float,
) -> None:
    for intent, weight in weights.items():
        amount = weight * scale
        totals[intent] += amount
        contributions.append((text, intent, amount))


def _add_combos(
    totals: dict[str, float],
    contributions: list[tuple[str, str, float]],
    present: dict[str, float],
    negative: dict[str, float],
    cues: Sequence[Cue],
) -> None:
    """Add the combinations whose every group is present, in the order of rules.json;
    only those indexed by a concept of the message are tried."""
    index = RULES.combo_index
    have = present.keys() | negative.keys()
    # a cheap first test: the message has some concept of two of the groups
    candidates = {
        number
        for concept in have
        if concept in index
        for number, needed in index[concept]
        if not needed.isdisjoint(have)
    }
    if not candidates:
        return
    combos = RULES.combos
    for number in sorted(candidates):
        combo = combos[number]
        matched = _matched(combo, present, negative)
        if matched is not None and not _one_word(combo, present, negative, cues):
            amount, label = matched
            _add(totals, contributions, label, RULES.combo_adds[number], amount)


def _matched(
    combo: Combo, present: dict[str, float], negative: dict[str, float]
) -> tuple[float, str] | None:
    """The weakest of the groups' strongest members, and the groups' first members the
    message has joined by "+"; None when a group has none (most tried combinations:
    tested first with set operations) or a `none` concept is present."""
    if not combo.none.isdisjoint(present):
        return None
    for plain, negated in combo.members:
        if plain.isdisjoint(present) and negated.isdisjoint(negative):
            return None
    weakest = math.inf
    names: list[str] = []
    for group in combo.groups:
        best = 0.0
        first = ""
        for concept, only_negated in group:
            value = (negative if only_negated else present).get(concept, 0.0)
            if value > best:
                best = value
            if not first and value:
                first = concept  # scales are above 0: a value is a member the message has
        if not best:
            return None
        if best < weakest:
            weakest = best
        names.append(first)
    return weakest, "+".join(names)


# cues made from the form of a sentence (bot.nlu.forms), placed on one of its words
SENTENCE_FORMS = frozenset({"QFORM", "QMARK", "Q_AUX"})


def _one_word(
    combo: Combo,
    present: dict[str, float],
    negative: dict[str, float],
    cues: Sequence[Cue],
) -> bool:
    """True when one word satisfies every group, e.g. the typo "completly" evoking both
    "complete" and "completed": a combination needs words that work together (a phrase
    such as "cancel my account" may evoke two concepts on purpose). The form of a sentence
    is no second meaning of its word: "sælger I ...?" asks (QFORM) about selling."""
    if len(combo.groups) < 2:
        return False
    plain, negated = combo.plain, combo.negated
    seen: tuple[int, int] | None = None
    for cue in cues:  # every concept a group uses has a cue
        concept = cue.concept
        if (concept in plain and concept in present) or (
            concept in negated and concept in negative
        ):
            if concept in SENTENCE_FORMS or (seen is not None and seen != (cue.start, cue.end)):
                return False  # a sentence form, or a second place
            seen = (cue.start, cue.end)
    return seen is not None and seen[1] - seen[0] == 1


def ranked(totals: dict[str, float]) -> list[tuple[str, float]]:
    """Intents by score, best first; ties keep the stable INTENTS order."""
    # in the INTENTS order, a stable sort by score alone keeps that order among ties
    in_order = [(name, totals[name]) for name in RULES.intents if name in totals]
    if len(in_order) != len(totals):
        raise KeyError(f"unknown intents: {set(totals) - set(RULES.intents)}")
    return sorted(in_order, key=itemgetter(1), reverse=True)


def confidence(ranking: Sequence[tuple[str, float]]) -> float:
    """Logistic in the winner's margin and strength, lowered by strong rivals; `ranking`
    is best first (`ranked`)."""
    c = RULES.conf
    top = ranking[0][1]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    rivals = 0
    for name, value in ranking[1:]:
        if value < c["rival_min"]:
            break  # best first: no rival follows
        rivals += name not in ("greeting", "other")
    logit = c["margin"] * (top - second) + c["strength"] * top + c["bias"]
    logit -= c["rival_penalty"] * rivals
    value = 1.0 / (1.0 + math.exp(-logit))
    return min(c["ceiling"], max(c["floor"], value))


def alternatives(
    ranking: Sequence[tuple[str, float]], conf: float, limit: int = 3
) -> tuple[tuple[str, float], ...]:
    """Runner-up intents with scores on the confidence scale; `ranking` is best first."""
    top = ranking[0][1]
    if top <= 0:
        return ()
    minimum = RULES.conf["alternative_min"]
    found: list[tuple[str, float]] = []
    for name, value in ranking[1:]:
        if value < minimum:
            break  # best first: the rest are lower still
        found.append((name, round(conf * value / top, 3)))
        if len(found) == limit:
            break
    return tuple(found)


def summarise(contributions: Iterable[tuple[str, str, float]], limit: int = 6) -> list[str]:
    """'slet→erasure' style labels of the strongest contributions."""
    best: dict[str, tuple[str, float]] = {}
    for text, intent, amount in contributions:
        if amount > best.get(text, ("", 0.0))[1]:
            best[text] = (intent, amount)
    ordered = sorted(best.items(), key=lambda kv: -kv[1][1])[:limit]
    return [f"{text}→{intent}" for text, (intent, _amount) in ordered]
