"""Claiming, sending and settling outbox rows, safely from several processes at once.

A pass:
1. expires pending rows older than `Policy.max_age` (a one-time code is valid for ten
   minutes; a message that could not go out for an hour is no use any more);
2. claims a batch of due rows in one short transaction: `attempts + 1` and
   `next_attempt_at` pushed one lease into the future. On PostgreSQL the rows are picked
   with `FOR UPDATE SKIP LOCKED`, so dispatchers never wait for each other; on SQLite the
   same conditional UPDATE runs under the database's single writer lock, and a row whose
   `next_attempt_at` another dispatcher already moved is no longer due. The status stays
   `pending`: a dispatcher that dies mid-send leaves the row to be picked up again once the
   lease is over (at-least-once);
3. sends outside any transaction (no lock or connection held during network I/O);
4. settles each row: `sent` (the text blanked unless demo: codes must not linger),
   `failed` on a permanent error or after `max_attempts`, otherwise back to due after an
   exponential back-off.

Nothing personal is logged: only row ids, channels and the sender's short reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.notifier.base import SendError
from bot.notifier.sms import SmsClient
from bot.notifier.smtp import EmailSender
from bot.tasks import BackgroundTasks
from locales import _, use
from storage.db import Database
from storage.models import OutboxMessage
from storage.types import utcnow
from workflow import backoff, queue

log = logging.getLogger(__name__)

CHANNELS = ("sms", "email")


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int = 5
    backoff_base: timedelta = timedelta(seconds=10)
    backoff_cap: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(minutes=2)
    max_age: timedelta = timedelta(hours=1)
    batch: int = 20
    max_batches: int = 10  # per pass; the next pass continues
    concurrency: int = 5

    def backoff(self, attempts: int) -> timedelta:
        """After the n-th failed attempt: base, 2 x base, 4 x base ... at most the cap."""
        return backoff.delay(
            attempts,
            base=self.backoff_base.total_seconds(),
            cap=self.backoff_cap.total_seconds(),
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    channel: str
    to: str
    subject: str | None
    text: str
    attempts: int
    forget_address: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    row: Claimed
    error: SendError | None = None


@dataclass(slots=True)
class PassResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0


class Dispatcher:
    """Sends due outbox rows. `dispatch(db, now)` is also a worker housekeeping hook."""

    def __init__(
        self,
        *,
        sms: SmsClient,
        email: EmailSender,
        demo: bool = False,
        policy: Policy | None = None,
    ) -> None:
        self.sms = sms
        self.email = email
        self.demo = demo
        self.policy = policy or Policy()
        self._warned_unconfigured = False

    @classmethod
    def from_settings(cls, settings: Settings, policy: Policy | None = None) -> Dispatcher:
        return cls(
            sms=SmsClient.from_settings(settings),
            email=EmailSender.from_settings(settings),
            demo=settings.demo,
            policy=policy,
        )

    def channels(self) -> tuple[str, ...]:
        """The channels this process can send on; an SMS waits while no token is set."""
        if self.sms.configured:
            return CHANNELS
        if not self._warned_unconfigured:
            log.warning("SMS_API_TOKEN is not set: SMS messages wait in the outbox")
            self._warned_unconfigured = True
        return ("email",)

    async def dispatch(self, db: Database, now: datetime) -> int:
        """One pass; returns how many messages were sent (the worker's housekeeping hook)."""
        return (await self.run(db, now)).sent

    async def run(self, db: Database, now: datetime) -> PassResult:
        """One pass: expire, then claim, send and settle batches. Demo mode sends nothing."""
        result = PassResult()
        if self.demo:
            return result
        result.expired = await queue.in_transaction(db, lambda s: self._expire(s, now))
        channels = self.channels()
        for _batch in range(self.policy.max_batches):
            claimed = await queue.in_transaction(db, lambda s: self._claim(s, now, channels))
            if not claimed:
                break
            outcomes = await self._send_all(claimed)

            async def settle(
                session: AsyncSession, done: list[Outcome] = outcomes
            ) -> list[tuple[Outcome, str]]:
                return await self._settle(session, done, now)

            self._report(await queue.in_transaction(db, settle), result)
            if len(claimed) < self.policy.batch:
                break
        return result

    async def _expire(self, session: AsyncSession, now: datetime) -> int:
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.created_at < now - self.policy.max_age,
            )
            .values(
                status="failed",
                last_error="expired before it could be sent",
                to=case((OutboxMessage.forget_address, ""), else_=OutboxMessage.to),
            )
            .returning(OutboxMessage.id)
        )
        expired = len(result.all())
        if expired:
            log.warning("%d outbox message(s) expired unsent", expired)
        return expired

    async def _claim(
        self, session: AsyncSession, now: datetime, channels: Sequence[str]
    ) -> list[Claimed]:
        due = (
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(channels),
        )
        pick = (
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.policy.batch)
            .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite renders nothing
        )
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(pick.scalar_subquery()), *due)
            .values(
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + self.policy.lease,
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.channel,
                OutboxMessage.to,
                OutboxMessage.subject,
                OutboxMessage.text,
                OutboxMessage.attempts,
                OutboxMessage.forget_address,
            )
            .execution_options(synchronize_session=False)
        )
        return sorted((Claimed(*row) for row in result.all()), key=lambda c: c.id)

    async def _send_all(self, claimed: list[Claimed]) -> list[Outcome]:
        limit = asyncio.Semaphore(self.policy.concurrency)
        http: aiohttp.ClientSession | None = None
        if any(c.channel == "sms" for c in claimed):
            http = self.sms.session()

        async def one(row: Claimed) -> Outcome:
            async with limit:
                try:
                    if row.channel == "sms":
                        assert http is not None
                        await self.sms.send(http, row.to, row.text)
                    else:
                        await self.email.send(row.to, row.subject or _default_subject(), row.text)
                except SendError as exc:
                    return Outcome(row, exc)
                except Exception as exc:  # a bug must not leave the row claimed forever
                    log.error("outbox message %d: unexpected %s", row.id, type(exc).__name__)
                    return Outcome(row, SendError(type(exc).__name__, permanent=False))
                return Outcome(row)

        try:
            return list(await asyncio.gather(*(one(row) for row in claimed)))
        finally:
            if http is not None:
                await http.close()

    def _verdict(self, outcome: Outcome, now: datetime) -> tuple[str, dict[str, Any]]:
        """What becomes of a claimed row: ("sent" | "failed" | "retry", column values)."""
        row, error = outcome.row, outcome.error
        forget: dict[str, Any] = {"to": ""} if row.forget_address else {}
        if error is None:
            # The text is blanked: a sent code must not linger in the database.
            sent = {"status": "sent", "sent_at": now, "last_error": None, "text": ""}
            return "sent", sent | forget
        if error.permanent or row.attempts >= self.policy.max_attempts:
            return "failed", {"status": "failed", "last_error": error.reason} | forget
        wait = self.policy.backoff(row.attempts)
        return "retry", {"next_attempt_at": now + wait, "last_error": error.reason}

    async def _settle(
        self, session: AsyncSession, outcomes: list[Outcome], now: datetime
    ) -> list[tuple[Outcome, str]]:
        settled = []
        for outcome in outcomes:
            verdict, values = self._verdict(outcome, now)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outcome.row.id, OutboxMessage.status == "pending")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            settled.append((outcome, verdict))
        return settled

    def _report(self, settled: list[tuple[Outcome, str]], result: PassResult) -> None:
        """Count and log after the commit, so a retried transaction is not counted twice."""
        for outcome, verdict in settled:
            row, reason = outcome.row, outcome.error.reason if outcome.error else ""
            if verdict == "sent":
                result.sent += 1
                log.info("outbox message %d sent by %s", row.id, row.channel)
            elif verdict == "failed":
                result.failed += 1
                log.warning(
                    "outbox message %d by %s failed for good after %d attempt(s): %s",
                    row.id,
                    row.channel,
                    row.attempts,
                    reason,
                )
            else:
                result.retrying += 1
                log.warning(
                    "outbox message %d by %s failed (attempt %d): %s; retrying in %d s",
                    row.id,
                    row.channel,
                    row.attempts,
                    reason,
                    int(self.policy.backoff(row.attempts).total_seconds()),
                )


def _default_subject() -> str:
    with use("en"):
        return _("Your verification code")


class Notifier:
    """Kicks a dispatch in the background, e.g. as `ConversationRouter.on_outbound`.

    Kicks while a pass runs are folded into one more pass, so a burst of turns never
    starts a burst of tasks. Every task lives in the process's `BackgroundTasks`.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        db: Database,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.dispatcher = dispatcher
        self.db = db
        self.tasks = tasks
        self.clock = clock
        self._running: asyncio.Task[None] | None = None
        self._again = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: Database,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime] = utcnow,
    ) -> Notifier:
        return cls(Dispatcher.from_settings(settings), db, tasks, clock)

    def kick(self) -> None:
        """Send what is due soon, without making the caller wait. Demo mode: nothing."""
        if self.dispatcher.demo:
            return
        if self._running is not None and not self._running.done():
            self._again = True
            return
        self._running = self.tasks.spawn(self._run(), name="notifier")

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self.dispatcher.dispatch(self.db, self.clock())
            except Exception as exc:  # no traceback: database errors can quote row values
                log.warning("outbox dispatch failed: %s; retried later", type(exc).__name__)
            if not self._again:
                return
