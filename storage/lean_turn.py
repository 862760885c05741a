"""A turn that needs nothing from the database but its conversation row.

Most messages (a greeting, a question about the policy, thanks) only read the
conversation and write back its transcript lines and dialog state. Such a turn reads the
row with no lock and no transaction, and writes everything back in one atomic step
checked against the version it read: on PostgreSQL one autocommitted statement (the
UPDATE with the lines' INSERT in a data-modifying WITH); on SQLite one write transaction.
Both go over one connection (`Database.connection`). If another turn of the
conversation wrote in between, the version no longer matches,
nothing is written, and `StaleDataError` tells the caller to answer again.

The conversation is handed out as a transient `Conversation` (in no session), so a
handler edits it as usual; `save` writes what differs from the row that was read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.exc import StaleDataError

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


@functools.cache
def _update(changed: tuple[str, ...]) -> Any:
    return (
        update(Conversation)
        .where(Conversation.id == bindparam("c_id"), Conversation.version == bindparam("c_version"))
        .values(
            {
                **{key: bindparam(f"set_{key}") for key in changed},
                "version": Conversation.version + 1,
            }
        )
    )


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
        _check(result, len(lines), version)
        return
    async with db.immediate(connection):
        result = await connection.execute(
            _update(tuple(changes)),
            {"c_id": conversation.id, "c_version": version}
            | {f"set_{key}": value for key, value in changes.items()},
        )
        _check(result, 1, version)
        if lines:
            await connection.execute(
                insert(TranscriptMessage), [item.row(conversation.id, now) for item in lines]
            )


def _check(result: Any, rows: int, version: int) -> None:
    if cast(CursorResult[Any], result).rowcount != rows:
        raise StaleDataError(f"conversation changed meanwhile (version {version})")
