"""Conversations and their transcripts: create, find, append, read."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, TranscriptMessage
from storage.types import utcnow


def new_conversation_id() -> str:
    """An unguessable id: 128 random bits."""
    return secrets.token_urlsafe(16)


async def find(
    session: AsyncSession, channel: str, external_id: str, *, for_update: bool = False
) -> Conversation | None:
    stmt = select(Conversation).where(
        Conversation.channel == channel, Conversation.external_id == external_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get(
    session: AsyncSession, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    stmt = select(Conversation).where(Conversation.id == conversation_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def create(
    session: AsyncSession,
    channel: str,
    external_id: str | None = None,
    *,
    conversation_id: str | None = None,
    locale: str | None = None,
    token_hash: str | None = None,
) -> Conversation:
    conversation_id = conversation_id or new_conversation_id()
    conversation = Conversation(
        id=conversation_id,
        channel=channel,
        external_id=external_id or conversation_id,
        locale=locale,
        token_hash=token_hash,
        state={},
        last_seq=0,
    )
    session.add(conversation)
    return conversation


def append(
    session: AsyncSession,
    conversation: Conversation,
    sender: str,
    text: str,
    buttons: Sequence[dict[str, str]] | None = None,
    link: dict[str, str] | None = None,
) -> TranscriptMessage:
    """Add a message with the next sequence number; the caller's transaction commits it.

    `link` ({"url", "label"}) is a download shown under a bot message.
    """
    conversation.last_seq += 1
    conversation.updated_at = utcnow()
    message = TranscriptMessage(
        conversation_id=conversation.id,
        seq=conversation.last_seq,
        sender=sender,
        text=text,
        buttons=list(buttons) if buttons else None,
        link=dict(link) if link else None,
    )
    session.add(message)
    return message


async def messages_after(
    session: AsyncSession, conversation_id: str, after: int, limit: int = 200
) -> Sequence[TranscriptMessage]:
    stmt = (
        select(TranscriptMessage)
        .where(TranscriptMessage.conversation_id == conversation_id, TranscriptMessage.seq > after)
        .order_by(TranscriptMessage.seq)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


def message_json(message: TranscriptMessage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "seq": message.seq,
        "from": message.sender,
        "text": message.text,
        "buttons": message.buttons or [],
        "link": message.link or None,
        "created_at": message.created_at.isoformat(),
    }
    return data
