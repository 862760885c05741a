"""Demo mode: nothing is sent; the outbox rows are read with `privacybot outbox` and at
/dev/outbox (which exists only in demo mode)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.config import Settings
from bot.notifier import Dispatcher
from bot.runtime import Runtime
from bot.web.app import create_app
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.notifier.conftest import add_message, outbound_settings, rows
from tests.notifier.standins import SmsApiStandIn, SmtpStandIn
from tests.webchat import WebChat
from workflow.identity import parse_code

Client = TestClient[Any, Any]


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sms_api: SmsApiStandIn, smtp: SmtpStandIn
) -> Settings:
    """Demo mode, yet pointed at the stand-ins: anything sent would be seen there."""
    return make_settings(database_url, tmp_path, **outbound_settings(sms_api, smtp, demo=True))


async def privacybot(database_url: str, *args: str) -> Result:
    """Run the CLI in a thread (it runs its own event loop) against the test database."""
    env = {"DATABASE_URL": database_url, "DEMO": "true"}
    return await asyncio.to_thread(
        CliRunner().invoke, cli, list(args), env=env, catch_exceptions=False
    )


async def test_a_code_waits_in_the_outbox_and_is_read_with_the_cli_and_the_page(
    client: Client,
    runtime: Runtime,
    database_url: str,
    sms_api: SmsApiStandIn,
    smtp: SmtpStandIn,
) -> None:
    chat = await WebChat.open(client)
    await chat.send("Jeg vil gerne se mine data")
    await chat.send(button="confirm")
    await chat.send("anna@example.dk")
    await runtime.tasks.drain()
    assert (
        await Dispatcher.from_settings(runtime.settings).dispatch(
            runtime.db, runtime.services.clock()
        )
        == 0
    )
    assert sms_api.requests == [] and smtp.messages == [], "demo mode sends nothing"

    result = await privacybot(database_url, "outbox", "--json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)
    assert set(entry) == {"channel", "to", "text", "created_at"}
    assert (entry["channel"], entry["to"]) == ("email", "anna@example.dk")
    assert datetime.fromisoformat(entry["created_at"]).tzinfo is not None
    code = parse_code(entry["text"])
    assert code is not None

    page = await client.get("/dev/outbox")
    assert page.status == 200 and page.content_type == "text/html"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert code in html and "anna@example.dk" in html
    as_json = await client.get("/dev/outbox", params={"format": "json"})
    assert await as_json.json() == json.loads(result.output)

    assert "bekræftet" in await chat.say(code)
    [row] = await rows(runtime.db)
    assert row.status == "pending" and code in row.text, "the row is the delivery"


async def test_cli_and_page_order_and_limit(
    client: Client, runtime: Runtime, database_url: str, clock: FakeClock
) -> None:
    start = clock()
    for n in range(3):
        await add_message(runtime.db, start + timedelta(minutes=n), text=f"message {n}")
    result = await privacybot(database_url, "outbox", "--json")
    assert [e["text"] for e in json.loads(result.output)] == ["message 0", "message 1", "message 2"]
    result = await privacybot(database_url, "outbox", "--json", "--limit", "2")
    assert [e["text"] for e in json.loads(result.output)] == ["message 1", "message 2"]
    html = await (await client.get("/dev/outbox")).text()
    assert html.index("message 2") < html.index("message 1") < html.index("message 0")
    limited = await (await client.get("/dev/outbox", params={"limit": "1"})).text()
    assert "message 2" in limited and "message 1" not in limited
    assert (await client.get("/dev/outbox", params={"limit": "lots"})).status == 400


async def test_the_cli_table_and_usage_errors(runtime: Runtime, database_url: str) -> None:
    result = await privacybot(database_url, "outbox")
    assert (result.exit_code, result.output.strip()) == (0, "the outbox is empty")
    await add_message(runtime.db, runtime.services.clock(), to="+4520000001", text="hello\nthere")
    result = await privacybot(database_url, "outbox")
    lines = result.output.splitlines()
    assert lines[0].startswith("demo mode")
    header, row = lines[-2:]
    assert header.split() == ["created", "(UTC)", "channel", "to", "status", "text"]
    assert "sms" in row and "+4520000001" in row and "pending" in row and "hello there" in row
    assert (await privacybot(database_url, "outbox", "--limit", "0")).exit_code == 2
    help_text = (await privacybot(database_url, "outbox", "--help")).output
    assert "--json" in help_text and "--limit" in help_text


async def test_the_cli_refuses_an_out_of_date_schema(empty_database_url: str) -> None:
    result = await privacybot(empty_database_url, "outbox", "--json")
    assert result.exit_code == 1
    assert "out of date" in result.output


async def test_the_page_escapes_everything(client: Client, runtime: Runtime) -> None:
    await add_message(
        runtime.db,
        runtime.services.clock(),
        channel="email",
        to='"><img src=x onerror=alert(1)>@example.com',
        text="<script>alert('code')</script> & more",
    )
    html = await (await client.get("/dev/outbox")).text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;code&#39;)&lt;/script&gt; &amp; more" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<link" not in html and "src=" not in html.replace("src=x", ""), "no external assets"


async def test_the_page_speaks_danish_when_asked(client: Client, runtime: Runtime) -> None:
    danish = await (await client.get("/dev/outbox", headers={"Accept-Language": "da-DK"})).text()
    english = await (await client.get("/dev/outbox", headers={"Accept-Language": "en"})).text()
    assert '<html lang="da">' in danish and '<html lang="en">' in english
    assert danish != english


async def test_no_dev_outbox_outside_demo_mode(
    database_url: str, tmp_path: Path, sms_api: SmsApiStandIn, smtp: SmtpStandIn
) -> None:
    production = make_settings(database_url, tmp_path, **outbound_settings(sms_api, smtp))
    runtime = Runtime.build(production)
    app = create_app(runtime)
    app.on_cleanup.clear()  # closed below
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for params in ({}, {"format": "json"}):
                response = await client.get("/dev/outbox", params=params)
                assert response.status == 404
    finally:
        await runtime.close()
