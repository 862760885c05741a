"""A platform's text before the router sees it: valid Unicode, within the length limit.

JSON lets a sender write a lone UTF-16 surrogate (`"\\ud800abc"`); Python keeps it in the
string, and the database driver then fails to encode it. Such a code unit means nothing
on its own, so it becomes U+FFFD (the replacement character) at every channel's door.
"""

from __future__ import annotations

import re

from bot.conversation import MAX_TEXT

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def valid_unicode(text: str) -> str:
    """`text` with each lone surrogate replaced (json has already paired the valid ones)."""
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def too_long(text: str) -> bool:
    """Over the limit every channel shares (the customer is told, never cut off silently)."""
    return len(text) > MAX_TEXT
