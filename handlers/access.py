"""Right of access (Art. 15): a copy of the personal data and the facts about its use."""

from __future__ import annotations

from handlers.privacy import Right, register
from locales import _


def explain() -> str:
    return _(
        "I'll prepare a copy of the personal data we hold about you: account and contact "
        "details, API key details (never the keys themselves), the access log with IP "
        "addresses, your SMS messages, invoices and payments, consents and chat "
        "transcripts. It comes with an explanation of why we hold the data, who receives it, "
        "how long we keep it and what your rights are. A member of our team approves the "
        "request, and then you get a download link here. Shall I go ahead?"
    )


handle = register(Right("access", explain))
