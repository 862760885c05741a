"""A turn that needs nothing from the database but its conversation row.

Most messages (a greeting, a question about the policy, thanks) only read the
conversation and write back its transcript lines and dialog state. Such a turn reads the
row with no lock and no transaction, and writes everything back in one atomic step
checked against the version it read: on PostgreSQL one autocommitted statement
(`conversations.turn_statement`: the UPDATE in a data-modifying WITH, the lines' INSERT
only if it matched); on SQLite one write transaction. Both go over one connection
(`Database.connection`). If another turn of the conversation wrote in between, the
version no longer matches, nothing is written, and `StaleDataError` tells the caller to
answer again.

The conversation is handed out as a transient `Conversation` (in no session), so a
handler edits it as usual; `save` writes what differs from the row that was read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import conversations
from storage.conversations import Line
from storage.db import Database
from storage.models import Conversation, TranscriptMessage
from storage.types import utcnow

_CONVERSATIONS = Conversation.__table__


@dataclass(slots=True)
class Loaded:
    """A conversation read for a lean turn, and the row as read (what `save` compares)."""

    conversation: Conversation
    row: Mapping[str, Any]


@functools.cache
def _read(by_id: bool) -> Select[Any]:
    """Built once, so SQLAlchemy finds its compiled form by the statement's cache key."""
    columns = _CONVERSATIONS.c
    if by_id:
        return select(_CONVERSATIONS).where(columns.id == bindparam("conversation_id"))
    return select(_CONVERSATIONS).where(
        columns.channel == bindparam("channel"), columns.external_id == bindparam("external_id")
    )


async def read(
    connection: AsyncConnection,
    *,
    conversation_id: str | None = None,
    channel: str | None = None,
    external_id: str | None = None,
) -> Loaded | None:
    """The conversation with this id (or this channel's external id), or None."""
    by_id = conversation_id is not None
    params = (
        {"conversation_id": conversation_id}
        if by_id
        else {"channel": channel, "external_id": external_id}
    )
    found = (await connection.execute(_read(by_id), params)).first()
    if found is None:
        return None
    row = dict(found._mapping)
    return Loaded(Conversation(**row), row)


async def save(
    db: Database, connection: AsyncConnection, loaded: Loaded, lines: Sequence[Line]
) -> None:
    """Write the turn's lines and the conversation's changes, or nothing and raise
    `StaleDataError` when the conversation changed since it was read. `connection` is
    the one `read` used (`Database.connection`)."""
    conversation, row = loaded.conversation, loaded.row
    changes = {
        key: getattr(conversation, key)
        for key in row
        if key != "version" and getattr(conversation, key) != row[key]
    }
    now = utcnow()
    version = row["version"]
    if db.is_postgres and lines:
        params = conversations.turn_params(conversation.id, version, changes, lines, now)
        statement = conversations.turn_statement(len(lines), tuple(changes))
        result = await connection.execute(statement, params)
        conversations.check_written(result, len(lines), version)
        return
    async with db.immediate(connection):
        result = await connection.execute(
            conversations.versioned_update(tuple(changes)),
            conversations.turn_params(conversation.id, version, changes, (), now),
        )
        conversations.check_written(result, 1, version)
        if lines:
            await connection.execute(
                insert(TranscriptMessage), [item.row(conversation.id, now) for item in lines]
            )
