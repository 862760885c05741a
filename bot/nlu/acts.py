"""What a short reply does in a dialog: yes, no, thanks, bye, no_code, how_long, what_next, more.

The act is read from overlay cues (`data/details.json`) with the positions they hold:
a yes or no counts when it opens the message (after lead-ins such as "hej", "ok") or
the whole message is short, because "ok" or "no" inside a long sentence is no answer.
Yes-forms are read generously but any negation spoils them ("ja, men nej", "yes but
don't delete anything"): a yes that may not mean yes is no yes. Thanks and bye count
in short messages, at the start or at the end. The other acts are specific phrases and
count anywhere, except where the message asks about the policy instead ("how long does
a deletion request take?" is a question about deadlines, not "how long will this take").
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from bot.nlu.cues import Cue
from bot.nlu.lexicon import load_json
from bot.nlu.text import BOUNDARIES, QUESTION, SENTENCE, fold, folded, is_word

_DETAILS = load_json("rules.json")["details"]


ACT_CONCEPTS: dict[str, str] = dict(_DETAILS["acts"])
PRIORITY: tuple[str, ...] = tuple(_DETAILS["act_priority"])
OPENING: frozenset[str] = frozenset(_DETAILS["act_opening"])
SHORT = int(_DETAILS["act_short_words"])
WORD_SHORT = int(_DETAILS["act_word_short_words"])
WEAK_WORDS = int(_DETAILS["act_weak_words"])
CLOSING = int(_DETAILS["act_closing_words"])
LONG_REPLY = 12  # words: above this, a message is more than a reply
QUESTION_WORDS = 8  # words of a question sentence that can still be that act
LEADS = folded(_DETAILS["act_leads"])
NO_FOLLOWERS = folded(_DETAILS["no_followers"])
SPOILERS = folded(_DETAILS["yes_spoilers"])
EXCEPTIONS = tuple(tuple(fold(p).split()) for p in _DETAILS["yes_spoiler_exceptions"])
INTENTS: dict[str, tuple[str, frozenset[str]]] = {
    act: (target, frozenset(replaces))
    for act, (target, replaces) in _DETAILS["act_intents"].items()
}
CONFIDENCE = float(_DETAILS["act_confidence"])
# A policy question that merely sounds like "how long?" (deadline, retention)
NOT_HOW_LONG = frozenset({"T_DEADLINE", "T_RETENTION", "PRODUCT", "STORED"})
BARE_NO = frozenset({"no", "dont"})
# Acts of courtesy, read only where the message asks for nothing else
COURTESIES = frozenset({"thanks", "bye", "weak_yes"})
PLAIN = frozenset({"greeting", "other"})
# Acts specific enough to overrule an intent the rules are unsure of
SPECIFIC = frozenset({"yes", "more", "no_code", "how_long", "what_next"})
CODE_CARRIERS = folded(_DETAILS["code_carriers"])
# the concepts without which a message has no act
_ACT_CUES = frozenset(ACT_CONCEPTS) | {"ELSEWHERE", "NOT_ARRIVED"}


def find_act(tokens: Sequence[str], cues: Sequence[Cue], intent: str) -> str | None:
    """The dialog act of the message, or None; `weak_yes` ("ok", "fint") is a yes that
    does not turn a greeting into a reply (`reported` names it yes).

    `intent` is what the rules read: courtesies ("tak", "ok", "bye") only count as the
    act of a message that asks for nothing else ("kundeservice tak" asks for a person).
    """
    concepts = {c.concept for c in cues}
    if concepts.isdisjoint(_ACT_CUES):
        return None  # most messages: no cue of an act, nor of a missing code
    words = [i for i, t in enumerate(tokens) if t not in BOUNDARIES]
    if not words:
        return None
    found: dict[str, Cue] = {}
    for cue in sorted(cues, key=attrgetter("start")):  # each act where first said
        act = ACT_CONCEPTS.get(cue.concept)
        if act in COURTESIES and intent not in PLAIN:
            continue
        if act is not None and _counts(act, cue, tokens, words):
            found.setdefault(act, cue)
    if _no_code(tokens, concepts, len(words)):
        found.setdefault("no_code", cues[0])
    if "how_long" in found and concepts & NOT_HOW_LONG and "MY_REQUEST" not in concepts:
        del found["how_long"]
    if "thanks" in found and _asks_after(cues, tokens, found["thanks"]):
        del found["thanks"]  # "Thank you. Please also confirm the legal entity …": a question
    if ("yes" in found or "weak_yes" in found) and (
        "no" in found or _spoiled(tokens, found.get("yes") or found["weak_yes"])
    ):
        found.pop("yes", None)
        found.pop("weak_yes", None)
        if "no" in found and not _opens(found["no"], tokens):
            del found["no"]  # "ja, men nej": neither a clear yes nor a clear no
    if (
        "yes" in found
        and "thanks" in found
        and (
            not _opens(found["yes"], tokens)
            or _later_sentence(tokens, found["yes"], found["thanks"])
        )
    ):
        del found["yes"]  # "sounds good, thanks", "Okay, det er fint. Tak for svaret": thanks
    for act in PRIORITY:
        if act in found:
            return act
    return None


def _asks_after(cues: Sequence[Cue], tokens: Sequence[str], thanks: Cue) -> bool:
    """Whether a sentence after the thanks names a policy subject: it asks on."""
    return any(c.concept.startswith("T_") and _later_sentence(tokens, thanks, c) for c in cues)


def _later_sentence(tokens: Sequence[str], first: Cue, then: Cue) -> bool:
    """Whether `then` stands in a sentence after the one of `first`."""
    return any(t in (SENTENCE, QUESTION) for t in tokens[first.end : then.start])


def reported(act: str | None) -> str | None:
    """The act as the conversation sees it: a weak yes is a yes."""
    return "yes" if act == "weak_yes" else act


def implied_intent(act: str | None, intent: str, unsure: bool) -> str | None:
    """The intent of a message that is only an act ("tak" → greeting, "hvad så nu?" →
    status, "tell me more" → other); None when the message's own intent stands.

    A specific act also overrules an intent the rules are unsure of ("tell me more" is
    no access request); "no" does not, since "no, don't" may withdraw a request.
    """
    if act is None:
        return None
    target, replaces = INTENTS.get(act, (intent, frozenset()))
    if intent != target and (intent in replaces or (unsure and act in SPECIFIC)):
        return target
    return None


def _counts(act: str, cue: Cue, tokens: Sequence[str], words: list[int]) -> bool:
    """Whether a cue of `act` is placed where a reply would say it."""
    size = len(words)
    if act == "weak_yes":
        return size <= WEAK_WORDS  # "ok", "ok great"; "ok" in a sentence is no answer
    if act in OPENING:
        if cue.text in BARE_NO and not _bare_no(tokens, cue.end):
            return False  # "no more newsletters", "don't track me": no answer on its own
        if _opens(cue, tokens):
            return True
        # a phrase ("det er fint", "go ahead") may stand anywhere in a short reply; a
        # single word ("gerne", "right") only in a very short one ("jeg vil gerne...")
        return size <= (SHORT if cue.how == "phrase" else WORD_SHORT)
    if act in ("thanks", "bye"):
        return size <= CLOSING or _opens(cue, tokens) or cue.end >= words[-1] - 1
    # "og nu har jeg tænkt..." in a long message is no "what now?": there, a phrase of
    # the other acts counts only in a sentence that asks
    return size <= LONG_REPLY or _in_question(cue, tokens)


def _in_question(cue: Cue, tokens: Sequence[str]) -> bool:
    """Whether `cue` stands in a short sentence that asks ("... Og hvad sker der nu?")."""
    start = cue.start
    while start > 0 and tokens[start - 1] not in (QUESTION, SENTENCE):
        start -= 1
    for end in range(cue.end, len(tokens)):
        if tokens[end] in (QUESTION, SENTENCE):
            asks = tokens[end] == QUESTION
            return asks and sum(1 for t in tokens[start:end] if is_word(t)) <= QUESTION_WORDS
    return False


def _opens(cue: Cue, tokens: Sequence[str]) -> bool:
    return all(not is_word(t) or t in LEADS for t in tokens[: cue.start])


def _bare_no(tokens: Sequence[str], after: int) -> bool:
    following = tokens[after] if after < len(tokens) else ""
    return not following or not is_word(following) or following in NO_FOLLOWERS


def _spoiled(tokens: Sequence[str], yes: Cue) -> bool:
    """True when anything outside the yes itself negates ("yes but don't...", "ja, ikke")."""
    at = 0
    while at < len(tokens):
        length = _exception_at(tokens, at)
        if length:
            at += length
            continue
        if tokens[at] in SPOILERS and not yes.start <= at < yes.end:
            return True
        at += 1
    return False


def _exception_at(tokens: Sequence[str], at: int) -> int:
    for phrase in EXCEPTIONS:
        if tuple(tokens[at : at + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _no_code(tokens: Sequence[str], concepts: set[str], size: int) -> bool:
    """ "The code never came", "maybe it went to my old email", "jeg har ikke fået nogen sms"."""
    if "ELSEWHERE" in concepts:  # "maybe it went to my old email", "tjekket spam"
        return True
    if "NOT_ARRIVED" not in concepts:
        return False
    if "CODE_WORD" in concepts:
        return True
    # "I haven't received anything", "ingen sms": in a short reply, the code it waits for
    return size <= 8 and not CODE_CARRIERS.isdisjoint(tokens)
