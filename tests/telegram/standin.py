"""A local stand-in for the Telegram Bot API: records every call, answers like Telegram.

Runs on 127.0.0.1 on a random port; `url` is what TELEGRAM_API_URL is set to. Calls
arrive as aiogram sends them (a form, multipart when a file is attached); JSON-valued
fields (`reply_markup`, `allowed_updates`...) are decoded, an uploaded file is kept as
bytes. Like Telegram, `sendMessage` with `parse_mode=HTML` is refused (400) when the
text does not parse or is over 4,096 characters after parsing, so a broken entity or
an over-long message fails the test that sent it. `getUpdates` hands out the queued
updates from `offset` on, holding an empty poll until one is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_ID = 7000001
TOKEN = f"{BOT_ID}:AAStandInTokenForTests-0123456789abcde"
TEXT_LIMIT = 4096
JSON_FIELDS = ("reply_markup", "allowed_updates", "link_preview_options", "entities")
# What Telegram's HTML parser accepts; the bot itself sends no tags at all.
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_TAG = re.compile(r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|a(?: href=\"[^\"]*\")?)>")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # field -> name, bytes


def parsed_length(text: str) -> int:
    """Length of an HTML-parsed text as Telegram counts it (UTF-16 code units)."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def html_error(text: str) -> str | None:
    """Why Telegram's HTML parser would refuse `text`, or None."""
    rest = _TAG.sub("", text)
    for match in re.finditer(r"[<&]", rest):
        if match.group() == "<" or not _ENTITY.match(rest, match.start()):
            return "Bad Request: can't parse entities"
    return None


@dataclass
class TelegramStandIn:
    failing: set[str] = field(default_factory=set)  # methods that answer ok: false
    calls: list[Call] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # the token of every call
    updates: list[dict[str, Any]] = field(default_factory=list)  # for getUpdates
    webhook: dict[str, Any] = field(default_factory=dict)  # what setWebhook stored
    server: TestServer | None = None
    hold: asyncio.Event | None = None  # when given, answers wait until it is set (slow API)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def to(self, method: str, **match: Any) -> list[dict[str, Any]]:
        """The arguments of every call to `method` whose arguments include `match`."""
        return [
            c.args
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in match.items())
        ]

    def files_to(self, method: str) -> list[tuple[str, bytes]]:
        return [f for c in self.calls if c.method == method for f in c.files.values()]

    def texts(self, chat_id: int) -> list[str]:
        """What the chat was sent, as the customer reads it (parsed), in order."""
        out = []
        for call in self.calls:
            if str(call.args.get("chat_id")) != str(chat_id):
                continue
            text = call.args.get("text") or call.args.get("caption")
            if isinstance(text, str):
                out.append(html.unescape(text) if call.args.get("parse_mode") else text)
        return out

    def clear(self) -> None:
        self.calls.clear()

    async def queue(self, *updates: dict[str, Any]) -> None:
        """Updates for getUpdates, as Telegram would hold them for a polling bot."""
        async with self._changed:
            self.updates.extend(updates)
            self._changed.notify_all()

    async def wait_for(self, method: str, count: int = 1) -> None:
        """Until `method` has been called `count` times (for work the app does by itself)."""
        await self.wait_until(lambda: len(self.to(method)) >= count)

    async def wait_until(self, condition: Callable[[], bool], seconds: float = 10) -> None:
        """Until `condition()` holds after some call."""

        async def holds() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        await asyncio.wait_for(holds(), seconds)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _args(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        args: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    args[key] = value
        for key in JSON_FIELDS:
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args, files

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, files = await self._args(request)
        self.tokens.append(request.match_info["token"])
        async with self._changed:
            self.calls.append(Call(method, args, files))
            self._changed.notify_all()
        if self.hold is not None and method != "getUpdates":
            await self.hold.wait()
        if request.match_info["token"] != TOKEN:
            return self._error(401, "Unauthorized")
        if method in self.failing:
            return self._error(400, "Bad Request: stand-in told to fail")
        if method in ("sendMessage", "sendDocument"):
            refused = self._refusal(args)
            if refused:
                return self._error(400, refused)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._updates(args)})
        return web.json_response({"ok": True, "result": self._answer(method, args, files)})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        body = {"ok": False, "error_code": code, "description": description}
        return web.json_response(body, status=code)

    @staticmethod
    def _refusal(args: dict[str, Any]) -> str | None:
        text = args.get("text") if "text" in args else args.get("caption")
        if not isinstance(text, str):
            return None if "caption" in args or "document" in args else "Bad Request: no text"
        if args.get("parse_mode") == "HTML":
            error = html_error(text)
            if error:
                return error
            length = parsed_length(text)
        else:
            length = len(text.encode("utf-16-le")) // 2
        limit = TEXT_LIMIT if "text" in args else 1024
        if length == 0:
            return "Bad Request: message text is empty"
        if length > limit:
            return "Bad Request: message is too long"
        return None

    async def _updates(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(args.get("offset") or 0)
        wait = min(float(args.get("timeout") or 0), 2.0)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] >= offset]

        async with self._changed:
            if not pending() and wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(pending())), wait)
            return pending()

    def _message(self, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(args["chat_id"])
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Privacybot"},
            **extra,
        }

    def _answer(
        self, method: str, args: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Privacybot", "username": "pbot"}
        if method == "sendMessage":
            return self._message(args, text=html.unescape(args["text"]))
        if method == "sendDocument":
            name = files["document"][0] if "document" in files else "file"
            document = {"file_id": f"F{next(self._ids)}", "file_unique_id": "U", "file_name": name}
            return self._message(args, document=document)
        if method == "setWebhook":
            self.webhook = {
                "url": args["url"],
                "secret_token": args.get("secret_token"),
                "allowed_updates": args.get("allowed_updates"),
            }
            return True
        if method == "deleteWebhook":
            self.webhook = {}
            return True
        if method == "getWebhookInfo":
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
                "allowed_updates": self.webhook.get("allowed_updates") or [],
            }
        return True  # answerCallbackQuery and the rest
