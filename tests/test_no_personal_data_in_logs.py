"""Personal data never reaches a log line, even at DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.logs import QUIET_LOGGERS, JsonFormatter, configure, redact
from bot.runtime import Runtime
from tests.test_conversation_auth import latest_code
from tests.webchat import WebChat

SECRETS_OF_THE_DEMO = (
    "anna@example.dk",
    "ben@example.com",
    "+4520000001",
    "20000001",
    "+447700900001",
)


def test_redact_hides_emails_phone_numbers_and_codes() -> None:
    line = redact("to anna@example.dk / +45 20 00 00 01 / 7700900001 code 123456 id 42")
    assert line == "to [email] / [phone] / [phone] code [code] id 42"


def test_the_json_formatter_redacts_messages_and_exceptions() -> None:
    try:
        raise ValueError("bad address ben@example.com")
    except ValueError as exc:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "sent %s", ("+447700900001",), None
        )
        record.exc_info = (type(exc), exc, exc.__traceback__)
        text = JsonFormatter().format(record)
    assert "ben@example.com" not in text and "7700900001" not in text
    assert "[email]" in text and "[phone]" in text


@pytest.fixture
def production_logging_at_debug() -> Iterator[io.StringIO]:
    """The bot's own logging set-up at its most verbose, writing to a buffer; undone after."""
    root = logging.getLogger()
    named = ("aiohttp.access", *QUIET_LOGGERS)
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in named})
    configure("DEBUG")
    written = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    yield written
    root.handlers[:], _, levels = saved
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_a_whole_verified_dialog_at_debug_logs_no_contact_detail_or_code(
    client: TestClient[Any, Any],
    runtime: Runtime,
    production_logging_at_debug: io.StringIO,
) -> None:
    said = "Jeg vil gerne have en kopi af mine data"
    chat = await WebChat.open(client)
    await chat.send(said)
    await chat.send(button="confirm")
    await chat.send("anna@example.dk")
    code = await latest_code(runtime.db, "anna@example.dk")
    await chat.send(code)
    await chat.send("bad input \x00\x1f" * 3)
    lines = production_logging_at_debug.getvalue().splitlines()
    assert any('"logger": "bot.understanding"' in line for line in lines), (
        "DEBUG logging produced the bot's own records to scan"
    )
    leaked = [
        line for line in lines for secret in (*SECRETS_OF_THE_DEMO, code, said) if secret in line
    ]
    assert leaked == []
