"""An erasure's outcome reaches the customer by email although the erasure removed the
address from the account, and once sent the address is gone from the outbox too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.config import Settings
from bot.notifier import Dispatcher
from bot.runtime import Runtime
from storage import identifier_scan
from storage.privacy_models import Notification, PrivacyRequest
from tests.notifier.conftest import rows
from tests.notifier.standins import SmtpStandIn
from tests.test_rights_end_to_end import approve_and_run, request_of
from tests.webchat import WebChat
from workflow.identity import parse_code

Client = TestClient[Any, Any]
ANNA = "anna@example.dk"


async def test_the_erasure_receipt_is_emailed_and_the_address_then_forgotten(
    client: Client, runtime: Runtime, settings: Settings, smtp: SmtpStandIn, tmp_path: Path
) -> None:
    chat = await WebChat.open(client)
    await chat.send("Slet venligst min konto")
    await chat.send(button="confirm")
    await chat.send(ANNA)
    await runtime.tasks.drain()
    code = parse_code(smtp.messages[-1][2].get_content())
    assert code is not None
    await chat.send(code)
    request = await request_of(runtime, chat)
    assert request.kind == "erasure"

    await approve_and_run(runtime, request.reference, tmp_path)
    async with runtime.db.sessions() as session:
        status = await session.scalar(
            select(PrivacyRequest.status).where(PrivacyRequest.id == request.id)
        )
        carried = list(await session.scalars(select(Notification.address)))
    assert status == "completed"
    assert carried and all(a is None for a in carried), "the notice's address left with it"
    pending = [r for r in await rows(runtime.db) if r.status == "pending"]
    assert [(r.to, r.forget_address) for r in pending] == [(ANNA, True)]

    await Dispatcher.from_settings(settings).dispatch(runtime.db, runtime.services.clock())

    _sender, recipients, message = smtp.messages[-1]
    assert recipients == [ANNA] and request.reference in message["Subject"]
    body = message.get_content()
    assert "slettet" in body and "/downloads/" in body  # Danish, with the receipt's link
    receipt = [r for r in await rows(runtime.db) if r.subject and request.reference in r.subject]
    assert [(r.status, r.to, r.text) for r in receipt] == [("sent", "", "")]
    async with runtime.db.sessions() as session:
        assert await identifier_scan.scan_for_identifiers(session, [ANNA]) == []
