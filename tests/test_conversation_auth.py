"""Conversations through the web chat API: intent, confirmation, verification by code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web.app import create_app
from storage import demo_seed
from storage.db import Database
from storage.models import Conversation, OutboxMessage
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.webchat import WebChat, button_values
from workflow.identity import parse_code

Client = TestClient[Any, Any]


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


async def latest_code(db: Database, to: str) -> str:
    # outcome notices go to the same address; they name their request (PR-...), codes don't
    sent = [m for m in await outbox(db) if m.to == to and "PR-" not in m.text]
    codes = [code for m in sent if (code := parse_code(m.text)) is not None]
    assert codes, "no code was sent to the registered contact"
    return codes[-1]


async def test_danish_access_request_is_confirmed_then_verified(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send("Hej, jeg vil gerne se hvilke oplysninger I har om mig")
    assert button_values(replies)[:2] == ["confirm", "cancel"]
    assert "kopi" in replies[0]["text"] and "Skal jeg gå videre?" in replies[0]["text"]
    assert await outbox(runtime.db) == [], "nothing happens before the customer confirms"
    asked = await chat.say(button="confirm")
    assert "e-mailadresse eller hvilket telefonnummer" in asked
    sent = await chat.say("anna@example.dk")
    assert "a***@example.dk" in sent and "6-cifret kode" in sent
    code = await latest_code(runtime.db, "anna@example.dk")
    verified = await chat.say(f"koden er {code}")
    assert "bekræftet" in verified
    assert "anmodning registreret" in verified


async def test_english_customer_gets_english_and_the_code_by_sms(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send("Please delete my account and all my data")
    assert "Bookkeeping Act" in replies[0]["text"] and "cannot be undone" in replies[0]["text"]
    await chat.send(button="confirm")
    sent = await chat.say("my number is +44 7700 900001")
    assert "+44******01" in sent and "6-digit code" in sent
    code = await latest_code(runtime.db, "+447700900001")
    assert "verified" in await chat.say(code)
    sms = [m for m in await outbox(runtime.db) if m.to == "+447700900001"]
    assert sms[-1].channel == "sms" and "verification code" in sms[-1].text


async def test_unknown_email_is_answered_exactly_like_a_known_one(
    client: Client, runtime: Runtime
) -> None:
    async def dialog(email: str) -> list[dict[str, Any]]:
        chat = await WebChat.open(client)
        await chat.send("I want a copy of my personal data")
        await chat.send(button="confirm")
        return await chat.send(email)

    known = await dialog("ben@example.com")
    unknown = await dialog("bob@example.com")
    assert known == unknown, "the answer must not reveal whether an account exists"
    assert [m.to for m in await outbox(runtime.db)] == ["ben@example.com"]


async def test_wrong_code_then_too_many_tries(client: Client, runtime: Runtime) -> None:
    chat = await WebChat.open(client)
    await chat.send("I want a copy of my personal data")
    await chat.send(button="confirm")
    await chat.send("ben@example.com")
    code = await latest_code(runtime.db, "ben@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "4 tries left" in await chat.say(wrong)
    for left in (3, 2, 1):
        assert f"{left} tries left" in await chat.say(wrong)
    assert "Too many wrong tries" in await chat.say(wrong)
    assert "Too many wrong tries" not in await chat.say(code), "the step went back to identify"
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.id)
    assert conversation is not None and conversation.verified_until is None


async def test_expired_code_is_refused_and_a_new_one_works(
    client: Client, runtime: Runtime, clock: FakeClock
) -> None:
    chat = await WebChat.open(client)
    await chat.send("I want a copy of my personal data")
    await chat.send(button="confirm")
    await chat.send("ben@example.com")
    code = await latest_code(runtime.db, "ben@example.com")
    clock.advance(minutes=10, seconds=1)
    assert "expired" in await chat.say(code)
    await chat.send("ben@example.com")
    fresh = await latest_code(runtime.db, "ben@example.com")
    assert "verified" in await chat.say(fresh)


async def test_rate_limit_per_conversation(client: Client, runtime: Runtime) -> None:
    chat = await WebChat.open(client)
    await chat.send("I want a copy of my personal data")
    await chat.send(button="confirm")
    for _ in range(3):
        await chat.send("ben@example.com")
        await chat.send(button="resend")
    limited = await chat.say("ben@example.com")
    assert "several codes in a short time" in limited
    assert len(await outbox(runtime.db)) == 3


async def test_a_restart_mid_dialog_continues_it(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)

    async def serve() -> tuple[Runtime, TestClient[Any, Any]]:
        runtime = Runtime.build(settings)
        app = create_app(runtime)
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        return runtime, client

    first_runtime, first = await serve()
    async with first_runtime.db.transaction() as session:
        await demo_seed.seed(session)
    chat = await WebChat.open(first)
    await chat.send("Jeg vil gerne have en kopi af mine data")
    await chat.send(button="confirm")
    await chat.send("anna@example.dk")
    code = await latest_code(first_runtime.db, "anna@example.dk")
    await first.close()  # the web process stops; its runtime is closed by the app cleanup

    _, second = await serve()
    try:
        resumed = WebChat(second, chat.id, chat.token)
        answer = await resumed.say(code)
        assert "bekræftet" in answer, "the second process continues the same dialog"
        transcript = await resumed.transcript()
        assert [m["from"] for m in transcript].count("customer") == 4
    finally:
        await second.close()
