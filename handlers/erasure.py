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
        "only what the law requires and delete it after that. If you asked for a copy of "
        "your data and have not downloaded it yet, we wait until you have (at most 7 days), "
        "because the erasure deletes the copy too."
    )


handle = register(Right("erasure", summary, details))
