"""Copy first, then erase (issue 12 item 4): an erasure waits for the customer's
unfetched copy, runs once it is downloaded or its link has expired, and never waits
past its own deadline.

The customer talks to the real web app; the agent approves with the workflow's own
functions; the worker runs in this test's loop with a clock the test moves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import Person
from storage.privacy_models import Action, AuditEntry, ExportDownload, PrivacyRequest
from tests.clock import FakeClock
from tests.test_rights_end_to_end import (
    ANNA,
    approve_and_run,
    bot_texts,
    request_of,
    run_worker,
    verified_request,
)
from workflow import copy_first
from workflow.exports import LIFETIME

Client = TestClient[Any, Any]


async def _anna_has_a_copy_and_asks_for_erasure(
    client: Client, runtime: Runtime, tmp_path: Path
) -> tuple[str, PrivacyRequest]:
    """Anna's access request done (its link in the chat), then her erasure approved."""
    chat = await verified_request(client, runtime, "I would like a copy of my data", ANNA)
    access = await request_of(runtime, chat)
    await approve_and_run(runtime, access.reference, tmp_path)
    link = next(
        word
        for text in await bot_texts(chat)
        for word in text.split()
        if "/downloads/" in word and access.reference not in word
    )
    chat = await verified_request(client, runtime, "Please delete my account", ANNA)
    erasure = await request_of(runtime, chat)
    assert erasure.kind == "erasure"
    await approve_and_run(runtime, erasure.reference, tmp_path)
    return urlsplit(link).path, erasure


async def _status(runtime: Runtime, reference: str) -> str:
    async with runtime.db.sessions() as session:
        status = await session.scalar(
            select(PrivacyRequest.status).where(PrivacyRequest.reference == reference)
        )
    return str(status)


async def _people(runtime: Runtime, email: str) -> int:
    async with runtime.db.sessions() as session:
        return int(await session.scalar(select(func.count()).where(Person.email == email)) or 0)


def _zips(runtime: Runtime) -> list[str]:
    return sorted(p.name for p in (runtime.settings.data_dir / "exports").glob("*.zip"))


async def test_the_erasure_waits_for_the_unfetched_copy_and_runs_once_it_is_downloaded(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    link, erasure = await _anna_has_a_copy_and_asks_for_erasure(client, runtime, tmp_path)

    assert await _status(runtime, erasure.reference) == "in_progress"
    assert await _people(runtime, ANNA) == 1, "nothing erased while the copy waits"
    assert len(_zips(runtime)) == 1
    async with runtime.db.sessions() as session:
        action = await session.scalar(select(Action).where(Action.request_id == erasure.id))
        deferred = await session.scalar(
            select(func.count()).where(
                AuditEntry.request_id == erasure.id, AuditEntry.event == "action_deferred"
            )
        )
    assert action is not None and action.status == "ready" and action.attempts == 0
    assert action.run_after > runtime.services.clock() + LIFETIME - timedelta(hours=1)
    assert deferred == 1, "the second worker pass saw nothing due"

    response = await client.get(link)
    assert response.status == 200
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ExportDownload)) == 1
        action = await session.scalar(select(Action).where(Action.request_id == erasure.id))
    assert action is not None and action.run_after == runtime.services.clock(), "released"
    await run_worker(runtime, tmp_path)

    assert await _status(runtime, erasure.reference) == "completed"
    assert await _people(runtime, ANNA) == 0
    assert _zips(runtime) == []
    assert (await client.get(link)).status == 404
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ExportDownload)) == 0


async def test_an_unfetched_copy_holds_the_erasure_only_until_its_link_expires(
    client: Client, runtime: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    link, erasure = await _anna_has_a_copy_and_asks_for_erasure(client, runtime, tmp_path)
    clock.advance(days=6)
    await run_worker(runtime, tmp_path)
    assert await _status(runtime, erasure.reference) == "in_progress"

    clock.advance(days=1, minutes=1)
    await run_worker(runtime, tmp_path)
    assert await _status(runtime, erasure.reference) == "completed"
    assert await _people(runtime, ANNA) == 0
    assert (await client.get(link)).status in (404, 410)


def test_the_wait_ends_in_time_for_the_erasures_own_deadline() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    copy = copy_first.Unfetched("PR-1", "PR-1-access.zip", now + LIFETIME)
    assert copy_first.erasure_waits_until([copy], now + timedelta(days=30), now) == now + LIFETIME
    close = now + timedelta(days=3)
    assert copy_first.erasure_waits_until([copy], close, now) == close - copy_first.DEADLINE_MARGIN
    assert copy_first.erasure_waits_until([copy], now + timedelta(days=1), now) is None
    assert copy_first.erasure_waits_until([], now + timedelta(days=30), now) is None
