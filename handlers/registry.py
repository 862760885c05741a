"""Which handler answers a turn: a pressed button, an open dialog, or the recognised intent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import (
    access,
    cancel,
    erasure,
    greeting,
    handover,
    human_review,
    objection,
    other,
    portability,
    privacy,
    rectification,
    restriction,
    status,
)
from handlers.turn import Turn
from handlers.types import Button
from locales import N_, _

Handler = Callable[[Turn], Awaitable[None]]

# Below this the bot never acts on its guess: it asks, with the likely intents as buttons.
CONFIDENT = 0.6

HANDLERS: dict[str, Handler] = {
    "access": access.handle,
    "portability": portability.handle,
    "rectification": rectification.handle,
    "erasure": erasure.handle,
    "restriction": restriction.handle,
    "objection": objection.handle,
    "human_review": human_review.handle,
    "status": status.handle,
    "cancel": cancel.handle,
    "handover": handover.handle,
    "greeting": greeting.handle,
    "other": other.handle,
}

# Dialogs that expect the customer's next message (a code, an email...): flow -> resume.
# `resume` returns False when the message does not belong to the dialog.
FLOWS: dict[str, Callable[[Turn], Awaitable[bool]]] = {
    **{kind: privacy.resume for kind in privacy.RIGHTS},
    "status": status.resume,
    "cancel": cancel.resume,
}

INTENT_LABELS = {
    "access": N_("See my data"),
    "portability": N_("Export my data"),
    "rectification": N_("Correct my details"),
    "erasure": N_("Delete my account"),
    "restriction": N_("Restrict use of my data"),
    "objection": N_("Stop marketing"),
    "human_review": N_("Human review of a decision"),
    "status": N_("Status of my request"),
    "cancel": N_("Cancel my request"),
    "handover": N_("Talk to a person"),
    "greeting": N_("Hello"),
    "other": N_("Something else"),
}


async def dispatch(turn: Turn) -> None:
    forced = turn.incoming.metadata.get("intent")
    if forced in HANDLERS:  # a platform command such as Telegram's /start
        await HANDLERS[forced](turn)
        return
    button = turn.incoming.button
    if button:
        await _on_button(turn, button)
        return
    understanding = turn.understanding
    flow = turn.state.get("flow")
    if understanding is None:
        if flow in FLOWS and await FLOWS[flow](turn):  # e.g. a shared contact, no text
            return
        turn.say(_("I didn't catch that. What would you like to do?"), greeting.main_menu())
        return
    if understanding.language_request and understanding.intent in ("greeting", "other"):
        turn.say(_("Of course, I'll write in English from now on."), greeting.main_menu())
        return
    switching = (
        understanding.intent != flow
        and understanding.intent not in ("greeting", "other")
        and understanding.confidence >= CONFIDENT
    )
    if flow in FLOWS and not switching and await FLOWS[flow](turn):
        return
    if understanding.confidence < CONFIDENT and understanding.intent not in ("greeting", "other"):
        _offer_choices(turn, understanding.intent, understanding.alternatives)
        return
    await HANDLERS.get(understanding.intent, other.handle)(turn)


async def _on_button(turn: Turn, value: str) -> None:
    if value in HANDLERS:
        await HANDLERS[value](turn)
        return
    flow = turn.state.get("flow")
    if flow in FLOWS and await FLOWS[flow](turn):
        return
    turn.say(_("That choice is no longer open. What would you like to do?"), greeting.main_menu())


def _offer_choices(turn: Turn, best: str, alternatives: tuple[tuple[str, float], ...]) -> None:
    """Never act on a guess: show the likely intents and let the customer pick."""
    candidates = [best, *(name for name, _score in alternatives if name not in ("greeting",))]
    seen: list[str] = []
    for name in candidates:
        if name in INTENT_LABELS and name not in seen and name != "other":
            seen.append(name)
    buttons = tuple(Button(_(INTENT_LABELS[name]), name) for name in seen[:3])
    something_else = INTENT_LABELS["other"]
    turn.say(
        _("I'm not sure I understood. Did you mean one of these?"),
        (*buttons, Button(_(something_else), "other")),
    )
