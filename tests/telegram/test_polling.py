"""Long polling: the same handling as the webhook, updates confirmed once handled."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import TelegramUnauthorizedError
from pydantic import SecretStr

from bot.channels.telegram.context import Telegram, make_bot
from bot.channels.telegram.polling import run_polling
from bot.channels.telegram.updates import Inbound
from bot.runtime import Runtime
from tests.telegram.helpers import (
    ANNA_CHAT,
    BEN_CHAT,
    SQLITE_ONLY,
    TelegramEnv,
    claimed,
    message_update,
)
from tests.telegram.helpers import customer_lines as lines
from tests.telegram.standin import TelegramStandIn


async def test_polling_handles_each_update_once_and_stops_cleanly(
    tg: TelegramEnv, runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    # One update already came by the webhook; polling hands it out again.
    first = message_update(ANNA_CHAT, text="/start", language_code="da")
    await tg.deliver(first, ANNA_CHAT)
    queued = [
        first,
        message_update(ANNA_CHAT, text="Jeg vil gerne se mine data"),
        message_update(BEN_CHAT, text="/start", language_code="en"),
    ]
    await telegram_api.queue(*queued)
    last = queued[-1]["update_id"]

    inbound = Inbound.build(Telegram.build(runtime))
    stop = asyncio.Event()
    seen: list[int] = []
    polling = asyncio.create_task(run_polling(inbound, stop, progress=seen.append))
    try:
        # Telegram is asked for what comes after the last update: all are confirmed.
        await telegram_api.wait_until(
            lambda: any(
                int(a.get("offset") or 0) == last + 1 for a in telegram_api.to("getUpdates")
            )
        )
    finally:
        stop.set()
        handled = await asyncio.wait_for(polling, 10)
        await runtime.tasks.drain()
        await inbound.tg.bot.session.close()

    assert handled == 3 and seen == [3]
    assert telegram_api.calls[1].method == "deleteWebhook"  # after the webhook's answer
    assert await lines(runtime, ANNA_CHAT) == 2 and await lines(runtime, BEN_CHAT) == 1
    assert await claimed(runtime) == 3
    assert any("Hello" in t for t in telegram_api.texts(BEN_CHAT))
    assert sum("Hej" in t for t in telegram_api.texts(ANNA_CHAT)) == 1


@SQLITE_ONLY
async def test_polling_waits_and_retries_when_telegram_fails(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    telegram_api.failing.add("getUpdates")
    inbound = Inbound.build(Telegram.build(runtime))
    stop = asyncio.Event()
    polling = asyncio.create_task(run_polling(inbound, stop, pause=0.01))
    try:
        await telegram_api.wait_for("getUpdates", count=3)
    finally:
        stop.set()
        handled = await asyncio.wait_for(polling, 10)
        await inbound.tg.bot.session.close()
    assert handled == 0


@SQLITE_ONLY
async def test_polling_with_a_refused_token_stops_with_the_error(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    wrong = runtime.settings.model_copy(update={"telegram_bot_token": SecretStr("1:refused")})
    inbound = Inbound.build(Telegram.build(runtime, make_bot(wrong)))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await asyncio.wait_for(run_polling(inbound, asyncio.Event(), pause=0.01), 10)
    finally:
        await inbound.tg.bot.session.close()
    assert [c.method for c in telegram_api.calls] == ["deleteWebhook"]
