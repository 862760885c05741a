"""Scratch databases and the data the benchmarks run on.

Every benchmark works in databases of its own: a SQLite file in a temporary directory,
or a PostgreSQL database created next to the given one (`bench_<random>_<label>`) and
dropped at the end. A seeded database is copied (a file copy; `CREATE DATABASE ...
TEMPLATE`) so the product and its baseline start from the same bytes.

Bulk rows go in the fastest way each backend offers (`COPY` through asyncpg, one
`executemany` through the sqlite3 module), so seeding a million messages takes seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database
from storage.models import (
    AccessLogEntry,
    Account,
    ApiKey,
    Consent,
    Conversation,
    Invoice,
    InvoiceLine,
    OutboxMessage,
    Payment,
    Person,
    TranscriptMessage,
    VerificationCode,
)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
SMS_COLUMNS = (
    "account_id",
    "sender_number",
    "sender_name",
    "recipient",
    "content",
    "status",
    "sent_at",
)
_TEXTS = (
    "Din tid hos frisøren er bekræftet til {d}.",
    "Your parcel is ready for collection. Code: {n}",
    "Tak for din ordre! Vi sender i morgen.",
    "Reminder: your appointment is tomorrow at {h}:00.",
)


def check_local(url: str) -> str:
    """`url` if it is SQLite or a PostgreSQL server on 127.0.0.1; else ValueError."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    if parsed.host not in LOCAL_HOSTS:
        raise ValueError("the benchmarks only target 127.0.0.1")
    return url


def plain_pg_url(url: str) -> str:
    """The libpq spelling asyncpg wants (no `+asyncpg` driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    return Path(str(make_url(url).database))


def sqlite_time(value: datetime) -> str:
    """How SQLAlchemy stores a UTC timestamp on SQLite (naive, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Scratch:
    """Scratch databases of one backend, made on demand and all removed by `close`."""

    def __init__(self, backend: str, pg_url: str, folder: Path) -> None:
        self.backend = backend
        self.pg_url = check_local(pg_url)
        self.folder = folder
        self.prefix = f"bench_{secrets.token_hex(3)}"
        self._template: str | None = None
        self._databases: list[str] = []

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(plain_pg_url(self.pg_url))
        try:
            for attempt in range(20):
                try:
                    await connection.execute(sql)
                    return
                except asyncpg.ObjectInUseError:  # a clone source still has a session
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.25)
        finally:
            await connection.close()

    def _pg(self, name: str) -> str:
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    async def template(self) -> str:
        """An empty database at the newest schema, made once (the source of `create`)."""
        if self._template is None:
            self._template = await self._new("template", None)
            db = Database(self._template)
            try:
                await migrate.upgrade(db)
            finally:
                await db.dispose()
        return self._template

    async def create(self, label: str, source: str | None = None) -> str:
        """A new database: a copy of `source`, or of the migrated empty template."""
        return await self._new(label, source or await self.template())

    async def _new(self, label: str, source: str | None) -> str:
        name = f"{self.prefix}_{label}_{secrets.token_hex(2)}"
        if self.backend == "sqlite":
            path = self.folder / f"{name}.db"
            if source is not None:
                checkpoint(source)
                shutil.copyfile(sqlite_path(source), path)
            return f"sqlite:///{path}"
        template = "" if source is None else f' TEMPLATE "{make_url(source).database}"'
        await self._admin(f'CREATE DATABASE "{name}"{template}')
        self._databases.append(name)
        return self._pg(name)

    async def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_path(url)}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
            return
        name = str(make_url(url).database)
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(ValueError):
            self._databases.remove(name)

    async def close(self) -> None:
        for name in reversed(self._databases):
            with contextlib.suppress(Exception):  # best effort: never hide the real error
                await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.clear()


def checkpoint(url: str) -> None:
    """Fold SQLite's WAL into the main file, so copying the file copies everything."""
    with contextlib.closing(sqlite3.connect(sqlite_path(url))) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def analyse(url: str) -> None:
    """Fresh planner statistics (and, on PostgreSQL, a vacuumed visibility map)."""
    if make_url(url).get_backend_name() == "sqlite":
        with contextlib.closing(sqlite3.connect(sqlite_path(url))) as connection:
            connection.execute("ANALYZE")
            connection.commit()
        checkpoint(url)
        return
    connection = await asyncpg.connect(plain_pg_url(url))
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


# --- data -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountData:
    """The shape of one seeded customer account (its SMS are added by `add_messages`)."""

    email: str = "bench@example.dk"
    phone: str = "+4529000001"
    access_log: int = 1000
    invoices: int = 36
    conversations: int = 3
    transcript_messages: int = 100


def sms_rows(
    account_ids: list[int], count: int, now: datetime, *, days: int = 90, seed: int = 1
) -> Iterator[tuple[Any, ...]]:
    """`count` messages spread evenly over the last `days` days (so with 90 days, two
    thirds are older than 30), round-robin over the accounts."""
    rng = random.Random(seed)
    span = days * 24 * 3600
    for index in range(count):
        sent = now - timedelta(seconds=rng.randrange(60, span))
        yield (
            account_ids[index % len(account_ids)],
            "+4529000001",
            "Bench",
            f"+45{rng.randrange(10**7, 10**8)}",
            _TEXTS[index % len(_TEXTS)].format(
                d=sent.date().isoformat(), n=rng.randrange(1000, 9999), h=8 + index % 10
            ),
            "delivered" if index % 4 else "failed",
            sent,
        )


