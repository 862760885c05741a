"""Details a handler needs beyond the intent: every right asked for, the field a
correction names, and the topic of a policy question (objection purposes: in
`bot.nlu.purposes`, read from the parts found here).

Several requests in one message are found by cutting it into parts at clause
boundaries and joining words ("og", "and then", "samt", "+") and scoring each part as
a message of its own, with the negation of the whole message (so "don't delete
anything, just change my email" asks for one thing). A later step ("and then delete
it") counts in full here: it is asked for, only not first. Purposes and fields are
read from the parts that ask for an objection or a correction, so "delete everything"
beside "stop tracking me" does not make the objection cover everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from bot.nlu import phrasing, recipients
from bot.nlu.cues import OBJECT_NOUNS, Cue
from bot.nlu.lexicon import load_json
from bot.nlu.scopes import LATER_SCALE
from bot.nlu.scoring import RULES, ranked, score
from bot.nlu.text import BOUNDARIES, folded, is_word

_DETAILS = load_json("rules.json")["details"]

RIGHTS: tuple[str, ...] = tuple(_DETAILS["rights"])  # the intents that are GDPR rights
SPLITTERS = folded(_DETAILS["segment_words"])
SEGMENT_MIN = float(_DETAILS["segment_min"])
# a second right in the same part counts when it scores nearly as high as the first
TIE = float(_DETAILS["segment_tie"])
ANSWER_WORDS = int(_DETAILS["answer_words"])
TOPIC_EXTRA = float(_DETAILS["topic_extra"])
# a right that includes another asked for in the same part ("my data as a csv file")
SUBSUMES: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in _DETAILS["subsumes"].items()}
ACTIONS: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in _DETAILS["part_actions"].items()}
ANY_ACTION = frozenset().union(*ACTIONS.values())
FIELDS: dict[str, str] = dict(_DETAILS["fields"])
FIELD_ANCHORS = frozenset(_DETAILS["field_anchors"])
TOPICS: dict[str, tuple[str, float]] = {
    concept: (name, float(weight)) for concept, (name, weight) in _DETAILS["topics"].items()
}
DONE = frozenset({"DONE_PP", "DONE_TO_ME"})  # past participles: "lukket", "blocked"
# "(vil) have min konto lukket", "get my data deleted": a participle that is wanted
CAUSATIVE = frozenset({"have", "faa", "fa", "get"})
# Cues that describe the whole message rather than a place in it
GLOBAL = frozenset({"QMARK", "MINE", "QFORM"})
# intents whose message may ask for rights: a question may come with a request too
# ("...what do you log? And please stop the newsletter")
ASKING = frozenset({*RIGHTS, "recipient", "question", "complaint"})
# intents whose other parts ask only where a word wants something done
TELLING = frozenset({"question", "complaint"})

REASON_BEFORE = folded(_DETAILS["reason_before"])
REASON_AFTER = folded(_DETAILS["reason_after"])
# ", så jeg har dem til regnskabet", ", so that ...": what the request is for, not a reason
PURPOSE_AFTER = tuple(tuple(p.split()) for p in folded(_DETAILS["purpose_after"]))
# A right named only as the ground of another ("my data is wrong, so stop using it until
# it is checked" contests accuracy to restrict processing, Art. 18(1)(a))
GROUNDS: dict[str, tuple[str, frozenset[str]]] = {
    right: (rule["for"], frozenset(rule["unless"])) for right, rule in _DETAILS["grounds"].items()
}

Part = tuple[int, int]
# the tokens that end a part: one test per token instead of three
_CUTS = BOUNDARIES | SPLITTERS | REASON_AFTER


def parts(tokens: Sequence[str]) -> list[tuple[Part, bool]]:
    """[start, end) spans between boundaries and joining words, each with whether it
    only gives a reason ("I moved to a competitor, so...", "...because I moved")."""
    spans: list[tuple[Part, bool]] = []
    start = 0
    because = False
    for at, token in enumerate(tokens):
        if token in _CUTS:  # a boundary, a joining word or a reason word
            if at > start:
                spans.append(((start, at), because or _reason_follows(tokens, at)))
                because = False
            if token in REASON_AFTER:
                because = True
            start = at + 1
    if start < len(tokens):
        spans.append(((start, len(tokens)), because))
    return spans


def _reason_follows(tokens: Sequence[str], at: int) -> bool:
    """True when the part ending at `at` is followed by ", so" / ", så" (a consequence)."""
    if at >= len(tokens) or is_word(tokens[at]):
        return False  # "slet så min konto": "så" after a verb is "then"
    while at < len(tokens) and not is_word(tokens[at]):
        at += 1
    if at >= len(tokens) or tokens[at] not in REASON_BEFORE:
        return False
    after = tuple(tokens[at + 1 : at + 3])
    return not any(after[: len(p)] == p for p in PURPOSE_AFTER)


def requested(
    tokens: Sequence[str], cues: Sequence[Cue], intent: str
) -> tuple[tuple[str, ...], dict[str, list[Part]]]:
    """The rights asked for, in the order named, and the parts asking for each.

    Only for a message whose intent is a right or a recipient's request; the intent's
    own right is among them unless it is only the ground of another.
    """
    if intent not in ASKING:
        return (), {}
    recipient = intent == "recipient"
    if recipient:
        cues = recipients.as_recipient(cues)
    actions = _action_starts(cues, not recipient)
    if not actions:  # no part can ask for anything
        return ((intent,), {}) if intent in RIGHTS else ((), {})
    acting = [
        (start, end)
        for (start, end), reason in parts(tokens)
        if not reason and any(start <= at < end for at in actions)
    ]
    if len(acting) <= 1 and intent in RIGHTS:
        # one request at most: the message's intent (the common case, kept cheap)
        return (intent,), {}
    shared = [c for c in cues if c.concept in GLOBAL]
    local = [_in_full(c) for c in cues if c.concept not in GLOBAL]
    # (where named, right, named by a word that asks, the part, its concepts)
    found: list[tuple[int, str, bool, Part, set[str]]] = []
    for start, end in acting:
        inside = [c for c in local if start <= c.start < end]
        wanted = tokens[start] in CAUSATIVE or any(c.concept == "WANT" for c in inside)
        if intent in TELLING and not (wanted or _polite(tokens, start, end)):
            continue  # a question's or complaint's other parts tell, they ask for nothing
        if intent in TELLING and phrasing.wants_to_know(tokens, start, end, inside):
            continue  # "I want to know who is responsible for my data": asked, not requested
        background = [*shared, *recipients.context(inside)] if recipient else shared
        ranking = ranked(score([*inside, *background]).by_intent)
        if recipient:  # what a recipient asks of the controllers it names
            ranking = [(name, value) for name, value in ranking if name in RIGHTS]
        least = max(SEGMENT_MIN, TIE * ranking[0][1])
        asked = [
            (first, name)
            for name, value in ranking
            if name in RIGHTS
            and value >= least
            and (first := _acts(name, inside, wanted, not recipient)) is not None
        ]
        named = {name for _first, name in asked}
        asked = [(f, n) for f, n in asked if not any(n in SUBSUMES.get(m, ()) for m in named)]
        concepts = {c.concept for c in inside}
        for first, name in asked:
            strong = _acts(name, inside, wanted, False) is not None
            found.append((first, name, strong, (start, end), concepts))
    # "your newsletter keeps coming... stop the newsletter": a right is named where a
    # word asks for it, when one does; a part naming only its objects says what of
    acted = {name for _first, name, strong, _part, _concepts in found if strong}
    names: list[str] = []
    where: dict[str, list[Part]] = {}
    evidence: dict[str, set[str]] = {}
    for _first, name, strong, part, concepts in sorted(found):  # in the order named
        if name not in names and (strong or name not in acted):
            names.append(name)
        where.setdefault(name, []).append(part)
        evidence.setdefault(name, set()).update(concepts)
    if intent in RIGHTS and intent not in names:
        names.insert(0, intent)
    for right, (other, unless) in GROUNDS.items():
        if right in names and other in names and not evidence.get(right, set()) & unless:
            names.remove(right)
    return tuple(names), where


def short(tokens: Sequence[str]) -> bool:
    """True for a reply short enough to be the answer to a question ("alt", "my email")."""
    return sum(1 for t in tokens if t not in BOUNDARIES) <= ANSWER_WORDS


def field(cues: Sequence[Cue], spans: Sequence[Part]) -> str | None:
    """The detail a correction names: the field word nearest to the correcting word."""
    chosen = within(cues, spans)
    fields = [c for c in chosen if c.concept in FIELDS]
    if not fields:
        fields = [c for c in cues if c.concept in FIELDS]
    if not fields:
        return None
    named = {FIELDS[c.concept] for c in fields}
    if {"company", "name"} <= named:
        return "company"  # "we changed our company name": a business's name is its company
    anchors = [c.start for c in chosen if c.concept in FIELD_ANCHORS and not c.negated]
    if not anchors:
        return FIELDS[fields[0].concept]
    nearest = min(fields, key=lambda c: (min(abs(c.start - a) for a in anchors), c.start))
    return FIELDS[nearest.concept]


def topic(cues: Sequence[Cue], intent: str) -> str | None:
    """The policy topic of a question: the most specific topic named (by weight), ties
    to the first named. A complaint has the topic `complaint` only when it asks how or
    where to complain."""
    concepts = {c.concept for c in cues}
    if intent == "complaint":
        asks = "QFORM" in concepts or "HOW_TO" in concepts
        return "complaint" if asks and "T_COMPLAINT" in concepts else None
    best: dict[str, float] = {}
    first: dict[str, int] = {}
    for cue in cues:
        known = TOPICS.get(cue.concept)
        if known is None:
            continue
        name, weight = known
        if name in best:  # a further cue of the same topic adds a little
            best[name] = max(best[name], weight) + TOPIC_EXTRA
        else:
            best[name] = weight
            first[name] = cue.start
    if not best:
        return None
    return max(best, key=lambda name: (best[name], -first[name]))


def topics(cues: Sequence[Cue]) -> tuple[str, ...]:
    """Every policy topic the message names, in the order named ("who is the controller,
    and on what legal basis?" names two)."""
    named: list[str] = []
    for cue in sorted(cues, key=lambda c: c.start):
        known = TOPICS.get(cue.concept)
        if known is not None and known[0] not in named:
            named.append(known[0])
    return tuple(named)


WH_WORDS = frozenset({"WHAT_Q", "WHERE_Q", "WHO_Q"})


def asks(cues: Sequence[Cue]) -> bool:
    """Whether the message asks something (what, where, who, how) besides any request:
    "what do you collect about me?" asks; "can you stop tracking me?" only requests."""
    concepts = {c.concept for c in cues}
    return "QFORM" in concepts and bool(concepts & WH_WORDS)


POLITE = frozenset({"please", "pls", "plz", "venligst", "gerne"})
ASKING_YOU = frozenset(
    {
        ("could", "you"),
        ("can", "you"),
        ("would", "you"),
        ("will", "you"),
        ("could", "u"),
        ("can", "u"),
        ("kan", "i"),
        ("vil", "i"),
        ("gider", "i"),
    }
)


def _polite(tokens: Sequence[str], start: int, end: int) -> bool:
    """A part that asks someone to do something: "please ...", "could you ...", "kan I ..."."""
    words = [t for t in tokens[start:end] if is_word(t)]
    pairs = set(pairwise(words))
    return bool(POLITE & set(words)) or bool(pairs & ASKING_YOU)


def _action_starts(cues: Sequence[Cue], objects_ask: bool = True) -> list[int]:
    """Where the cues that ask for an action of some right stand (found once, then
    looked up per part)."""
    return [
        c.start
        for c in cues
        if c.concept in ANY_ACTION and _stands(c) and (objects_ask or not _bare_object(c))
    ]


def _acts(right: str, cues: Sequence[Cue], wanted: bool, objects_ask: bool = True) -> int | None:
    """Where a part names an action of `right` ("see", "delete", "stop..."), or None
    when it names only its objects ("the data you hold about me") or tells what was
    done ("your system closed my account"): that asks for nothing, unless the part
    wants it done ("I want my account closed", "og derefter have min konto lukket").
    A story ("we had just sent our Easter offers") and a recipient's message (whose
    messages are the objects: "an SMS from 'Tilbud'") name what is objected to without
    objecting: there an objection needs a word that objects ("no more texts")."""
    actions = ACTIONS.get(right, frozenset())
    done = (
        set() if wanted else {p for c in cues if c.concept in DONE for p in range(c.start, c.end)}
    )
    objects_ask = objects_ask and not done
    return min(
        (
            c.start
            for c in cues
            if c.concept in actions
            and _stands(c, right)
            and c.start not in done
            and (objects_ask or not _bare_object(c))
        ),
        default=None,
    )


def _bare_object(cue: Cue) -> bool:
    """An object of an objection named without refusing it ("the newsletter")."""
    return cue.concept in OBJECT_NOUNS and not cue.negated


def _stands(cue: Cue, right: str | None = None) -> bool:
    """A cue that still asks for an action (of `right`, or of any right): not negated,
    or one whose negation asks for the same ("no more newsletters" objects as "stop
    the newsletters" does) or for that right ("I don't want to receive more messages",
    "don't process my data")."""
    if not cue.negated:
        return True
    if cue.described:
        return False
    if cue.concept in RULES.keeps:
        return True
    weights = RULES.negated.get(cue.concept, {})
    rights = (right,) if right else weights
    return any(weights.get(r, 0.0) > 0 and cue.concept in ACTIONS.get(r, ()) for r in rights)


def _in_full(cue: Cue) -> Cue:
    """The cue without the discount of a later step."""
    return cue._replace(scale=cue.scale / LATER_SCALE, later=False) if cue.later else cue


def within(cues: Sequence[Cue], spans: Sequence[Part]) -> list[Cue]:
    if not spans:
        return list(cues)
    return [c for c in cues if any(start <= c.start < end for start, end in spans)]
