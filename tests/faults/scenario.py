"""The data a fault test starts from and the figures it checks at the end.

Requests are opened and approved with the same workflow functions the chat, Slack and
the CLI use; what the processes under test did is read back from the database as
counts, never from their output alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from bench.seeding import add_messages
from bot.delivery import render
from storage import conversations
from storage.db import Database
from storage.models import SmsMessage, TranscriptMessage
from storage.privacy_models import Action, AuditEntry, Notification, PrivacyRequest
from storage.types import utcnow
from tests.workflow.conftest import account_id, agent, open_request
from workflow import decisions


@dataclass(frozen=True)
class Opened:
    reference: str
    request_id: int
    conversation_id: str
    account_id: int


async def approved_request(db: Database, kind: str, email: str) -> Opened:
    """A verified customer's request of `kind` from a web chat conversation, approved."""
    account = await account_id(db, email)
    async with db.transaction() as session:
        conversation = conversations.create(session, "webchat", locale="en")
        conversation.account_id = account
    request = await open_request(
        db, kind, now=utcnow(), account=account, conversation_id=conversation.id
    )
    await approve(db, request.reference)
    return Opened(request.reference, request.id, conversation.id, account)


async def approve(db: Database, reference: str) -> None:
    async with db.transaction() as session:
        await decisions.approve(session, reference, agent("agent-ida"), utcnow())


RECENT = timedelta(days=29)  # younger than the 30 days after which retention anonymises


async def add_sms(pg_url: str, account: int, count: int) -> None:
    """Bulk-insert (COPY) `count` messages spread over the last 29 days, so only an
    erasure (never the retention sweep a worker also runs) anonymises them."""
    await add_messages(pg_url, [account], count, utcnow() - timedelta(minutes=1), days=29)


async def scalar(db: Database, stmt: object) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(stmt) or 0)  # type: ignore[call-overload]


async def sms_counts(db: Database, account: int, *, recent: bool = False) -> tuple[int, int]:
    """(messages of the account, those already anonymised); with `recent`, only those
    younger than `RECENT`: what the erasure, and nothing else, changes."""
    mine = [SmsMessage.account_id == account]
    if recent:
        mine.append(SmsMessage.sent_at > utcnow() - RECENT - timedelta(hours=1))
    return (
        await scalar(db, select(func.count()).select_from(SmsMessage).where(*mine)),
        await scalar(
            db,
            select(func.count())
            .select_from(SmsMessage)
            .where(*mine, SmsMessage.anonymised_at.is_not(None)),
        ),
    )


@dataclass(frozen=True)
class Outcome:
    """What happened to one request, counted from the database."""

    status: str
    actions: list[tuple[str, int]]  # (status, attempts) per action
    action_done_audits: int
    completed_audits: int
    completed_notices: list[str]  # statuses of its "completed" notifications in the chat
    contact_notices: list[str]  # ... and of the copies to the contact the customer verified
    transcript_notices: int  # bot messages in its conversation saying it is completed


async def outcome(db: Database, opened: Opened) -> Outcome:
    async with db.sessions() as session:
        request = await session.get(PrivacyRequest, opened.request_id)
        assert request is not None
        actions = (
            await session.execute(
                select(Action.status, Action.attempts)
                .where(Action.request_id == opened.request_id)
                .order_by(Action.id)
            )
        ).all()
        audits = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.request_id == opened.request_id)
            )
        )
        notices = list(
            await session.scalars(
                select(Notification).where(
                    Notification.request_id == opened.request_id,
                    Notification.event == "completed",
                )
            )
        )
        in_chat = [n for n in notices if n.channel == request.channel]
        to_contact = [n for n in notices if n.channel != request.channel]
        texts = [render("completed", n.params or {}, n.language) for n in in_chat]
        said = await session.scalar(
            select(func.count())
            .select_from(TranscriptMessage)
            .where(
                TranscriptMessage.conversation_id == opened.conversation_id,
                TranscriptMessage.sender == "bot",
                TranscriptMessage.text.in_(texts),
            )
        )
    return Outcome(
        status=request.status,
        actions=[(status, attempts) for status, attempts in actions],
        action_done_audits=sum(1 for a in audits if a.event == "action_done"),
        completed_audits=sum(
            1 for a in audits if a.event == "status" and (a.data or {}).get("to") == "completed"
        ),
        completed_notices=[n.status for n in in_chat],
        contact_notices=[n.status for n in to_contact],
        transcript_notices=int(said or 0),
    )


async def request_status(db: Database, request_id: int) -> str:
    async with db.sessions() as session:
        request = await session.get(PrivacyRequest, request_id)
        assert request is not None
        return request.status


async def customer_lines(db: Database, conversation_id: str) -> list[str]:
    """What the customer wrote, in order (to check nothing was lost or doubled)."""
    async with db.sessions() as session:
        return list(
            await session.scalars(
                select(TranscriptMessage.text)
                .where(
                    TranscriptMessage.conversation_id == conversation_id,
                    TranscriptMessage.sender == "customer",
                )
                .order_by(TranscriptMessage.seq)
            )
        )
