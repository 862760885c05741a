"""Button labels for the things a customer can ask for, and the menus built from them."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.types import Button
from locales import N_, _

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
    "question": N_("A question about privacy"),
    "recipient": N_("I received an SMS"),
    "other": N_("Something else"),
}
MAIN = ("access", "portability", "rectification", "erasure", "objection", "handover")


def buttons_for(values: Iterable[str]) -> tuple[Button, ...]:
    return tuple(Button(_(INTENT_LABELS[v]), v) for v in values if v in INTENT_LABELS)


def main_menu() -> tuple[Button, ...]:
    """The choices offered when the customer has not said what they want yet."""
    return buttons_for(MAIN)


def cancel_button() -> Button:
    return Button(_("Cancel"), "cancel")


def yes_no(more: bool = False) -> tuple[Button, ...]:
    """The buttons under a question that waits for yes or no."""
    buttons = [Button(_("Yes, continue"), "confirm"), Button(_("No, cancel"), "cancel")]
    if more:
        buttons.append(Button(_("More"), "more"))
    return tuple(buttons)
