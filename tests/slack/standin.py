"""A local stand-in for the Slack Web API: records every call, answers like Slack.

Runs on 127.0.0.1 on a random port; `url` ends with "/" as SLACK_API_URL must. Calls
are recorded with their arguments whether they came as JSON, a form or a query string.
`POST /response/<id>` stands in for a slash command's response_url.

Like Slack, a call is refused (`ok: false` and Slack's error code) without the bot
token in its `Authorization` header (`apps.connections.open`: the app-level token), when
a required argument is missing or of the wrong type, without text or blocks, or with
blocks over Slack's limits. Every refusal is kept in `refused`, and the fixtures fail
the test whose app sent one, so a malformed body cannot pass unnoticed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOT0000"
BOT_ID = "BBOT0000"
TEAM = "T0TEAM"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"

# Required arguments and their types, per method (Slack's API reference).
_REQUIRED: dict[str, dict[str, type]] = {
    "chat.postMessage": {"channel": str},
    "chat.update": {"channel": str, "ts": str},
    "chat.postEphemeral": {"channel": str, "user": str},
    "views.open": {"trigger_id": str, "view": dict},
    "views.publish": {"user_id": str, "view": dict},
    "users.info": {"user": str},
    "usergroups.users.list": {"usergroup": str},
}
_MESSAGES = ("chat.postMessage", "chat.update", "chat.postEphemeral")
TEXT_LIMIT = 40_000  # characters of a message's text
SECTION_TEXT_LIMIT = 3000  # characters of a section block's text
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class SlackStandIn:
    group_members: list[str] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)  # methods that answer ok: false
    locales: dict[str, str] = field(default_factory=dict)  # user id -> Slack locale
    hold: asyncio.Event | None = None  # when given, answers wait until it is set (slow API)
    calls: list[Call] = field(default_factory=list)
    server: TestServer | None = None
    envelopes: list[dict[str, Any]] = field(default_factory=list)  # sent over Socket Mode
    acks: list[dict[str, Any]] = field(default_factory=list)
    all_acked: asyncio.Event = field(default_factory=asyncio.Event)
    called: dict[str, asyncio.Event] = field(default_factory=dict)  # method -> set on a call
    refused: list[tuple[str, str]] = field(default_factory=list)  # (method, Slack's error)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def response_url(self, name: str = "cmd") -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/response/{name}"))

    def to(self, method: str, **match: Any) -> list[dict[str, Any]]:
        """The arguments of every call to `method` whose arguments include `match`."""
        return [
            c.args
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in match.items())
        ]

    async def wait_for(self, method: str) -> None:
        """Until `method` has been called at least once (for work the app does by itself)."""
        await asyncio.wait_for(self.called.setdefault(method, asyncio.Event()).wait(), 10)

    def clear(self) -> None:
        self.calls.clear()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        for key in ("blocks", "view"):  # form-encoded structures arrive as JSON strings
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.calls.append(Call(method, args))
        self.called.setdefault(method, asyncio.Event()).set()
        if self.hold is not None and method != "auth.test":  # bolt's once-per-process check
            await self.hold.wait()
        error = _auth_error(method, request.headers.get("Authorization")) or _body_error(
            method, args
        )
        if error is not None:
            self.refused.append((method, error))
            return web.json_response({"ok": False, "error": error})
        if method in self.failing:
            return web.json_response({"ok": False, "error": "internal_error"})
        return web.json_response({"ok": True, **self._answer(method, args)})

    async def _response_url(self, request: web.Request) -> web.Response:
        """A response_url takes a JSON message (text or blocks); Slack answers 400 else."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        error = _message_error(body) if isinstance(body, dict) else "invalid_payload"
        if error is not None:
            self.refused.append(("response_url", error))
            return web.Response(status=400, text=error)
        self.calls.append(Call("response_url", body))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, send the envelopes, collect the app's acknowledgements."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type != web.WSMsgType.TEXT:
                continue
            self.acks.append(json.loads(message.data))
            if len(self.acks) >= len(self.envelopes):
                self.all_acked.set()
        return ws

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {"user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM, "user": "privacybot"}
        if method == "chat.postMessage":
            return {"channel": args.get("channel"), "ts": ts, "message": {"text": args.get("text")}}
        if method == "chat.update":
            return {"channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"message_ts": ts}
        if method == "views.open":
            return {"view": {"id": f"V{ts[-4:]}", **(args.get("view") or {})}}
        if method == "apps.connections.open":
            assert self.server is not None
            return {"url": str(self.server.make_url("/socket")).replace("http", "ws", 1)}
        if method == "usergroups.users.list":
            return {"users": list(self.group_members)}
        if method == "users.info":
            user: dict[str, Any] = {"id": args.get("user"), "name": "someone"}
            if str(args.get("include_locale")).lower() in ("1", "true"):
                user["locale"] = self.locales.get(str(args.get("user")), "en-US")
            return {"user": user}
        if method == "views.publish":
            return {"view": {"id": f"V{ts[-4:]}", **(args.get("view") or {})}}
        return {}


def _auth_error(method: str, header: str | None) -> str | None:
    """Slack's answer to a missing or wrong token, or None."""
    if not header:
        return "not_authed"
    expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
    return None if header == f"Bearer {expected}" else "invalid_auth"


def _body_error(method: str, args: dict[str, Any]) -> str | None:
    """Slack's answer to a call whose arguments it would refuse, or None."""
    for name, kind in _REQUIRED.get(method, {}).items():
        if name not in args or not isinstance(args[name], kind):
            return "invalid_arguments"
    if method in _MESSAGES:
        return _message_error(args)
    if method in ("views.open", "views.publish"):
        view = args["view"]
        blocks = view.get("blocks")
        if view.get("type") not in ("modal", "home") or not isinstance(blocks, list):
            return "invalid_arguments"
        return _blocks_error(blocks, VIEW_BLOCKS)
    return None


def _message_error(args: dict[str, Any]) -> str | None:
    text, blocks = args.get("text"), args.get("blocks")
    if text is not None and not isinstance(text, str):
        return "invalid_arguments"
    if blocks is not None and not isinstance(blocks, list):
        return "invalid_blocks_format"
    if not text and not blocks:
        return "no_text"
    if text and len(text) > TEXT_LIMIT:
        return "msg_too_long"
    return _blocks_error(blocks or [], MESSAGE_BLOCKS)


def _blocks_error(blocks: list[Any], limit: int) -> str | None:
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return "invalid_blocks"
        text = block.get("text")
        long_or_empty = isinstance(text, dict) and not (
            0 < len(str(text.get("text") or "")) <= SECTION_TEXT_LIMIT
        )
        if block["type"] == "section" and long_or_empty:
            return "invalid_blocks"
    return None
