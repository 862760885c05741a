"""A Telegram update from JSON, leniently: one odd nested field never drops the update.

aiogram's models follow the Bot API documentation, and Telegram does not always: a
message forwarded long ago from a hidden user carries a `forward_origin` without the
documented `sender_user_name` (aiogram issue #1840), and a strict parse fails on the
whole update; answered with an error, Telegram would deliver it again for a day and
long polling would stall on it. So a field that fails validation is dropped (the
outermost one on the failing path that the bot can do without) and the update parsed
again. What the bot cannot do without (the update's id, a message's chat, sender, id
or date) makes the update unreadable: it is logged by the failing fields' names and
error types only, never their values, and skipped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import Update

log = logging.getLogger(__name__)

# The fields an update cannot be understood without, wherever they sit.
REQUIRED = frozenset({"update_id", "message_id", "date", "chat", "from", "id", "message"})
MAX_REPAIRS = 8


def update_id(data: object) -> int | None:
    """The update's integer `update_id`, or None when the body is not an update at all."""
    if not isinstance(data, dict):
        return None
    value = data.get("update_id")
    return value if type(value) is int else None


def parse(data: dict[str, Any], bot: Bot) -> Update | None:
    """The Update, with fields dropped as needed; None (logged) when it cannot be read."""
    from aiogram.types import Update

    dropped: list[str] = []
    for _attempt in range(MAX_REPAIRS + 1):
        try:
            update = Update.model_validate(data, context={"bot": bot})
        except ValidationError as exc:
            errors = [(_path(error["loc"]), error["type"], error["loc"]) for error in exc.errors()]
            repaired = [path for path, _type, loc in errors if _drop(data, loc)]
            if not repaired or len(dropped) >= MAX_REPAIRS:
                described = ", ".join(f"{path} ({kind})" for path, kind, _loc in errors)
                log.warning(
                    "telegram update %s skipped: unreadable %s", data.get("update_id"), described
                )
                return None
            dropped += repaired
            continue
        if dropped:
            log.info("telegram update %s read without %s", update.update_id, ", ".join(dropped))
        return update
    return None


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    """Remove the outermost optional field on `loc`'s path (below the update's own
    fields); False when every field on the path is one the bot needs."""
    node: Any = data
    for depth, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            if depth >= 1 and part not in REQUIRED:
                del node[part]
                return True
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False  # a union's tag or a missing field: nothing further to drop
    return False
