"""A Telegram dialog at DEBUG leaves no contact detail, code, text or token in the logs."""

from __future__ import annotations

import logging

import pytest

from bot.logs import JsonFormatter
from bot.runtime import Runtime
from tests.telegram.helpers import ANNA_CHAT, SECRET, SQLITE_ONLY, TelegramEnv
from tests.telegram.standin import TOKEN
from tests.test_conversation_auth import latest_code

# The loggers of our code, of aiogram and of the web server; the database drivers' DEBUG
# echo of SQL parameters is a developer's switch, off in `bot.logs.configure`.
OURS = {"bot", "handlers", "workflow", "storage", "locales", "aiogram", "aiohttp"}


def stand_in(record: logging.LogRecord) -> bool:
    """The stand-in Bot API server's own access log (Telegram's side, not ours)."""
    return record.name == "aiohttp.access" and " /bot" in record.getMessage()


@SQLITE_ONLY
async def test_a_verified_telegram_dialog_logs_no_personal_data_or_secret(
    tg: TelegramEnv, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    words = "Jeg vil gerne have en kopi af mine data"
    await tg.say(ANNA_CHAT, "/start", language_code="da")
    await tg.say(ANNA_CHAT, words)
    await tg.press(ANNA_CHAT, "confirm")
    await tg.share(ANNA_CHAT, "4520000001", owner=ANNA_CHAT + 1)  # refused
    await tg.say(ANNA_CHAT, "anna@example.dk")
    code = await latest_code(runtime.db, "anna@example.dk")
    await tg.say(ANNA_CHAT, code)
    tg.api.failing.add("sendMessage")  # a failing send is logged too
    await tg.say(ANNA_CHAT, "+45 20 00 00 01")
    secrets = ("anna@example.dk", "4520000001", "20 00 00 01", code, words, TOKEN, SECRET)
    ours = [r for r in caplog.records if r.name.split(".")[0] in OURS and not stand_in(r)]
    raw = [record.getMessage() for record in ours]
    formatted = [JsonFormatter().format(record) for record in ours]
    assert any("telegram" in line for line in raw), "the channel logged at all"
    assert [line for line in raw + formatted for s in secrets if s in line] == []
