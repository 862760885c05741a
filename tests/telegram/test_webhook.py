"""POST /telegram/webhook: the secret, bad bodies, exactly once, and a database outage."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.channels.kit import dedup
from bot.config import Settings
from bot.runtime import Runtime
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.telegram.conftest import serve, telegram_settings
from tests.telegram.helpers import (
    ANNA_CHAT,
    PATH,
    SECRET,
    SECRET_HEADER,
    SQLITE_ONLY,
    TelegramEnv,
    callback_update,
    claimed,
    customer_lines,
    message_update,
)
from tests.telegram.standin import TelegramStandIn


@SQLITE_ONLY
async def test_a_missing_or_wrong_secret_is_refused_with_401(tg: TelegramEnv) -> None:
    for secret in (None, "", "wrong-secret", SECRET + "x", SECRET[:-1], SECRET.upper()):
        response = await tg.post(message_update(ANNA_CHAT, text="/start"), secret=secret)
        assert response.status == 401, secret
        assert (await response.json())["error"]
    await tg.settle()
    assert tg.api.calls == []
    assert await claimed(tg.runtime) == 0
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 0


MALFORMED = (
    b"",
    b"not json",
    b"\xff\xfe",
    b"[1, 2]",
    b'{"message": {"text": "no update_id"}}',
    b'{"update_id": "7"}',
    b'{"update_id": 7.0}',
    b'{"update_id": true}',
)
# An integer update_id makes it an update: answered 200 even when nothing in it can be
# read, or Telegram would deliver it again for a day.
UNREADABLE = (
    b'{"update_id": 7, "message": "not a message"}',
    b'{"update_id": 8, "message": {"message_id": 1}}',
    b'{"update_id": 9, "message": {"message_id": 1, "date": 1, "chat": {"id": "x"}}}',
    b'{"update_id": 10, "callback_query": {"id": "q"}}',
)


@SQLITE_ONLY
async def test_a_body_without_an_integer_update_id_is_refused_with_400(tg: TelegramEnv) -> None:
    for body in MALFORMED:
        response = await tg.client.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
        assert response.status == 400, body
        assert (await response.json())["error"]
    assert await claimed(tg.runtime) == 0
    assert tg.api.calls == []


@SQLITE_ONLY
async def test_an_unreadable_update_is_acknowledged_and_skipped(tg: TelegramEnv) -> None:
    for body in UNREADABLE:
        response = await tg.client.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
        assert response.status == 200, body
    await tg.settle()
    assert await claimed(tg.runtime) == 0, "nothing was handled"
    assert tg.api.calls == []


async def test_a_repeated_update_is_handled_once(tg: TelegramEnv) -> None:
    update = message_update(ANNA_CHAT, text="Hej, hvad kan du hjælpe med?", language_code="da")
    for _ in range(3):  # Telegram retrying, e.g. after a slow answer
        response = await tg.post(update)
        assert response.status == 200
    await tg.settle()
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 1
    assert len(tg.api.to("sendMessage", chat_id=str(ANNA_CHAT))) == 1
    assert await dedup.seen(tg.runtime.db, "telegram", str(update["update_id"]))


async def test_the_webhook_answers_before_the_slow_bot_api_calls(tg: TelegramEnv) -> None:
    tg.api.hold = asyncio.Event()  # Telegram's API stalls
    response = await asyncio.wait_for(
        tg.post(message_update(ANNA_CHAT, text="/start", language_code="da")), 10
    )
    assert response.status == 200
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 1  # the turn is stored
    await tg.api.wait_for("sendMessage")  # the answer is on its way, not yet answered
    assert len(tg.runtime.tasks) == 1
    tg.api.hold.set()
    await tg.settle()
    assert "Hej" in tg.api.texts(ANNA_CHAT)[0]


async def test_a_repeated_button_press_is_handled_once_and_always_answered(
    tg: TelegramEnv,
) -> None:
    await tg.say(ANNA_CHAT, "/start", language_code="da")
    update = callback_update(ANNA_CHAT, "access")
    before = len(tg.api.to("sendMessage"))
    for _ in range(2):
        assert (await tg.post(update)).status == 200
    await tg.settle()
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 2  # /start and the press
    answered = tg.api.to("answerCallbackQuery")
    assert [a["callback_query_id"] for a in answered] == [update["callback_query"]["id"]]
    assert len(tg.api.to("sendMessage")) > before


async def test_an_update_is_handled_once_across_two_app_instances_on_one_database(
    runtime: Runtime, settings: Settings, clock: FakeClock, telegram_api: TelegramStandIn
) -> None:
    other = Runtime.build(settings, clock=clock)
    servers = [TestServer(await serve(rt), host="127.0.0.1") for rt in (runtime, other)]
    clients = [TestClient(server) for server in servers]
    try:
        for client in clients:
            await client.start_server()
        updates = [
            message_update(ANNA_CHAT, text=text, language_code="da")
            for text in ("/start", "Jeg vil gerne se mine data", "Hvad koster det?")
        ]
        for update in updates:  # each update reaches both processes at the same moment
            responses = await asyncio.gather(
                *(c.post(PATH, json=update, headers={SECRET_HEADER: SECRET}) for c in clients)
            )
            assert sorted(r.status for r in responses) == [200, 200]
        await runtime.tasks.drain()
        await other.tasks.drain()
        assert await customer_lines(runtime, ANNA_CHAT) == 3
        assert await claimed(runtime) == 3
        answered = {c.args["text"] for c in telegram_api.calls if c.method == "sendMessage"}
        sent = [c for c in telegram_api.calls if c.method == "sendMessage"]
        assert len(sent) == len(answered), "no answer was sent twice"
        # A restart: a new process sees the same update as handled.
        restarted = Runtime.build(settings, clock=clock)
        try:
            async with TestClient(TestServer(await serve(restarted), host="127.0.0.1")) as c:
                again = await c.post(PATH, json=updates[0], headers={SECRET_HEADER: SECRET})
                assert again.status == 200
            assert await customer_lines(runtime, ANNA_CHAT) == 3
        finally:
            await restarted.close()
    finally:
        for client in clients:
            await client.close()
        await other.close()


def _unreachable(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/no-such-dir/down.db"
    return "postgresql://postgres@127.0.0.1:1/down"


async def test_database_down_answers_503_and_the_retry_is_handled_once(
    tg: TelegramEnv, backend: str, tmp_path: Path, clock: FakeClock
) -> None:
    down_settings = make_settings(
        _unreachable(backend, tmp_path), tmp_path, **telegram_settings(tg.api)
    )
    down = Runtime.build(down_settings, clock=clock)
    update = message_update(ANNA_CHAT, text="Hej", language_code="da")
    try:
        async with TestClient(TestServer(await serve(down), host="127.0.0.1")) as client:
            response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
            assert response.status == 503
            assert "temporarily unavailable" in (await response.json())["error"]
            refused = await client.post(PATH, json=contact(update), headers={SECRET_HEADER: SECRET})
            assert refused.status == 503  # even an update that only gets a note
        await down.tasks.drain()
    finally:
        await down.close()
    assert tg.api.calls == []
    # Telegram delivers it again once the database is back: handled, once.
    assert (await tg.post(update)).status == 200
    assert (await tg.post(update)).status == 200
    await tg.settle()
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 1
    assert len(tg.api.to("sendMessage")) == 1


def contact(update: dict[str, Any]) -> dict[str, Any]:
    """The same chat sharing a stranger's contact (answered with a note, not a turn)."""
    message = {k: v for k, v in update["message"].items() if k != "text"}
    message["contact"] = {"phone_number": "4520000001", "first_name": "X", "user_id": 1}
    return {"update_id": update["update_id"] + 1, "message": message}


