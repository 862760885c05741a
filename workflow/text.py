"""Free text from customers made safe to store, show to agents and print in a terminal.

Control characters (C0 and C1: ESC sequences, U+009B), bidirectional overrides
(U+202A–U+202E, U+2066–U+2069) and NUL, which PostgreSQL refuses, are removed; runs of
white space become one space. One implementation for every place that keeps such text.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


def strip_unsafe(text: str | None) -> str:
    """The text without control and bidi-override characters; line breaks are kept."""
    return _UNSAFE.sub("", text or "")


def clean_free_text(text: str | None, limit: int) -> str:
    """One line of safe text, at most `limit` characters."""
    return " ".join(strip_unsafe(text).split())[:limit]
