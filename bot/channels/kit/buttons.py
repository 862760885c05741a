"""Whether a pressed button is one the bot still offers.

Telegram and Slack keep every earlier message's buttons clickable. A button from an
earlier message, pressed after the conversation moved on, must not act: a stale
"cancel" would open a cancel dialog, a stale "confirm" would confirm something else.
The router records the buttons of the bot's latest answer with the dialog state;
a press of any other value is stale, whatever the value.
"""

from __future__ import annotations

from handlers import state as dialog_state
from storage.models import Conversation


class StaleButton(Exception):
    """The pressed button is not among those the bot offered last."""


def offered(conversation: Conversation) -> frozenset[str]:
    """The values of the buttons under the bot's latest answer."""
    return dialog_state.offered_values(conversation.state)


def check(conversation: Conversation, value: str) -> None:
    """StaleButton unless `value` is on the bot's latest answer (inside the turn's
    transaction, so the check and the turn see the same state)."""
    if value not in offered(conversation):
        raise StaleButton(value)
