"""Right to object (Art. 21): marketing emails, tracking and profiling stop at once.

The purposes may be named in the first message ("just the newsletter", "nyhedsbrev og
tracking"); then they are read back instead of asked for. Several can be chosen.
"""

from __future__ import annotations

from handlers import menu
from handlers.privacy import Right, Slots, register
from handlers.state import Step
from handlers.turn import Turn
from handlers.types import Button
from locales import _

PURPOSES = ("marketing_email", "tracking", "profiling")


def purpose_names(purposes: list[str]) -> str:
    names = {
        "marketing_email": _("marketing emails"),
        "tracking": _("tracking on our website"),
        "profiling": _("profiling for advertising"),
    }
    words = [names[p] for p in PURPOSES if p in purposes]
    if len(words) < 2:
        return "".join(words)
    return _("{first} and {last}").format(first=", ".join(words[:-1]), last=words[-1])


def summary(turn: Turn) -> str:
    purposes = list(turn.dialog.slots.get("purposes") or [])
    if purposes:
        return _(
            "I'll stop {purposes} for your account. It takes effect straight away, without "
            "waiting for approval. Shall I go ahead?"
        ).format(purposes=purpose_names(purposes))
    return _(
        "I'll stop using your data for what you object to: marketing emails, tracking or "
        "profiling. It takes effect straight away. Shall I go ahead?"
    )


def details() -> str:
    return _(
        "Marketing emails are our newsletters and offers. Tracking is Google User-ID, "
        "Facebook, LinkedIn and Bing tracking on gatewayapi.com. Profiling is using that "
        "information to target advertising. You can object to one, two or all three."
    )


def prefill(turn: Turn, slots: Slots) -> None:
    named = turn.understanding.purposes if turn.understanding is not None else ()
    chosen = [p for p in PURPOSES if p in named]
    if chosen:
        slots["purposes"] = chosen


async def collect(turn: Turn) -> bool:
    dialog = turn.dialog
    if dialog.slots.get("purposes"):
        return True
    choice = turn.incoming.button
    if dialog.asking == "purposes":
        if choice in ("all", *PURPOSES):
            dialog.slots["purposes"] = list(PURPOSES) if choice == "all" else [choice]
        else:
            prefill(turn, dialog.slots)
        if dialog.slots.get("purposes"):
            dialog.asking = None
            return True
    dialog.step, dialog.asking = Step.DETAILS, "purposes"
    turn.say(
        _("What should we stop? You can choose several, or write them."),
        (
            Button(_("All of these"), "all"),
            Button(_("Marketing emails"), "marketing_email"),
            Button(_("Tracking"), "tracking"),
            Button(_("Profiling"), "profiling"),
            menu.cancel_button(),
        ),
    )
    return False


handle = register(Right("objection", summary, details, collect=collect, prefill=prefill))
