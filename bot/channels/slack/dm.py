"""Customers in direct messages: Slack DMs in, conversation turns, Block Kit replies out.

Only a person's own new message in an IM counts: the bot's and other bots' messages,
edits, deletions and other subtypes are ignored. A turn runs in a background task,
after the delivery was recorded as seen, so Slack gets its answer within 3 seconds.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import locales
from bot import delivery
from bot.channels.slack import dedup
from bot.channels.slack.blocks import BUTTON_PREFIX, LINK_ACTION, fallback, reply_blocks, sections
from bot.channels.slack.context import CHANNEL, SLACK_ERRORS, Slack, make_client
from bot.config import Settings
from bot.conversation import MAX_TEXT
from bot.delivery import Sender, conversation_on
from handlers.types import Incoming, Reply
from locales import _
from storage import conversations
from storage.db import Database
from storage.privacy_models import Notification

log = logging.getLogger(__name__)

CUSTOMER_SUBTYPES = frozenset({None, "file_share"})  # a file with a caption is still text
_REPLY_BUTTON = re.compile(rf"^{BUTTON_PREFIX}\d+$")


def is_customer_message(event: dict[str, Any]) -> bool:
    """A person's new message in a direct message with the bot."""
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") in CUSTOMER_SUBTYPES
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
        and isinstance(event.get("channel"), str)
    )


def register(app: AsyncApp, slack: Slack) -> None:
    @app.event("message")
    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        # The ack is sent when this listener returns (process_before_response).
        await ack()
        key = dedup.event_key(body)
        if not is_customer_message(event) or key is None:
            return
        async with slack.turn_slot() as start:  # Overloaded: 503 before anything is recorded
            if not await dedup.first_delivery(slack.db, key):
                return
            incoming = Incoming(
                channel=CHANNEL,
                external_id=event["channel"],
                sender_id=event["user"],
                text=str(event.get("text") or "")[:MAX_TEXT],
            )
            start(answer(slack, incoming), "dm-turn")

    @app.action(_REPLY_BUTTON)
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel = str((body.get("channel") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id") or "")
        value = action.get("value")
        if not channel.startswith("D") or not user or not isinstance(value, str):
            return  # reply buttons live only in direct messages
        async with slack.turn_slot() as start:
            if not await dedup.first_delivery(slack.db, dedup.action_key(body, action)):
                return
            incoming = Incoming(channel=CHANNEL, external_id=channel, sender_id=user, button=value)
            start(answer(slack, incoming), "dm-button")

    @app.action(LINK_ACTION)
    async def on_link(ack: AsyncAck) -> None:
        await ack()  # Slack opens the URL itself; the click only needs acknowledging


async def answer(slack: Slack, incoming: Incoming) -> None:
    """One turn for one DM, in the order the customer wrote (per-DM lock)."""
    async with slack.dm_locks.hold(incoming.external_id):
        try:
            replies = await slack.runtime.router.handle(incoming)
        except Exception as exc:  # the customer is told; the log gets no message text
            log.error("slack conversation turn failed: %s", type(exc).__name__)
            replies = [Reply(text=await _apology(slack.db, incoming.external_id))]
        await post_replies(slack.client, incoming.external_id, replies)


async def _apology(db: Database, dm_channel: str) -> str:
    language = None
    try:
        async with db.sessions() as session:
            conversation = await conversations.find(session, CHANNEL, dm_channel)
            language = conversation.locale if conversation is not None else None
    except Exception as exc:  # the database may be what failed
        log.warning("could not read the conversation language: %s", type(exc).__name__)
    with locales.use(language):
        return _("Sorry, something went wrong on our side. Please write again in a moment.")


async def post_replies(client: AsyncWebClient, dm_channel: str, replies: list[Reply]) -> None:
    for reply in replies:
        try:
            await client.chat_postMessage(
                channel=dm_channel, text=fallback(reply.text), blocks=reply_blocks(reply)
            )
        except SLACK_ERRORS as exc:
            log.error("reply to a Slack DM failed: %s", type(exc).__name__)
            return


def register_sender(settings: Settings, db: Database) -> bool:
    """Let `bot.delivery` send Slack customers their notifications from this process
    (the worker's, and the web process's in demo mode). False when Slack is off."""
    token = settings.slack_bot_token
    if token is None or not token.get_secret_value():  # Socket Mode needs no signing secret
        return False
    delivery.register_sender(CHANNEL, notification_sender(db, make_client(settings)))
    return True


def notification_sender(db: Database, client: AsyncWebClient) -> Sender:
    """`bot.delivery`'s sender for Slack: the request's DM gets the notification."""

    async def send(note: Notification, text: str) -> None:
        conversation = await conversation_on(db, note, CHANNEL)
        await client.chat_postMessage(
            channel=conversation.external_id, text=fallback(text), blocks=sections(text)
        )

    return send
