"""The retention sweep: the policy's promise kept by the system itself.

"Message data is kept up to 30 days; then the last 4 digits of the recipient number
and the message content are anonymised." Besides SMS, the sweep deletes old chat
transcripts and clears idle dialog state (unless an open privacy request or a support
case still needs them), purges expired one-time codes and sent outbox messages, and
removes download links and export files whose lifetime is over.

Each category runs in batches of at most `BATCH` rows, one transaction per batch, so
no lock is held for long; every batch selects only rows not yet processed, which
makes the sweep idempotent and lets an interrupted run resume where it stopped.
Categories whose rows never come back into scope (SMS, links) look only at rows since
the previous completed sweep's cutoff (`since`, less a day's margin), so an hourly
sweep does not rescan years of history; without `since` it looks at everything.

`workflow.retention_runs` runs it: one sweep at a time across all processes, on a
schedule inside the worker, with the counts in the audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from storage.datamap import ANONYMISED as ANONYMISED  # re-exported: tests and bench read it
from storage.datamap import SMS_RETENTION_DAYS
from storage.db import Database
from storage.models import (
    Conversation,
    OutboxMessage,
    SmsMessage,
    TranscriptMessage,
    VerificationCode,
)
from storage.privacy_models import Notification, PrivacyRequest
from workflow import lifecycle
from workflow.executors.erasure import CHECKPOINT_DIR
from workflow.exports import LIFETIME, exports_dir

BATCH = 10_000
SMS_DAYS = SMS_RETENTION_DAYS
# Rows inserted late with an old timestamp are still found by a sweep that starts
# this long before the previous sweep's cutoff.
WATERMARK_MARGIN = timedelta(days=1)
LINK_KEYS = ("download_url", "receipt_url")  # notification params that hold a signed link
_PLAN_CHUNK = 500
CATEGORIES = (
    "sms_messages_anonymised",
    "transcript_messages_erased",
    "dialog_states_cleared",
    "verification_codes_purged",
    "outbox_messages_purged",
    "download_links_purged",
    "export_files_purged",
    "erasure_plans_purged",
)


@dataclass
class RetentionReport:
    """Rows changed (or, in a dry run, that would change) per category."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    # the cutoff of each watermarked category: the next sweep's `since`
    cutoffs: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False  # stopped between batches; the next sweep resumes

    def add(self, category: str, rows: int) -> None:
        self.counts[category] = self.counts.get(category, 0) + rows


@dataclass(frozen=True)
class RetentionPolicy:
    sms_days: int = SMS_DAYS
    transcript_days: int = 30
    outbox_days: int = 7
    link_days: int = LIFETIME.days  # signed download links expire after this
    batch: int = BATCH


def _masked_recipient() -> object:
    """Keep everything but the last 4 digits, which become XXXX (SQL for both backends)."""
    length = func.length(SmsMessage.recipient)
    return case(
        (
            length > 4,
            type_coerce(func.substr(SmsMessage.recipient, 1, length - 4), String) + "XXXX",
        ),
        else_=literal("XXXX"),
    )


def _open_case_conversations() -> Select[Any]:
    """Conversations whose transcript is still needed: a support case (handover) is open."""
    return select(Conversation.id).where(
        Conversation.state["handover_requested_at"].as_string().is_not(None)
    )


def _open_request_conversations() -> Select[Any]:
    """Conversations a privacy request that is not yet closed came from."""
    return select(PrivacyRequest.conversation_id).where(
        PrivacyRequest.conversation_id.is_not(None),  # NOT IN over a NULL matches nothing
        PrivacyRequest.status.in_(sorted(lifecycle.OPEN)),
    )


# Changes the chosen rows; returns how many it changed when that can be fewer than chosen.
Apply = Callable[[AsyncSession, list[Any]], Awaitable[int | None]]


def _unlocked(pending: Select[Any]) -> Select[Any]:
    """The pending messages no one else is changing right now (an erasure in flight holds
    them): skipping them instead of waiting keeps the sweep and an erasure of the same
    rows from deadlocking. The erasure anonymises what it holds; SQLite has one writer."""
    return pending.with_for_update(skip_locked=True)


def _statement(make: Callable[[list[Any]], Executable]) -> Apply:
    async def apply(session: AsyncSession, chosen: list[Any]) -> None:
        await session.execute(make(chosen), execution_options={"synchronize_session": False})
        return None

    return apply


