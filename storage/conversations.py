"""Conversations and their transcripts: create, find, append, read, save a turn."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Table,
    Update,
    bindparam,
    exists,
    insert,
    inspect,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

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


@functools.cache
def _by_id(for_update: bool) -> Any:
    """Built once: a statement object reused keeps its cache key (every turn reads this)."""
    stmt = select(Conversation).where(Conversation.id == bindparam("conversation_id"))
    return stmt.with_for_update() if for_update else stmt


async def get(
    session: AsyncSession, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    found = await session.execute(_by_id(for_update), {"conversation_id": conversation_id})
    return found.scalar_one_or_none()


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


@dataclass(frozen=True, slots=True)
class Line:
    """One transcript message of a turn, numbered but not written yet (`save_turn`)."""

    seq: int
    sender: str
    text: str
    buttons: list[dict[str, str]] | None = None
    link: dict[str, str] | None = None
    client_id: str | None = None  # a customer's message: the id its chat page gave it

    def row(self, conversation_id: str, now: datetime) -> dict[str, Any]:
        return {
            "conversation_id": conversation_id,
            "seq": self.seq,
            "sender": self.sender,
            "text": self.text,
            "buttons": self.buttons,
            "link": self.link,
            "created_at": now,
            "client_id": self.client_id,
        }


def line(
    conversation: Conversation,
    sender: str,
    text: str,
    buttons: Sequence[dict[str, str]] | None = None,
    link: dict[str, str] | None = None,
    client_id: str | None = None,
) -> Line:
    """The next message of the conversation, numbered now (so its place in the transcript
    is where the turn said it), written by `save_turn`. (The turn marks the conversation
    updated once, when it is done: `touch`.)"""
    conversation.last_seq += 1
    return Line(
        conversation.last_seq,
        sender,
        text,
        list(buttons) if buttons else None,
        dict(link) if link else None,
        client_id,
    )


def touch(conversation: Conversation) -> None:
    """Mark the conversation updated now (once a turn, not once a line: every change of
    an attribute of a mapped object costs the ORM's bookkeeping)."""
    conversation.updated_at = utcnow()


_LINE_COLUMNS = (
    "conversation_id",
    "seq",
    "sender",
    "text",
    "buttons",
    "link",
    "created_at",
    "client_id",
)


@functools.cache
def versioned_update(changed: tuple[str, ...]) -> Update:
    """UPDATE of these changed attributes of conversation `c_id` if its version is still
    `c_version`, bumping it as the ORM would. Built once (a statement object reused keeps
    its cache key, which is costly to compute). Its parameters: `turn_params`."""
    conversation = cast(Table, Conversation.__table__)
    return (
        update(conversation)
        .where(conversation.c.id == bindparam("c_id"))
        .where(conversation.c.version == bindparam("c_version"))
        .values(
            {
                **{key: bindparam(f"set_{key}") for key in changed},
                "version": conversation.c.version + 1,
            }
        )
    )


@functools.cache
def line_insert() -> Insert:
    """INSERT of one transcript line from the parameters of `Line.row`. Built once."""
    lines = cast(Table, TranscriptMessage.__table__)
    return insert(lines).values(
        {name: bindparam(name, type_=lines.c[name].type) for name in _LINE_COLUMNS}
    )


@functools.cache
def turn_statement(count: int, changed: tuple[str, ...]) -> Insert:
    """PostgreSQL: one statement that runs `versioned_update(changed)` and, only if it
    matched, inserts `count` transcript lines. Its row count is `count`, or 0 when the
    version moved on and nothing was written. The lines are a SELECT of bound parameters
    (`seq_0`, `text_1`, ...): unlike a multi-row VALUES, a statement SQLAlchemy can cache
    compiled. Built once, as `versioned_update`. Its parameters: `turn_params`."""
    lines = cast(Table, TranscriptMessage.__table__)
    updated = versioned_update(changed).returning(literal_column("1")).cte("updated")
    matched = exists(select(literal_column("1")).select_from(updated))
    rows = [
        select(
            *(bindparam(f"{name}_{index}", type_=lines.c[name].type) for name in _LINE_COLUMNS)
        ).where(matched)
        for index in range(count)
    ]
    source = rows[0] if count == 1 else union_all(*rows)
    return insert(lines).from_select(list(_LINE_COLUMNS), source).add_cte(updated)


def turn_params(
    conversation_id: str,
    version: int,
    changes: dict[str, Any],
    lines: Sequence[Line],
    now: datetime,
) -> dict[str, Any]:
    """The parameters of `turn_statement(len(lines), tuple(changes))`, and with no lines
    of `versioned_update(tuple(changes))`."""
    params: dict[str, Any] = {"c_id": conversation_id, "c_version": version}
    params.update((f"set_{key}", value) for key, value in changes.items())
    for index, item in enumerate(lines):
        for name, value in item.row(conversation_id, now).items():
            params[f"{name}_{index}"] = value
    return params


async def save_turn(
    session: AsyncSession, conversation: Conversation, lines: Sequence[Line]
) -> None:
    """Write a turn's transcript lines and the conversation's changes (its dialog state,
    language, and whatever else the turn changed on it) in the caller's transaction.

    On PostgreSQL, for a conversation already in the database, that is one statement
    (`turn_statement`: the UPDATE of the conversation, its version checked and bumped as
    the ORM would, and the INSERT of the lines); the conversation is then detached
    from the session, which has nothing left to write for it. Elsewhere, and for a
    conversation the turn created, the lines join the session, which flushes them.
    """
    now = utcnow()
    state = inspect(conversation)
    if session.get_bind().dialect.name != "postgresql" or not state.persistent or not lines:
        session.add_all(TranscriptMessage(**item.row(conversation.id, now)) for item in lines)
        return
    changes = {
        attr.key: history.added[0]
        for attr in state.mapper.column_attrs
        if (history := state.attrs[attr.key].history).added
    }
    params = turn_params(conversation.id, conversation.version, changes, lines, now)
    with session.no_autoflush:
        result = await session.execute(
            turn_statement(len(lines), tuple(changes)),
            params,
            execution_options={"synchronize_session": False},
        )
    check_written(cast(CursorResult[Any], result).rowcount, len(lines), conversation.version)
    session.expunge(conversation)


def check_written(written: int, rows: int, version: int) -> None:
    """Raise `StaleDataError` unless the versioned write touched `rows` rows: the
    conversation moved on from `version` meanwhile, and nothing was written."""
    if written != rows:
        raise StaleDataError(f"conversation changed meanwhile (version {version})")


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


async def answer_to(
    session: AsyncSession, conversation_id: str, client_id: str
) -> Sequence[TranscriptMessage] | None:
    """The bot's messages that answered the customer's message with this `client_id` (its
    chat page's own id for it), in order; None when no such message was stored. A turn
    writes all its lines with one time (`turn_params`, `save_turn`), so a message the bot
    wrote later on its own (a notification) is not taken for a part of the answer."""
    asked = (
        await session.execute(
            select(TranscriptMessage.seq, TranscriptMessage.created_at).where(
                TranscriptMessage.conversation_id == conversation_id,
                TranscriptMessage.client_id == client_id,
            )
        )
    ).first()
    if asked is None:
        return None
    stmt = (
        select(TranscriptMessage)
        .where(
            TranscriptMessage.conversation_id == conversation_id,
            TranscriptMessage.sender == "bot",
            TranscriptMessage.seq > asked.seq,
            TranscriptMessage.created_at == asked.created_at,
        )
        .order_by(TranscriptMessage.seq)
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
    if message.client_id is not None:  # the sender's own id: its page knows it arrived
        data["client_id"] = message.client_id
    return data
