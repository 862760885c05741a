"""Right to erasure (Art. 17), within what the bookkeeping act lets us delete."""

from __future__ import annotations

from handlers.privacy import Right, register
from locales import _


def explain() -> str:
    return _(
        "I'll close your account and delete the personal data linked to it: contact "
        "details, SMS messages, API keys (they stop working), the access log, consents and "
        "chat transcripts. The Danish Bookkeeping Act requires us to keep invoices and "
        "payments for 5 years from the end of the financial year; we keep only what the "
        "law requires and delete them after that. This cannot be undone, and a member of "
        "our team must approve it. Do you want to continue?"
    )


handle = register(Right("erasure", explain))
