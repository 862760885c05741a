"""Export: the access export (Art. 15 ZIP) of a 200,000-message account.

Timed: `workflow.executors.access.run`, in a fresh worker-like child process, so its
peak resident memory (VmHWM) is the export's and not the benchmark driver's.
Baseline, in the same run on the same rows: PostgreSQL `COPY (SELECT ...) TO STDOUT`
through asyncpg; on SQLite the `sqlite3` shell's CSV output of the same query.
Goals: >= 0.15 x the baseline's rows/s; peak RSS of the worker < 150 MB.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import seeding
from bench.measure import Figure, below, figure, peak_rss_mb, progress, ratio_at_least, rss_mb
from storage.db import Database

MESSAGES = 200_000
QUICK_MESSAGES = 10_000
TIMEOUT = 900.0
_SMS_QUERY = (
    "SELECT id, sent_at, sender_number, sender_name, recipient, content, status, anonymised_at "
    "FROM sms_messages WHERE account_id = {account} ORDER BY id"
)


async def _copy_baseline(url: str, account_id: int, out: Path) -> tuple[int, float]:
    """Rows and seconds of the database's own bulk export of the account's messages."""
    query = _SMS_QUERY.format(account=int(account_id))
    if url.startswith("sqlite"):
        shell = shutil.which("sqlite3")
        if shell is None:
            raise RuntimeError("the sqlite3 shell is not installed (apt-get install sqlite3)")
        start = time.perf_counter()
        with out.open("wb") as sink:
            subprocess.run(  # noqa: ASYNC221 - the baseline is timed alone, nothing else runs
                [shell, "-csv", "-header", str(seeding.sqlite_path(url)), query],
                stdout=sink,
                check=True,
                timeout=TIMEOUT,
            )
        seconds = time.perf_counter() - start
    else:
        connection = await asyncpg.connect(seeding.plain_pg_url(url))
        try:
            start = time.perf_counter()
            await connection.copy_from_query(query, output=str(out), format="csv", header=True)
            seconds = time.perf_counter() - start
        finally:
            await connection.close()
    with out.open("rb") as handle:
        rows = sum(1 for _ in handle) - 1
    return rows, seconds


def _product(url: str, account_id: int, data_dir: Path) -> dict[str, Any]:
    """Run the access export in a child process; its rows, seconds and memory."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.export", url, str(account_id), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"export child failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    messages = QUICK_MESSAGES if quick else MESSAGES
    now = datetime.now(UTC)
    url = await scratch.create("export")
    db = Database(url)
    try:
        account_id = await seeding.add_customer(db, now)
    finally:
        await db.dispose()
    progress(f"export/{backend}: seeding {messages:,} messages")
    await seeding.add_messages(url, [account_id], messages, now)
    await seeding.analyse(url)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        work = Path(folder)
        progress(f"export/{backend}: baseline (bulk CSV of the same rows)")
        await _copy_baseline(url, account_id, work / "warm.csv")  # warm the page cache
        base_rows, base_seconds = await _copy_baseline(url, account_id, work / "copy.csv")
        progress(f"export/{backend}: access export")
        result = _product(url, account_id, work / "data")
    await scratch.drop(url)
    rate = result["rows"] / result["seconds"]
    baseline = base_rows / base_seconds
    progress(
        f"export/{backend}: {result['rows']:,} rows in {result['seconds']:.1f}s "
        f"({rate:,.0f}/s; baseline {baseline:,.0f}/s), peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    return [
        figure("export.rows_per_s", backend, rate, "rows/s", baseline, ratio_at_least(0.15)),
        figure(
            "export.worker_peak_rss",
            backend,
            result["peak_rss_mb"],
            "MB",
            result["rss_before_mb"],
            below(150, "MB"),
            note="baseline: the same process's RSS before the export started",
        ),
    ]


async def _child(url: str, account_id: int, data_dir: Path) -> dict[str, Any]:
    from storage.types import utcnow
    from workflow.executors import ActionContext
    from workflow.executors.access import run as access_run

    db = Database(url)
    try:
        async with db.sessions() as session:  # connect before measuring
            await session.connection()
        ctx = ActionContext(
            db=db,
            request_id=1,
            reference="PR-BENCH1",
            kind="access",
            account_id=account_id,
            language="da",
            details={},
            secret=b"bench-secret-key-for-signed-links-only",
            public_url="http://127.0.0.1:8080",
            data_dir=data_dir,
            now=utcnow,
        )
        gc.freeze()  # as the worker does once started (bot/worker_process.py)
        before = rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        result = await access_run(ctx)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await db.dispose()
    return {
        "rows": sum(result.effects["rows"].values()),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "bytes": result.effects["bytes"],
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    _url, _account, _data = sys.argv[1:4]
    print(json.dumps(asyncio.run(_child(_url, int(_account), Path(_data)))))
