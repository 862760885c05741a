"""Right to erasure (Art. 17), within what the bookkeeping act lets us delete."""

from __future__ import annotations

from handlers.privacy import Right, register
from handlers.turn import Turn
from locales import _


def summary(_turn: Turn) -> str:
    return _(
        "I'll close your account and delete your personal data. Invoices must be kept for "
        "5 years under the Bookkeeping Act. This cannot be undone, and a person on our team "
        "approves it. Do you want to continue?"
    )


def details() -> str:
    return _(
        "We delete your contact details, SMS messages, API keys (they stop working), the "
        "access log, consents and chat transcripts. The Danish Bookkeeping Act requires us to "
        "keep invoices and payments for 5 years from the end of the financial year; we keep "
        "only what the law requires and delete it after that. A copy of your data that you "
        "asked for and have not downloaded yet is sent to you by email first."
    )


handle = register(Right("erasure", summary, details))
