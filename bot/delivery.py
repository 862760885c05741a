"""Delivering customer notifications: outbox rows in, chat messages out.

The workflow records *what* happened; this runtime module words it in the customer's
language and delivers it on the channel the request came from:
- web chat and console: the message is appended to the conversation transcript in the
  same transaction that marks the notification delivered, so it appears exactly once;
- any other channel: an async sender registered with `register_sender` (Slack and
  Telegram register theirs). The notification is first claimed (one more attempt and
  a lease, in `next_attempt_at`) and committed, then sent outside any transaction, so
  no row lock is held while Slack or Telegram answers; then the result is recorded.
  Such a send is at-least-once: a crash between the send and the record sends again
  once the lease is over. A failed send waits (`workflow.backoff`) and is given up
  after MAX_ATTEMPTS. Without a sender the row simply waits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

import locales
from bot import contact_notices
from locales import _
from storage import conversations
from storage.db import Database
from storage.models import Conversation
from storage.privacy_models import Notification
from workflow import backoff, queue

log = logging.getLogger(__name__)

TRANSCRIPT_CHANNELS = frozenset({"webchat", "console"})
MAX_ATTEMPTS = 5
BATCH = 100
LEASE = timedelta(minutes=2)  # a sender's claim; longer than any send may take
RETRY_BASE, RETRY_CAP = 30.0, 1800.0  # seconds after a failed send: 30 s, 1 min ... 30 min

Sender = Callable[[Notification, str], Awaitable[None]]
_senders: dict[str, Sender] = {}

PURPOSE_LABELS = {
    "marketing_email": locales.N_("marketing emails"),
    "tracking": locales.N_("tracking on our website"),
    "profiling": locales.N_("profiling for advertising"),
}


def register_sender(channel: str, sender: Sender) -> None:
    """Deliver `channel`'s notifications with `sender(notification, text)`."""
    _senders[channel] = sender


def unregister_sender(channel: str) -> None:
    _senders.pop(channel, None)


async def conversation_on(db: Database, note: Notification, channel: str) -> Conversation:
    """The conversation on `channel` a notification goes to; LookupError when it has none
    there (the sender then fails and the notification is retried or given up)."""
    async with db.sessions() as session:
        conversation = (
            await conversations.get(session, note.conversation_id) if note.conversation_id else None
        )
    if conversation is None or conversation.channel != channel:
        raise LookupError(f"the notification has no {channel} conversation")
    return conversation


_TERMINAL = (".", "!", "?", "…", ":", ";")
_CLOSING = "\"')]»”’"


def agent_text(value: object) -> str:
    """An agent's free text as a sentence: a full stop added when it has no terminal
    punctuation, so the notice's next sentence does not run on ("…usual We will…")."""
    text = str(value or "").strip()
    if text and not text.rstrip(_CLOSING).endswith(_TERMINAL):
        return text + "."
    return text


def _due(params: dict[str, Any]) -> str:
    raw = params.get("due_at")
    return locales.format_date(datetime.fromisoformat(raw)) if isinstance(raw, str) else ""


def _completed(params: dict[str, Any]) -> str:
    kind, reference = params.get("kind"), params.get("reference", "")
    url = str(params.get("download_url") or params.get("receipt_url") or "")
    if params.get("answer") and kind != "human_review":
        return _("A person on our team has answered your request {reference}: {answer}").format(
            reference=reference, answer=agent_text(params.get("answer"))
        )
    if kind == "access" and url:
        return _(
            "The copy of your data (request {reference}) is ready. Download it here: {url}"
        ).format(reference=reference, url=url)
    if kind == "portability" and url:
        return _(
            "Your data export (request {reference}) is ready in a machine-readable format. "
            "Download it here: {url}"
        ).format(reference=reference, url=url)
    if kind == "erasure":
        text = _(
            "Your account has been erased (request {reference}). Accounting records are kept "
            "only as long as the law requires; the receipt explains what and for how long."
        ).format(reference=reference)
        return f"{text} {url}" if url else text
    if kind == "objection":
        purposes = params.get("purposes") or list(PURPOSE_LABELS)
        labels = ", ".join(_(PURPOSE_LABELS[p]) for p in purposes if p in PURPOSE_LABELS)
        return _("Done (request {reference}): we no longer use your data for {purposes}.").format(
            reference=reference, purposes=labels
        )
    if kind == "restriction":
        if params.get("lifted"):
            return _("The restriction on your data is lifted (request {reference}).").format(
                reference=reference
            )
        return _(
            "The processing of your data is now restricted (request {reference}). We keep your "
            "data but don't use it until you ask us to lift the restriction."
        ).format(reference=reference)
    if kind == "rectification":
        return _("Your details have been corrected (request {reference}).").format(
            reference=reference
        )
    if kind == "human_review":
        return _(
            "A person on our team has reviewed the decision (request {reference}). "
            "Their answer: {answer}"
        ).format(reference=reference, answer=agent_text(params.get("answer")))
    text = _("Your request {reference} is completed.").format(reference=reference)
    return f"{text} {url}" if url else text


