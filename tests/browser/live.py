"""The whole product on 127.0.0.1 for a real browser: web app plus an in-process worker.

As `privacybot serve --demo` runs it: one process, the worker in the web process's
event loop (`run_in_process`), codes in the demo outbox. The server runs in a thread
(tests/live_server.py) so Playwright's synchronous API can drive it from the test.
The port is chosen before the server starts because download links carry PUBLIC_URL.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.runtime import Runtime
from bot.web.agent import accounts
from bot.web.keys import RUNTIME
from bot.worker_process import run_in_process
from storage import demo_seed, migrate
from storage.db import Database
from storage.models import Person
from storage.types import utcnow
from tests.conftest import TEST_SECRET, make_settings
from tests.live_server import LiveServer
from workflow import requests
from workflow.approvals import identity_ref
from workflow.demo_history import seed_history

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AGENT_PASSWORD = "a long agent password"
WAIT_MS = 20_000  # the longest any step may take before the test fails


async def seed_with_history(url: str, data_dir: Path, *, migrate_first: bool, **size: int) -> None:
    """Demo accounts and a year of history (`demo seed --history`), before a server starts,
    so the server's own worker never races the replay. `size`: seed_history's sweeps and
    per_month."""
    db = Database(url)
    try:
        if migrate_first:
            await migrate.upgrade(db)
        async with db.transaction() as session:
            await demo_seed.seed(session)
        await seed_history(
            db,
            secret=TEST_SECRET.encode(),
            data_dir=data_dir,
            public_url="http://127.0.0.1",
            now=utcnow(),
            **size,
        )
    finally:
        await db.dispose()


def require_chromium() -> None:
    """Skip without Debian's Chromium on a developer machine; under CI=true it must be there."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_settings(database_url: str, data_dir: Path, **overrides: Any) -> tuple[Settings, int]:
    port = free_port()
    values: dict[str, Any] = {
        "port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "worker_poll_seconds": 0.2,
    }
    values.update(overrides)
    return make_settings(database_url, data_dir, **values), port


class DemoServer:
    """A LiveServer with the worker running in its loop, and a way to add agents."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.server = LiveServer(settings, port)
        self._stop: asyncio.Event | None = None
        self._worker: asyncio.Task[int] | None = None
        self.stopped = False

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def runtime(self) -> Runtime:
        assert self.server.app is not None
        return self.server.app[RUNTIME]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the server's loop (its database engine lives there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.server.loop).result(timeout=60)

    def start(self) -> DemoServer:
        self.server.start()

        async def start_worker() -> None:
            self._stop = asyncio.Event()
            self._worker = asyncio.create_task(run_in_process(self.runtime, self._stop))

        self.run(start_worker())
        return self

    def stop(self) -> None:
        """Stop the worker, then the server; a second call does nothing."""
        if self.stopped:
            return
        self.stopped = True

        async def stop_worker() -> None:
            if self._stop is not None and self._worker is not None:
                self._stop.set()
                await asyncio.wait_for(self._worker, timeout=30)

        try:
            self.run(stop_worker())
        finally:
            self.server.stop()

    def open_request(self, kind: str, email: str, *, days_ago: float = 0) -> str:
        """A verified request from the demo account with `email`, received `days_ago`."""

        async def add() -> str:
            secret = self.runtime.services.secret
            async with self.runtime.db.transaction() as session:
                account = await session.scalar(
                    select(Person.account_id).where(Person.email == email)
                )
                assert account is not None, email
                request = await requests.open_request(
                    session,
                    kind=kind,
                    account_id=account,
                    conversation_id=None,
                    channel="webchat",
                    language="da" if email.endswith(".dk") else "en",
                    verified_via="email_code",
                    details={},
                    requester_ref=identity_ref(secret, f"webchat:{secrets.token_hex(4)}"),
                    now=utcnow() - timedelta(days=days_ago),
                    said_in_turn=False,
                )
                return request.reference

        return self.run(add())

    def add_agent(self, name: str, language: str = "en") -> None:
        async def add() -> None:
            async with self.runtime.db.transaction() as session:
                await accounts.add(session, name, AGENT_PASSWORD, language=language)

        self.run(add())
