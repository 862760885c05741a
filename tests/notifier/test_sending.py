"""Production sending: web chat codes reach the SMS API and SMTP stand-ins; retries,
permanent failures, racing dispatchers and clean logs."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.config import Settings
from bot.notifier import Dispatcher, Policy
from bot.runtime import Runtime
from storage.db import Database
from tests.clock import FakeClock
from tests.notifier.conftest import FROM, SENDER, add_message, rows
from tests.notifier.standins import SMS_TOKEN, SmsApiStandIn, SmtpStandIn
from tests.webchat import WebChat
from workflow.identity import parse_code

Client = TestClient[Any, Any]


async def ask_for_code(client: Client, contact: str, first: str) -> WebChat:
    chat = await WebChat.open(client)
    await chat.send(first)
    await chat.send(button="confirm")
    await chat.send(contact)
    return chat


async def test_a_code_asked_for_in_the_web_chat_goes_out_by_sms(
    client: Client, runtime: Runtime, sms_api: SmsApiStandIn
) -> None:
    chat = await ask_for_code(client, "my number is +44 7700 900001", "Please delete my data")
    await runtime.tasks.drain()  # the turn kicked a send in the background
    assert len(sms_api.requests) == 1
    request = sms_api.requests[0]
    assert request.authorization == f"Token {SMS_TOKEN}"
    assert request.body["sender"] == SENDER
    assert request.body["recipients"] == [{"msisdn": 447700900001}]
    code = parse_code(request.body["message"])
    assert code is not None and "verification code" in request.body["message"]
    assert "verified" in await chat.say(code)
    [row] = await rows(runtime.db)
    assert (row.status, row.attempts, row.text) == ("sent", 1, "")  # the code does not linger
    assert row.sent_at is not None


async def test_a_code_asked_for_in_danish_goes_out_by_email(
    client: Client, runtime: Runtime, smtp: SmtpStandIn, sms_api: SmsApiStandIn
) -> None:
    chat = await ask_for_code(client, "anna@example.dk", "Jeg vil gerne se mine data")
    await runtime.tasks.drain()
    [(mail_from, recipients, message)] = smtp.messages
    assert (mail_from, recipients) == (FROM, ["anna@example.dk"])
    assert message["From"] == FROM and message["To"] == "anna@example.dk"
    assert message["Subject"] and message["Message-ID"]
    body = message.get_content()
    assert "kode" in body  # Danish, like the conversation
    code = parse_code(body)
    assert code is not None
    assert "bekræftet" in await chat.say(code)
    assert sms_api.requests == []
    [row] = await rows(runtime.db)
    assert (row.channel, row.status, row.text) == ("email", "sent", "")


@pytest.fixture
def dispatcher(settings: Settings) -> Dispatcher:
    return Dispatcher.from_settings(settings)


async def test_transient_failures_back_off_exponentially_then_succeed(
    seeded: Database, dispatcher: Dispatcher, sms_api: SmsApiStandIn, clock: FakeClock
) -> None:
    start = clock()
    await add_message(seeded, start)
    sms_api.fail_next = [500, 503]
    assert await dispatcher.dispatch(seeded, start) == 0
    [row] = await rows(seeded)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "SMS API answered HTTP 500")
    assert row.next_attempt_at == start + timedelta(seconds=10)
    assert "123456" in row.text, "kept until it is sent"

    assert await dispatcher.dispatch(seeded, start + timedelta(seconds=9)) == 0
    assert len(sms_api.requests) == 1, "not due yet: no second attempt"

    assert await dispatcher.dispatch(seeded, start + timedelta(seconds=10)) == 0
    [row] = await rows(seeded)
    assert row.attempts == 2
    assert row.next_attempt_at == start + timedelta(seconds=30), "10 s, then 20 s"

    assert await dispatcher.dispatch(seeded, start + timedelta(seconds=30)) == 1
    [row] = await rows(seeded)
    assert (row.status, row.attempts, row.text) == ("sent", 3, "")
    assert len(sms_api.requests) == 3
    assert await dispatcher.dispatch(seeded, start + timedelta(hours=1)) == 0
    assert len(sms_api.requests) == 3, "a sent message is never sent again"


async def test_after_max_attempts_the_message_fails(
    seeded: Database, settings: Settings, sms_api: SmsApiStandIn, clock: FakeClock
) -> None:
    dispatcher = Dispatcher.from_settings(settings, Policy(max_attempts=3))
    now = clock()
    await add_message(seeded, now)
    sms_api.fail_next = [502] * 10
    for _ in range(5):
        await dispatcher.dispatch(seeded, now)
        now += timedelta(minutes=10)
    [row] = await rows(seeded)
    assert (row.status, row.attempts) == ("failed", 3)
    assert len(sms_api.requests) == 3


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_a_4xx_answer_fails_the_message_at_once(
    seeded: Database, dispatcher: Dispatcher, sms_api: SmsApiStandIn, clock: FakeClock, status: int
) -> None:
    await add_message(seeded, clock())
    sms_api.fail_next = [status]
    assert await dispatcher.dispatch(seeded, clock()) == 0
    await dispatcher.dispatch(seeded, clock() + timedelta(minutes=30))
    [row] = await rows(seeded)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == f"SMS API answered HTTP {status}"
    assert len(sms_api.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
async def test_timeouts_throttling_and_5xx_are_retried(
    seeded: Database, dispatcher: Dispatcher, sms_api: SmsApiStandIn, clock: FakeClock, status: int
) -> None:
    await add_message(seeded, clock())
    sms_api.fail_next = [status]
    await dispatcher.dispatch(seeded, clock())
    assert await dispatcher.dispatch(seeded, clock() + timedelta(seconds=10)) == 1
    assert [r.status for r in await rows(seeded)] == ["sent"]


async def test_a_wrong_token_is_refused_and_fails(
    seeded: Database,
    database_url: str,
    sms_api: SmsApiStandIn,
    smtp: SmtpStandIn,
    clock: FakeClock,
    tmp_path: Any,
) -> None:
    from tests.conftest import make_settings
    from tests.notifier.conftest import outbound_settings

    wrong = make_settings(
        database_url, tmp_path, **outbound_settings(sms_api, smtp, sms_api_token="wrong")
    )
    await add_message(seeded, clock())
    await Dispatcher.from_settings(wrong).dispatch(seeded, clock())
    assert sms_api.rejected == [401] and sms_api.requests == []
    assert [(r.status, r.last_error) for r in await rows(seeded)] == [
        ("failed", "SMS API answered HTTP 401")
    ]


async def test_an_unreachable_sms_api_is_retried(
    seeded: Database, sms_api: SmsApiStandIn, smtp: SmtpStandIn, clock: FakeClock, tmp_path: Any
) -> None:
    from tests.conftest import make_settings
    from tests.notifier.conftest import outbound_settings
    from tests.notifier.standins import free_port

    url = f"http://127.0.0.1:{free_port()}/rest/"  # nothing listens there
    down = make_settings(seeded.url, tmp_path, **outbound_settings(sms_api, smtp, sms_api_url=url))
    await add_message(seeded, clock())
    await Dispatcher.from_settings(down).dispatch(seeded, clock())
    [row] = await rows(seeded)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None and row.last_error.startswith("SMS API unreachable")


@pytest.mark.parametrize(
    ("reply", "status"),
    [("451 4.3.0 Try again later", "sent"), ("550 5.1.1 No such user", "failed")],
)
async def test_smtp_4xx_is_retried_and_5xx_is_permanent(
    seeded: Database,
    dispatcher: Dispatcher,
    smtp: SmtpStandIn,
    clock: FakeClock,
    reply: str,
    status: str,
) -> None:
    await add_message(seeded, clock(), channel="email", to="ben@example.com")
    smtp.fail(reply)
    await dispatcher.dispatch(seeded, clock())
    [row] = await rows(seeded)
    assert row.last_error == f"SMTP answered {reply[:3]}"
    await dispatcher.dispatch(seeded, clock() + timedelta(seconds=10))
    assert [r.status for r in await rows(seeded)] == [status]
    assert len(smtp.messages) == (1 if status == "sent" else 0)


async def test_an_unreachable_smtp_server_is_retried(
    seeded: Database, sms_api: SmsApiStandIn, smtp: SmtpStandIn, clock: FakeClock, tmp_path: Any
) -> None:
    from tests.conftest import make_settings
    from tests.notifier.conftest import outbound_settings
    from tests.notifier.standins import free_port

    down = make_settings(
        seeded.url, tmp_path, **outbound_settings(sms_api, smtp, smtp_port=free_port())
    )
    await add_message(seeded, clock(), channel="email", to="ben@example.com")
    await Dispatcher.from_settings(down).dispatch(seeded, clock())
    [row] = await rows(seeded)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None and row.last_error.startswith("SMTP unreachable")


async def test_messages_older_than_an_hour_expire_unsent(
    seeded: Database, dispatcher: Dispatcher, sms_api: SmsApiStandIn, clock: FakeClock
) -> None:
    await add_message(seeded, clock() - timedelta(hours=2))
    fresh = await add_message(seeded, clock())
    assert await dispatcher.dispatch(seeded, clock()) == 1
    assert [(r.id == fresh, r.status) for r in await rows(seeded)] == [
        (False, "failed"),
        (True, "sent"),
    ]
    assert len(sms_api.requests) == 1


async def test_two_racing_dispatchers_send_each_message_exactly_once(
    seeded: Database,
    settings: Settings,
    sms_api: SmsApiStandIn,
    smtp: SmtpStandIn,
    clock: FakeClock,
) -> None:
    now = clock()
    for n in range(24):
        await add_message(seeded, now, text=f"message number {n:02d}")
    for n in range(6):
        await add_message(
            seeded, now, channel="email", to="ben@example.com", text=f"mail number {n:02d}"
        )
    policy = Policy(batch=4)
    first, second = Database(settings.database_url), Database(settings.database_url)
    try:
        sent = await asyncio.gather(
            Dispatcher.from_settings(settings, policy).dispatch(first, now),
            Dispatcher.from_settings(settings, policy).dispatch(second, now),
        )
    finally:
        await first.dispose()
        await second.dispose()
    texts = sorted(m["message"] for m in sms_api.messages)
    assert texts == [f"message number {n:02d}" for n in range(24)], "each SMS exactly once"
    mails = sorted(m.get_content().strip() for _f, _r, m in smtp.messages)
    assert mails == [f"mail number {n:02d}" for n in range(6)], "each email exactly once"
    assert sum(sent) == 30
    assert {r.status for r in await rows(seeded)} == {"sent"}


async def test_without_an_sms_token_sms_waits_and_email_still_goes(
    seeded: Database, sms_api: SmsApiStandIn, smtp: SmtpStandIn, clock: FakeClock, tmp_path: Any
) -> None:
    from tests.conftest import make_settings
    from tests.notifier.conftest import outbound_settings

    no_token = make_settings(
        seeded.url, tmp_path, **outbound_settings(sms_api, smtp, sms_api_token=None)
    )
    await add_message(seeded, clock())
    await add_message(seeded, clock(), channel="email", to="ben@example.com")
    assert await Dispatcher.from_settings(no_token).dispatch(seeded, clock()) == 1
    assert [(r.channel, r.status, r.attempts) for r in await rows(seeded)] == [
        ("sms", "pending", 0),
        ("email", "sent", 1),
    ]


async def test_no_personal_data_in_log_records(
    client: Client,
    runtime: Runtime,
    sms_api: SmsApiStandIn,
    smtp: SmtpStandIn,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sms_api.fail_next = [500, 400]
    smtp.fail("451 4.7.1 <ben@example.com> greylisted", "550 5.1.1 <anna@example.dk> unknown")
    for contact in ("+44 7700 900001", "ben@example.com", "anna@example.dk", "+4520000001"):
        await ask_for_code(client, contact, "I want a copy of my data")
        await runtime.tasks.drain()
    codes = [parse_code(row.text) for row in await rows(runtime.db)]  # the unsent ones
    clock.advance(seconds=10)
    assert await Dispatcher.from_settings(runtime.settings).dispatch(runtime.db, clock()) == 2
    codes += [parse_code(m["message"]) for m in sms_api.messages]
    codes += [parse_code(m.get_content()) for _f, _r, m in smtp.messages]
    assert {row.status for row in await rows(runtime.db)} == {"sent", "failed"}
    secrets = [
        "ben@example.com",
        "anna@example.dk",
        "447700900001",
        "7700 900001",
        "4520000001",
        "20000001",
        *(c for c in codes if c),
    ]
    assert len(secrets) > 6
    # Not ours: the SMTP stand-in's server log, and aiosqlite's statement trace (which
    # bot.logs.configure silences in every process; caplog bypasses that set-up).
    ours = [r for r in caplog.records if not r.name.startswith(("mail.log", "aiosqlite"))]
    assert any(r.name.startswith("bot.notifier") for r in ours), "the notifier logged"
    formatter = logging.Formatter()
    texts = [
        r.getMessage() + (formatter.formatException(r.exc_info) if r.exc_info else "") for r in ours
    ]
    assert [t for t in texts for secret in secrets if secret in t] == []
