"""A turn that needs nothing from the database but its conversation row.

Most messages (a greeting, a question about the policy, thanks) only read the
conversation and write back its transcript lines and dialog state. Such a turn reads the
row with no lock and no transaction, and writes everything back in one atomic step
checked against the version it read: on PostgreSQL one statement, which commits on its
own (`conversations.turn_statement`: the UPDATE in a data-modifying WITH, the lines'
INSERT only if it matched); on SQLite one write transaction, made on the event loop
(`storage.sqlite_loop`) unless another process is writing. The statements run on the
driver itself (`storage.driver_sql`). If another turn of the conversation wrote in
between, the version no longer matches, nothing is written, and `StaleDataError` tells
the caller to answer again.

The conversation is handed out as a transient `Conversation` (in no session), so a
handler edits it as usual; `save` writes what differs from the row that was read.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, inspect, select

from storage import conversations, driver_sql
from storage.conversations import Line
from storage.db import Database
from storage.models import Conversation
from storage.types import utcnow

_CONVERSATIONS = Conversation.__table__
_MANAGER = inspect(Conversation).class_manager


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
    db: Database,
    connection: Any,
    *,
    conversation_id: str | None = None,
    channel: str | None = None,
    external_id: str | None = None,
) -> Loaded | None:
    """The conversation with this id (or this channel's external id), or None.
    `connection` is the driver's (`Database.driver`)."""
    by_id = conversation_id is not None
    params = (
        {"conversation_id": conversation_id}
        if by_id
        else {"channel": channel, "external_id": external_id}
    )
    statement, dialect = _read(by_id), db.engine.dialect
    if db.is_postgres:
        row = await driver_sql.pg_fetch_one(connection, statement, dialect, params)
    else:
        on_loop = db.on_loop()
        row = await driver_sql.sqlite_fetch_one(connection, statement, dialect, params, on_loop)
    if row is None:
        return None
    return Loaded(_transient(row), row)


def _transient(row: Mapping[str, Any]) -> Conversation:
    """A `Conversation` in no session holding the row's values as its loaded state, as
    the ORM's own loading makes one: the constructor's per-attribute events took 50 µs
    of a 2 ms turn. Changes a handler makes are tracked as usual."""
    conversation: Conversation = _MANAGER.new_instance()
    conversation.__dict__.update(row)
    return conversation


async def save(
    db: Database, connection: Any, loaded: Loaded, lines: Sequence[Line]
) -> dict[str, Any]:
    """Write the turn's lines (a turn has at least the customer's) and the conversation's
    changes, or nothing and raise `StaleDataError` when the conversation changed since
    it was read. `connection` is the one `read` used. The row as it now is in the
    database."""
    if not lines:
        raise ValueError("a turn writes at least the customer's line")
    conversation, row = loaded.conversation, loaded.row
    # The ORM keeps a mapped object's values in its __dict__; reading them there skips
    # an attribute event per column (a transient holds every column: `_transient`).
    values = conversation.__dict__
    changes = {key: values[key] for key in row if key != "version" and values[key] != row[key]}
    now = utcnow()
    version, dialect = row["version"], db.engine.dialect
    if db.is_postgres:  # the UPDATE and the lines' INSERT in one statement
        statement = conversations.turn_statement(len(lines), tuple(changes))
        params = conversations.turn_params(conversation.id, version, changes, lines, now)
        written = await driver_sql.pg_execute(connection, statement, dialect, params)
        conversations.check_written(written, len(lines), version)
        return {**row, **changes, "version": version + 1}
    update = conversations.turn_params(conversation.id, version, changes, (), now)
    steps = [
        driver_sql.Step(conversations.versioned_update(tuple(changes)), [update], expect=1),
        driver_sql.Step(
            conversations.line_insert(), [item.row(conversation.id, now) for item in lines]
        ),
    ]
    async with db.write_lock():
        written = await driver_sql.sqlite_write(connection, dialect, steps, db.on_loop())
    conversations.check_written(1 if written else 0, 1, version)
    return {**row, **changes, "version": version + 1}


class Recent:
    """The conversation rows this process wrote last, so that the next turn of the same
    conversation starts from one without reading it (a round trip of a turn's three).

    A kept row is only a starting point: the turn's write is checked against its version,
    and every change to a conversation bumps that (the bot's own writes, and the data
    map's through migration 0012's trigger). A row that another process, an erasure or
    the retention job changed since is never written over: the turn is answered again
    from the database. A row is kept for at most `seconds`, and at most `size` of them:
    a dialog state can hold personal data, and an erased one must not linger."""

    def __init__(
        self, size: int = 2000, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size, self.seconds, self.clock = size, seconds, clock
        self._rows: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def take(self, conversation_id: str) -> Loaded | None:
        """The kept row of this conversation, handed out once (a turn running beside
        it reads the database), or None."""
        kept = self._rows.pop(conversation_id, None)
        if kept is None or self.clock() - kept[0] > self.seconds:
            return None
        return Loaded(_transient(kept[1]), kept[1])

    def keep(self, conversation_id: str, row: dict[str, Any]) -> None:
        self._rows[conversation_id] = (self.clock(), row)
        self._rows.move_to_end(conversation_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def drop(self, conversation_id: str) -> None:
        self._rows.pop(conversation_id, None)
