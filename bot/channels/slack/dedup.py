"""Exactly-once for Slack deliveries: a retried or duplicated payload is seen only once.

The key is inserted in its own committed transaction before any work starts; the
primary key makes a second insert fail in every process, so a retry
(`X-Slack-Retry-Num`) or a double delivery is acknowledged and skipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import ProcessedDelivery

SOURCE = "slack"
MAX_KEY = 200


async def first_delivery(db: Database, key: str) -> bool:
    """Record `key`; False when it was recorded before (a duplicate)."""
    try:
        async with db.transaction() as session:
            session.add(ProcessedDelivery(source=SOURCE, key=key[:MAX_KEY]))
    except IntegrityError:
        return False
    return True


def event_key(body: dict[str, Any]) -> str | None:
    """Events API: the event_id (`Ev…`), the same on every retry of one event."""
    event_id = body.get("event_id")
    return event_id if isinstance(event_id, str) and event_id else None


def action_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    """A button click: its trigger (unique per click) or action_ts, plus the action id."""
    when = body.get("trigger_id") or action.get("action_ts") or ""
    return f"action:{when}:{action.get('action_id', '')}"


def view_key(body: dict[str, Any]) -> str:
    """A modal submission: its trigger, plus the view's id."""
    view = body.get("view") or {}
    return f"action:{body.get('trigger_id', '')}:{view.get('id', '')}"


def command_key(body: dict[str, Any]) -> str:
    """A slash command: its trigger_id is unique per invocation."""
    return f"command:{body.get('trigger_id', '')}"
