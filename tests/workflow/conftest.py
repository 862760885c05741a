"""Helpers for the workflow engine tests: open requests, build a worker, read outboxes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import delivery
from storage import conversations
from storage.db import Database
from storage.models import Conversation, Person, TranscriptMessage
from storage.privacy_models import AgentAlert, AuditEntry, Notification, PrivacyRequest
from tests.clock import FakeClock
from tests.conftest import TEST_SECRET
from workflow import requests as privacy_requests
from workflow.approvals import Agent, ApprovalPolicy, identity_ref
from workflow.worker import WorkerConfig, WorkerDeps

SECRET = TEST_SECRET.encode()
CUSTOMER_IDENTITY = "webchat:visitor-1"
START = datetime(2027, 1, 31, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    """Time starts on 31 January 2027 (a month-end), so due dates are interesting."""
    return FakeClock(START)


def agent(name: str) -> Agent:
    return Agent.from_identity(SECRET, name)


async def account_id(db: Database, email: str = "ben@example.com") -> int:
    async with db.sessions() as session:
        found = await session.scalar(select(Person.account_id).where(Person.email == email))
    assert found is not None
    return int(found)


async def new_conversation(db: Database, channel: str = "webchat") -> str:
    async with db.transaction() as session:
        conversation = conversations.create(session, channel, locale="en")
        return conversation.id


async def open_request(
    db: Database,
    kind: str,
    *,
    now: datetime,
    account: int,
    conversation_id: str | None = None,
    details: dict[str, Any] | None = None,
    policy: ApprovalPolicy | None = None,
    language: str = "en",
    requester: str = CUSTOMER_IDENTITY,
) -> PrivacyRequest:
    async with db.transaction() as session:
        return await privacy_requests.open_request(
            session,
            kind=kind,
            account_id=account,
            conversation_id=conversation_id,
            channel="webchat",
            language=language,
            verified_via="email_code",
            details=details or {},
            requester_ref=identity_ref(SECRET, requester),
            now=now,
            policy=policy or ApprovalPolicy(),
        )


async def reload(db: Database, reference: str) -> PrivacyRequest:
    async with db.sessions() as session:
        found = await session.scalar(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference)
        )
    assert found is not None
    return found


async def bot_messages(db: Database, conversation_id: str) -> list[str]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(TranscriptMessage.text)
            .where(
                TranscriptMessage.conversation_id == conversation_id,
                TranscriptMessage.sender == "bot",
            )
            .order_by(TranscriptMessage.seq)
        )
        return list(rows)


async def rows(db: Database, model: Any, *where: Any) -> Sequence[Any]:
    async with db.sessions() as session:
        return (await session.scalars(select(model).where(*where).order_by(model.id))).all()


async def alerts(db: Database, event: str | None = None) -> Sequence[AgentAlert]:
    return await rows(db, AgentAlert, *([AgentAlert.event == event] if event else []))


async def notifications_of(db: Database, request_id: int) -> Sequence[Notification]:
    return await rows(db, Notification, Notification.request_id == request_id)


async def audit_events(db: Database, request_id: int) -> list[str]:
    return [e.event for e in await rows(db, AuditEntry, AuditEntry.request_id == request_id)]


async def conversation(db: Database, conversation_id: str) -> Conversation:
    async with db.sessions() as session:
        found = await conversations.get(session, conversation_id)
    assert found is not None
    return found


def make_deps(
    db: Database, clock: Callable[[], datetime], tmp_path: Path, **config: Any
) -> WorkerDeps:
    return WorkerDeps(
        db=db,
        secret=SECRET,
        public_url="http://127.0.0.1:8080",
        data_dir=tmp_path / "data",
        clock=clock,
        config=WorkerConfig(poll_seconds=0.01, **config),
        housekeeping=(delivery.dispatch,),
        name="test-worker",
    )


@pytest.fixture
def deps(seeded: Database, clock: FakeClock, tmp_path: Path) -> WorkerDeps:
    return make_deps(seeded, clock, tmp_path)
