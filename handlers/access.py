"""Right of access (Art. 15): a copy of the personal data and the facts about its use."""

from __future__ import annotations

from handlers.privacy import Right, register
from handlers.turn import Turn
from locales import _


def summary(_turn: Turn) -> str:
    return _(
        "I'll prepare a copy of the personal data we hold about you, with an explanation of "
        "how we use it. A person on our team approves it, then you get a download link. "
        "Shall I go ahead?"
    )


def details() -> str:
    return _(
        "The copy holds your account and contact details, API key details (never the keys "
        "themselves), the access log with IP addresses, your SMS messages, invoices and "
        "payments, consents and chat transcripts. It comes with why we hold the data, who "
        "receives it, how long we keep it and what your rights are."
    )


handle = register(Right("access", summary, details))
