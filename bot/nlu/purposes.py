"""Which objection purposes a message names: marketing e-mails, tracking, profiling.

Purposes are read from the parts that ask for an objection (see `bot.nlu.slots`), so
"delete everything" beside "stop tracking me" does not make the objection cover
everything; a purpose named as one to keep stays on, "all of it" after one kind means
that kind, and a purpose that only says what another is for or built on ("profilering
til markedsføring", "på baggrund af sporing") is no purpose of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.nlu import phrasing
from bot.nlu.cues import Cue
from bot.nlu.lexicon import load_json
from bot.nlu.slots import Part, within
from bot.nlu.text import folded, is_word

_DETAILS = load_json("rules.json")["details"]

PURPOSES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DETAILS["purposes"].items()}
PURPOSE_ORDER = ("marketing_email", "tracking", "profiling")
# purposes that may serve marketing: "profiling for marketing" objects to the profiling
SERVING = frozenset({"P_TRACKING", "P_PROFILING"})
FOR = folded(["for", "til", "to"])


def _followed_by(cue: Cue, tokens: Sequence[str], word: str) -> bool:
    return cue.end < len(tokens) and tokens[cue.end] == word


def purposes(
    cues: Sequence[Cue], spans: Sequence[Part], tokens: Sequence[str] = ()
) -> tuple[str, ...]:
    """Objection purposes named in `spans` (the whole message when empty)."""
    named: set[str] = set()
    keep: set[str] = set()  # named as kept anywhere: "Tracking må I gerne beholde (… analytics)"
    described = {c.start for c in cues if c.described}  # "we're not spammers"
    serving = {c.end - 1 for c in cues if c.concept in SERVING}
    profiling = {c.end - 1 for c in cues if c.concept == "P_PROFILING"}
    chosen = within(cues, spans)
    specific = [c for c in chosen if c.concept in PURPOSES and c.concept != "P_ALL"]
    for cue in chosen:
        if cue.concept not in PURPOSES or cue.start in described:
            continue  # a cue of no purpose adds and keeps nothing
        if cue.concept == "P_ALL" and _all_of_one_kind(cue, specific, chosen):
            continue  # "stop tracking me, fb linkedin all of it": all of that kind
        if cue.concept == "P_ALL" and any(c.start == cue.end for c in specific):
            continue  # "enhver profilering", "any tracking": every one of that kind
        if cue.concept == "P_ALL" and cue.text == "alt" and _followed_by(cue, tokens, "for"):
            continue  # Danish "alt for mange": far too many, not "all of it"
        if cue.concept == "P_ALL" and _followed_by(cue, tokens, "else"):
            continue  # "only these emails, nothing else": the named ones, not all of them
        if cue.concept != "P_ALL" and phrasing.kept(tokens, cue.start, cue.end):
            keep.update(PURPOSES.get(cue.concept, ()))
            continue  # "trackingen er ok", "but keep the tracking": that one stays on
        if cue.concept == "P_MARKETING" and _serves(tokens, serving, cue.start):
            continue  # "profilering til markedsføring": what the profiling is for
        if cue.concept == "P_TRACKING" and _basis(tokens, profiling, cue.start):
            continue  # "profilering på baggrund af sporing": what the profiling is built on
        named.update(PURPOSES.get(cue.concept, ()))
    named -= keep
    return tuple(p for p in PURPOSE_ORDER if p in named)


def _all_of_one_kind(every: Cue, specific: Sequence[Cue], cues: Sequence[Cue]) -> bool:
    """Whether "all of it" follows purposes of a single kind only (and no other "all")."""
    if any(c.concept == "P_ALL" and c.start < every.start for c in cues):
        return False
    before = [c for c in specific if c.start < every.start]
    kinds = {p for c in before for p in PURPOSES[c.concept]}
    return len(kinds) == 1


def objection_purposes(
    cues: Sequence[Cue], where: Mapping[str, Sequence[Part]], tokens: Sequence[str] = ()
) -> tuple[str, ...]:
    """The purposes of an objection asked for together with other rights: those in its own
    parts, and those in parts that ask for nothing else ("stop all the tracking *and
    profiling stuff*" splits into two parts; the second belongs to the objection)."""
    others = [part for right, parts in where.items() if right != "objection" for part in parts]
    loose = [c for c in cues if not any(start <= c.start < end for start, end in others)]
    own = purposes(cues, where.get("objection", ()), tokens)
    return tuple(p for p in PURPOSE_ORDER if p in {*own, *purposes(loose, (), tokens)})


BASED_ON = (("baggrund", "af"), ("baseret", "paa"), ("based", "on"), ("ud", "fra"))


def _basis(tokens: Sequence[str], profiling: set[int], at: int) -> bool:
    """Whether the word at `at` follows "based on"/"på baggrund af" after a profiling
    word in the same clause: the data the profiling is built on, not a purpose of its own."""
    if at < 3 or tuple(tokens[at - 2 : at]) not in BASED_ON:
        return False
    return any(back in profiling for back in range(at - 3, max(-1, at - 7), -1))


def _serves(tokens: Sequence[str], serving: set[int], at: int) -> bool:
    """Whether the word at `at` follows "for"/"til" after a purpose that may serve it,
    in the same clause ("profiling me for *marketing*", "tracking til *markedsføring*")."""
    if at < 2 or tokens[at - 1] not in FOR:
        return False
    for back in range(at - 2, max(-1, at - 5), -1):
        if not is_word(tokens[back]):
            return False
        if back in serving:
            return True
    return False
