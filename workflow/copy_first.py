"""Copy first, then erase: an erasure waits for the copies its customer has not fetched.

A customer who asks for a copy of their data and the erasure of their account (often in
one message) must get the copy: the erasure deletes every export file of the account, so
it waits while an access or portability export of the account is ready, not downloaded
and its link still valid — never longer than the link lives, and never so long that the
erasure's own legal deadline is at risk. A download is recorded the first time the
file is handed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import Action, ExportDownload, PrivacyRequest
from workflow.exports import LIFETIME, exports_dir
from workflow.lifecycle import ActionStatus, Status

COPY_KINDS = ("access", "portability")
# the erasure runs at the latest this long before its deadline, fetched or not
DEADLINE_MARGIN = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Unfetched:
    reference: str
    filename: str
    expires_at: datetime


async def record_download(
    session: AsyncSession, data_dir: Path, reference: str, filename: str, now: datetime
) -> None:
    """Note that the customer fetched `filename` (the first time counts; later ones and
    a racing second download are no-ops); when it was the account's last unfetched copy,
    an erasure waiting for it runs now instead of when the link would have expired."""
    if await session.get(ExportDownload, filename) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(ExportDownload(filename=filename, reference=reference, downloaded_at=now))
    except IntegrityError:
        return  # fetched at the same moment by another request
    account_id = await session.scalar(
        select(PrivacyRequest.account_id).where(PrivacyRequest.reference == reference)
    )
    if account_id is None or await unfetched_copies(session, data_dir, account_id, now):
        return
    waiting = (
        select(PrivacyRequest.id)
        .where(PrivacyRequest.account_id == account_id, PrivacyRequest.kind == "erasure")
        .scalar_subquery()
    )
    await session.execute(
        update(Action)
        .where(
            Action.request_id.in_(waiting),
            Action.status == ActionStatus.READY,
            Action.run_after > now,
        )
        .values(run_after=now)
        .execution_options(synchronize_session=False)
    )


async def unfetched_copies(
    session: AsyncSession, data_dir: Path, account_id: int, now: datetime
) -> list[Unfetched]:
    """The account's copies (access, portability) ready, valid and never downloaded."""
    done = await session.execute(
        select(PrivacyRequest.reference, PrivacyRequest.completed_at).where(
            PrivacyRequest.account_id == account_id,
            PrivacyRequest.kind.in_(COPY_KINDS),
            PrivacyRequest.status == Status.COMPLETED,
            PrivacyRequest.completed_at > now - LIFETIME,
        )
    )
    folder = exports_dir(data_dir)
    candidates = [
        Unfetched(reference, path.name, completed_at + LIFETIME)
        for reference, completed_at in done
        if completed_at is not None
        for path in sorted(folder.glob(f"{reference}-*.zip"))
    ]
    if not candidates:
        return []
    fetched = set(
        await session.scalars(
            select(ExportDownload.filename).where(
                ExportDownload.filename.in_([c.filename for c in candidates])
            )
        )
    )
    return [c for c in candidates if c.filename not in fetched]


def erasure_waits_until(
    unfetched: list[Unfetched], due_at: datetime, now: datetime
) -> datetime | None:
    """When an erasure waiting for `unfetched` copies may run; None: it may run now."""
    if not unfetched:
        return None
    until = min(max(c.expires_at for c in unfetched), due_at - DEADLINE_MARGIN)
    return until if until > now else None


async def forget_downloads(session: AsyncSession, filenames: list[str]) -> None:
    """Drop the download records of files the erasure deleted."""
    if filenames:
        for row in await session.scalars(
            select(ExportDownload).where(ExportDownload.filename.in_(filenames))
        ):
            await session.delete(row)
