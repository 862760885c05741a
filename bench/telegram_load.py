"""Telegram updates through the web process, so its memory figure counts Telegram in use.

aiogram builds a Telegram type's validator the first time it is used
(`bot.channels.telegram.lazy_types`), so the web process's RSS with Telegram configured
but idle would flatter it. Here customers write from their own private chats (a
`/start`, then questions), each update posted to `/telegram/webhook` with the secret as
Telegram sends it, and each reply (`sendMessage`, with its inline keyboard) answered by
the stand-in with a real Message, as the Bot API does.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bench.servers import Server

WEBHOOK_SECRET = "bench-telegram-webhook-secret"  # noqa: S105 - a local stand-in's
TEXTS = ("/start", "hej", "hvad gemmer I om mig?", "hello, what data do you keep?")
CHATS = 60
CONCURRENCY = 8
REPLY_TIMEOUT = 120.0
FIRST_CHAT = 7_000_000


@dataclass
class BotApi:
    """The Bot API's `/bot<token>/<method>`: counts the replies sent to each chat."""

    replies: dict[int, int] = field(default_factory=dict)
    message_ids: int = 0

    async def answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = dict(await request.post()) if request.can_read_body else {}
        if method not in ("sendMessage", "sendDocument"):
            return web.json_response({"ok": True, "result": True})
        chat_id = int(str(form.get("chat_id", "0")))
        self.replies[chat_id] = self.replies.get(chat_id, 0) + 1
        self.message_ids += 1
        message = {
            "message_id": self.message_ids,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Customer"},
            "from": {"id": 1, "is_bot": True, "first_name": "Bot", "username": "bench_bot"},
            "text": str(form.get("text", "")),
        }
        return web.json_response({"ok": True, "result": message})


def update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A private-chat text message as Telegram delivers it."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Customer"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Customer", "language_code": "da"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def drive(server: Server, api: BotApi) -> dict[str, float]:
    """Every chat sends TEXTS in order; returns updates/s (first sent to last reply)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    chats = [FIRST_CHAT + index for index in range(CHATS)]
    limit = asyncio.Semaphore(CONCURRENCY)
    ids = iter(range(1, 1 + CHATS * len(TEXTS)))

    async def chat(client: aiohttp.ClientSession, chat_id: int) -> None:
        for text in TEXTS:
            async with limit:
                body = json.dumps(update(next(ids), chat_id, text))
                url = server.url("/telegram/webhook")
                async with client.post(url, data=body, headers=headers) as answer:
                    if answer.status != 200:
                        raise RuntimeError(f"telegram webhook answered {answer.status}")

    started = time.perf_counter()
    async with aiohttp.ClientSession() as client:
        await asyncio.gather(*(chat(client, chat_id) for chat_id in chats))
    deadline = time.monotonic() + REPLY_TIMEOUT
    while sum(1 for chat_id in chats if api.replies.get(chat_id, 0) >= len(TEXTS)) < CHATS:
        if time.monotonic() > deadline:
            raise RuntimeError("telegram replies did not all arrive")
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    return {"updates": float(CHATS * len(TEXTS)), "per_second": CHATS * len(TEXTS) / seconds}
