"""Customer notifications: worded per event and language, delivered once per channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text as text_sql
from sqlalchemy.ext.asyncio import AsyncSession

from bot import delivery
from storage.db import Database
from storage.privacy_models import Notification
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, agent, open_request, rows
from workflow import decisions
from workflow.queue import in_transaction

PARAMS = {"reference": "PR-ABC234", "due_at": "2027-02-28T10:00:00+00:00", "reason": "Because."}


@pytest.mark.parametrize(
    ("event", "extra", "expected"),
    [
        ("received", {}, ["PR-ABC234", "28 February 2027"]),
        ("awaiting_approval", {}, ["PR-ABC234", "privacy team"]),
        ("approved", {}, ["approved"]),
        ("rejected", {}, ["Because.", "Datatilsynet"]),
        ("extended", {}, ["Because.", "28 February 2027"]),
        ("failed", {}, ["technical problem"]),
        ("cancelled", {}, ["cancelled"]),
        ("in_review", {"kind": "human_review"}, ["reviewing"]),
        ("in_review", {"kind": "rectification"}, ["handling"]),
        ("completed", {"kind": "rectification", "answer": "Done by hand."}, ["Done by hand."]),
        ("completed", {"kind": "access", "download_url": "http://x/d/1"}, ["http://x/d/1"]),
        (
            "completed",
            {"kind": "portability", "download_url": "http://x/d/2"},
            ["machine-readable", "http://x/d/2"],
        ),
        (
            "completed",
            {"kind": "erasure", "receipt_url": "http://x/r/3"},
            ["erased", "http://x/r/3"],
        ),
        ("completed", {"kind": "erasure"}, ["erased"]),
        ("completed", {"kind": "objection", "purposes": ["marketing_email"]}, ["marketing emails"]),
        ("completed", {"kind": "restriction"}, ["restricted"]),
        ("completed", {"kind": "restriction", "lifted": True}, ["lifted"]),
        ("completed", {"kind": "rectification"}, ["corrected"]),
        ("completed", {"kind": "human_review", "answer": "It was fine."}, ["It was fine."]),
    ],
)
def test_every_event_has_a_clear_english_message(
    event: str, extra: dict[str, object], expected: list[str]
) -> None:
    text = delivery.render(event, {**PARAMS, **extra}, "en")
    for part in expected:
        assert part in text, text
    assert "{" not in text, "every placeholder was filled"


def test_danish_dates_are_danish() -> None:
    assert "28. februar 2027" in delivery.render("received", PARAMS, "da")


@pytest.fixture
def outbox() -> Iterator[list[tuple[int, str]]]:
    sent: list[tuple[int, str]] = []

    async def telegram(notification: Notification, text: str) -> None:
        sent.append((notification.id, text))

    delivery.register_sender("test_channel", telegram)
    yield sent
    delivery.unregister_sender("test_channel")


async def _reject_on(db: Database, clock: FakeClock, channel: str) -> int:
    request = await open_request(db, "access", now=clock(), account=await account_id(db))
    async with db.transaction() as session:
        await decisions.reject(session, request.reference, agent("alice"), "Duplicate.")
        # only the chat notice is under test here: the copy to the verified contact goes
        await session.execute(
            Notification.__table__.delete().where(
                Notification.request_id == request.id, Notification.channel.in_(("email", "sms"))
            )
        )
        note = (
            await session.execute(
                Notification.__table__.update()
                .where(Notification.request_id == request.id, Notification.event == "rejected")
                .values(channel=channel)
                .returning(Notification.id)
            )
        ).scalar_one()
    return int(note)


async def test_other_channels_use_their_registered_sender(
    seeded: Database, clock: FakeClock, outbox: list[tuple[int, str]]
) -> None:
    note_id = await _reject_on(seeded, clock, "test_channel")
    assert await delivery.dispatch(seeded, clock()) == 1
    assert await delivery.dispatch(seeded, clock()) == 0
    assert [n for n, _ in outbox] == [note_id] and "Duplicate." in outbox[0][1]


async def test_without_a_sender_the_notification_waits(seeded: Database, clock: FakeClock) -> None:
    note_id = await _reject_on(seeded, clock, "carrier_pigeon")
    assert await delivery.dispatch(seeded, clock()) == 0
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "pending" and note.attempts == 0


async def test_a_failing_sender_is_retried_then_given_up(
    seeded: Database, clock: FakeClock
) -> None:
    async def broken(notification: Notification, text: str) -> None:
        raise ConnectionError("down")

    delivery.register_sender("test_broken", broken)
    try:
        note_id = await _reject_on(seeded, clock, "test_broken")
        for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
            assert await delivery.dispatch(seeded, clock()) == 0
            [note] = await rows(seeded, Notification, Notification.id == note_id)
            assert note.attempts == attempt
            assert await delivery.dispatch(seeded, clock()) == 0, "waits before the next try"
            [note] = await rows(seeded, Notification, Notification.id == note_id)
            assert note.attempts == attempt
            clock.advance(seconds=delivery.RETRY_CAP)
    finally:
        delivery.unregister_sender("test_broken")
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "failed" and note.attempts == delivery.MAX_ATTEMPTS
    assert note.next_attempt_at is None


async def test_no_row_is_locked_while_the_sender_sends(seeded: Database, clock: FakeClock) -> None:
    """The sender (Slack, Telegram) may take seconds: while it runs, another connection
    can lock and write the notification's row at once (NOWAIT on PostgreSQL; on SQLite,
    a write transaction of a second engine, which needs the database's write lock)."""
    other = Database(seeded.url)
    seen: list[int] = []

    async def checks_locks(notification: Notification, text: str) -> None:
        async with other.transaction() as session:
            if other.is_postgres:
                await session.execute(
                    text_sql("SELECT id FROM notifications WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": notification.id},
                )
            await session.execute(
                text_sql("UPDATE notifications SET language = language WHERE id = :id"),
                {"id": notification.id},
            )
        seen.append(notification.id)

    delivery.register_sender("test_locks", checks_locks)
    try:
        note_id = await _reject_on(seeded, clock, "test_locks")
        assert await delivery.dispatch(seeded, clock()) == 1
    finally:
        delivery.unregister_sender("test_locks")
        await other.dispose()
    assert seen == [note_id]
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "delivered" and note.attempts == 1


async def test_a_send_cut_off_by_a_crash_is_sent_again_after_the_lease(
    seeded: Database, clock: FakeClock, outbox: list[tuple[int, str]]
) -> None:
    """At-least-once: a claim whose process died before recording the result is taken
    again once its lease is over, and not before."""
    note_id = await _reject_on(seeded, clock, "test_channel")

    async def claim_only(session: AsyncSession) -> object:
        return await delivery._claim(session, note_id, clock())

    assert await in_transaction(seeded, claim_only) is not None  # then the process "dies"
    assert await delivery.dispatch(seeded, clock()) == 0, "still leased"
    clock.advance(seconds=delivery.LEASE.total_seconds() + 1)
    assert await delivery.dispatch(seeded, clock()) == 1
    assert [n for n, _ in outbox] == [note_id]
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "delivered" and note.attempts == 2


async def test_a_webchat_notification_without_conversation_fails_cleanly(
    seeded: Database, clock: FakeClock
) -> None:
    note_id = await _reject_on(seeded, clock, "webchat")  # opened without a conversation
    assert await delivery.dispatch(seeded, clock()) == 0
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "failed"
