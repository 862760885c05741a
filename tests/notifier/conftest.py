"""Notifier fixtures: production settings pointed at the local SMS API and SMTP stand-ins.

The `settings` fixture here overrides the suite's demo settings, so the `runtime` and
`client` fixtures run a production web process whose codes really go out (to the
stand-ins). Modules that need demo mode override `settings` again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import make_settings
from tests.notifier.standins import SMS_TOKEN, SmsApiStandIn, SmtpStandIn

SENDER = "GatewayAPI"
FROM = "privacy@gatewayapi.test"


@pytest.fixture
async def sms_api() -> AsyncIterator[SmsApiStandIn]:
    api = SmsApiStandIn()
    await api.start()
    yield api
    await api.close()


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    server = SmtpStandIn()
    server.start()
    yield server
    server.stop()


def outbound_settings(sms_api: SmsApiStandIn, smtp: SmtpStandIn, **more: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "demo": False,
        "sms_api_url": sms_api.url,
        "sms_api_token": SMS_TOKEN,
        "sms_sender": SENDER,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "smtp_from": FROM,
    }
    values.update(more)
    return values


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sms_api: SmsApiStandIn, smtp: SmtpStandIn
) -> Settings:
    return make_settings(database_url, tmp_path, **outbound_settings(sms_api, smtp))


async def add_message(
    db: Database, now: datetime, *, channel: str = "sms", to: str = "+4520000001", text: str = ""
) -> int:
    """Queue one outbox row directly, as identity.start would."""
    async with db.transaction() as session:
        row = OutboxMessage(
            channel=channel,
            to=to,
            subject="Your verification code" if channel == "email" else None,
            text=text or f"Your GatewayAPI verification code is 123456 ({channel})",
            created_at=now,
            next_attempt_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())
