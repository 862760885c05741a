"""Fixtures for the executor tests: an ActionContext built by hand, no workflow engine."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.sql import Select

import storage.privacy_models  # noqa: F401 - the engine's tables belong in every scan
from storage.db import Database
from storage.models import Base, Conversation, Person, TranscriptMessage
from tests.clock import FakeClock
from tests.conftest import TEST_SECRET
from workflow.executors import ActionContext

SECRET = TEST_SECRET.encode()
PUBLIC_URL = "http://127.0.0.1:8080"
ANNA = "anna@example.dk"
ANNA_PHONE = "+4520000001"
BEN = "ben@example.com"
START = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)

MakeCtx = Callable[..., ActionContext]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


async def account_of(db: Database, email: str) -> int:
    async with db.sessions() as session:
        found = await session.scalar(select(Person.account_id).where(Person.email == email))
    assert found is not None
    return int(found)


def context(
    db: Database,
    account_id: int,
    *,
    kind: str,
    data_dir: Path,
    clock: Callable[[], datetime],
    language: str = "da",
    details: dict[str, Any] | None = None,
    reference: str = "PR-TEST01",
    secret: bytes = SECRET,
    public_url: str = PUBLIC_URL,
) -> ActionContext:
    return ActionContext(
        db=db,
        request_id=1,
        reference=reference,
        kind=kind,
        account_id=account_id,
        language=language,
        details=details or {},
        secret=secret,
        public_url=public_url,
        data_dir=data_dir,
        now=clock,
    )


@pytest.fixture
async def anna(seeded: Database) -> int:
    return await account_of(seeded, ANNA)


@pytest.fixture
async def ben(seeded: Database) -> int:
    return await account_of(seeded, BEN)


@pytest.fixture
def make_ctx(seeded: Database, data_dir: Path, clock: FakeClock) -> MakeCtx:
    def make(account_id: int, kind: str, **kwargs: Any) -> ActionContext:
        return context(seeded, account_id, kind=kind, data_dir=data_dir, clock=clock, **kwargs)

    return make


async def count(db: Database, stmt: Select[Any]) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


async def snapshot(
    db: Database, skip: frozenset[str] = frozenset()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, as comparable tuples."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if f"{table.name}.{c.name}" not in skip]
            rows = await session.execute(select(*columns).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(str(v) for v in row) for row in rows]
    return found


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def add_chat(
    db: Database,
    account_id: int | None,
    texts: list[str],
    *,
    conversation_id: str = "conv-anna-1",
    channel: str = "webchat",
) -> None:
    """A conversation (linked to the account when given) with a transcript."""
    async with db.transaction() as session:
        session.add(
            Conversation(
                id=conversation_id,
                channel=channel,
                external_id=f"ext-{conversation_id}",
                state={"details": {"note": texts[0]}},
                account_id=account_id,
                verified_until=START if account_id else None,
                verified_via="email_code" if account_id else None,
                created_at=START,
                updated_at=START,
            )
        )
        await session.flush()
        for seq, text in enumerate(texts, start=1):
            session.add(
                TranscriptMessage(
                    conversation_id=conversation_id,
                    seq=seq,
                    sender="customer" if seq % 2 else "bot",
                    text=text,
                    created_at=START,
                )
            )