async def add_messages(
    url: str, account_ids: list[int], count: int, now: datetime, *, days: int = 90
) -> None:
    """Bulk-insert `count` SMS messages for the accounts."""
    chunk = 50_000
    rows = sms_rows(account_ids, count, now, days=days)
    if make_url(url).get_backend_name() == "sqlite":
        statement = (
            f"INSERT INTO sms_messages ({', '.join(SMS_COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in SMS_COLUMNS)})"
        )
        with contextlib.closing(sqlite3.connect(sqlite_path(url))) as connection:
            while batch := [(*row[:-1], sqlite_time(row[-1])) for row in islice(rows, chunk)]:
                connection.executemany(statement, batch)
            connection.commit()
        return
    connection = await asyncpg.connect(plain_pg_url(url))
    try:
        while batch := list(islice(rows, chunk)):
            await connection.copy_records_to_table(
                "sms_messages", records=batch, columns=list(SMS_COLUMNS)
            )
    finally:
        await connection.close()


async def add_accounts(db: Database, count: int, now: datetime) -> list[int]:
    """`count` bare accounts (no people), for the sweep and the queue."""
    async with db.transaction() as session:
        ids = await session.scalars(
            insert(Account).returning(Account.id),
            [
                {
                    "company": f"Bench {i}",
                    "status": "active",
                    "restricted": False,
                    "created_at": now - timedelta(days=400),
                }
                for i in range(count)
            ],
        )
        return list(ids)


async def add_customer(db: Database, now: datetime, spec: AccountData | None = None) -> int:
    """One account with everything the data map covers, except its SMS; its id."""
    spec = spec or AccountData()
    rng = random.Random(spec.email)
    async with db.transaction() as session:
        account = Account(
            company="Bench Bageri ApS", status="active", created_at=now - timedelta(days=800)
        )
        session.add(account)
        await session.flush()
        account_id = account.id
        session.add(
            Person(
                account_id=account_id,
                name="Bench Jensen",
                email=spec.email,
                phone=spec.phone,
                preferred_language="da",
                is_primary=True,
                created_at=now - timedelta(days=800),
            )
        )
        for index in range(2):
            digest = hashlib.sha256(f"{spec.email}-{index}".encode()).hexdigest()
            session.add(
                ApiKey(
                    account_id=account_id,
                    label=f"key {index}",
                    prefix=digest[:8],
                    key_hash=digest,
                    created_at=now - timedelta(days=300),
                )
            )
        for purpose in ("marketing_email", "tracking", "profiling"):
            session.add(
                Consent(
                    account_id=account_id,
                    purpose=purpose,
                    granted=True,
                    source="signup",
                    updated_at=now - timedelta(days=700),
                )
            )
        await session.execute(
            insert(AccessLogEntry),
            [
                {
                    "account_id": account_id,
                    "at": now - timedelta(minutes=rng.randrange(1, 90 * 24 * 60)),
                    "ip": f"192.0.2.{rng.randrange(1, 255)}",
                    "location": "Aarhus, DK",
                    "kind": ("api", "web", "chat")[i % 3],
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                }
                for i in range(spec.access_log)
            ],
        )
        for month in range(spec.invoices):
            issued = now - timedelta(days=30 * (month + 1))
            invoice = Invoice(
                account_id=account_id,
                number=f"BN-{account_id:06d}-{month:03d}",
                issued_at=issued,
                billing_name="Bench Bageri ApS",
                billing_address="Bagergade 1, 8000 Aarhus C",
                vat_number="DK12345678",
                billing_email=spec.email,
                currency="DKK",
                total=Decimal("125.00"),
            )
            session.add(invoice)
            await session.flush()
            session.add(
                InvoiceLine(
                    invoice_id=invoice.id,
                    description="SMS credits",
                    quantity=500,
                    unit_price=Decimal("0.25"),
                    amount=Decimal("125.00"),
                )
            )
            session.add(
                Payment(
                    invoice_id=invoice.id,
                    paid_at=issued + timedelta(days=3),
                    amount=Decimal("125.00"),
                    method="card",
                    card_last4=f"{rng.randrange(10000):04d}",
                )
            )
        for number in range(spec.conversations):
            conversation = Conversation(
                id=f"bench-{account_id}-{number}",
                channel="webchat",
                external_id=f"bench-{account_id}-{number}",
                locale="da",
                state={},
                account_id=account_id,
                last_seq=spec.transcript_messages,
                created_at=now - timedelta(days=number + 1),
                updated_at=now - timedelta(days=number + 1),
            )
            session.add(conversation)
            await session.flush()
            await session.execute(
                insert(TranscriptMessage),
                [
                    {
                        "conversation_id": conversation.id,
                        "seq": seq + 1,
                        "sender": "customer" if seq % 2 == 0 else "bot",
                        "text": f"min email er {spec.email}" if seq == 2 else "Hej, tak for svaret",
                        "buttons": None,
                        "created_at": now - timedelta(days=number + 1),
                    }
                    for seq in range(spec.transcript_messages)
                ],
            )
            session.add(
                VerificationCode(
                    conversation_id=conversation.id,
                    account_id=account_id,
                    purpose="login",
                    channel="email",
                    code_hash=hashlib.sha256(f"{number}".encode()).hexdigest(),
                    expires_at=now - timedelta(days=number + 1),
                    used_at=now - timedelta(days=number + 1),
                    created_at=now - timedelta(days=number + 1),
                )
            )
            session.add(
                OutboxMessage(
                    channel="email",
                    to=spec.email,
                    subject="Code",
                    text="Your code is 123456",
                    status="sent",
                    created_at=now - timedelta(days=number + 1),
                    sent_at=now - timedelta(days=number + 1),
                )
            )
    return account_id
