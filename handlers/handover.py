"""'Let me talk to a person': record the wish and say honestly when someone answers."""

from __future__ import annotations

from handlers.turn import Turn
from locales import _
from workflow import alerts


async def handle(turn: Turn) -> None:
    already = "handover_requested_at" in turn.state
    turn.state["handover_requested_at"] = turn.now().isoformat()
    if already:
        turn.say(_("You are already in the queue for a person. They will answer you here."))
        return
    # the team sees the wish where it sees everything else (Slack channel, console, CLI)
    await alerts.raise_alert(
        turn.session,
        "handover",
        now=turn.now(),
        params={
            "channel": turn.conversation.channel,
            "conversation_id": turn.conversation.id,
            "language": turn.language,
            "verified": turn.conversation.account_id is not None,
        },
    )
    turn.say(
        _(
            "I've passed your wish on to our support team. A person gets back to you on "
            "weekdays between 9 and 16 (Danish time), usually within one working day. The "
            "quickest way to reach them directly is {email}."
        ).format(email=turn.services.support_email)
    )
