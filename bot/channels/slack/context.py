"""What every Slack listener shares: the runtime, the Web API client, the approvers,
the inbox.

Slow work (a conversation turn, Web API calls) runs after the acknowledgement, in the
inbox's workers or in tasks owned by the runtime's `BackgroundTasks`, so it is awaited
at shutdown and never left running untracked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.approvers import Approvers, parse_ids
from bot.channels.slack.inbox import Inbox
from bot.config import Settings
from bot.keyed_locks import KeyedLocks
from bot.runtime import Runtime
from storage.db import Database
from workflow.approvals import Agent

log = logging.getLogger(__name__)

CHANNEL = "slack"
AGENT_LANGUAGE = "en"  # the privacy team reads Slack in English
# What a Web API call may raise: Slack's refusal, the SDK's own errors, the network.
SLACK_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError, TimeoutError)
# Customer turns worked on at once, after their events were acknowledged. The turns share
# the event loop (and on SQLite the one writer) with the acknowledgements: each turn in
# flight puts its next step in front of an acknowledgement's, so a few keep the CPU and
# the database busy, and more would only slow the acknowledgements (measured: with 8 the
# ack p99 at twice the capacity was several times that with 2 or 3; the capacity the
# same within the noise).
WORKERS = 2


def is_configured(settings: Settings) -> bool:
    """Slack is on when both the bot token and the signing secret are set."""
    token, secret = settings.slack_bot_token, settings.slack_signing_secret
    return bool(token and token.get_secret_value() and secret and secret.get_secret_value())


def make_client(settings: Settings) -> AsyncWebClient:
    """A Web API client for the bot token, at the configurable API base URL."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    base_url = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else (settings.slack_api_url + "/")
    )
    return AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=base_url)


@dataclass
class Slack:
    """The Slack channel of one process."""

    runtime: Runtime
    client: AsyncWebClient
    approvers: Approvers
    approvals_channel: str | None
    inbox: Inbox
    dm_locks: KeyedLocks = field(default_factory=KeyedLocks)

    @classmethod
    def build(cls, runtime: Runtime, client: AsyncWebClient | None = None) -> Slack:
        settings = runtime.settings
        client = client or make_client(settings)
        approvers = Approvers(
            client, parse_ids(settings.slack_approver_ids), settings.slack_approver_group
        )
        if not approvers.configured:
            log.warning("no Slack approvers configured: nobody can decide requests in Slack")
        inbox = Inbox(
            runtime.db,
            runtime.tasks,
            runtime.services.clock,
            workers=WORKERS,
        )
        return cls(runtime, client, approvers, settings.slack_approvals_channel or None, inbox)

    @property
    def db(self) -> Database:
        return self.runtime.db

    def now(self) -> datetime:
        return self.runtime.services.clock()

    def agent(self, user_id: str) -> Agent:
        """The agent behind a Slack user, hashed like a Slack customer's requester_ref."""
        return Agent.from_identity(self.runtime.services.secret, f"{CHANNEL}:{user_id}")

    async def ephemeral(self, channel: str, user: str, text: str) -> None:
        """A message only `user` sees; failures are logged, not raised."""
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SLACK_ERRORS as exc:
            log.warning("ephemeral message failed: %s", type(exc).__name__)