@dataclass
class _Batches:
    """Select up to `batch` ids, change them, commit; repeat until none are left."""

    db: Database
    report: RetentionReport
    batch: int
    progress: Callable[[str, int], None] | None
    should_stop: Callable[[], bool] | None

    async def __call__(
        self, category: str, ids: Callable[[int], Select[Any]], apply: Apply
    ) -> None:
        report = self.report
        while not report.interrupted:
            async with self.db.transaction() as session:
                chosen = list((await session.execute(ids(self.batch))).scalars())
                if not chosen:
                    return
                if report.dry_run:
                    total = await session.scalar(
                        select(func.count()).select_from(ids(10**12).subquery())
                    )
                    report.add(category, int(total or 0))
                    return
                changed = await apply(session, chosen)
                report.add(category, len(chosen) if changed is None else changed)
            if self.progress is not None:
                self.progress(category, report.counts[category])
            if len(chosen) < self.batch:
                return
            if self.should_stop is not None and self.should_stop():
                report.interrupted = True


def _since(column: Any, since: Mapping[str, datetime], key: str) -> ColumnElement[bool] | None:
    return column >= since[key] - WATERMARK_MARGIN if key in since else None


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
) -> RetentionReport:
    """Run every retention rule once.

    `extra_protected` adds conversations to keep; `since` holds the previous completed
    sweep's cutoffs (see `RetentionReport.cutoffs`); `should_stop` is asked after every
    full batch and ends the sweep early (`interrupted`); `data_dir` adds the export
    files and erasure plans on this machine's disk.
    """
    policy = policy or RetentionPolicy()
    report = RetentionReport(dry_run=dry_run)
    since = since or {}
    run = _Batches(db, report, policy.batch, progress, should_stop)

    sms_cutoff = now - timedelta(days=policy.sms_days)
    report.cutoffs["sms"] = sms_cutoff.isoformat()
    sms_since = _since(SmsMessage.sent_at, since, "sms")

    sms_pending = [SmsMessage.sent_at < sms_cutoff, SmsMessage.anonymised_at.is_(None)]
    if sms_since is not None:
        sms_pending.append(sms_since)
    sms_after: list[int] = []  # the last id of the previous batch: each batch starts there

    def sms_ids(limit: int) -> Select[Any]:
        stmt = select(SmsMessage.id).where(*sms_pending)
        if sms_after:
            stmt = stmt.where(SmsMessage.id > sms_after[-1])
        return stmt.order_by(SmsMessage.id).limit(limit)

    async def anonymise(session: AsyncSession, chosen: list[Any]) -> int:
        # The chosen ids are the first pending ones in id order, so the pending rows of
        # their id range are exactly them: a range update, not a list of 10,000 ids.
        sms_after.append(chosen[-1])
        result = await session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.id.in_(
                    _unlocked(
                        select(SmsMessage.id).where(
                            SmsMessage.id.between(chosen[0], chosen[-1]), *sms_pending
                        )
                    )
                )
            )
            .values(content=ANONYMISED, recipient=_masked_recipient(), anonymised_at=now),
            execution_options={"synchronize_session": False},
        )
        changed = int(getattr(result, "rowcount", len(chosen)))
        if changed < len(chosen):
            # Rows an erasure held were skipped. Should that erasure roll back, they are
            # still pending: no watermark, so the next sweep looks at all SMS again.
            report.cutoffs.pop("sms", None)
        return changed

    await run("sms_messages_anonymised", sms_ids, anonymise)

    transcript_cutoff = now - timedelta(days=policy.transcript_days)
    protected = [_open_case_conversations(), _open_request_conversations()]
    if extra_protected is not None:
        protected.append(extra_protected())

    def kept_out(column: Any) -> ColumnElement[bool]:
        return and_(*(column.not_in(p) for p in protected))

    def transcript_ids(limit: int) -> Select[Any]:
        return (
            select(TranscriptMessage.id)
            .where(
                TranscriptMessage.created_at < transcript_cutoff,
                kept_out(TranscriptMessage.conversation_id),
            )
            .order_by(TranscriptMessage.id)
            .limit(limit)
        )

    await run(
        "transcript_messages_erased",
        transcript_ids,
        _statement(
            lambda chosen: delete(TranscriptMessage).where(TranscriptMessage.id.in_(chosen))
        ),
    )

    def idle_state_ids(limit: int) -> Select[Any]:
        return (
            select(Conversation.id)
            .where(
                Conversation.updated_at < transcript_cutoff,
                sa_cast(Conversation.state, Text) != "{}",
                kept_out(Conversation.id),
            )
            .order_by(Conversation.id)
            .limit(limit)
        )

    await run(
        "dialog_states_cleared",
        idle_state_ids,
        _statement(
            lambda chosen: (
                update(Conversation)
                .where(Conversation.id.in_(chosen))
                # bump the version, or a web process holding the row would save over it
                .values(state={}, version=Conversation.version + 1)
            )
        ),
    )

    def code_ids(limit: int) -> Select[Any]:
        return (
            select(VerificationCode.id)
            .where(or_(VerificationCode.expires_at < now, VerificationCode.used_at.is_not(None)))
            .order_by(VerificationCode.id)
            .limit(limit)
        )

    await run(
        "verification_codes_purged",
        code_ids,
        _statement(lambda chosen: delete(VerificationCode).where(VerificationCode.id.in_(chosen))),
    )

    outbox_cutoff = now - timedelta(days=policy.outbox_days)

    def outbox_ids(limit: int) -> Select[Any]:
        return (
            select(OutboxMessage.id)
            .where(OutboxMessage.created_at < outbox_cutoff, OutboxMessage.status != "pending")
            .order_by(OutboxMessage.id)
            .limit(limit)
        )

    await run(
        "outbox_messages_purged",
        outbox_ids,
        _statement(lambda chosen: delete(OutboxMessage).where(OutboxMessage.id.in_(chosen))),
    )

    link_cutoff = now - timedelta(days=policy.link_days)
    report.cutoffs["links"] = link_cutoff.isoformat()
    await _purge_links(run, link_cutoff, _since(Notification.created_at, since, "links"))
    await _purge_transcript_links(
        run, link_cutoff, _since(TranscriptMessage.created_at, since, "links")
    )
    if data_dir is not None and not report.interrupted:
        await _purge_files(db, report, data_dir, link_cutoff - WATERMARK_MARGIN)
    return report


