"""Right to data portability (Art. 20): the data the customer gave us, machine-readable."""

from __future__ import annotations

from handlers.privacy import Right, register
from handlers.turn import Turn
from locales import _


def summary(_turn: Turn) -> str:
    return _(
        "I'll export the data you have given us in machine-readable files (JSON and CSV) "
        "that you can take to another provider. A person on our team approves it, then you "
        "get a download link. Shall I go ahead?"
    )


def details() -> str:
    return _(
        "The export holds your account and contact details, your SMS messages with their "
        "recipients and status, invoices and your consents, as JSON and CSV files in one ZIP "
        "archive. It leaves out what we derive ourselves, such as the access log."
    )


handle = register(Right("portability", summary, details))
