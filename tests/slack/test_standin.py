"""The Slack stand-in refuses what Slack refuses, so an app sending it fails its test."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.slack.standin import APP_TOKEN, BOT_TOKEN, SlackStandIn

BOT = {"Authorization": f"Bearer {BOT_TOKEN}"}
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}


@pytest.fixture
async def api() -> Any:
    standin = SlackStandIn()
    await standin.start()
    yield standin
    await standin.close()


async def _call(api: SlackStandIn, method: str, body: Any, headers: dict[str, str]) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{api.url}{method}", json=body, headers=headers) as answer,
    ):
        assert answer.status == 200  # Slack's Web API answers errors with 200 and ok: false
        return await answer.json()


@pytest.mark.parametrize(
    ("method", "body", "headers", "error"),
    [
        ("chat.postMessage", {"channel": "C1", "text": "hi"}, {}, "not_authed"),
        (
            "chat.postMessage",
            {"channel": "C1", "text": "hi"},
            {"Authorization": "Bearer x"},
            "invalid_auth",
        ),
        ("apps.connections.open", {}, BOT, "invalid_auth"),  # wants the app-level token
        ("chat.postMessage", {"text": "hi"}, BOT, "invalid_arguments"),
        ("chat.postMessage", {"channel": 12, "text": "hi"}, BOT, "invalid_arguments"),
        ("chat.postMessage", {"channel": "C1"}, BOT, "no_text"),
        ("chat.postMessage", {"channel": "C1", "text": "x" * 40_001}, BOT, "msg_too_long"),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": SECTION, "text": "x"},
            BOT,
            "invalid_blocks_format",
        ),
        ("chat.postMessage", {"channel": "C1", "blocks": [SECTION] * 51}, BOT, "invalid_blocks"),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": [{"type": "section", "text": {"text": "x" * 3001}}]},
            BOT,
            "invalid_blocks",
        ),
        ("chat.update", {"channel": "C1", "text": "hi"}, BOT, "invalid_arguments"),
        ("chat.postEphemeral", {"channel": "C1", "text": "hi"}, BOT, "invalid_arguments"),
        ("views.open", {"trigger_id": "T", "view": {"type": "modal"}}, BOT, "invalid_arguments"),
        (
            "views.publish",
            {"user_id": "U1", "view": {"type": "home", "blocks": [{}]}},
            BOT,
            "invalid_blocks",
        ),
        ("users.info", {}, BOT, "invalid_arguments"),
        ("usergroups.users.list", {}, BOT, "invalid_arguments"),
    ],
)
async def test_a_call_slack_would_refuse_is_refused_and_kept(
    api: SlackStandIn, method: str, body: Any, headers: dict[str, str], error: str
) -> None:
    answer = await _call(api, method, body, headers)
    assert answer == {"ok": False, "error": error}
    assert api.refused == [(method, error)]


async def test_valid_calls_are_answered(api: SlackStandIn) -> None:
    posted = await _call(api, "chat.postMessage", {"channel": "C1", "blocks": [SECTION]}, BOT)
    assert posted["ok"] is True and posted["channel"] == "C1"
    app = {"Authorization": f"Bearer {APP_TOKEN}"}
    assert (await _call(api, "apps.connections.open", {}, app))["ok"] is True
    assert api.refused == []


async def test_a_response_url_wants_a_json_message(api: SlackStandIn) -> None:
    async with aiohttp.ClientSession() as http:
        for body in ({}, {"text": 5}, {"blocks": "x", "text": "hi"}):
            async with http.post(api.response_url(), json=body) as answer:
                assert answer.status == 400
        async with http.post(api.response_url(), json={"text": "done"}) as answer:
            assert answer.status == 200
    assert [method for method, _error in api.refused] == ["response_url"] * 3
    assert api.to("response_url") == [{"text": "done"}]
