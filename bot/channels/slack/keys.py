"""The key that identifies one Slack delivery, the same on each of Slack's retries.

The inbox stores a delivery under it and records it as processed under it
(`bot.channels.kit.dedup`), so a retry (`X-Slack-Retry-Num`) or a double delivery is
acknowledged and skipped.
"""

from __future__ import annotations

from typing import Any


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