async def test_updates_the_bot_does_not_read_are_acknowledged_and_dropped(
    tg: TelegramEnv,
) -> None:
    sticker = message_update(
        ANNA_CHAT,
        language_code="da",
        sticker={
            "file_id": "S",
            "file_unique_id": "S",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        },
    )
    edited = {"update_id": 5, "edited_message": message_update(ANNA_CHAT, text="x")["message"]}
    group = message_update(ANNA_CHAT, text="Hej")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "A group"}
    texts = await tg.deliver(sticker, ANNA_CHAT)
    assert texts == ["Jeg kan kun læse tekstbeskeder her. Skriv venligst, hvad du har brug for."]
    for update in (edited, group):
        assert (await tg.post(update)).status == 200
    await tg.settle()
    assert len(tg.api.calls) == 1
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 0


@SQLITE_ONLY
async def test_the_webhook_is_registered_at_start_when_its_url_is_set(
    settings: Settings, clock: FakeClock, telegram_api: TelegramStandIn
) -> None:
    url = "https://bot.example.dk/telegram/webhook"
    configured = settings.model_copy(update={"telegram_webhook_url": url})
    runtime = Runtime.build(configured, clock=clock)
    try:
        async with TestClient(TestServer(await serve(runtime), host="127.0.0.1")):
            assert telegram_api.webhook == {
                "url": url,
                "secret_token": SECRET,
                "allowed_updates": ["message", "callback_query"],
            }
    finally:
        await runtime.close()
