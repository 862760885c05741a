"""Telegram updates as Telegram sends them, and shortcuts for the Telegram tests."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import Conversation, ProcessedDelivery, TranscriptMessage
from tests.telegram.standin import BOT_ID, TelegramStandIn

SECRET = "telegram-webhook-secret-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram/webhook"
ANNA_CHAT, BEN_CHAT = 5_550_001, 5_550_002  # private chat id == the user's id

# Channel behaviour that does not depend on the database: one backend is enough.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])

_update_ids = itertools.count(900_000_001)
_message_ids = itertools.count(1)


def _user(user_id: int, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Customer"}
    if language_code:
        user["language_code"] = language_code
    return user


def message_update(
    chat_id: int,
    *,
    text: str | None = None,
    language_code: str | None = None,
    update_id: int | None = None,
    **content: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Customer"},
        "from": _user(chat_id, language_code),
        **content,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id or next(_update_ids), "message": message}


def contact_update(
    chat_id: int, phone: str, *, owner: int | None, language_code: str | None = None
) -> dict[str, Any]:
    """A shared contact; `owner` is the contact's user_id (the sender's own: chat_id)."""
    shared: dict[str, Any] = {"phone_number": phone, "first_name": "Customer"}
    if owner is not None:
        shared["user_id"] = owner
    return message_update(chat_id, language_code=language_code, contact=shared)


def callback_update(
    chat_id: int, value: str, *, language_code: str | None = None
) -> dict[str, Any]:
    update_id = next(_update_ids)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq-{update_id}",
            "from": _user(chat_id, language_code),
            "chat_instance": f"ci-{chat_id}",
            "data": value,
            "message": {
                "message_id": next(_message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Customer"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Privacybot"},
                "text": "an earlier answer",
            },
        },
    }


@dataclass
class TelegramEnv:
    client: TestClient[Any, Any]
    api: TelegramStandIn
    runtime: Runtime

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET) -> ClientResponse:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.client.post(PATH, json=update, headers=headers)

    async def settle(self) -> None:
        """Wait for the background work the updates started (no sleeping)."""
        await self.runtime.tasks.drain()

    async def deliver(self, update: dict[str, Any], chat_id: int) -> list[str]:
        """Post an update, wait for the answer, return the texts the chat was sent."""
        before = len(self.api.texts(chat_id))
        response = await self.post(update)
        assert response.status == 200, await response.text()
        await self.settle()
        return self.api.texts(chat_id)[before:]

    async def say(self, chat_id: int, text: str, *, language_code: str | None = None) -> str:
        sent = await self.deliver(
            message_update(chat_id, text=text, language_code=language_code), chat_id
        )
        return "\n".join(sent)

    async def press(self, chat_id: int, value: str) -> str:
        update = callback_update(chat_id, value)
        sent = "\n".join(await self.deliver(update, chat_id))
        answered = self.api.to("answerCallbackQuery")
        assert answered and answered[-1]["callback_query_id"] == update["callback_query"]["id"]
        return sent

    async def share(self, chat_id: int, phone: str, *, owner: int | None) -> str:
        return "\n".join(await self.deliver(contact_update(chat_id, phone, owner=owner), chat_id))

    def buttons(self, chat_id: int) -> list[str]:
        """The callback values of the inline keyboard the chat was sent last."""
        for args in reversed(self.api.to("sendMessage", chat_id=str(chat_id))):
            markup = args.get("reply_markup") or {}
            if "inline_keyboard" in markup:
                return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        return []


async def customer_lines(runtime: Runtime, chat_id: int) -> int:
    """How many customer messages the chat's transcript holds (one per turn)."""
    async with runtime.db.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(TranscriptMessage)
            .join(Conversation, Conversation.id == TranscriptMessage.conversation_id)
            .where(
                Conversation.channel == "telegram",
                Conversation.external_id == str(chat_id),
                TranscriptMessage.sender == "customer",
            )
        )
    return int(count or 0)


async def claimed(runtime: Runtime) -> int:
    """How many Telegram update_ids are recorded as handled."""
    async with runtime.db.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ProcessedDelivery)
            .where(ProcessedDelivery.source == "telegram")
        )
    return int(count or 0)
