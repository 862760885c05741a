"""Slack fixtures: the Web API stand-in, Slack settings, and the app behind real HTTP.

The app is a bare aiohttp application with only Slack mounted (no periodic sync), so
each test decides when the approvals channel is synced and counts every Web API call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.slack import setup
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.keys import RUNTIME
from tests.conftest import make_settings
from tests.slack.helpers import AGENT1, AGENT2, APPROVALS, SIGNING, SlackEnv
from tests.slack.standin import BOT_TOKEN, SlackStandIn


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackStandIn]:
    api = SlackStandIn()
    await api.start()
    yield api
    await api.close()
    assert api.refused == [], "the app sent calls Slack would refuse"


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    """Extra settings; a test changes them with @pytest.mark.parametrize("slack_overrides")."""
    return {}


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, slack_api: SlackStandIn, slack_overrides: dict[str, Any]
) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING,
        "slack_approvals_channel": APPROVALS,
        "slack_approver_ids": f"{AGENT1}, {AGENT2}",
        "slack_api_url": slack_api.url,
    }
    values.update(slack_overrides)
    return make_settings(database_url, tmp_path, **values)


@pytest.fixture
async def slack(runtime: Runtime, slack_api: SlackStandIn) -> AsyncIterator[SlackEnv]:
    app = web.Application()
    app[RUNTIME] = runtime
    channel = setup(app, runtime, sync_interval=None, sweep_interval=None)
    assert channel is not None
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        env = SlackEnv(client, slack_api, runtime, channel)
        yield env
        await env.settle()
