"""The lean turn: a turn that needs only its conversation is read without a lock and
written in one step checked against the version read; anything more is answered again
in a transaction, and nothing is written twice or lost."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from bot import conversation as conversation_module
from bot.conversation import ConversationRouter
from handlers.types import Incoming
from storage import driver_sql, lean_turn, sqlite_loop
from storage.conversations import Line
from storage.db import Database
from storage.models import Conversation, TranscriptMessage
from tests.sql_trace import statements
from tests.test_router import Scripted, router_for


async def _transcript(db: Database, external_id: str) -> list[tuple[int, str, str]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(TranscriptMessage.seq, TranscriptMessage.sender, TranscriptMessage.text)
            .join(Conversation, Conversation.id == TranscriptMessage.conversation_id)
            .where(Conversation.external_id == external_id)
            .order_by(TranscriptMessage.seq)
        )
        return [(seq, sender, text) for seq, sender, text in rows]


def _counting(db: Database, script: dict[str, Scripted]) -> tuple[ConversationRouter, list[str]]:
    router = router_for(db, script)
    seen: list[str] = []
    recognise = router.recognise

    def counted(text: str, hint: str | None) -> Any:
        seen.append(text)
        return recognise(text, hint)

    router.recognise = counted
    return router, seen


async def test_a_turn_that_needs_only_its_conversation_takes_no_lock(db: Database) -> None:
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    await router.handle(Incoming("console", "lean1", text="hello"))  # creates: a transaction
    async with statements(db) as sent:
        replies = await router.handle(Incoming("console", "lean1", text="hello"))
    assert replies
    assert not any("FOR UPDATE" in sql for sql in sent), sent
    reads = [sql for sql in sent if sql.startswith("SELECT")]
    assert len(reads) == 1 and "FROM CONVERSATIONS" in reads[0], sent
    if db.is_postgres:  # the read and one statement that writes everything
        assert len(sent) == 2 and sent[1].startswith("WITH UPDATED AS (UPDATE CONVERSATIONS"), sent
    else:  # the read, then one write transaction
        verbs = [sql.split()[0] for sql in sent]
        assert verbs[:3] == ["SELECT", "BEGIN", "UPDATE"] and verbs[-1] == "COMMIT", verbs
        assert verbs[3:-1] == ["INSERT"] * (1 + len(replies)), verbs  # one per line
    lines = await _transcript(db, "lean1")
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    assert [sender for _, sender, _ in lines].count("customer") == 2


async def test_a_handler_that_uses_the_database_is_answered_again_in_a_transaction(
    db: Database,
) -> None:
    router, seen = _counting(
        db, {"hello": Scripted("en", "greeting"), "a human please": Scripted("en", "handover")}
    )
    await router.handle(Incoming("console", "lean2", text="hello"))
    seen.clear()
    async with statements(db) as sent:
        replies = await router.handle(Incoming("console", "lean2", text="a human please"))
    assert replies
    assert seen == ["a human please"], "recognised once, though answered twice"
    locked = "FOR UPDATE" if db.is_postgres else "BEGIN IMMEDIATE"
    assert any(locked in sql for sql in sent), sent
    lines = await _transcript(db, "lean2")
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    customer = [text for _, sender, text in lines if sender == "customer"]
    assert customer == ["hello", "a human please"]


async def test_a_conversation_changed_since_it_was_read_is_not_written_over(
    db: Database,
) -> None:
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    await router.handle(Incoming("console", "lean3", text="hello"))
    async with db.driver() as connection:
        loaded = await lean_turn.read(db, connection, channel="console", external_id="lean3")
        assert loaded is not None
        await router.handle(Incoming("console", "lean3", text="hello"))  # another turn writes
        before = await _transcript(db, "lean3")
        seq = loaded.conversation.last_seq + 1
        loaded.conversation.last_seq = seq
        loaded.conversation.state = {"flow": "erasure"}
        with pytest.raises(StaleDataError):
            await lean_turn.save(db, connection, loaded, [Line(seq, "customer", "stale")])
        assert await _transcript(db, "lean3") == before, "nothing of the stale turn was written"
        again = await lean_turn.read(db, connection, channel="console", external_id="lean3")
    assert again is not None and again.conversation.state.get("flow") != "erasure"


async def test_concurrent_turns_of_one_conversation_are_all_kept_in_order(db: Database) -> None:
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    await router.handle(Incoming("console", "lean4", text="hello"))
    texts = [f"message {n}" for n in range(6)]
    await asyncio.gather(
        *(router.handle(Incoming("console", "lean4", text=text)) for text in texts)
    )
    lines = await _transcript(db, "lean4")
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    customer = [text for _, sender, text in lines if sender == "customer"]
    assert sorted(customer[1:]) == texts, "every message kept once"


async def test_a_sqlite_write_that_would_wait_for_another_writer_waits_on_a_thread(
    db: Database,
) -> None:
    on_loop = db.on_loop()
    if on_loop is None:
        pytest.skip("SQLite's statements on the event loop")
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    await router.handle(Incoming("console", "lean5", text="hello"))
    async with db.driver() as connection:
        loaded = await lean_turn.read(db, connection, channel="console", external_id="lean5")
        assert loaded is not None
        seq = loaded.conversation.last_seq + 1
        loaded.conversation.last_seq = seq
        other = sqlite3.connect(on_loop.path, isolation_level=None)  # another process writes
        other.execute("BEGIN IMMEDIATE")
        save = lean_turn.save(db, connection, loaded, [Line(seq, "customer", "waited")])
        saving = asyncio.create_task(save)
        for _ in range(3):
            await asyncio.sleep(0)  # let the save run up to where it waits
        assert not saving.done(), "the event loop's connection refused at once; a thread waits"
        other.execute("COMMIT")
        other.close()
        await saving
    lines = await _transcript(db, "lean5")
    assert lines[-1] == (seq, "customer", "waited")


async def test_sqlite_commits_on_the_event_loop_are_checkpointed_off_it(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_loop = db.on_loop()
    if on_loop is None:
        pytest.skip("SQLite's statements on the event loop")
    monkeypatch.setattr(sqlite_loop, "CHECKPOINT_EVERY", 3)
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    await router.handle(Incoming("console", "lean6", text="hello"))  # creates: not on the loop
    for _ in range(3):
        await router.handle(Incoming("console", "lean6", text="hello"))
    await on_loop.settled()
    copy = tmp_path / "database-file-only.db"  # what the database file holds, without the log
    shutil.copyfile(on_loop.path, copy)
    written = sqlite3.connect(copy)
    try:
        (count,) = written.execute("SELECT count(*) FROM transcript_messages").fetchone()
    finally:
        written.close()
    assert count == len(await _transcript(db, "lean6")) > 0


def test_a_deadlock_on_the_driver_is_answered_again_as_on_sqlalchemys_path() -> None:
    deadlock = asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    raised = driver_sql._as_sqlalchemy(deadlock)
    assert isinstance(raised, OperationalError) and raised.orig is deadlock
    assert conversation_module._is_retryable(raised)
    unique = asyncpg.exceptions.UniqueViolationError("duplicate key")
    refused = driver_sql._as_sqlalchemy(unique)  # as SQLAlchemy's path raises it: a message
    assert isinstance(refused, IntegrityError) and refused.orig is unique  # sent again
    assert not conversation_module._is_retryable(refused), "never answered again blindly"
    syntax = asyncpg.exceptions.PostgresSyntaxError("syntax error")
    assert driver_sql._as_sqlalchemy(syntax) is syntax, "a refused statement stays a bug"


async def test_a_conversation_changed_by_anyone_else_is_not_written_over(db: Database) -> None:
    """An erasure or the retention job changes rows through the data map, not through the
    turn's versioned writes; the database bumps the version for them (migration 0012)."""
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    await router.handle(Incoming("console", "lean7", text="hello"))
    async with db.driver() as connection:
        loaded = await lean_turn.read(db, connection, channel="console", external_id="lean7")
        assert loaded is not None
        async with db.transaction() as session:  # as an erasure nulls what it erases
            await session.execute(
                update(Conversation)
                .where(Conversation.external_id == "lean7")
                .values(verified_via=None, state={})
                .execution_options(synchronize_session=False)
            )
        seq = loaded.conversation.last_seq + 1
        loaded.conversation.last_seq = seq
        loaded.conversation.state = {"flow": "erasure", "email": "kept@example.com"}
        with pytest.raises(StaleDataError):
            await lean_turn.save(db, connection, loaded, [Line(seq, "customer", "stale")])
    async with db.sessions() as session:
        state = (
            await session.execute(
                select(Conversation.state).where(Conversation.external_id == "lean7")
            )
        ).scalar_one()
    assert state == {}, "the erased state stays erased"


