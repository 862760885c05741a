"""The bolt AsyncApp: built-in middleware (signature verification first), our listeners.

`process_before_response=True` makes bolt run each listener inside the request instead
of in an untracked `ensure_future`; the listeners are short (store the delivery in the
inbox, acknowledge), and the work runs after the acknowledgement. Every signed request
is acknowledged: what no listener of ours wants (a shortcut, a closed modal, a member
joining a channel, Slack's `app_rate_limited` notice) is acknowledged by the catch-all
listeners registered last, so Slack never counts a delivery as failed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.error import BoltError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.channels.slack import approvals_actions, commands, dm, home
from bot.channels.slack.context import Slack
from bot.channels.slack.inbox import DATABASE_ERRORS, Overloaded
from bot.web.errors import RETRY_AFTER

log = logging.getLogger(__name__)

# Bolt logs request bodies (message text) at INFO and DEBUG: keep its loggers quieter.
_BOLT_LOG = logging.getLogger("bot.channels.slack.bolt")
_BOLT_LOG.setLevel(logging.WARNING)
_ANY = re.compile(".*")


def build_app(slack: Slack, *, socket_mode: bool = False) -> AsyncApp:
    """The bolt app. Over HTTP the signing secret is required; Socket Mode needs none
    (the app token authenticates the connection and bolt skips the signature check)."""
    secret = slack.runtime.settings.slack_signing_secret
    if secret is None and not socket_mode:
        raise BoltError("SLACK_SIGNING_SECRET is not set")
    app = AsyncApp(
        signing_secret=secret.get_secret_value() if secret is not None else "",
        client=slack.client,
        process_before_response=True,
        request_verification_enabled=not socket_mode,
        logger=_BOLT_LOG,
    )

    @app.error
    async def on_error(error: Exception) -> BoltResponse | None:
        if isinstance(error, Overloaded):  # Slack delivers it again; nothing was stored
            slack.inbox.refused()
            return BoltResponse(status=503, body="", headers={"Retry-After": RETRY_AFTER})
        if isinstance(error, DATABASE_ERRORS):  # nothing stored: Slack delivers it again
            log.warning("slack event refused, database unavailable: %s", type(error).__name__)
            return BoltResponse(status=503, body="", headers={"Retry-After": RETRY_AFTER})
        # No traceback: a database error can quote the values it was given. Status 500.
        log.error("slack listener failed: %s", type(error).__name__)
        return None

    app.middleware(platform_notices)
    dm.register(app, slack)
    home.register(app, slack)
    approvals_actions.register(app, slack)
    commands.register(app, slack)
    acknowledge_the_rest(app)
    return app


async def platform_notices(
    body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """Slack's own notices carry no event for a listener (`app_rate_limited`): logged
    and acknowledged here; everything else goes on to the listeners."""
    if body.get("type") == "app_rate_limited":
        log.warning("slack says the app's events are being rate limited")
        return BoltResponse(status=200, body="")
    await next()
    return None


def acknowledge_the_rest(app: AsyncApp) -> None:
    """Registered last: whatever reached no listener above is acknowledged, once."""

    async def acknowledge(ack: AsyncAck, request: AsyncBoltRequest) -> None:
        log.debug("slack %s acknowledged, nothing to do", request.body.get("type"))
        await ack()

    app.event(_ANY)(acknowledge)  # app_mention in a DM, member_joined_channel, reactions...
    app.shortcut(_ANY)(acknowledge)  # global and message shortcuts
    app.view_closed(_ANY)(acknowledge)
    app.view(_ANY)(acknowledge)
    app.action(_ANY)(acknowledge)
    app.options(_ANY)(acknowledge)
    app.command(_ANY)(acknowledge)
