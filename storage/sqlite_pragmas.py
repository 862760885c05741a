"""The settings of every SQLite connection, and those of one that writes in bulk.

Every connection: foreign keys on, WAL so readers don't block the writer, wait rather
than fail, and a log copied into the database less often than SQLite's default: each
copy syncs the file, and a page changed by many short transactions is copied once per
checkpoint, not once per ~1,000 pages written.

A connection kept for a job's batches (`storage.bulk`: the retention sweep's):
SQLite's default page cache (2 MB) is smaller than what one batch changes, so a batch
spilled changed pages into the log before its commit and wrote them again after; and
each batch rewrites pages the last one wrote (the index of a column it changes), which
a checkpoint after every few batches copied into the file again and again, inside a
commit and so inside the process's write lock. So its cache holds what it changes, the
file is read through a memory map, and its commits copy nothing: the writer copies the
log itself every few batches, outside any lock. `bench` retention on SQLite, 666,509
messages: 0.53x one raw UPDATE's rows/s with the defaults, 0.86-0.98x so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

WAL_CHECKPOINT_PAGES = 10_000  # ~40 MB of log between checkpoints (SQLite's default: 1,000)
# the log's file is cut back to this once copied (a bulk writer lets it grow by 8 batches)
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

# What a bulk writer (`storage.bulk`) changes, and what it sets back before its
# connection returns to the pool (every connection's own settings).
DEFAULT: Mapping[str, int] = {
    "cache_size": -2_000,  # KiB
    "mmap_size": 0,
    "wal_autocheckpoint": WAL_CHECKPOINT_PAGES,
}
BULK: Mapping[str, int] = {
    "cache_size": -65_536,  # 64 MiB, allocated only as pages are used
    "mmap_size": 1 << 30,
    "wal_autocheckpoint": 0,  # none at its commits: the writer runs its own (`storage.bulk`)
}


def on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Every new connection's settings (the engine's "connect" event)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    for name, value in DEFAULT.items():
        cursor.execute(f"PRAGMA {name}={int(value)}")
    cursor.close()


async def apply(connection: AsyncConnection, settings: Mapping[str, int]) -> None:
    """Set `settings` on a connection outside a transaction (`mmap_size` needs that), and
    leave none open (SQLAlchemy begins one at the first statement)."""
    for name, value in settings.items():
        await connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")
    await connection.commit()
