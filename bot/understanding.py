"""The seam between the router and language/intent recognition (`bot.nlu`)."""

from __future__ import annotations

from bot.nlu import recognise as _recognise
from handlers.types import Understanding


def recognise(text: str, hint: str | None) -> Understanding:
    """Language and intent of `text`; `hint` is used only when the text shows no language."""
    return _recognise(text, hint=hint)