async def _opened(db: Database, router: ConversationRouter, external_id: str) -> str:
    """A conversation's id, after its first turn."""
    await router.handle(Incoming("console", external_id, text="hello"))
    async with db.sessions() as session:
        found = await session.execute(
            select(Conversation.id).where(Conversation.external_id == external_id)
        )
        return found.scalar_one()


async def test_the_next_web_chat_turn_starts_from_the_row_its_process_wrote(
    db: Database,
) -> None:
    router = router_for(db, {"hello": Scripted("en", "greeting")})
    conversation_id = await _opened(db, router, "lean8")
    await router.handle(Incoming("console", "lean8", text="hello"), conversation_id=conversation_id)
    async with statements(db) as sent:
        replies = await router.handle(
            Incoming("console", "lean8", text="hello"), conversation_id=conversation_id
        )
    assert replies
    assert not any(sql.startswith("SELECT") for sql in sent), sent
    lines = await _transcript(db, "lean8")
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    assert [sender for _, sender, _ in lines].count("customer") == 3


async def test_a_kept_row_changed_since_by_anyone_else_is_not_written_over(db: Database) -> None:
    unclear = Scripted("en", "erasure", 0.4, (("access", 0.35), ("portability", 0.2)))
    router = router_for(db, {"hello": Scripted("en", "greeting"), "hmm data": unclear})
    conversation_id = await _opened(db, router, "lean9")
    await router.handle(Incoming("console", "lean9", text="hello"), conversation_id=conversation_id)
    async with db.transaction() as session:  # the data map's way: no version of its own
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(state={"language_locked": True}, locale="da")
            .execution_options(synchronize_session=False)
        )
    unsure = Incoming("console", "lean9", text="hmm data")  # holds the message: a new state
    await router.handle(unsure, conversation_id=conversation_id)
    async with db.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    assert conversation.locale == "da" and conversation.state.get("language_locked") is True
    assert conversation.state.get("held"), "the turn was answered, from the changed row"
    lines = await _transcript(db, "lean9")
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))


