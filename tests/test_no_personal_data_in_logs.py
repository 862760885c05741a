"""Personal data never reaches a log line, even at DEBUG: not from the web chat, not from
Slack (whose SDK traces request bodies), not from the agent console or the CLI, and not
from a database error in the middle of a turn (issue 13.3 and 13.4)."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner
from sqlalchemy import select, text

from bot.cli import cli
from bot.logs import LIBRARY_LOGGERS, JsonFormatter, configure, handle_lost_connections, redact
from bot.runtime import Runtime
from storage.db import Database
from storage.privacy_models import PrivacyRequest
from tests.conftest import TEST_SECRET
from tests.console.conftest import ConsoleUser, add_agent, cheap_hashing  # noqa: F401
from tests.slack.conftest import settings, slack, slack_api, slack_overrides  # noqa: F401
from tests.slack.helpers import AGENT1, SlackEnv
from tests.test_conversation_auth import latest_code
from tests.webchat import WebChat
from tests.workflow.conftest import make_deps
from workflow import worker

SECRETS_OF_THE_DEMO = (
    "anna@example.dk",
    "ben@example.com",
    "+4520000001",
    "20000001",
    "+447700900001",
    "Anna's Bageri",
    "Anna\\u0027s Bageri",
    "Ben's Bikes",
)


def test_redact_hides_emails_phone_numbers_and_codes() -> None:
    line = redact("to anna@example.dk / +45 20 00 00 01 / 7700900001 code 123456 id 42")
    assert line == "to [email] / [phone] / [phone] code [code] id 42"


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            "link http://127.0.0.1:8080/downloads/eyJyIjoiUFItN0szRjlRIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
            "link http://127.0.0.1:8080/[redacted]",
        ),
        ("GET /downloads/eyJyIjoiUFIifQ.c2ln HTTP/1.1", "GET /downloads/[token] HTTP/1.1"),
        (
            "<https://files.example/x?sig=abc&id=1|the file>",
            "<https://files.example/[redacted]|the file>",
        ),
        (
            "POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
            "POST https://api.telegram.org/[redacted]",
        ),
        ("token xoxb-1234-5678-abcdefgh", "token [slack-token]"),
        ("https://slack.com/api/chat.postMessage", "https://slack.com/api/chat.postMessage"),
    ],
)
def test_redact_hides_urls_that_carry_tokens(line: str, redacted: str) -> None:
    assert redact(line) == redacted


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
    named = LIBRARY_LOGGERS
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


def _leaks(buffer: io.StringIO, *extra: str) -> list[str]:
    lines = buffer.getvalue().splitlines()
    return [line for line in lines for secret in (*SECRETS_OF_THE_DEMO, *extra) if secret in line]


async def test_slack_and_the_agent_paths_at_debug_log_no_link_company_or_contact(
    slack: SlackEnv,  # noqa: F811 - the fixture imported above
    client: TestClient[Any, Any],
    tmp_path: Path,
    production_logging_at_debug: io.StringIO,
) -> None:
    """A Slack customer's access request: the approval card (company name) and the DM with
    the download link go through slack_sdk; an agent approves in Slack, another request in
    the console and a third with the CLI."""
    said = "Jeg vil gerne have en kopi af mine data"
    runtime = slack.runtime

    async def slack_request(text: str = said) -> PrivacyRequest:
        await slack.dm(text)
        await slack.press("confirm")
        await slack.dm("anna@example.dk")
        await slack.dm(await latest_code(runtime.db, "anna@example.dk"))
        async with runtime.db.sessions() as session:
            found = await session.scalar(
                select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(1)
            )
        assert found is not None and found.status == "awaiting_approval"
        return found

    first = await slack_request()
    assert (await slack.sync()).posted == 1, "the approval card (with the company) was posted"
    await slack.click("approval_approve", first.reference, user=AGENT1)
    await slack.settle()
    deps = make_deps(runtime.db, runtime.services.clock, tmp_path)
    await worker.run_worker(deps, stop=asyncio.Event(), concurrency=1, once=True)
    await slack.settle()
    posted = json.dumps(slack.dm_posts())
    tokens = re.findall(r"/downloads/([A-Za-z0-9_.-]+)", posted)
    assert tokens, f"the link went out through slack_sdk: {posted[-600:]}"

    # one open request of a kind at a time: the next two are other rights
    second = await slack_request(
        "Jeg vil gerne have mine data eksporteret i et maskinlæsbart format"
    )
    await add_agent(runtime.db, "mette")
    browser = ConsoleUser(client)
    try:
        await browser.login("mette")
        status, _page, _response = await browser.post(
            f"/agent/requests/{second.reference}/approve", {}
        )
    finally:
        await browser.close()
    assert status == 303

    third = await slack_request("Jeg vil have begrænset behandlingen af mine data")
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["requests", "approve", third.reference, "--agent", "ida"],
        env={"DATABASE_URL": runtime.settings.database_url, "SECRET_KEY": TEST_SECRET},
    )
    assert result.exit_code == 0, result.output

    lines = production_logging_at_debug.getvalue().splitlines()
    assert any('"logger": "bot.web.agent.views"' in line for line in lines)
    assert _leaks(production_logging_at_debug, said, *tokens) == []


async def _refuse_marked_text(db: Database, marker: str) -> None:
    """A trigger that fails a turn's insert of the customer's line (a forced database
    error whose statement parameters, and on PostgreSQL its message, hold the text)."""
    async with db.engine.begin() as conn:
        if db.is_postgres:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse_marked() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.text LIKE '%{marker}%' THEN "
                    "RAISE EXCEPTION 'refused row: %', NEW.text; END IF; RETURN NEW; END "
                    "$$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_marked BEFORE INSERT ON transcript_messages "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_marked BEFORE INSERT ON transcript_messages "
                    f"WHEN NEW.text LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


async def test_a_database_error_in_a_turn_logs_neither_the_text_nor_the_parameters(
    client: TestClient[Any, Any],
    runtime: Runtime,
    production_logging_at_debug: io.StringIO,
) -> None:
    marker = "Kirsten-Vestergaard-Sentinel"
    await _refuse_marked_text(runtime.db, marker)
    chat = await WebChat.open(client)
    response = await client.post(
        f"/webchat/api/conversations/{chat.id}/messages",
        json={"text": f"Mit navn er {marker}, ring på 20 00 00 01"},
        headers={"Authorization": f"Bearer {chat.token}"},
    )
    assert response.status == 500
    lines = production_logging_at_debug.getvalue().splitlines()
    errors = [line for line in lines if '"level": "ERROR"' in line]
    assert errors and any("Traceback" in line for line in errors), "the error was logged"
    assert [line for line in lines if marker in line or "Kirsten" in line] == []
    assert not any("[parameters:" in line for line in lines), "no statement parameters"


async def test_a_lost_connections_unawaited_future_is_one_warning_not_an_error(
    production_logging_at_debug: io.StringIO,
) -> None:
    """Issue 13.19: a driver's future that fails after its connection was lost, with
    nobody left to await it, is retrieved by the loop handler: no ERROR, no traceback."""
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    handle_lost_connections()
    try:
        lost: asyncio.Future[None] = loop.create_future()
        lost.set_exception(ConnectionResetError("connection reset by 10.0.0.5"))
        del lost
        gc.collect()
        other: asyncio.Future[None] = loop.create_future()
        other.set_exception(ValueError("a real bug"))
        del other
        gc.collect()
    finally:
        loop.set_exception_handler(before)
    lines = production_logging_at_debug.getvalue().splitlines()
    lost_lines = [line for line in lines if "connection was lost" in line]
    assert len(lost_lines) == 1 and '"level": "WARNING"' in lost_lines[0]
    assert "ConnectionResetError" in lost_lines[0] and "10.0.0.5" not in lost_lines[0]
    bug = [line for line in lines if "never retrieved" in line]
    assert len(bug) == 1 and '"level": "ERROR"' in bug[0], "other failures still count"
