"""Referrals: who sent messages to a number, over 1,000,000 messages on 1,000 accounts.

Timed: `workflow.referrals.senders_for_number` for numbers that received messages within
the last 30 days and for numbers that received none (what a forwarding and a recipient's
status question start with). Baseline: the same two statements as textual SQL through the
same async engine (the grouped message lookup; the account lookup only for a number with
senders), so the driver's thread hop or network round trip is in both and the ratio is
the function's own cost: parsing the number, binding, shaping the answer. A third figure
shows what the recipient index of migration 0009 is worth: the lookup on the driver itself
(sqlite3 / asyncpg) with the index, against the same after DROP INDEX. Goals: >= 0.5 x
the baseline's lookups/s; p99 < 20 ms; the index >= 10 x faster than a scan.
"""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import bindparam, text

from bench import seeding
from bench.measure import Figure, below, figure, progress, ratio_at_least
from storage.datamap import sms_retention_days
from storage.db import Database
from workflow import referrals

MESSAGES = 1_000_000
QUICK_MESSAGES = 30_000
ACCOUNTS = 1_000
LOOKUPS = 400
QUICK_LOOKUPS = 60
SCANS = 10  # lookups without the index: each reads the whole table
_RAW = (
    "SELECT account_id, coalesce(sender_name, sender_number), max(sent_at) FROM sms_messages "
    "WHERE recipient = {p1} AND sent_at >= {p2} AND sent_at <= {p3} AND anonymised_at IS NULL "
    "GROUP BY account_id, coalesce(sender_name, sender_number)"
)
_ACCOUNTS = (
    "SELECT id, company, status, name_shown_to_recipients, honours_recipient_stop "
    "FROM accounts WHERE id IN :ids"
)

Lookup = Callable[[str], Awaitable[object]]


async def _numbers(url: str, now: datetime, count: int) -> list[str]:
    """Half numbers with recent messages, half numbers that received none."""
    since = now - timedelta(days=sms_retention_days() - 1)
    sql = "SELECT DISTINCT recipient FROM sms_messages WHERE sent_at >= {p} LIMIT {n}"
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(seeding.sqlite_path(url))) as connection:
            rows = connection.execute(
                sql.format(p="?", n=count // 2), (seeding.sqlite_time(since),)
            ).fetchall()
    else:
        connection = await asyncpg.connect(seeding.plain_pg_url(url))
        try:
            rows = await connection.fetch(sql.format(p="$1", n=count // 2), since)
        finally:
            await connection.close()
    found = [str(row[0]) for row in rows]
    unknown = [f"+4530{index:06d}" for index in range(count - len(found))]
    return [n for pair in zip(found, unknown, strict=False) for n in pair] + unknown[len(found) :]


async def _timed(numbers: list[str], lookup: Lookup) -> tuple[float, float]:
    """(lookups per second, p99 in ms)."""
    await lookup(numbers[0])  # warm caches and connections
    each = []
    start = time.perf_counter()
    for number in numbers:
        one = time.perf_counter()
        await lookup(number)
        each.append(time.perf_counter() - one)
    seconds = time.perf_counter() - start
    p99 = statistics.quantiles(each, n=100)[98] if len(each) >= 2 else each[0]
    return len(numbers) / seconds, p99 * 1000


async def _product(url: str, numbers: list[str], now: datetime) -> tuple[float, float]:
    db = Database(url)
    try:
        async with db.sessions() as session:

            async def lookup(number: str) -> object:
                return await referrals.senders_for_number(session, number, now)

            return await _timed(numbers, lookup)
    finally:
        await db.dispose()


async def _engine(url: str, numbers: list[str], now: datetime) -> tuple[float, float]:
    statement = text(_RAW.format(p1=":number", p2=":since", p3=":now"))
    accounts = text(_ACCOUNTS).bindparams(bindparam("ids", expanding=True))
    since, until = now - timedelta(days=sms_retention_days()), now
    if url.startswith("sqlite"):
        since_p: object = seeding.sqlite_time(since)
        until_p: object = seeding.sqlite_time(until)
    else:
        since_p, until_p = since, until
    db = Database(url)
    try:
        async with db.sessions() as session:

            async def lookup(number: str) -> object:
                params = {"number": number, "since": since_p, "now": until_p}
                rows = (await session.execute(statement, params)).all()
                if not rows:
                    return rows
                ids = sorted({row[0] for row in rows})
                return (await session.execute(accounts, {"ids": ids})).all()

            return await _timed(numbers, lookup)
    finally:
        await db.dispose()


async def _raw(url: str, numbers: list[str], now: datetime) -> tuple[float, float]:
    since = now - timedelta(days=sms_retention_days())
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(seeding.sqlite_path(url))) as connection:
            sql = _RAW.format(p1="?", p2="?", p3="?")
            low, high = seeding.sqlite_time(since), seeding.sqlite_time(now)

            async def lookup(number: str) -> object:
                return connection.execute(sql, (number, low, high)).fetchall()

            return await _timed(numbers, lookup)
    connection = await asyncpg.connect(seeding.plain_pg_url(url))
    try:
        statement = await connection.prepare(_RAW.format(p1="$1", p2="$2", p3="$3"))

        async def pg_lookup(number: str) -> object:
            return await statement.fetch(number, since, now)

        return await _timed(numbers, pg_lookup)
    finally:
        await connection.close()


async def _drop_index(url: str) -> None:
    sql = "DROP INDEX ix_sms_messages_recipient_sent"
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(seeding.sqlite_path(url))) as connection:
            connection.execute(sql)
            connection.commit()
        return
    connection = await asyncpg.connect(seeding.plain_pg_url(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    count = QUICK_MESSAGES if quick else MESSAGES
    now = datetime.now(UTC)
    url = await scratch.create("referrals")
    db = Database(url)
    try:
        accounts = await seeding.add_accounts(db, ACCOUNTS, now)
    finally:
        await db.dispose()
    progress(f"referrals/{backend}: seeding {count:,} messages over 90 days")
    await seeding.add_messages(url, accounts, count, now)
    await seeding.analyse(url)
    numbers = await _numbers(url, now, QUICK_LOOKUPS if quick else LOOKUPS)
    progress(f"referrals/{backend}: {len(numbers)} lookups through senders_for_number")
    rate, p99 = await _product(url, numbers, now)
    progress(f"referrals/{backend}: the same lookups as one SQL statement")
    base_rate, base_p99 = await _engine(url, numbers, now)
    raw_rate, _raw_p99 = await _raw(url, numbers, now)
    progress(f"referrals/{backend}: {SCANS} raw lookups without the recipient index")
    await _drop_index(url)
    await seeding.analyse(url)
    scan_rate, _scan_p99 = await _raw(url, numbers[:SCANS], now)
    await scratch.drop(url)
    return [
        figure(
            "referrals.lookups_per_s",
            backend,
            rate,
            "lookups/s",
            base_rate,
            ratio_at_least(0.5),
            note=f"{count:,} messages; baseline: the same SQL statements through the same engine",
        ),
        figure("referrals.lookup_p99", backend, p99, "ms", base_p99, below(20, "ms")),
        figure(
            "referrals.recipient_index",
            backend,
            raw_rate,
            "lookups/s",
            scan_rate,
            ratio_at_least(10),
            note="raw lookups with the index; baseline: the same without it (a scan)",
        ),
    ]
