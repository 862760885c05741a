"""Right to object (Art. 21): marketing, tracking and profiling stop at once."""

from __future__ import annotations

from handlers.privacy import Right, register, scratch
from handlers.turn import Turn
from handlers.types import Button
from locales import _

PURPOSES = ("marketing_email", "tracking", "profiling")


def explain() -> str:
    return _(
        "I'll stop using your data for the purposes you object to: marketing emails, "
        "tracking on our website, profiling for advertising, or all three; you choose which "
        "before anything changes. This takes effect straight away; no approval is needed. "
        "Shall I go ahead?"
    )


async def collect(turn: Turn) -> bool:
    details = turn.state["details"]
    choice = turn.incoming.button
    if scratch(turn).get("asked_purposes") and choice in ("all", *PURPOSES):
        details["purposes"] = list(PURPOSES) if choice == "all" else [choice]
        scratch(turn).pop("asked_purposes", None)
        return True
    scratch(turn)["asked_purposes"] = True
    turn.say(
        _("What should we stop?"),
        (
            Button(_("All of these"), "all"),
            Button(_("Marketing emails"), "marketing_email"),
            Button(_("Tracking"), "tracking"),
            Button(_("Profiling"), "profiling"),
            Button(_("Cancel"), "cancel"),
        ),
    )
    return False


handle = register(Right("objection", explain, collect=collect))
