"""Keep the approvals channel in step with the requests: post, then edit in place.

Every request awaiting approval gets one message; a process claims the message row
before posting (the unique request_id makes the claim exclusive across processes) and
a claim left by a crashed process is taken over after `CLAIM_STALE`. Messages of
requests that are still moving are re-rendered and edited with `chat.update` when what
they show changed, each under a short lease (`next_attempt_at`) instead of a row lock,
so nothing stays locked while Slack answers. Safe to run from several processes and as
often as one likes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

import locales
from bot.channels.slack import approval_view
from bot.channels.slack.context import AGENT_LANGUAGE, SLACK_ERRORS
from storage.db import Database
from storage.privacy_models import PrivacyRequest
from storage.slack_models import SlackApprovalMessage
from workflow import lifecycle
from workflow.approvals import ApprovalPolicy
from workflow.lifecycle import Status

log = logging.getLogger(__name__)

CLAIM_STALE = timedelta(minutes=5)
EDIT_LEASE = timedelta(minutes=2)  # an editor's claim on a message; longer than any edit
BATCH = 50
_GONE = frozenset({"message_not_found", "channel_not_found", "cant_update_message"})


@dataclass(slots=True)
class SyncResult:
    posted: int = 0
    updated: int = 0


async def sync(
    db: Database,
    client: AsyncWebClient,
    channel: str,
    now: datetime,
    *,
    policy: ApprovalPolicy,
    request_id: int | None = None,
) -> SyncResult:
    """Post missing messages and update changed ones (only `request_id`'s, if given)."""
    result = SyncResult()
    with locales.use(AGENT_LANGUAGE):
        for rid in await _to_post(db, now, request_id):
            if await _claim(db, rid, channel, now) and await _post(
                db, client, rid, channel, now, policy
            ):
                result.posted += 1
        for message_id in await _to_update(db, request_id):
            if await _update(db, client, message_id, now, policy):
                result.updated += 1
    return result


async def _to_post(db: Database, now: datetime, request_id: int | None) -> list[int]:
    has_message = exists().where(SlackApprovalMessage.request_id == PrivacyRequest.id)
    new = select(PrivacyRequest.id).where(
        PrivacyRequest.status == Status.AWAITING_APPROVAL, ~has_message
    )
    stale = select(SlackApprovalMessage.request_id).where(
        SlackApprovalMessage.ts.is_(None), SlackApprovalMessage.updated_at < now - CLAIM_STALE
    )
    if request_id is not None:
        new = new.where(PrivacyRequest.id == request_id)
        stale = stale.where(SlackApprovalMessage.request_id == request_id)
    async with db.sessions() as session:
        fresh = (await session.scalars(new.order_by(PrivacyRequest.due_at).limit(BATCH))).all()
        abandoned = (await session.scalars(stale.limit(BATCH))).all()
    return [*fresh, *abandoned]


async def _claim(db: Database, request_id: int, channel: str, now: datetime) -> bool:
    """Insert the empty message row (or take over a stale one); False if another has it."""
    try:
        async with db.transaction() as session:
            taken = await session.execute(
                update(SlackApprovalMessage)
                .where(
                    SlackApprovalMessage.request_id == request_id,
                    SlackApprovalMessage.ts.is_(None),
                    SlackApprovalMessage.updated_at < now - CLAIM_STALE,
                )
                .values(updated_at=now)
            )
            if taken.rowcount:  # type: ignore[attr-defined]
                return True
            session.add(
                SlackApprovalMessage(request_id=request_id, channel=channel, updated_at=now)
            )
    except IntegrityError:
        return False
    return True


async def _post(
    db: Database,
    client: AsyncWebClient,
    request_id: int,
    channel: str,
    now: datetime,
    policy: ApprovalPolicy,
) -> bool:
    async with db.sessions() as session:
        facts = await approval_view.load_facts(session, request_id, now, policy)
    if facts is None:
        return False
    text, blocks = approval_view.render(facts)
    try:
        response = await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SLACK_ERRORS as exc:
        log.warning("approval message for request %d not posted: %s", request_id, _why(exc))
        async with db.transaction() as session:  # release the claim: the next sync retries
            await session.execute(
                delete(SlackApprovalMessage).where(
                    SlackApprovalMessage.request_id == request_id, SlackApprovalMessage.ts.is_(None)
                )
            )
        return False
    async with db.transaction() as session:
        await session.execute(
            update(SlackApprovalMessage)
            .where(SlackApprovalMessage.request_id == request_id)
            .values(
                channel=str(response.get("channel") or channel),
                ts=str(response["ts"]),
                last_status=facts.request.status,
                digest=approval_view.digest(text, blocks),
                updated_at=now,
            )
        )
    return True


async def _to_update(db: Database, request_id: int | None) -> list[int]:
    """Messages whose request may have changed since they were last rendered."""
    stmt = (
        select(SlackApprovalMessage.id)
        .join(PrivacyRequest, PrivacyRequest.id == SlackApprovalMessage.request_id)
        .where(
            SlackApprovalMessage.ts.is_not(None),
            or_(
                SlackApprovalMessage.last_status.is_(None),
                SlackApprovalMessage.last_status.not_in(lifecycle.CLOSED),
                SlackApprovalMessage.last_status != PrivacyRequest.status,
            ),
        )
        .order_by(SlackApprovalMessage.id)
    )
    if request_id is not None:
        stmt = stmt.where(SlackApprovalMessage.request_id == request_id)
    async with db.sessions() as session:
        return list((await session.scalars(stmt)).all())


async def _claim_edit(
    db: Database, message_id: int, now: datetime, policy: ApprovalPolicy
) -> tuple[SlackApprovalMessage, approval_view.Facts] | None:
    """Take one message for editing (a lease, committed) with the facts it should show;
    None when another process is editing it, or when it shows them already."""
    async with db.transaction() as session:
        taken = await session.execute(
            update(SlackApprovalMessage)
            .where(
                SlackApprovalMessage.id == message_id,
                SlackApprovalMessage.ts.is_not(None),
                or_(
                    SlackApprovalMessage.next_attempt_at.is_(None),
                    SlackApprovalMessage.next_attempt_at <= now,
                ),
            )
            .values(next_attempt_at=now + EDIT_LEASE)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = await session.get(SlackApprovalMessage, message_id, populate_existing=True)
        assert row is not None
        facts = await approval_view.load_facts(session, row.request_id, now, policy)
        unchanged = (
            facts is None or approval_view.digest(*approval_view.render(facts)) == row.digest
        )
        if unchanged:
            row.next_attempt_at = None
            if facts is not None:
                row.last_status = facts.request.status
            return None
        session.expunge(row)
    assert facts is not None
    return row, facts


async def _update(
    db: Database, client: AsyncWebClient, message_id: int, now: datetime, policy: ApprovalPolicy
) -> bool:
    """Re-render one message and edit it if it changed. The message is claimed with a
    lease first, so two processes never edit it at once, and no row is locked while
    Slack answers; an edit cut off by a crash is redone once the lease is over."""
    claimed = await _claim_edit(db, message_id, now, policy)
    if claimed is None:
        return False
    row, facts = claimed
    assert row.ts is not None  # claimed only with a ts
    text, blocks = approval_view.render(facts)
    values: dict[str, Any] = {"next_attempt_at": None}
    gone = False
    try:
        await client.chat_update(channel=row.channel, ts=row.ts, text=text, blocks=blocks)
    except SLACK_ERRORS as exc:
        log.warning("approval message %d not updated: %s", message_id, _why(exc))
        gone = isinstance(exc, SlackApiError) and exc.response.get("error") in _GONE
    else:
        values.update(
            digest=approval_view.digest(text, blocks),
            last_status=facts.request.status,
            updated_at=now,
        )
    async with db.transaction() as session:
        mine = SlackApprovalMessage.id == message_id
        if gone:  # deleted in Slack: post afresh if still pending
            await session.execute(delete(SlackApprovalMessage).where(mine))
        else:
            await session.execute(update(SlackApprovalMessage).where(mine).values(**values))
    return not gone and "digest" in values


def _why(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"SlackApiError {exc.response.get('error')}"
    return type(exc).__name__
