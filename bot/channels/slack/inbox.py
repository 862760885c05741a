"""Slack deliveries stored first, acknowledged second, worked on third (persist-then-ack).

Slack wants an answer within 3 seconds and retries otherwise, so a listener only
stores what the work needs (`accept`: committed; deliveries arriving together are
written together, by one writer task) and acknowledges; the work runs afterwards:
- customers' messages and button presses wait in a bounded queue worked by a fixed set
  of tasks (`workers`), so a burst can neither start unbounded work nor starve the
  acknowledgements of the CPU and the database;
- agents' clicks, modal submissions and commands start at once in a tracked task (a
  modal must open within the 3 seconds its trigger is valid).
Every task is referenced, and `stop` awaits them. The work deletes its row and records
the delivery as processed (`done`) in its own transaction, so a crash between the
acknowledgement and the work leaves the row behind: `sweep` picks such rows up again at
start and every `SWEEP_SECONDS`, once they are `GRACE` old (never twice at once: taking
one is a conditional update). When the queue is full, `accept` raises `Overloaded`
before storing anything, and Slack, answered 503 + Retry-After, delivers it again.
A duplicate (Slack's retry, a second process) is found at `accept` (the row or the
processed record exists) and again at `done` (the processed record's primary key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.channels.kit import dedup
from bot.tasks import BackgroundTasks
from storage.db import Database
from storage.models import ProcessedDelivery
from storage.slack_models import SlackInboxEntry

log = logging.getLogger(__name__)

SOURCE = "slack"
BACKLOG = 256  # customer deliveries stored and not yet worked on, at most
GRACE = timedelta(seconds=30)  # a row this old is no longer being worked on
SWEEP_SECONDS = 15.0
MAX_ATTEMPTS = 5  # sweeps of one row before it is given up (logged)
REFUSED_LOG_SECONDS = 10.0  # under overload, one log line per this many seconds
BATCH = 100
# Errors that mean "the database is not available now": the row stays for the sweep.
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class Overloaded(Exception):
    """The queue is full: answer 503 so Slack delivers the event again later."""


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    kind: str
    payload: dict[str, Any]


Work = Callable[[Delivery], Awaitable[None]]


class Inbox:
    """The Slack deliveries of one process: accepted, queued, worked on, swept."""

    def __init__(
        self,
        db: Database,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime],
        *,
        workers: int,
        backlog: int = BACKLOG,
    ) -> None:
        self.db, self.tasks, self.clock = db, tasks, clock
        self.workers, self.backlog = workers, backlog
        self._work: dict[str, Work] = {}
        self._urgent: set[str] = set()
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._queued = 0  # accepted customer deliveries not yet finished
        self._running: set[str] = set()  # keys being worked on in this process
        self._stop = asyncio.Event()
        self._stop.set()  # until `start`: what is accepted stays stored for a sweep
        self._loops: list[asyncio.Task[None]] = []
        self._refused, self._refused_logged = 0, -REFUSED_LOG_SECONDS
        self._unwritten: list[tuple[Delivery, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._written = asyncio.Event()  # nothing waits to be stored
        self._written.set()

    def on(self, kind: str, work: Work, *, urgent: bool = False) -> None:
        """Run `work` for deliveries of `kind`; `urgent` ones skip the queue."""
        self._work[kind] = work
        if urgent:
            self._urgent.add(kind)

    # --- in: the listener's part, before the acknowledgement ----------------------------

    async def accept(self, key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Store the delivery and schedule its work; False for a duplicate.

        Overloaded when the queue is full (nothing stored); database errors propagate."""
        urgent = kind in self._urgent
        if not urgent and self._queued >= self.backlog:
            raise Overloaded
        if not urgent:
            self._queued += 1  # reserved now: accepts awaiting the INSERT count too
        try:
            stored = await self._store(key[: dedup.MAX_KEY], kind, payload)
        except BaseException:
            self._release(urgent)
            raise
        if not stored:
            self._release(urgent)
            return False
        self._schedule(Delivery(key[: dedup.MAX_KEY], kind, payload))
        return True

    async def _store(self, key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Store the row, unless it is there already or the delivery was processed.

        Rows arriving together are written together (group commit): one writer task
        writes whatever is waiting in one transaction, so under load an acknowledgement
        waits for one write, not for a queue of them."""
        stored = asyncio.get_running_loop().create_future()
        self._unwritten.append((Delivery(key, kind, payload), stored))
        self._written.clear()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="slack-inbox-writer")
        return bool(await stored)

    async def _write(self) -> None:
        try:
            await self._write_waiting()
        finally:
            self._written.set()

    async def _write_waiting(self) -> None:
        while self._unwritten:
            batch, self._unwritten = self._unwritten, []
            try:
                new = await self._insert([delivery for delivery, _stored in batch])
            except Exception as exc:  # every acknowledgement waiting on it fails (503)
                for _delivery, stored in batch:
                    if not stored.done():
                        stored.set_exception(exc)
                continue
            for delivery, stored in batch:
                if not stored.done():
                    stored.set_result(delivery.key in new)
                new.discard(delivery.key)  # the same event twice in one batch: stored once

    async def _insert(self, batch: list[Delivery]) -> set[str]:
        """The keys of `batch` that are new: not processed, not already in the inbox."""
        keys = {delivery.key for delivery in batch}
        processed = select(ProcessedDelivery.key).where(
            ProcessedDelivery.source == SOURCE, ProcessedDelivery.key.in_(keys)
        )
        now = self.clock()
        insert = postgresql.insert if self.db.is_postgres else sqlite.insert
        async with self._connection() as connection:
            known = set((await connection.execute(processed)).scalars())
            fresh = {d.key: d for d in batch if d.key not in known}  # first of each key
            if not fresh:
                return set()
            rows = [
                {"key": d.key, "kind": d.kind, "payload": d.payload, "received_at": now}
                for d in fresh.values()
            ]
            stmt = (
                insert(SlackInboxEntry)
                .values(rows)
                .on_conflict_do_nothing()
                .returning(SlackInboxEntry.key)
            )
            return set((await connection.execute(stmt)).scalars())

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncSession | AsyncConnection]:
        """PostgreSQL: a connection that commits each statement by itself (no BEGIN, no
        COMMIT round trips). SQLite: a transaction before the process's other waiting
        writers (an acknowledgement waits for it; the turns it would queue behind do not)."""
        if self.db.is_postgres:
            async with self.db.engine.connect() as connection:
                yield await connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            async with self.db.transaction(urgent=True) as session:
                yield session

    def refused(self) -> None:
        """Count a delivery answered 503; logged at most every REFUSED_LOG_SECONDS, so an
        overload does not also flood the log."""
        self._refused += 1
        now = time.monotonic()
        if now - self._refused_logged >= REFUSED_LOG_SECONDS:
            log.warning("slack inbox full: %d deliveries refused with 503", self._refused)
            self._refused, self._refused_logged = 0, now

    def _schedule(self, delivery: Delivery) -> None:
        if self._stop.is_set():  # shutting down: the row stays for the next sweep
            self._release(delivery.kind in self._urgent)
            return
        if delivery.kind in self._urgent:
            self.tasks.spawn(self._run(delivery), name=f"slack-{delivery.kind}")
        else:
            self._queue.put_nowait(delivery)

    def _release(self, urgent: bool) -> None:
        if not urgent:
            self._queued -= 1

    # --- out: the work's part --------------------------------------------------------

    async def done(self, session: AsyncSession, key: str) -> None:
        """In the work's transaction: the row goes, the delivery is recorded as processed.
        dedup.Duplicate when another process (or an earlier attempt) did it first."""
        await session.execute(delete(SlackInboxEntry).where(SlackInboxEntry.key == key))
        await dedup.claim(session, SOURCE, key)

    async def done_alone(self, key: str) -> bool:
        """`done` in a transaction of its own (work that writes nothing else, or that was
        refused); False when it was done before."""
        try:
            async with self.db.transaction() as session:
                await self.done(session, key)
        except dedup.Duplicate:
            return False
        return True

    async def _run(self, delivery: Delivery) -> None:
        self._running.add(delivery.key)
        try:
            await self._work[delivery.kind](delivery)
        except DATABASE_ERRORS as exc:  # the row stays; the sweep tries again
            log.warning("slack %s not handled: %s", delivery.kind, type(exc).__name__)
        except Exception as exc:  # a bug: logged without content, and not retried for ever
            log.error("slack %s failed: %s", delivery.kind, type(exc).__name__)
            with contextlib.suppress(*DATABASE_ERRORS):
                await self.done_alone(delivery.key)
        finally:
            self._running.discard(delivery.key)
            self._release(delivery.kind in self._urgent)

    async def _worker(self) -> None:
        while True:
            delivery = await self._queue.get()
            # Acknowledgements first: a turn starts once what waits to be stored is
            # written, so on SQLite their INSERT never queues behind a new turn.
            await self._written.wait()
            try:
                await self._run(delivery)
            finally:
                self._queue.task_done()

    # --- rows left behind ------------------------------------------------------------

    async def sweep(self) -> int:
        """Take rows older than GRACE that nobody here works on, and work on them again;
        returns how many were taken. A row whose delivery was processed meanwhile (a
        retry stored while its first delivery's turn committed) is only removed."""
        now = self.clock()
        processed = exists().where(
            ProcessedDelivery.source == SOURCE, ProcessedDelivery.key == SlackInboxEntry.key
        )
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        SlackInboxEntry.key,
                        SlackInboxEntry.kind,
                        SlackInboxEntry.payload,
                        SlackInboxEntry.received_at,
                        SlackInboxEntry.attempts,
                        processed.label("processed"),
                    )
                    .where(SlackInboxEntry.received_at < now - GRACE)
                    .order_by(SlackInboxEntry.received_at)
                    .limit(BATCH)
                )
            ).all()
        taken = 0
        for key, kind, payload, received_at, attempts, done in rows:
            if key in self._running or not await self._take(key, received_at, now):
                continue
            if done:
                await self._forget(key)
                continue
            if attempts + 1 >= MAX_ATTEMPTS or kind not in self._work:
                log.error("slack %s given up after %d attempts", kind, attempts + 1)
                await self.done_alone(key)
                await self._forget(key)
                continue
            if kind not in self._urgent:
                self._queued += 1
            self._schedule(Delivery(key, kind, payload))
            taken += 1
        return taken

    async def _forget(self, key: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(SlackInboxEntry).where(SlackInboxEntry.key == key))

    async def _take(self, key: str, seen_at: datetime, now: datetime) -> bool:
        """Claim a left-behind row for this process (the conditional update is the lease)."""
        async with self.db.transaction() as session:
            result = await session.execute(
                update(SlackInboxEntry)
                .where(SlackInboxEntry.key == key, SlackInboxEntry.received_at == seen_at)
                .values(received_at=now, attempts=SlackInboxEntry.attempts + 1)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _sweep_periodically(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except DATABASE_ERRORS as exc:
                log.warning("slack inbox sweep failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)

    # --- life ------------------------------------------------------------------------

    def start(self, *, sweep_every: float | None = SWEEP_SECONDS) -> None:
        """The workers, and the sweep (at once, then every `sweep_every` seconds)."""
        self._stop.clear()
        for n in range(self.workers):
            self._loops.append(asyncio.create_task(self._worker(), name=f"slack-worker-{n}"))
        if sweep_every is not None:
            sweeper = self._sweep_periodically(sweep_every)
            self._loops.append(asyncio.create_task(sweeper, name="slack-inbox-sweep"))

    async def idle(self) -> None:
        """Until the queue is empty and its work finished (tests, shutdown)."""
        await self._queue.join()

    async def stop(self, seconds: float) -> None:
        """Finish the queued work for up to `seconds`, then stop every task. What is left
        stays stored and is swept by the next process that starts."""
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), timeout=seconds)
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        if self._writer is not None:  # ends by itself once nothing waits to be written
            await asyncio.gather(self._writer, return_exceptions=True)
        while not self._queue.empty():  # left for the sweep; the queue is done with them
            self._queue.get_nowait()
            self._queue.task_done()
            self._release(urgent=False)

    @property
    def backlog_used(self) -> int:
        return self._queued
