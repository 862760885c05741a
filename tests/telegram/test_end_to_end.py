"""Rights end to end over Telegram: /start → request → agent approval → worker → answer.

The customer's updates reach the real webhook over HTTP; the bot's answers reach the
Bot API stand-in over HTTP; the agent decides with the workflow API; the worker runs in
this test's loop (`once=True`) and sends the result through the Telegram sender.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

from sqlalchemy import select

from bot.runtime import Runtime
from storage.models import Account, Conversation, OutboxMessage
from storage.privacy_models import PrivacyRequest
from tests.conftest import TEST_SECRET
from tests.telegram.helpers import ANNA_CHAT, BEN_CHAT, SQLITE_ONLY, TelegramEnv
from tests.test_conversation_auth import latest_code
from tests.workflow.conftest import agent, make_deps
from workflow import decisions, worker

ANNA, BEN = "anna@example.dk", "ben@example.com"
ANNA_PHONE = "4520000001"  # as Telegram sends it: international, without "+"


async def request_in(runtime: Runtime, chat_id: int) -> PrivacyRequest:
    async with runtime.db.sessions() as session:
        found = await session.scalar(
            select(PrivacyRequest)
            .join(Conversation, Conversation.id == PrivacyRequest.conversation_id)
            .where(Conversation.channel == "telegram", Conversation.external_id == str(chat_id))
        )
    assert found is not None, "no request was opened"
    return found


async def codes_sent(runtime: Runtime) -> int:
    async with runtime.db.sessions() as session:
        return len((await session.scalars(select(OutboxMessage.id))).all())


async def approve_and_work(runtime: Runtime, reference: str, data_dir: Path) -> None:
    """An agent approves; a worker (whose exports go to `data_dir`) carries it out."""
    async with runtime.db.transaction() as session:
        await decisions.approve(session, reference, agent("agent-ida"), runtime.services.clock())
    deps = make_deps(runtime.db, runtime.services.clock, data_dir.parent)
    deps.data_dir = data_dir
    for _ in range(2):  # the second pass proves nothing is sent twice
        assert await worker.run_worker(deps, stop=asyncio.Event(), concurrency=1, once=True) == 0


async def start_access_in_danish(tg: TelegramEnv) -> None:
    greeting = await tg.say(ANNA_CHAT, "/start", language_code="da")
    assert "Hej" in greeting and "privatlivsassistent" in greeting, greeting
    assert "access" in tg.buttons(ANNA_CHAT)
    offer = await tg.say(ANNA_CHAT, "Jeg vil gerne have en kopi af mine data")
    assert tg.buttons(ANNA_CHAT)[:2] == ["confirm", "cancel"], offer
    asked = await tg.press(ANNA_CHAT, "confirm")
    assert "Først skal jeg bekræfte, at det er dig" in asked, asked
    # The bot offers the share-my-number keyboard with the question.
    keyboards = [a.get("reply_markup") or {} for a in tg.api.to("sendMessage")]
    shares = [k for k in keyboards if "keyboard" in k]
    assert shares and shares[-1]["keyboard"][0][0]["request_contact"] is True
    assert shares[-1]["keyboard"][0][0]["text"] == "Del mit telefonnummer"


async def test_danish_access_from_start_to_the_document_verified_by_code(
    tg: TelegramEnv, runtime: Runtime
) -> None:
    await start_access_in_danish(tg)
    await tg.say(ANNA_CHAT, ANNA)
    registered = await tg.say(ANNA_CHAT, await latest_code(runtime.db, ANNA))
    request = await request_in(runtime, ANNA_CHAT)
    assert request.reference in registered
    assert (request.kind, request.status, request.language, request.channel) == (
        "access",
        "awaiting_approval",
        "da",
        "telegram",
    )
    assert request.verified_via == "email_code"

    await approve_and_work(runtime, request.reference, runtime.settings.data_dir)

    documents = tg.api.to("sendDocument", chat_id=str(ANNA_CHAT))
    assert len(documents) == 1, "the export is sent once, as the file itself"
    assert request.reference in documents[0]["caption"]
    assert "Kopien af dine oplysninger" in documents[0]["caption"]
    [(name, content)] = tg.api.files_to("sendDocument")
    archive = zipfile.ZipFile(io.BytesIO(content))
    people = next(n for n in archive.namelist() if "people" in n and n.endswith(".json"))
    assert ANNA in archive.read(people).decode()
    assert BEN not in b"".join(archive.read(n) for n in archive.namelist()).decode(errors="replace")
    assert name.endswith(".zip")
    async with runtime.db.sessions() as session:
        done = await session.get(PrivacyRequest, request.id)
    assert done is not None and done.status == "completed"


async def test_danish_access_verified_by_her_own_shared_contact_ends_with_the_link(
    tg: TelegramEnv, runtime: Runtime, tmp_path: Path
) -> None:
    await start_access_in_danish(tg)
    registered = await tg.share(ANNA_CHAT, ANNA_PHONE, owner=ANNA_CHAT)
    assert await codes_sent(runtime) == 0, "an own, matching number needs no code"
    request = await request_in(runtime, ANNA_CHAT)
    assert request.reference in registered
    assert (request.kind, request.status, request.verified_via) == (
        "access",
        "awaiting_approval",
        "telegram_contact",
    )
    removed = [
        a for a in tg.api.to("sendMessage") if "remove_keyboard" in a.get("reply_markup", {})
    ]
    assert removed, "the share-my-number keyboard is closed once she is verified"

    # A worker on another machine: the export is not on the web process's disk, so the
    # customer gets the signed link.
    await approve_and_work(runtime, request.reference, tmp_path / "worker-data")

    assert tg.api.to("sendDocument") == []
    done = [t for t in tg.api.texts(ANNA_CHAT) if "Kopien af dine oplysninger" in t]
    assert len(done) == 1 and request.reference in done[0]
    link = next(word for word in done[0].split() if "/downloads/" in word)
    assert link.startswith(runtime.services.public_url) or link.startswith("http://127.0.0.1")
    assert TEST_SECRET not in done[0]


async def test_english_erasure_from_start_to_the_confirmation(
    tg: TelegramEnv, runtime: Runtime
) -> None:
    greeting = await tg.say(BEN_CHAT, "/start", language_code="en")
    assert "Hello" in greeting, greeting
    await tg.say(BEN_CHAT, "Please delete my account and all my data")
    assert tg.buttons(BEN_CHAT)[:2] == ["confirm", "cancel"]
    await tg.press(BEN_CHAT, "confirm")
    await tg.say(BEN_CHAT, BEN)
    await tg.say(BEN_CHAT, await latest_code(runtime.db, BEN))
    request = await request_in(runtime, BEN_CHAT)
    assert (request.kind, request.status, request.language) == (
        "erasure",
        "awaiting_approval",
        "en",
    )

    await approve_and_work(runtime, request.reference, runtime.settings.data_dir)

    async with runtime.db.sessions() as session:
        account = await session.get(Account, request.account_id)
    assert account is not None and account.status == "closed"
    told = [t for t in tg.api.texts(BEN_CHAT) if "Your account has been erased" in t]
    assert len(told) == 1 and request.reference in told[0]


async def test_a_contact_shared_by_someone_else_is_refused(
    tg: TelegramEnv, runtime: Runtime
) -> None:
    await start_access_in_danish(tg)
    stranger = ANNA_CHAT + 1000  # someone else's card, with Anna's number on it
    for owner in (stranger, None):
        refused = await tg.share(ANNA_CHAT, ANNA_PHONE, owner=owner)
        assert "kun bruge dit eget telefonnummer" in refused, refused
    async with runtime.db.sessions() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.external_id == str(ANNA_CHAT))
        )
        assert conversation is not None
        assert conversation.account_id is None and conversation.verified_via is None
        assert conversation.state.get("step") == "identify"
        assert await session.scalar(select(PrivacyRequest)) is None
    assert await codes_sent(runtime) == 0
    # The code flow still works afterwards.
    await tg.say(ANNA_CHAT, ANNA)
    await tg.say(ANNA_CHAT, await latest_code(runtime.db, ANNA))
    assert (await request_in(runtime, ANNA_CHAT)).verified_via == "email_code"


@SQLITE_ONLY
async def test_language_code_is_a_hint_and_the_text_decides(tg: TelegramEnv) -> None:
    greeting = await tg.say(ANNA_CHAT, "/start", language_code="en")
    assert "Hello" in greeting, greeting
    offer = await tg.say(ANNA_CHAT, "Jeg vil gerne have en kopi af mine data", language_code="en")
    assert "Skal jeg gå videre?" in offer, offer
    again = await tg.say(ANNA_CHAT, "/start", language_code="en")
    assert "Hej igen" in again, "the conversation's language now wins over the hint"
