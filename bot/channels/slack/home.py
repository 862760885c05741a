"""Where a customer meets the bot outside a DM: an @mention in a channel, the App Home tab.

Privacy questions belong in a direct message, so a mention in a channel gets one short
answer that only its author sees, in the thread it was written in: write to me in a
direct message. Nothing of the message is repeated or acted on. The Home tab
(`views.publish`) says what the bot does. Both speak the user's language as Slack's
locale for them says (Danish or English; English when it says neither, or cannot be
read).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncAck, AsyncApp

import locales
from bot.channels.slack import keys
from bot.channels.slack.blocks import Block, escape, plain, sections
from bot.channels.slack.context import SLACK_ERRORS, Slack
from bot.channels.slack.inbox import Delivery
from locales import _

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Z0-9]{2,20}")  # a Slack app or team id


def register(app: AsyncApp, slack: Slack) -> None:
    slack.inbox.on("mention", lambda item: answer_mention(slack, item))
    slack.inbox.on("home", lambda item: publish_home(slack, item))

    @app.event("app_mention")
    async def on_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        key, user, channel = keys.event_key(body), event.get("user"), event.get("channel")
        # In a DM the message event is the customer's turn; a bot's mention needs no answer.
        in_channel = isinstance(channel, str) and not channel.startswith("D")
        if key and isinstance(user, str) and in_channel and not event.get("bot_id"):
            payload = {
                "user": user,
                "channel": channel,
                "thread_ts": event.get("thread_ts") or event.get("ts"),
                "dm_link": dm_link(body),
            }
            await slack.inbox.accept(key, "mention", payload)
        await ack()

    @app.event("app_home_opened")
    async def on_home(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        key, user = keys.event_key(body), event.get("user")
        if key and isinstance(user, str) and event.get("tab") == "home":
            await slack.inbox.accept(key, "home", {"user": user})
        await ack()


async def user_language(slack: Slack, user: str) -> str:
    """The user's Slack locale ("da-DK") as one of our languages; English otherwise."""
    try:
        info = await slack.client.users_info(user=user, include_locale=True)
        locale = (info.get("user") or {}).get("locale")
    except SLACK_ERRORS as exc:
        log.warning("users.info failed: %s", type(exc).__name__)
        locale = None
    hint = locales.language_hint(locale) if isinstance(locale, str) else None
    return hint or locales.DEFAULT_LANGUAGE


def dm_link(body: dict[str, Any]) -> str | None:
    """Slack's link that opens the app's direct message (None without the app's id)."""
    app_id, team = body.get("api_app_id"), body.get("team_id")
    if not isinstance(app_id, str) or not _ID.fullmatch(app_id):
        return None
    query = {
        "app": app_id,
        **({"team": team} if isinstance(team, str) and _ID.fullmatch(team) else {}),
    }
    return f"https://slack.com/app_redirect?{urlencode(query)}"


def mention_answer(language: str, link: str | None) -> str:
    """The whole answer to a mention, as mrkdwn: nothing of the mention is repeated."""
    with locales.use(language):
        text = escape(
            _(
                "I answer privacy questions in a direct message only, so that they stay "
                "between you and me. Please write to me there."
            )
        )
        if link is not None:
            label = escape(_("Open a direct message"))
            text += f" <{link}|{label}>"
    return text


async def answer_mention(slack: Slack, item: Delivery) -> None:
    if not await slack.inbox.done_alone(item.key):
        return
    user, channel = str(item.payload["user"]), str(item.payload["channel"])
    link = item.payload.get("dm_link")
    text = mention_answer(await user_language(slack, user), link if isinstance(link, str) else None)
    try:
        await slack.client.chat_postEphemeral(
            channel=channel, user=user, text=text, thread_ts=item.payload.get("thread_ts")
        )
    except SLACK_ERRORS as exc:
        log.warning("answer to a mention failed: %s", type(exc).__name__)


def home_view(language: str) -> dict[str, Any]:
    """The Home tab: what the bot does, how to start, how identity is checked."""
    with locales.use(language):
        blocks: list[Block] = [
            {"type": "header", "text": plain(_("Privacy support"), 150)},
            *sections(
                _(
                    "I answer questions about how we handle your personal data, and I help "
                    "you use your rights: a copy of your data, a machine-readable export, "
                    "correcting your details, erasing your account, restricting or objecting "
                    "to how we use your data, and a person's review of an automated decision."
                )
            ),
            *sections(
                _(
                    "Write to me in the Messages tab. Before I show or change anything, I "
                    "check who you are with a one-time code sent to an email address or "
                    "phone number already on your account. A member of our privacy team "
                    "approves what needs approving, and I tell you when it is done."
                )
            ),
            *sections(_("I speak Danish and English: write in the language you prefer.")),
        ]
    return {"type": "home", "blocks": blocks}


async def publish_home(slack: Slack, item: Delivery) -> None:
    if not await slack.inbox.done_alone(item.key):
        return
    user = str(item.payload["user"])
    view = home_view(await user_language(slack, user))
    try:
        await slack.client.views_publish(user_id=user, view=view)
    except SLACK_ERRORS as exc:
        log.warning("views.publish failed: %s", type(exc).__name__)
