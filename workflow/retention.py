"""The retention sweep: the data map's retention rules kept by the system itself.

Every rule in the map ("anonymise SMS 30 days after sent_at", "delete transcripts 30
days after the chat unless a support case or request is open", "delete used or expired
codes", ...) runs against its own database (the account store or the bot's), in batches
sized by time (`retention_batches`), one transaction per batch, so no lock is held for
long; every batch selects only rows still due, which makes the sweep idempotent and
lets an interrupted run resume where it stopped. Rules marked `incremental` look only
at rows since the previous completed sweep's cutoff (`since`, less a day's margin), so
an hourly sweep does not rescan years of history; without `since` it looks at all.

Besides the map's rules: expired signed links in sent notifications, export files whose
links have expired, and erasure plans of requests no longer open.

`workflow.retention_runs` runs it: one sweep at a time across all processes, on a
schedule inside the worker, with the counts in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, or_, select, update

from storage import account_store, datamap
from storage.bulk import bulk_writer
from storage.datamap import ANONYMISED
from storage.datamap.tables import all_tables
from storage.db import Database
from storage.privacy_models import Notification, PrivacyRequest
from workflow import lifecycle
from workflow.exports import LIFETIME, exports_dir
from workflow.retention_batches import BatchSize, RuleRun, run_rule
from workflow.retention_guards import GUARDS
from workflow.retention_rules import WATERMARK_MARGIN, compile_rule

__all__ = ["ANONYMISED", "WATERMARK_MARGIN", "RetentionPolicy", "RetentionReport", "sweep"]

CHECKPOINT_DIR = "erasure"  # where the erasure keeps its plans (workflow.executors.erasure)
LINK_KEYS = ("download_url", "receipt_url")  # notification params that hold a signed link
LINKS = "download_links_purged"
_PLAN_CHUNK = 500
_LINK_BATCH = 5_000
_FILES = ("export_files_purged", "erasure_plans_purged")


def categories(data_map: datamap.DataMap | None = None) -> tuple[str, ...]:
    """Every category a sweep reports, in the order it runs them."""
    rules = [rule.name for _table, rule in (data_map or datamap.current()).rules()]
    return tuple(dict.fromkeys([*rules, LINKS, *_FILES]))


def __getattr__(name: str) -> Any:
    if name == "CATEGORIES":  # the current map's categories
        return categories()
    raise AttributeError(name)


@dataclass
class RetentionReport:
    """Rows changed (or, in a dry run, that would change) per category."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    # the cutoff of each incremental category: the next sweep's `since`
    cutoffs: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False  # stopped between batches; the next sweep resumes
    longest_batch_rows: int = 0

    def add(self, category: str, rows: int) -> None:
        self.counts[category] = self.counts.get(category, 0) + rows


@dataclass(frozen=True)
class RetentionPolicy:
    """How the sweep batches; the periods themselves are the data map's."""

    batch: int = 5_000  # the first batch of each rule; later ones adapt to time
    target_seconds: float = 0.2  # each transaction's aim, well under a second
    cap_seconds: float = 0.8  # PostgreSQL: a batch that would run longer is cut and retried
    min_batch: int = 100
    max_batch: int = 500_000
    link_days: int = LIFETIME.days  # signed download links expire after this


