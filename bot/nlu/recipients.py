"""How the requests of an SMS recipient are read (someone who received a message a
customer sent through the gateway, and asks the bot to pass a request on).

A recipient's words that tell who they are ("I got texts from a bakery", "isn't mine",
"I never gave them my number") ask for nothing; what they ask is read as any request,
with the messages received as what "stop" and "no more" are about ("make it stop").
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.nlu.cues import Cue
from bot.nlu.lexicon import load_json

_DETAILS = load_json("rules.json")["details"]

# the cues that tell a writer is a recipient; they weigh against account holders' rights
RECIPIENT_CUES = frozenset(_DETAILS["recipient_cues"])
# a recipient's cue read as a request ("how did they get my number?": the source, which
# an access request asks for, Art. 15(1)(g))
ASKS: dict[str, str] = dict(_DETAILS["recipient_asks"])
# what every part of a recipient's message is about: the messages received
CONTEXT = tuple(
    Cue(concept, 0, 0, "", "", "structure", False, 1.0) for concept in _DETAILS["recipient_context"]
)


def as_recipient(cues: Sequence[Cue]) -> list[Cue]:
    """The cues of a recipient's message as its requests are read: the recipient cues
    go, with whatever else their words evoke, except those that ask (`ASKS`)."""
    telling = [c for c in cues if c.concept in RECIPIENT_CUES]
    kept: list[Cue] = []
    for cue in cues:
        if cue.concept in ASKS:
            kept.append(cue._replace(concept=ASKS[cue.concept]))
        elif cue.concept not in RECIPIENT_CUES and not any(
            t.start <= cue.start and cue.end <= t.end for t in telling
        ):
            kept.append(cue)
    return kept


def context(part: Sequence[Cue]) -> list[Cue]:
    """The messages received, as a part of a recipient's message implies them, unless it
    names them itself ("I don't want to receive more messages")."""
    named = {c.concept for c in part}
    return [c for c in CONTEXT if c.concept not in named]
