"""Signed Slack requests and shortcuts for the Slack tests."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.channels.slack import Slack, sync_approvals
from bot.channels.slack.housekeeping import Synced
from bot.runtime import Runtime
from storage import conversations
from storage.models import Conversation, Person, TranscriptMessage
from storage.privacy_models import PrivacyRequest
from storage.slack_models import SlackApprovalMessage
from tests.slack.standin import TEAM, SlackStandIn
from workflow import requests as privacy_requests
from workflow.approvals import identity_ref

SIGNING = "test-signing-secret-0123456789abcdef"
APPROVALS = "C0APPROVALS"
AGENT1, AGENT2 = "UAGENT1", "UAGENT2"
CUSTOMER, DM = "UCUSTOMER1", "D0CUSTOMER1"
OUTSIDER = "UOUTSIDER"
FORM = "application/x-www-form-urlencoded"

_ids = itertools.count(1)


def signature(body: str, timestamp: int, secret: str = SIGNING) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed(body: str, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, ts),
    }


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "event": event,
        }
    )


def dm_event(text: str, *, user: str = CUSTOMER, channel: str = DM, **extra: Any) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        **extra,
    }


@dataclass
class SlackEnv:
    client: TestClient[Any, Any]
    api: SlackStandIn
    runtime: Runtime
    channel: Slack
    posted: dict[int, str] = field(default_factory=dict)  # request id -> message ts

    async def post(self, body: str, content_type: str, **headers: str) -> ClientResponse:
        all_headers = {**signed(body, content_type), **headers}
        return await self.client.post("/slack/events", data=body, headers=all_headers)

    async def settle(self) -> None:
        """Wait for the work the requests started: the inbox's queue, then the tasks they
        spawned (no sleeping)."""
        await self.channel.inbox.idle()
        await self.runtime.tasks.drain()
        await self.channel.inbox.idle()

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> ClientResponse:
        headers = {}
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(event_body(event, event_id), "application/json", **headers)

    async def dm(self, text: str, *, user: str = CUSTOMER, channel: str = DM) -> list[str]:
        """Send a DM, wait for the answer, return the texts the bot posted back."""
        before = len(self.dm_posts(channel))
        response = await self.event(dm_event(text, user=user, channel=channel))
        assert response.status == 200, await response.text()
        await self.settle()
        return [p["text"] for p in self.dm_posts(channel)[before:]]

    def dm_posts(self, channel: str = DM) -> list[dict[str, Any]]:
        return self.api.to("chat.postMessage", channel=channel)

    async def interact(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.post(urlencode({"payload": json.dumps(payload)}), FORM)

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str = APPROVALS,
        trigger_id: str | None = None,
    ) -> ClientResponse:
        n = next(_ids)
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0APP",
            "trigger_id": trigger_id or f"trigger-{n}",
            "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "message_ts": "1.0"},
            "message": {"ts": "1.0", "blocks": []},
            "response_url": self.api.response_url(f"action-{n}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.interact(payload)

    async def press(self, value: str, *, user: str = CUSTOMER, channel: str = DM) -> list[str]:
        """Press a reply button in the DM; return what the bot posted back."""
        before = len(self.dm_posts(channel))
        response = await self.click("reply_button_0", value, user=user, channel=channel)
        assert response.status == 200, await response.text()
        await self.settle()
        return [p["text"] for p in self.dm_posts(channel)[before:]]

    async def submit(
        self, callback_id: str, values: dict[str, Any], meta: dict[str, str], *, user: str
    ) -> ClientResponse:
        n = next(_ids)
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0APP",
            "trigger_id": f"trigger-{n}",
            "view": {
                "id": f"V{n}",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": json.dumps(meta),
                "state": {"values": values},
            },
        }
        return await self.interact(payload)

    async def command(self, text: str, *, user: str) -> dict[str, Any]:
        """Run /privacy TEXT; return what was sent to the response_url."""
        n = next(_ids)
        body = urlencode(
            {
                "token": "unused",
                "team_id": TEAM,
                "channel_id": "C0SOMEWHERE",
                "user_id": user,
                "command": "/privacy",
                "text": text,
                "api_app_id": "A0APP",
                "response_url": self.api.response_url(f"cmd-{n}"),
                "trigger_id": f"trigger-{n}",
            }
        )
        response = await self.post(body, FORM)
        assert response.status == 200, await response.text()
        await self.settle()
        answers = self.api.to("response_url")
        assert answers, "the command was not answered"
        return answers[-1]

    async def sync(self) -> Synced:
        return await sync_approvals(self.runtime)

    async def message_of(self, request_id: int) -> SlackApprovalMessage | None:
        async with self.runtime.db.sessions() as session:
            return await session.scalar(
                select(SlackApprovalMessage).where(SlackApprovalMessage.request_id == request_id)
            )


async def open_request(
    runtime: Runtime,
    kind: str = "erasure",
    *,
    requester: str = CUSTOMER,
    email: str = "anna@example.dk",
    language: str = "da",
) -> PrivacyRequest:
    """A verified Slack customer's request, opened the way the erasure dialog opens it."""
    async with runtime.db.transaction() as session:
        account = await session.scalar(select(Person.account_id).where(Person.email == email))
        assert account is not None
        conversation = await conversations.find(session, "slack", DM) or conversations.create(
            session, "slack", DM, locale=language
        )
        await session.flush()
        return await privacy_requests.open_request(
            session,
            kind=kind,
            account_id=int(account),
            conversation_id=conversation.id,
            channel="slack",
            language=language,
            verified_via="email_code",
            details={},
            requester_ref=identity_ref(runtime.services.secret, f"slack:{requester}"),
            now=runtime.services.clock(),
        )


async def status_of(runtime: Runtime, request_id: int) -> str:
    async with runtime.db.sessions() as session:
        request = await session.get(PrivacyRequest, request_id)
    assert request is not None
    return request.status


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in a list of blocks, joined, for assertions on what a message shows."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


async def customer_lines(runtime: Runtime, dm: str = DM) -> int:
    """How many customer messages the DM's transcript holds (one per conversation turn)."""
    async with runtime.db.sessions() as session:
        rows = await session.scalars(
            select(TranscriptMessage.id)
            .join(Conversation, Conversation.id == TranscriptMessage.conversation_id)
            .where(Conversation.external_id == dm, TranscriptMessage.sender == "customer")
        )
        return len(rows.all())
