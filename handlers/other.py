"""Anything that is not about personal data: point to the docs and to people who can help."""

from __future__ import annotations

from handlers import menu
from handlers.turn import Turn
from handlers.types import Link
from locales import _


async def handle(turn: Turn) -> None:
    turn.say(
        _(
            "I'm the privacy assistant, so I can't answer that myself. Our documentation "
            "covers the SMS API, prices and payment, and our support team answers at {email}. "
            "If your question is about your personal data, choose below."
        ).format(email=turn.services.support_email),
        menu.main_menu(),
        link=Link(turn.services.docs_url, _("Documentation")),
    )
