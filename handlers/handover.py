"""'Let me talk to a person': a support case for the team, and an honest word on when."""

from __future__ import annotations

from handlers.turn import Turn
from locales import _
from workflow import support_cases


async def open_case(turn: Turn, reason: str) -> bool:
    """Open the support case (and its alert); False when one is open already."""
    return await support_cases.open_case(
        turn.session,
        turn.conversation.id,
        reason=reason,
        now=turn.now(),
        params={
            "channel": turn.conversation.channel,
            "language": turn.language,
            "verified": turn.conversation.account_id is not None,
            "reason": reason,
        },
    )


async def handle(turn: Turn) -> None:
    if not await open_case(turn, "handover"):
        turn.say(_("You are already in the queue for a person. They will answer you here."))
        return
    turn.say(
        _(
            "I've passed your wish on to our support team. A person gets back to you on "
            "weekdays between 9 and 16 (Danish time), usually within one working day. The "
            "quickest way to reach them directly is {email}."
        ).format(email=turn.services.support_email)
    )
