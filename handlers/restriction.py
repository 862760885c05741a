"""Right to restriction of processing (Art. 18): keep the data, stop using it."""

from __future__ import annotations

from handlers.privacy import Right, register
from handlers.turn import Turn
from locales import _


def explain() -> str:
    return _(
        "I'll restrict the processing of your data: we keep it, but we stop using it for "
        "anything other than storing it, legal claims or what you allow. No marketing and "
        "no profiling until the restriction is lifted, which you can ask for here at any "
        "time. A member of our team approves the request. Shall I go ahead?"
    )


def prefill(turn: Turn) -> None:
    """Keep the customer's own reason, shortened, for the agent deciding."""
    turn.state["details"]["reason"] = (turn.incoming.text or "")[:500]


handle = register(Right("restriction", explain, prefill=prefill))
