"""Local stand-ins for the outbound services: the SMS REST API and an SMTP server.

`SmsApiStandIn` answers like GatewayAPI's `POST /rest/mtsms`: it checks the token header
and the JSON body, records every request, and can be told to answer the next requests
with an error status. `SmtpStandIn` is an aiosmtpd server in its own thread on a free
127.0.0.1 port that captures every message and can be told to refuse the next ones.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

SMS_TOKEN = "sms-test-token-0123456789"


@dataclass
class SmsRequest:
    authorization: str
    body: dict[str, Any]


@dataclass
class SmsApiStandIn:
    token: str = SMS_TOKEN
    requests: list[SmsRequest] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)  # statuses answered for bad requests
    fail_next: list[int] = field(default_factory=list)  # statuses for the next valid requests
    server: TestServer | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def url(self) -> str:
        """The SMS_API_URL setting: the base, with "/rest/" like the real one."""
        assert self.server is not None
        return str(self.server.make_url("/rest/"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/rest/mtsms", self._mtsms)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _reject(self, status: int, message: str) -> web.Response:
        self.rejected.append(status)
        return web.json_response({"code": str(status), "message": message}, status=status)

    async def _mtsms(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Token {self.token}":
            return self._reject(401, "Unauthorized")
        if request.content_type != "application/json":
            return self._reject(415, "Expected JSON")
        try:
            body = await request.json()
        except ValueError:
            return self._reject(400, "Malformed JSON")
        recipients = body.get("recipients") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("sender"), str)
            or not isinstance(body.get("message"), str)
            or not body["message"]
            or not isinstance(recipients, list)
            or not recipients
            or not all(isinstance(r, dict) and isinstance(r.get("msisdn"), int) for r in recipients)
        ):
            return self._reject(422, "Invalid message")
        self.requests.append(SmsRequest(request.headers["Authorization"], body))
        await asyncio.sleep(0)  # let a racing dispatcher run in between (no timing involved)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response({"code": str(status), "message": "failure"}, status=status)
        return web.json_response({"ids": [next(self._ids)], "usage": {"total_cost": 0.0}})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Capture:
    """aiosmtpd handler: keeps each accepted message; answers as `fail_next` says."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.fail_next: list[str] = []  # SMTP replies for the next DATA commands

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            content = envelope.original_content or envelope.content or b""
            raw = content if isinstance(content, bytes) else content.encode()
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(
                (str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], message)
            )
        return "250 Message accepted for delivery"


class SmtpStandIn:
    def __init__(self) -> None:
        self.handler = _Capture()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[tuple[str, list[str], EmailMessage]]:
        with self.handler.lock:
            return list(self.handler.messages)

    def fail(self, *replies: str) -> None:
        with self.handler.lock:
            self.handler.fail_next.extend(replies)
