"""The Telegram channel in the full application and in the worker, and only when set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot import delivery
from bot.runtime import Runtime
from bot.web.app import create_app
from bot.worker_process import register_channel_senders
from storage import conversations
from storage.models import Person
from storage.privacy_models import Notification
from tests.telegram.helpers import (
    ANNA_CHAT,
    PATH,
    SECRET,
    SECRET_HEADER,
    SQLITE_ONLY,
    message_update,
)
from tests.telegram.standin import TelegramStandIn
from workflow import requests as privacy_requests
from workflow.approvals import identity_ref

ROOT = Path(__file__).resolve().parents[2]


@SQLITE_ONLY
async def test_the_web_app_mounts_the_webhook_when_telegram_is_configured(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    app = create_app(runtime)
    app.on_cleanup.pop()  # the runtime fixture closes the runtime
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        update = message_update(ANNA_CHAT, text="/start", language_code="da")
        assert (await client.post(PATH, json=update)).status == 401
        ok = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
        assert ok.status == 200
        await runtime.tasks.drain()
    assert "Hej" in telegram_api.texts(ANNA_CHAT)[0]


@SQLITE_ONLY
async def test_without_telegram_settings_nothing_is_mounted(runtime: Runtime) -> None:
    off = runtime.settings.model_copy(update={"telegram_webhook_secret": None})
    plain = Runtime(off, runtime.db, runtime.router, runtime.services)
    app = create_app(plain)
    app.on_cleanup.pop()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        update = message_update(ANNA_CHAT, text="/start")
        response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
        assert response.status in (404, 405)


def test_a_process_without_telegram_never_imports_aiogram(tmp_path: Path) -> None:
    """aiogram takes seconds and megabytes to import; a web process that serves (its
    server module, its app, and the worker it runs in demo mode, which registers the
    channels' senders) without Telegram settings never imports it."""
    code = f"""
import asyncio, sys
from aiohttp import web
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.app import create_app
from bot.worker_process import register_channel_senders
from bot import server
from storage import migrate

async def main():
    s = Settings(database_url='sqlite:///{tmp_path}/x.db', secret_key='k' * 40)
    rt = Runtime.build(s)
    await migrate.upgrade(rt.db)
    runner = web.AppRunner(create_app(rt))
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    register_channel_senders(s, rt.db)
    await runner.cleanup()
    print('aiogram' in sys.modules, sorted(m for m in sys.modules if m.startswith('aiogram'))[:3])

asyncio.run(main())
"""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False []"


async def test_a_worker_sends_telegram_customers_their_notifications(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    async with runtime.db.transaction() as session:
        account = await session.scalar(
            select(Person.account_id).where(Person.email == "anna@example.dk")
        )
        assert account is not None
        conversation = conversations.create(session, "telegram", str(ANNA_CHAT), locale="da")
        await session.flush()
        request = await privacy_requests.open_request(
            session,
            kind="access",
            account_id=int(account),
            conversation_id=conversation.id,
            channel="telegram",
            language="da",
            verified_via="telegram_contact",
            details={},
            requester_ref=identity_ref(runtime.services.secret, f"telegram:{ANNA_CHAT}"),
            now=runtime.services.clock(),
            said_in_turn=False,
        )
    register_channel_senders(runtime.settings, runtime.db)  # as `privacybot worker` does
    try:
        delivered = await delivery.dispatch(runtime.db, runtime.services.clock())
    finally:
        delivery.unregister_sender("telegram")
    assert delivered >= 1
    told = [t for t in telegram_api.texts(ANNA_CHAT) if request.reference in t]
    assert told and "Vi har modtaget din anmodning" in told[0], told
    async with runtime.db.sessions() as session:
        statuses = set(
            await session.scalars(
                select(Notification.status).where(Notification.request_id == request.id)
            )
        )
    assert statuses == {"delivered"}
