"""The bolt AsyncApp: built-in middleware (signature verification first), our listeners.

`process_before_response=True` makes bolt run each listener inside the request
instead of in an untracked `ensure_future`; the listeners are short (acknowledge,
record the delivery, hand the slow work to the runtime's tracked tasks).
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltError
from slack_bolt.response import BoltResponse

from bot.channels.slack import approvals_actions, commands, dm
from bot.channels.slack.context import Overloaded, Slack
from bot.web.errors import RETRY_AFTER

log = logging.getLogger(__name__)

# Bolt logs request bodies (message text) at INFO and DEBUG: keep its loggers quieter.
_BOLT_LOG = logging.getLogger("bot.channels.slack.bolt")
_BOLT_LOG.setLevel(logging.WARNING)


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
        if isinstance(error, Overloaded):  # Slack delivers it again; nothing was recorded
            log.warning("slack event refused: every turn slot is busy")
            return BoltResponse(status=503, body="", headers={"Retry-After": RETRY_AFTER})
        # No traceback: a database error can quote the values it was given. Status 500.
        log.error("slack listener failed: %s", type(error).__name__)
        return None

    dm.register(app, slack)
    approvals_actions.register(app, slack)
    commands.register(app, slack)
    return app
