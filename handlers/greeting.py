"""Greetings, thanks and "what can you do?": a friendly answer and the main choices."""

from __future__ import annotations

from handlers.turn import Turn
from handlers.types import Button
from locales import _


def main_menu() -> tuple[Button, ...]:
    """The choices offered when the customer has not said what they want yet."""
    return (
        Button(_("See my data"), "access"),
        Button(_("Export my data"), "portability"),
        Button(_("Correct my details"), "rectification"),
        Button(_("Delete my account"), "erasure"),
        Button(_("Stop marketing"), "objection"),
        Button(_("Talk to a person"), "handover"),
    )


def capabilities() -> str:
    return _(
        "I can help you with your personal data: see what we hold about you, get a copy "
        "to take elsewhere, correct your details, delete your account, restrict or object "
        "to how we use your data, or have a person review an automated decision. "
        "What would you like to do?"
    )


async def handle(turn: Turn) -> None:
    if turn.state.get("greeted"):
        turn.say(_("Hello again! {capabilities}").format(capabilities=capabilities()), main_menu())
        return
    turn.state["greeted"] = True
    turn.say(
        _("Hello! I'm the GatewayAPI privacy assistant. {capabilities}").format(
            capabilities=capabilities()
        ),
        main_menu(),
    )
