"""The seam between the router and language/intent recognition (`bot.nlu`)."""

from __future__ import annotations

import logging

from bot.nlu import recognise as _recognise
from handlers.types import Understanding

log = logging.getLogger(__name__)


def recognise(text: str, hint: str | None) -> Understanding:
    """Language, intent and details of `text`; `hint` is used only when the text shows no
    language."""
    understood = _recognise(text, hint=hint)
    # The outcome only: the text and the cues found in it may hold personal data.
    log.debug(
        "recognised language=%s intent=%s confidence=%.2f topic=%s act=%s rights=%s length=%d",
        understood.language,
        understood.intent,
        understood.confidence,
        understood.topic,
        understood.act,
        ",".join(understood.rights),
        len(text),
    )
    return understood
