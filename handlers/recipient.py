"""People who received an SMS that a customer sent through the gateway (not customers).

For them the company is only the processor: the business that sent the message
decides about it (it is the controller), and we pass the person's request on to it.
They are never offered to close an account.
"""

from __future__ import annotations

from handlers import menu
from handlers.turn import Turn
from locales import _


def explain_roles() -> str:
    return _(
        "We send SMS on behalf of the businesses that use GatewayAPI. The business that sent "
        "you the message decides about your data, so your request goes to them; we pass it "
        "on without delay (GDPR Art. 28(3)(e)). We keep the message content and the last 4 "
        "digits of your number for 30 days; after that they are anonymised and can no longer "
        "be traced to your number."
    )


async def handle(turn: Turn) -> None:
    turn.dialog.end()
    turn.say(explain_roles(), menu.buttons_for(("handover",)))


async def resume(turn: Turn) -> bool:
    return False
