"""Customers in direct messages: Slack DMs in, conversation turns, Block Kit replies out.

Only a person's own new message in an IM counts (a plain message, one with a file, a
thread reply also sent to the conversation): the bot's and other bots' messages,
edits, deletions and other subtypes are acknowledged and ignored. The text is turned
from Slack's markup into what the customer typed (`markup`) before anything else sees
it. A message is stored and acknowledged first (`inbox`); its turn runs afterwards,
records the delivery as processed in the turn's own transaction, and the answer goes
to the thread the customer wrote in. A pressed button that is not on the bot's latest
answer is answered "no longer open"; a text over the length limit is answered "too
long", not cut.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot import delivery
from bot.channels.kit import buttons, dedup, words
from bot.channels.kit import text as kit_text
from bot.channels.slack import keys, markup
from bot.channels.slack.blocks import BUTTON_PREFIX, LINK_ACTION, fallback, reply_blocks, sections
from bot.channels.slack.context import CHANNEL, SLACK_ERRORS, Slack, make_client
from bot.channels.slack.inbox import DATABASE_ERRORS, Delivery
from bot.config import Settings
from bot.delivery import Sender, conversation_on
from handlers.types import Incoming, Reply
from storage.db import Database
from storage.models import Conversation
from storage.privacy_models import Notification

log = logging.getLogger(__name__)

# A plain message, one with a file (its text is the caption), a thread reply also
# posted to the conversation.
CUSTOMER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
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


def message_payload(event: dict[str, Any]) -> dict[str, Any]:
    """What the turn needs of a message event: the plain text (or only its length when
    it is over the limit), who wrote it where, and the thread it was written in."""
    text = kit_text.valid_unicode(markup.to_plain(str(event.get("text") or "")))
    payload: dict[str, Any] = {
        "channel": event["channel"],
        "user": event["user"],
        "thread_ts": _thread(event.get("thread_ts")),
    }
    if kit_text.too_long(text):
        payload["length"] = len(text)
    else:
        payload["text"] = text
    return payload


def _thread(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def button_payload(body: dict[str, Any], value: str) -> dict[str, Any]:
    container = body.get("container") or {}
    message = body.get("message") or {}
    return {
        "channel": str((body.get("channel") or {}).get("id") or ""),
        "user": str((body.get("user") or {}).get("id") or ""),
        "value": value,
        "thread_ts": _thread(container.get("thread_ts") or message.get("thread_ts")),
    }


def register(app: AsyncApp, slack: Slack) -> None:
    slack.inbox.on("dm", lambda d: converse(slack, d))
    slack.inbox.on("button", lambda d: converse(slack, d))

    @app.event("message")
    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        key = keys.event_key(body)
        if key is not None and is_customer_message(event):
            await slack.inbox.accept(key, "dm", message_payload(event))
        await ack()  # sent once this listener returns (process_before_response)

    @app.action(_REPLY_BUTTON)
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        payload = button_payload(body, str(action.get("value") or ""))
        # Reply buttons live only in direct messages.
        if payload["channel"].startswith("D") and payload["user"] and payload["value"]:
            await slack.inbox.accept(keys.action_key(body, action), "button", payload)
        await ack()

    @app.action(LINK_ACTION)
    async def on_link(ack: AsyncAck) -> None:
        await ack()  # Slack opens the URL itself; the click only needs acknowledging


async def converse(slack: Slack, item: Delivery) -> None:
    """One turn for one DM message or button, in the order the customer wrote (per-DM lock)."""
    payload = item.payload
    channel, thread = str(payload["channel"]), payload.get("thread_ts")
    if "length" in payload:
        length = int(payload["length"])
        await note(slack, item, lambda language: words.too_long(language, length))
        return
    incoming = Incoming(
        channel=CHANNEL,
        external_id=channel,
        sender_id=str(payload["user"]),
        text=payload.get("text"),
        button=payload.get("value"),
    )
    if incoming.button is None and not (incoming.text or "").strip():
        await note(slack, item, words.text_only)  # a file without words
        return

    async def prepare(session: AsyncSession, conversation: Conversation) -> None:
        await slack.inbox.done(session, item.key)
        if incoming.button is not None:
            buttons.check(conversation, incoming.button)

    async with slack.dm_locks.hold(channel):
        try:
            replies = await slack.runtime.router.handle(incoming, prepare=prepare)
        except dedup.Duplicate:
            return
        except buttons.StaleButton:
            replies = None
        except DATABASE_ERRORS:
            raise  # the delivery stays in the inbox and is tried again
        except Exception as exc:  # the customer is told; the log gets no message text
            log.error("slack conversation turn failed: %s", type(exc).__name__)
            if await slack.inbox.done_alone(item.key):
                language = await words.language_of(slack.db, CHANNEL, channel, None)
                await post_replies(slack.client, channel, [Reply(words.apology(language))], thread)
            return
        if replies is not None:
            await post_replies(slack.client, channel, replies, thread)
            return
    await note(slack, item, words.no_longer_open)


async def note(slack: Slack, item: Delivery, say: words.Say) -> None:
    """The channel's own words for a delivery the conversation does not see."""
    if not await slack.inbox.done_alone(item.key):
        return
    channel = str(item.payload["channel"])
    language = await words.language_of(slack.db, CHANNEL, channel, None)
    await post_replies(slack.client, channel, [Reply(say(language))], item.payload.get("thread_ts"))


async def post_replies(
    client: AsyncWebClient, dm_channel: str, replies: list[Reply], thread_ts: str | None = None
) -> None:
    """Post in order; a failure ends the sending, so no answer arrives without the one
    before it."""
    for reply in replies:
        try:
            await client.chat_postMessage(
                channel=dm_channel,
                text=fallback(reply.text),
                blocks=reply_blocks(reply),
                thread_ts=thread_ts,
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
