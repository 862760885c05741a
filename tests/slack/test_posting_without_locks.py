"""Agent alerts and approval messages reach the approvals channel without a row lock
held during the call: while Slack answers, another connection can lock and write the
row at once.
A failed post is tried again on the next pass; a post cut off by a crash, once the
poster's lease is over."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from bot.channels.slack import agent_alerts, approvals_sync
from storage.db import Database
from storage.privacy_models import AgentAlert
from storage.slack_models import SlackApprovalMessage
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, open_request, rows
from workflow import alerts
from workflow.approvals import ApprovalPolicy


class CheckingClient:
    """Stands in for Slack's client: on each post, locks the alert from a second engine."""

    def __init__(self, other: Database, *, fail: bool = False) -> None:
        self.other, self.fail = other, fail
        self.posted: list[str] = []

    async def chat_postMessage(self, *, channel: str, **message: Any) -> None:
        async with self.other.transaction() as session:
            if self.other.is_postgres:
                await session.execute(text("SELECT id FROM agent_alerts FOR UPDATE NOWAIT"))
            await session.execute(text("UPDATE agent_alerts SET params = params"))
        if self.fail:
            raise SlackApiError("down", {"ok": False, "error": "ratelimited"})
        self.posted.append(message["text"])


async def _alert(db: Database, clock: FakeClock) -> int:
    async with db.transaction() as session:
        await alerts.raise_alert(
            session, "action_failed", now=clock(), params={"reference": "PR-ABC234"}
        )
    [alert] = await rows(db, AgentAlert)
    return alert.id


async def test_an_alert_is_posted_with_no_row_locked(db: Database, clock: FakeClock) -> None:
    alert_id = await _alert(db, clock)
    other = Database(db.url)
    try:
        failing = CheckingClient(other, fail=True)
        assert await agent_alerts.deliver(db, failing, "C1", clock()) == 0  # type: ignore[arg-type]
        [alert] = await rows(db, AgentAlert, AgentAlert.id == alert_id)
        assert alert.status == "pending" and alert.next_attempt_at is None

        working = CheckingClient(other)
        assert await agent_alerts.deliver(db, working, "C1", clock()) == 1  # type: ignore[arg-type]
        assert await agent_alerts.deliver(db, working, "C1", clock()) == 0  # type: ignore[arg-type]
    finally:
        await other.dispose()
    assert len(working.posted) == 1 and "PR-ABC234" in working.posted[0]
    [alert] = await rows(db, AgentAlert, AgentAlert.id == alert_id)
    assert alert.status == "delivered"


async def test_a_post_cut_off_by_a_crash_is_posted_after_the_lease(
    db: Database, clock: FakeClock
) -> None:
    await _alert(db, clock)
    [alert] = await rows(db, AgentAlert)
    assert await agent_alerts._claim(db, alert.id, clock()) is not None  # the process "dies"
    other = Database(db.url)
    try:
        client = CheckingClient(other)
        assert await agent_alerts.deliver(db, client, "C1", clock()) == 0  # type: ignore[arg-type]
        clock.advance(seconds=agent_alerts.LEASE.total_seconds() + 1)
        assert await agent_alerts.deliver(db, client, "C1", clock()) == 1  # type: ignore[arg-type]
    finally:
        await other.dispose()


class CheckingEditor:
    """On each chat.update, locks the approval message's row from a second engine."""

    def __init__(self, other: Database) -> None:
        self.other = other
        self.edits: list[str] = []

    async def chat_update(self, *, channel: str, ts: str, **message: Any) -> None:
        async with self.other.transaction() as session:
            if self.other.is_postgres:
                await session.execute(
                    text("SELECT id FROM slack_approval_messages FOR UPDATE NOWAIT")
                )
            await session.execute(text("UPDATE slack_approval_messages SET channel = channel"))
        self.edits.append(message["text"])


async def test_an_approval_message_is_edited_with_no_row_locked(
    seeded: Database, clock: FakeClock
) -> None:
    request = await open_request(seeded, "erasure", now=clock(), account=await account_id(seeded))
    async with seeded.transaction() as session:
        session.add(
            SlackApprovalMessage(
                request_id=request.id, channel="C1", ts="1.0", digest="old", updated_at=clock()
            )
        )
    [message] = await rows(seeded, SlackApprovalMessage)
    other = Database(seeded.url)
    try:
        editor = CheckingEditor(other)
        assert await approvals_sync._update(seeded, editor, message.id, clock(), ApprovalPolicy())  # type: ignore[arg-type]
        assert not await approvals_sync._update(
            seeded, editor, message.id, clock(), ApprovalPolicy()
        )  # type: ignore[arg-type]
    finally:
        await other.dispose()
    assert len(editor.edits) == 1 and request.reference in editor.edits[0]
    [message] = await rows(seeded, SlackApprovalMessage)
    assert message.digest != "old" and message.next_attempt_at is None
    assert message.last_status == "awaiting_approval"
