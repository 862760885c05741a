"""Right not to be subject to a solely automated decision (Art. 22): a person reviews it."""

from __future__ import annotations

from handlers.privacy import Right, register, scratch
from handlers.turn import Turn
from handlers.types import Button
from locales import _

_MIN_WORDS = 6


def explain() -> str:
    return _(
        "I'll ask a person on our team to review an automated decision that affected you. "
        "They look at it afresh, and you get their answer here. Shall I go ahead?"
    )


def prefill(turn: Turn) -> None:
    """A message long enough to describe the decision is used as the description."""
    text = (turn.incoming.text or "").strip()
    if len(text.split()) >= _MIN_WORDS:
        turn.state["details"]["decision"] = text[:500]


async def collect(turn: Turn) -> bool:
    details = turn.state["details"]
    if details.get("decision"):
        return True
    text = (turn.incoming.text or "").strip() if turn.incoming.text else ""
    if scratch(turn).get("asked_decision") and text:
        details["decision"] = text[:500]
        scratch(turn).pop("asked_decision", None)
        return True
    scratch(turn)["asked_decision"] = True
    turn.say(
        _("Which automated decision should a person look at? Describe it in a sentence or two."),
        (Button(_("Cancel"), "cancel"),),
    )
    return False


handle = register(Right("human_review", explain, collect=collect, prefill=prefill))
