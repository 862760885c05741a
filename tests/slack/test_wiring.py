"""Slack mounted in the full web application, as `create_app` will wire it."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot import delivery
from bot.channels.slack import setup
from bot.runtime import Runtime
from bot.web.app import create_app
from tests.slack.helpers import APPROVALS, dm_event, event_body, open_request, signed
from tests.slack.standin import SlackStandIn


async def test_the_web_app_serves_slack_and_runs_the_approvals_sync(
    runtime: Runtime, slack_api: SlackStandIn
) -> None:
    request = await open_request(runtime, "erasure")
    app = create_app(runtime)
    app.on_cleanup.clear()  # the runtime fixture owns the runtime
    assert "/slack/events" in {r.resource.canonical for r in app.router.routes() if r.resource}
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert "slack" in delivery._senders
        await slack_api.wait_for("chat.postMessage")  # the periodic sync's first round
        posts = slack_api.to("chat.postMessage", channel=APPROVALS)
        assert len(posts) == 1 and request.reference in posts[0]["text"]
        body = event_body(dm_event("Hello"))
        ok = await client.post("/slack/events", data=body, headers=signed(body, "application/json"))
        assert ok.status == 200
        bad = await client.post("/slack/events", data=body, headers={"X-Slack-Signature": "v0=x"})
        assert bad.status == 401
    assert "slack" not in delivery._senders, "unregistered at shutdown"
    assert len(runtime.tasks) == 0, "in-flight work finished at shutdown"


async def test_nothing_is_mounted_without_slack_settings(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"slack_signing_secret": None})
    runtime.settings = settings
    app = create_app(runtime)
    app.on_cleanup.clear()
    assert setup(app, runtime) is None
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/slack/events", data="{}")
        assert response.status in (404, 405)