def test_kept_rows_expire_and_are_bounded() -> None:
    now = [0.0]
    recent = lean_turn.Recent(size=2, seconds=60.0, clock=lambda: now[0])
    row = {"id": "a", "state": {}, "version": 1}
    recent.keep("a", row)
    taken = recent.take("a")
    assert taken is not None and taken.row == row and taken.conversation.version == 1
    assert recent.take("a") is None, "handed out once"
    recent.keep("a", row)
    now[0] = 61.0
    assert recent.take("a") is None, "a dialog state is not kept past its time"
    for name in ("a", "b", "c"):
        recent.keep(name, {**row, "id": name})
    assert recent.take("a") is None and recent.take("c") is not None


async def test_a_kept_row_another_process_moved_on_from_is_read_again_not_locked(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two web processes, one conversation: a turn that finds its kept row stale costs one
    refused write and is answered from a fresh read, still lean (no transaction)."""
    here = router_for(db, {"hello": Scripted("en", "greeting")})
    there = router_for(db, {"hello": Scripted("en", "greeting")})
    conversation_id = await _opened(db, here, "lean10")
    message = Incoming("console", "lean10", text="hello")
    await here.handle(message, conversation_id=conversation_id)  # kept here
    await there.handle(message, conversation_id=conversation_id)  # moves the version on
    locked: list[str | None] = []
    turn = here._turn

    async def spied(*args: Any) -> Any:
        locked.append(args[1])
        return await turn(*args)

    monkeypatch.setattr(here, "_turn", spied)
    await here.handle(message, conversation_id=conversation_id)
    assert locked == [], "answered lean, from a fresh read"
    lines = await _transcript(db, "lean10")
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    assert [sender for _, sender, _ in lines].count("customer") == 4
    assert here.recent.take(conversation_id) is not None, "the fresh row is kept again"
