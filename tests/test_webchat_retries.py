"""A message the chat page sends again (its answer was lost) is answered once, stored once.

The page gives every message an id of its own ("client_id") and sends the same id when it
retries; the transcript's unique (conversation, client id) index turns a second attempt
into the stored answer of the first, on the lean path and in a transaction alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import OutboxMessage, TranscriptMessage
from tests.webchat import WebChat

Client = TestClient[Any, Any]


async def _outbox_count(runtime: Runtime) -> int:
    async with runtime.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_message_sent_again_gets_the_same_answer_and_is_stored_once(
    client: Client,
) -> None:
    chat = await WebChat.open(client)
    first = await chat.send("Hello there", client_id="msg-0001-aaaa")
    again = await chat.send("Hello there", client_id="msg-0001-aaaa")
    assert again == first
    transcript = await chat.transcript()
    assert [m["from"] for m in transcript] == ["customer"] + ["bot"] * len(first)
    assert [m["text"] for m in transcript[1:]] == [reply["text"] for reply in first]
    # the page learns from the transcript that its message arrived
    assert transcript[0]["client_id"] == "msg-0001-aaaa"
    assert all("client_id" not in m for m in transcript[1:])


async def test_an_old_message_sent_again_gets_its_own_answer_not_the_latest(
    client: Client,
) -> None:
    chat = await WebChat.open(client)
    hello = await chat.send("hello", client_id="msg-0001-aaaa")
    question = await chat.send("How long do you keep my invoices?", client_id="msg-0002-bbbb")
    assert question != hello
    before = await chat.transcript()
    assert await chat.send("hello", client_id="msg-0001-aaaa") == hello
    assert await chat.transcript() == before


async def test_a_retried_turn_that_sent_a_code_sends_no_second_one(
    client: Client, runtime: Runtime
) -> None:
    """A turn that needs the database runs in a transaction: sent again, its outbox row
    (the login code) is rolled back with the rest, and the first answer comes back."""
    chat = await WebChat.open(client)
    await chat.send("I want a copy of my personal data", client_id="msg-0001-aaaa")
    await chat.send(button="confirm", client_id="msg-0002-bbbb")
    sent = await chat.send("anna@example.dk", client_id="msg-0003-cccc")
    codes = await _outbox_count(runtime)
    assert codes >= 1 and "code" in sent[0]["text"]
    assert await chat.send("anna@example.dk", client_id="msg-0003-cccc") == sent
    assert await _outbox_count(runtime) == codes
    customer = [m["text"] for m in await chat.transcript() if m["from"] == "customer"]
    assert customer.count("anna@example.dk") == 1


async def test_the_same_message_sent_twice_at_once_is_answered_once(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.send("hello")
    both = await asyncio.gather(
        *(chat.send("What data do you keep about me?", client_id="msg-0002-bbbb") for _ in (1, 2))
    )
    assert both[0] == both[1] and both[0]
    async with runtime.db.sessions() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(TranscriptMessage)
            .where(TranscriptMessage.client_id == "msg-0002-bbbb")
        )
    assert stored == 1


async def test_messages_without_an_id_or_with_new_ids_are_each_answered(
    client: Client,
) -> None:
    chat = await WebChat.open(client)
    other = await WebChat.open(client)
    await chat.send("hello")
    await chat.send("hello")
    await chat.send("hello", client_id="msg-0003-cccc")
    await other.send("hello", client_id="msg-0003-cccc")  # ids are the page's own: per chat
    assert [m["from"] for m in await chat.transcript()].count("customer") == 3
    assert [m["from"] for m in await other.transcript()].count("customer") == 1


async def test_a_client_id_that_is_not_one_is_400_and_nothing_is_stored(client: Client) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    for client_id in ("short", "x" * 65, "has space-1234", 12345678, ["msg-0001-aaaa"]):
        body = {"text": "hello", "client_id": client_id}
        response = await client.post(path, json=body, headers=chat.headers)
        assert response.status == 400, client_id
        assert "client_id" in (await response.json())["error"]
    assert await chat.transcript() == []