async def _purge_links(run: _Batches, cutoff: datetime, since: ColumnElement[bool] | None) -> None:
    """Drop expired signed links from sent notifications (the text was delivered)."""
    has_link = or_(*(Notification.params[key].as_string().is_not(None) for key in LINK_KEYS))

    def ids(limit: int) -> Select[Any]:
        stmt = select(Notification.id).where(
            Notification.created_at < cutoff, Notification.status != "pending", has_link
        )
        if since is not None:
            stmt = stmt.where(since)
        return stmt.order_by(Notification.id).limit(limit)

    async def drop(session: AsyncSession, chosen: list[Any]) -> None:
        rows = (
            await session.execute(
                select(Notification.id, Notification.params).where(Notification.id.in_(chosen))
            )
        ).all()
        await session.execute(
            update(Notification),
            [
                {
                    "id": row_id,
                    "params": {k: v for k, v in (params or {}).items() if k not in LINK_KEYS},
                }
                for row_id, params in rows
            ],
        )

    await run("download_links_purged", ids, drop)


async def _purge_transcript_links(
    run: _Batches, cutoff: datetime, since: ColumnElement[bool] | None
) -> None:
    """Drop expired download links shown under bot messages in transcripts."""

    def ids(limit: int) -> Select[Any]:
        stmt = select(TranscriptMessage.id).where(
            TranscriptMessage.created_at < cutoff,
            TranscriptMessage.link["url"].as_string().is_not(None),
        )
        if since is not None:
            stmt = stmt.where(since)
        return stmt.order_by(TranscriptMessage.id).limit(limit)

    await run(
        "download_links_purged",
        ids,
        _statement(
            lambda chosen: (
                update(TranscriptMessage)
                .where(TranscriptMessage.id.in_(chosen))
                .values(link=null())
            )
        ),
    )


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
    (`cutoff` already allows a day for a link signed again on a re-run).
    """
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
    for category, paths in (("export_files_purged", exports), ("erasure_plans_purged", plans)):
        if not paths:
            continue
        if not report.dry_run:
            for path in paths:
                path.unlink(missing_ok=True)
        report.add(category, len(paths))


async def count_pending(session: AsyncSession, now: datetime) -> int:
    """SMS messages past the retention period and not yet anonymised (for metrics)."""
    cutoff = now - timedelta(days=SMS_DAYS)
    stmt = select(func.count()).where(
        SmsMessage.sent_at < cutoff, SmsMessage.anonymised_at.is_(None)
    )
    return int(await session.scalar(stmt) or 0)