async def sweep(
    db: Database,
    *,
    now: datetime,
    dry_run: bool = False,
    policy: RetentionPolicy | None = None,
    extra_protected: Callable[[], Select[Any]] | None = None,
    progress: Callable[[str, int], None] | None = None,
    since: Mapping[str, datetime] | None = None,
    should_stop: Callable[[], bool] | None = None,
    data_dir: Path | None = None,
    data_map: datamap.DataMap | None = None,
) -> RetentionReport:
    """Run every retention rule once.

    `extra_protected` adds conversations to keep; `since` holds the previous completed
    sweep's cutoffs (see `RetentionReport.cutoffs`); `should_stop` is asked after every
    full batch and ends the sweep early (`interrupted`); `data_dir` adds the export
    files and erasure plans on this machine's disk.
    """
    policy = policy or RetentionPolicy()
    data_map = data_map or datamap.current()
    report = RetentionReport(dry_run=dry_run)
    since = since or {}
    store = account_store.of(db)
    tables = await all_tables(store, data_map)
    for name, rule in data_map.rules():
        if report.interrupted:
            break
        target = store if data_map.tables[name].database == "store" else db
        compiled = compile_rule(
            data_map,
            name,
            rule,
            tables[name],
            now=now,
            dialect=target.engine.dialect.name,
            since=since,
            guards=GUARDS,
            extra_protected=extra_protected,
        )
        size = BatchSize(
            policy.batch,
            policy.target_seconds,
            policy.min_batch,
            policy.max_batch,
            policy.cap_seconds,
        )
        if compiled.incremental:
            report.cutoffs[rule.name] = compiled.cutoff.isoformat()

        def add(rows: int, category: str = rule.name) -> None:
            report.add(category, rows)

        def said(rows: int, category: str = rule.name) -> None:
            if progress is not None:
                progress(category, report.counts[category])

        async with bulk_writer(target) as writer:
            run = RuleRun(compiled, target, size, writer)
            finished = await run_rule(
                run, dry_run=dry_run, add=add, progress=said, should_stop=should_stop
            )
        if run.skipped:  # held rows are still due: the next sweep must look at all again
            report.cutoffs.pop(rule.name, None)
        report.interrupted = not finished
    if not report.interrupted:
        link_cutoff = now - timedelta(days=policy.link_days)
        report.cutoffs[LINKS] = link_cutoff.isoformat()
        await _purge_links(db, report, link_cutoff, since.get(LINKS))
    if data_dir is not None and not report.interrupted:
        await _purge_files(db, report, data_dir, now - timedelta(days=policy.link_days))
    return report


async def _purge_links(
    db: Database, report: RetentionReport, cutoff: datetime, since: datetime | None
) -> None:
    """Drop expired signed links from sent notifications (the text was delivered)."""
    has_link = or_(*(Notification.params[key].as_string().is_not(None) for key in LINK_KEYS))
    where = [Notification.created_at < cutoff, Notification.status != "pending", has_link]
    if since is not None:
        where.append(Notification.created_at >= since - WATERMARK_MARGIN)
    after = 0
    while True:
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(Notification.id, Notification.params)
                    .where(*where, Notification.id > after)
                    .order_by(Notification.id)
                    .limit(_LINK_BATCH)
                )
            ).all()
            if rows and not report.dry_run:
                await session.execute(
                    update(Notification),
                    [
                        {
                            "id": i,
                            "params": {k: v for k, v in (p or {}).items() if k not in LINK_KEYS},
                        }
                        for i, p in rows
                    ],
                )
        if rows:
            report.add(LINKS, len(rows))
            after = rows[-1][0]
        if len(rows) < _LINK_BATCH:
            return


def _files_older_than(folder: Path, cutoff: datetime, pattern: str) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(pattern):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                found.append(path)
        except OSError:  # removed meanwhile (another sweep, or the executor)
            continue
    return sorted(found)


async def _purge_files(
    db: Database, report: RetentionReport, data_dir: Path, cutoff: datetime
) -> None:
    """Export files whose links have expired; erasure plans of requests no longer open.

    Files are judged by age: every link to a file is signed when the file is written
    (the cutoff allows a day for a link signed again on a re-run).
    """
    cutoff -= WATERMARK_MARGIN
    exports = _files_older_than(exports_dir(data_dir), cutoff, "*")
    plans = _files_older_than(data_dir / CHECKPOINT_DIR, cutoff, "*.json")
    if plans:
        still_open: set[str] = set()
        async with db.sessions() as session:
            for start in range(0, len(plans), _PLAN_CHUNK):
                references = [p.stem for p in plans[start : start + _PLAN_CHUNK]]
                still_open.update(
                    await session.scalars(
                        select(PrivacyRequest.reference).where(
                            PrivacyRequest.reference.in_(references),
                            PrivacyRequest.status.in_(sorted(lifecycle.OPEN)),
                        )
                    )
                )
        plans = [p for p in plans if p.stem not in still_open]
    for category, paths in zip(_FILES, (exports, plans), strict=True):
        if not paths:
            continue
        if not report.dry_run:
            for path in paths:
                path.unlink(missing_ok=True)
        report.add(category, len(paths))
