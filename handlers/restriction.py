"""Right to restriction of processing (Art. 18): keep the data, stop using it."""

from __future__ import annotations

from handlers.privacy import Right, Slots, register
from handlers.turn import Turn
from locales import _
from workflow.text import clean_free_text

MAX_REASON = 500


def summary(_turn: Turn) -> str:
    return _(
        "I'll restrict the use of your data: we keep it but stop using it, apart from storing "
        "it, until you ask us to lift the restriction. A person on our team approves it. "
        "Shall I go ahead?"
    )


def details() -> str:
    return _(
        "While the restriction lasts we use your data only to store it, for legal claims or "
        "with your consent: no marketing and no profiling. You can ask here at any time to "
        "lift it."
    )


def prefill(turn: Turn, slots: Slots) -> None:
    """Keep the customer's own reason, cleaned and shortened, for the agent deciding."""
    reason = clean_free_text(turn.text, MAX_REASON)
    if reason:
        slots["reason"] = reason


handle = register(Right("restriction", summary, details, prefill=prefill))
