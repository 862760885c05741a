"""Every right end to end: web chat, code from the outbox, agent decision, worker, answer.

The customer talks to the real web app over HTTP; the agent decides with the same
workflow functions Slack, the console and the CLI use; the worker runs in this test's
loop (`once=True`), so nothing here waits on wall-clock time.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.runtime import Runtime
from storage import identifier_scan
from storage.models import Account, Consent, OutboxMessage, Person
from storage.privacy_models import PrivacyRequest
from tests.test_conversation_auth import latest_code
from tests.webchat import WebChat, button_values
from tests.workflow.conftest import agent, make_deps
from workflow import decisions, worker
from workflow.decisions import AlreadyDecided, SelfApprovalRefused

Client = TestClient[Any, Any]
ANNA, BEN = "anna@example.dk", "ben@example.com"


async def verified_request(client: Client, runtime: Runtime, ask: str, email: str) -> WebChat:
    """Ask, confirm, prove who you are with the code from the outbox."""
    chat = await WebChat.open(client)
    assert button_values(await chat.send(ask))[:2] == ["confirm", "cancel"]
    await chat.send(button="confirm")
    await chat.send(email)
    await chat.send(await latest_code(runtime.db, email))
    return chat


async def request_of(runtime: Runtime, chat: WebChat) -> PrivacyRequest:
    async with runtime.db.sessions() as session:
        found = await session.scalar(
            select(PrivacyRequest).where(PrivacyRequest.conversation_id == chat.id)
        )
    assert found is not None, "no request was opened"
    return found


async def approve_and_run(runtime: Runtime, reference: str, tmp_path: Path) -> None:
    async with runtime.db.transaction() as session:
        await decisions.approve(session, reference, agent("agent-ida"), runtime.services.clock())
    await run_worker(runtime, tmp_path)


async def run_worker(runtime: Runtime, tmp_path: Path) -> None:
    deps = make_deps(runtime.db, runtime.services.clock, tmp_path)
    deps.data_dir = runtime.settings.data_dir
    for _ in range(2):  # the second pass proves nothing is done twice
        assert await worker.run_worker(deps, stop=asyncio.Event(), concurrency=2, once=True) == 0


async def bot_texts(chat: WebChat) -> list[str]:
    return [m["text"] for m in await chat.transcript() if m["from"] == "bot"]


async def download(client: Client, text: str) -> zipfile.ZipFile:
    url = next(word for word in text.split() if "/downloads/" in word)
    response = await client.get(urlsplit(url).path)
    assert response.status == 200, await response.text()
    return zipfile.ZipFile(io.BytesIO(await response.read()))


async def test_danish_access_request_ends_with_a_download_of_annas_data(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await verified_request(client, runtime, "Jeg vil gerne have en kopi af mine data", ANNA)
    request = await request_of(runtime, chat)
    assert (request.kind, request.status, request.language) == ("access", "awaiting_approval", "da")

    await approve_and_run(runtime, request.reference, tmp_path)

    done = [t for t in await bot_texts(chat) if "Kopien af dine oplysninger" in t]
    assert len(done) == 1 and request.reference in done[0]
    archive = await download(client, done[0])
    names = archive.namelist()
    assert any("sms" in n and n.endswith(".csv") for n in names), names
    people = next(n for n in names if "people" in n and n.endswith(".json"))
    assert ANNA in archive.read(people).decode()
    assert BEN not in b"".join(archive.read(n) for n in names).decode(errors="replace")


async def test_english_portability_gives_machine_readable_files(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await verified_request(
        client, runtime, "I'm moving to another provider and want my data to take with me", BEN
    )
    request = await request_of(runtime, chat)
    assert request.kind == "portability"
    await approve_and_run(runtime, request.reference, tmp_path)

    done = [t for t in await bot_texts(chat) if "machine-readable" in t and "/downloads/" in t]
    assert len(done) == 1
    archive = await download(client, done[0])
    json_files = [n for n in archive.namelist() if n.endswith(".json")]
    assert json_files and all(json.loads(archive.read(n)) is not None for n in json_files)


async def test_danish_erasure_leaves_annas_contacts_nowhere_and_tells_her(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await verified_request(client, runtime, "Slet venligst min konto", ANNA)
    request = await request_of(runtime, chat)
    assert (request.kind, request.status) == ("erasure", "awaiting_approval")
    await approve_and_run(runtime, request.reference, tmp_path)

    async with runtime.db.sessions() as session:
        account = await session.get(Account, request.account_id)
        assert account is not None and account.status == "closed"
        assert await session.scalar(select(Person).where(Person.email == ANNA)) is None
        found = await identifier_scan.scan_for_identifiers(session, [ANNA, "+4520000001"])
        # the one trace: the receipt's email on its way to her, which forgets her once sent
        assert found == [("outbox_messages", "to")]
        waiting = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.to == ANNA))
        ).all()
        assert [(m.status, m.forget_address) for m in waiting] == [("pending", True)]
        assert (await session.get(PrivacyRequest, request.id)).status == "completed"  # type: ignore[union-attr]
    assert any("Din konto er slettet" in t for t in await bot_texts(chat))


async def test_english_restriction_flags_the_account(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await verified_request(client, runtime, "Please restrict processing of my data", BEN)
    request = await request_of(runtime, chat)
    assert request.kind == "restriction"
    await approve_and_run(runtime, request.reference, tmp_path)
    async with runtime.db.sessions() as session:
        account = await session.get(Account, request.account_id)
    assert account is not None and account.restricted
    assert sum("is now restricted" in t for t in await bot_texts(chat)) == 1


async def test_english_rectification_confirms_the_new_email_before_writing_it(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    new = "ben.carter@example.org"
    chat = await verified_request(client, runtime, "I need to change my email address", BEN)
    await chat.send(button="email")
    await chat.send(new)
    assert await request_of_or_none(runtime, chat) is None, "not before the new email is proven"
    await chat.send(await latest_code(runtime.db, new))
    request = await request_of(runtime, chat)
    assert request.kind == "rectification"
    await approve_and_run(runtime, request.reference, tmp_path)
    async with runtime.db.sessions() as session:
        emails = set(await session.scalars(select(Person.email)))
    assert new in emails and BEN not in emails
    assert sum("have been corrected" in t for t in await bot_texts(chat)) == 1


async def request_of_or_none(runtime: Runtime, chat: WebChat) -> PrivacyRequest | None:
    async with runtime.db.sessions() as session:
        return await session.scalar(
            select(PrivacyRequest).where(PrivacyRequest.conversation_id == chat.id)
        )


async def test_danish_human_review_brings_a_persons_answer(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await verified_request(
        client, runtime, "Jeg vil have et menneske til at se på den automatiske afgørelse", ANNA
    )
    request = await request_of(runtime, chat)
    assert request.kind == "human_review"
    await approve_and_run(runtime, request.reference, tmp_path)
    async with runtime.db.transaction() as session:
        await decisions.answer(
            session, request.reference, agent("agent-ida"), "Blokeringen er ophævet."
        )
    await run_worker(runtime, tmp_path)
    answers = [t for t in await bot_texts(chat) if "Blokeringen er ophævet." in t]
    assert len(answers) == 1 and request.reference in answers[0]


async def test_objection_needs_no_agent_and_withdraws_consents_at_once(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    async def granted() -> dict[str, bool]:
        async with runtime.db.sessions() as session:
            found = await session.execute(
                select(Consent.purpose, Consent.granted)
                .join(Person, Person.account_id == Consent.account_id)
                .where(Person.email == BEN)
            )
            return {purpose: granted for purpose, granted in found}

    assert True in (await granted()).values(), "the demo seed gives Ben consents to withdraw"
    chat = await verified_request(client, runtime, "I object to tracking and profiling", BEN)
    request = await request_of(runtime, chat)
    assert (request.kind, request.status) == ("objection", "approved")
    await run_worker(runtime, tmp_path)
    consents = await granted()
    assert (consents["tracking"], consents["profiling"]) == (False, False)
    assert "marketing_email" not in consents or consents["marketing_email"] is False, (
        "Ben never had marketing emails on"
    )


async def test_rejection_reason_reaches_the_customer_and_four_eyes_hold(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await verified_request(client, runtime, "Please delete my account", BEN)
    request = await request_of(runtime, chat)
    async with runtime.db.transaction() as session:
        with pytest.raises(SelfApprovalRefused):  # the customer's own identity cannot approve
            await decisions.approve(
                session,
                request.reference,
                agent(f"webchat:{chat.id}"),
                runtime.services.clock(),
            )
    async with runtime.db.transaction() as session:
        await decisions.reject(
            session,
            request.reference,
            agent("agent-ida"),
            "We need to keep the account open while an invoice is disputed.",
        )
    async with runtime.db.transaction() as session:
        with pytest.raises(AlreadyDecided):
            await decisions.approve(session, request.reference, agent("agent-bo"))
    await run_worker(runtime, tmp_path)
    rejected = [t for t in await bot_texts(chat) if "invoice is disputed" in t]
    assert len(rejected) == 1 and "Datatilsynet" in rejected[0]