def download_link(event: str, params: dict[str, Any], language: str) -> dict[str, str] | None:
    """The download a notification carries ({"url", "label"}), shown under its text."""
    if event != "completed":
        return None
    url = str(params.get("download_url") or params.get("receipt_url") or "")
    if not url.startswith(("https://", "http://")):
        return None
    with locales.use(language):
        if params.get("kind") == "erasure" or "receipt_url" in params:
            label = _("Download the receipt")
        elif params.get("kind") == "portability":
            label = _("Download your data export")
        else:
            label = _("Download your data")
    return {"url": url, "label": label}


def render(event: str, params: dict[str, Any], language: str) -> str:
    """The chat text for one notification, in `language`."""
    with locales.use(language):
        reference = params.get("reference", "")
        if event == "completed":
            return _completed(params)
        if event == "received":
            return _(
                "We have received your request {reference}. We will answer by {due_date} "
                "at the latest."
            ).format(reference=reference, due_date=_due(params))
        if event == "awaiting_approval":
            return _(
                "Your request {reference} is waiting for a member of our privacy team to review it."
            ).format(reference=reference)
        if event == "approved":
            return _("Your request {reference} is approved and will be carried out now.").format(
                reference=reference
            )
        if event == "rejected":
            return _(
                "We cannot carry out your request {reference}. Reason: {reason} If you "
                "disagree, you can complain to Datatilsynet, the Danish Data Protection Agency."
            ).format(reference=reference, reason=agent_text(params.get("reason")))
        if event == "extended":
            return _(
                "We need more time for your request {reference}. Reason: {reason} We will "
                "answer by {due_date} at the latest."
            ).format(
                reference=reference, reason=agent_text(params.get("reason")), due_date=_due(params)
            )
        if event == "in_review" and params.get("kind") == "human_review":
            return _(
                "A person on our team is now reviewing the decision (request {reference}). "
                "You will get their answer here."
            ).format(reference=reference)
        if event == "in_review":
            return _(
                "A person on our team is handling your request {reference} and will answer "
                "you here."
            ).format(reference=reference)
        if event == "failed":
            return _(
                "We could not complete your request {reference} because of a technical "
                "problem. Our team has been alerted and will follow up here."
            ).format(reference=reference)
        if event == "cancelled":
            return _("Your request {reference} is cancelled.").format(reference=reference)
        return _("There is news about your request {reference}.").format(reference=reference)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _language_now(session: AsyncSession, note: Notification) -> str:
    """The conversation's language now (the customer may have switched since the request)."""
    if note.conversation_id:
        locale = await session.scalar(
            select(Conversation.locale).where(Conversation.id == note.conversation_id)
        )
        if locale:
            return str(locale)
    return note.language


async def _to_transcript(
    session: AsyncSession, note: Notification, text: str, language: str
) -> bool:
    """Append to the conversation in this transaction: delivered exactly once."""
    conversation = None
    if note.conversation_id:
        conversation = await conversations.get(
            session, note.conversation_id, for_update=_is_postgres(session)
        )
    if conversation is None:
        note.status = "failed"  # no conversation to write to: an agent must follow up
        return False
    conversations.append(
        session,
        conversation,
        "bot",
        text,
        link=download_link(note.event, note.params or {}, language),
    )
    return True


