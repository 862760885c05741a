"""Right to data portability (Art. 20): the customer's own data, machine-readable."""

from __future__ import annotations

from handlers.privacy import Right, register
from locales import _


def explain() -> str:
    return _(
        "I'll export the data you have given us or created with us (account and contact "
        "details, SMS messages, consents and API key details) as JSON and CSV files that "
        "you can take to another provider. A member of our team approves the request, and "
        "then you get a download link here. Shall I go ahead?"
    )


handle = register(Right("portability", explain))
