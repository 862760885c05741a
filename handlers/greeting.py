"""Greetings and "what can you do?": a friendly answer and the main choices."""

from __future__ import annotations

from handlers import menu
from handlers.turn import Turn
from locales import _


def capabilities() -> str:
    return _(
        "I can show you the data we hold about you, export it, correct it, delete your "
        "account, stop marketing, or answer questions about our privacy policy. What would "
        "you like to do?"
    )


async def handle(turn: Turn) -> None:
    if turn.dialog.greeted:
        turn.say(_("Hello again! What can I help you with?"), menu.main_menu())
        return
    turn.dialog.greeted = True
    turn.say(
        _("Hello! I'm the GatewayAPI privacy assistant. {capabilities}").format(
            capabilities=capabilities()
        ),
        menu.main_menu(),
    )
