"""Customer notifications: worded per event and language, delivered once per channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import delivery
from storage.db import Database
from storage.privacy_models import Notification
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, agent, open_request, rows
from workflow import decisions

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
        for _ in range(delivery.MAX_ATTEMPTS):
            assert await delivery.dispatch(seeded, clock()) == 0
    finally:
        delivery.unregister_sender("test_broken")
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "failed" and note.attempts == delivery.MAX_ATTEMPTS


async def test_a_webchat_notification_without_conversation_fails_cleanly(
    seeded: Database, clock: FakeClock
) -> None:
    note_id = await _reject_on(seeded, clock, "webchat")  # opened without a conversation
    assert await delivery.dispatch(seeded, clock()) == 0
    [note] = await rows(seeded, Notification, Notification.id == note_id)
    assert note.status == "failed"