def _is_due(now: datetime) -> ColumnElement[bool]:
    return or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)


async def _deliver_in_transaction(
    session: AsyncSession, notification_id: int, now: datetime
) -> bool:
    """A transcript line or a contact notice: no network call, so the notification is
    marked delivered in the transaction that writes what it becomes (exactly once)."""
    stmt = select(Notification).where(
        Notification.id == notification_id, Notification.status == "pending"
    )
    if _is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    note = (await session.execute(stmt)).scalar_one_or_none()
    if note is None:
        return False  # another dispatcher has it, or had it
    language = await _language_now(session, note)
    text = render(note.event, note.params or {}, language)
    if note.channel in TRANSCRIPT_CHANNELS:
        delivered = await _to_transcript(session, note, text, language)
    else:
        delivered = await contact_notices.queue(session, note, text, language, now)
    if delivered:
        note.status, note.delivered_at = "delivered", now
    return delivered


@dataclass(frozen=True, slots=True)
class _Claimed:
    note: Notification  # detached: read by the sender after the claim's commit
    text: str


async def _claim(session: AsyncSession, notification_id: int, now: datetime) -> _Claimed | None:
    """Take a due notification for its sender: one more attempt and a lease, committed
    before the send. A second dispatcher finds it not due; if this process dies while
    sending, the lease runs out and the notification is sent again (at-least-once)."""
    taken = await session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "pending", _is_due(now))
        .values(attempts=Notification.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    note = await session.get(Notification, notification_id, populate_existing=True)
    assert note is not None
    language = await _language_now(session, note)
    text = render(note.event, note.params or {}, language)
    session.expunge(note)
    return _Claimed(note, text)


async def _send(claimed: _Claimed) -> bool:
    """Hand to the channel's sender, outside any transaction: no row lock is held while
    Slack or Telegram answers."""
    note = claimed.note
    sender = _senders.get(note.channel)
    if sender is None:
        return False  # unregistered meanwhile: tried again once the lease runs out
    try:
        await sender(note, claimed.text)
    except Exception as exc:  # a channel error is retried on a later pass
        log.warning("notification %d on %s failed: %s", note.id, note.channel, type(exc).__name__)
        return False
    return True


async def _settle(session: AsyncSession, note: Notification, sent: bool, now: datetime) -> None:
    values: dict[str, Any]
    if sent:
        values = {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
    elif note.attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "next_attempt_at": None}
    else:
        wait = backoff.delay(note.attempts, base=RETRY_BASE, cap=RETRY_CAP)
        values = {"next_attempt_at": now + wait}
    await session.execute(
        update(Notification)
        .where(Notification.id == note.id, Notification.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _deliver_by_sender(db: Database, notification_id: int, now: datetime) -> bool:
    async def claim(session: AsyncSession) -> _Claimed | None:
        return await _claim(session, notification_id, now)

    claimed = await queue.in_transaction(db, claim)
    if claimed is None:
        return False
    sent = await _send(claimed)

    async def settle(session: AsyncSession) -> None:
        await _settle(session, claimed.note, sent, now)

    await queue.in_transaction(db, settle)
    return sent


async def dispatch(db: Database, now: datetime, *, limit: int = BATCH) -> int:
    """Deliver pending, due notifications on the channels we can reach; returns how many."""
    in_transaction = TRANSCRIPT_CHANNELS | contact_notices.ROUTES
    async with db.sessions() as session:
        due = (
            await session.execute(
                select(Notification.id, Notification.channel)
                .where(
                    Notification.status == "pending",
                    Notification.channel.in_(in_transaction | set(_senders)),
                    _is_due(now),
                )
                .order_by(Notification.id)
                .limit(limit)
            )
        ).all()
    delivered = 0
    for notification_id, channel in due:
        if channel not in in_transaction:
            delivered += await _deliver_by_sender(db, notification_id, now)
            continue

        async def work(session: AsyncSession, nid: int = notification_id) -> bool:
            return await _deliver_in_transaction(session, nid, now)

        if await queue.in_transaction(db, work):
            delivered += 1
    return delivered
