"""A complaint: acknowledged first, the ways to complain, and a person takes over."""

from __future__ import annotations

from handlers.handover import open_case
from handlers.turn import Turn
from locales import _


async def handle(turn: Turn) -> None:
    opened = await open_case(turn, "complaint")
    turn.say(
        _(
            "I'm sorry you've had reason to complain, and thank you for telling us. You can "
            "write your complaint to info@onlinecity.io, and you can always complain to the "
            "Danish Data Protection Agency (Datatilsynet), www.datatilsynet.dk."
        )
    )
    if opened:
        turn.say(
            _(
                "I've also passed your complaint to a person on our team, who gets back to you "
                "here, usually within one working day."
            )
        )
    else:
        turn.say(_("A person on our team already has your case and will answer you here."))
