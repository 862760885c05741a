"""The aiogram Dispatcher: which update becomes which turn.

Customers are served in private chats. Text, a photo's or document's caption and
`/start` go to the conversation router (the command forces the greeting; the
customer's language comes from the text once there is some, `language_code` is only a
hint); a pressed inline button arrives as its value, or is answered "no longer open"
when it is not on the bot's latest answer; a shared contact is checked by `contact`
before it may prove anything. A text over the length limit is not cut: the customer is
told. Messages from bots are ignored. In a group the bot says one thing, and only when
it is mentioned: write to me privately, with a link that opens the private chat.
Everything else gets a short note or nothing. The Dispatcher keeps no state of its own
(no FSM storage): the dialog lives in the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.enums import ChatType, MessageEntityType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InaccessibleMessage, Message, Update, User
from aiogram.utils.deep_linking import create_deep_link

import locales
from bot.channels.kit import text as kit_text
from bot.channels.kit import words
from bot.channels.telegram import contact, parsing, turns
from bot.channels.telegram.context import CHANNEL, TELEGRAM_ERRORS, Telegram
from handlers.types import Incoming
from locales import N_, _

log = logging.getLogger(__name__)

GREETING_COMMANDS = ("start", "help")
START_PAYLOAD = "privacy"  # what the group's link starts the private chat with (no data)
GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})

REFUSED_CONTACT = N_(
    "For your safety I can only use your own phone number, shared with the button "
    '"Share my phone number". You can also type the email address or phone number '
    "registered on your account, and I'll send a one-time code to it."
)


def translated(message: str) -> words.Say:
    """A module-level msgid as a note's words."""

    def say(language: str) -> str:
        with locales.use(language):
            return _(message)

    return say


def write_privately(link: str) -> words.Say:
    """The one answer to a mention in a group: nothing of the message is repeated."""

    def say(language: str) -> str:
        with locales.use(language):
            return _(
                "I can't help with privacy questions in a group. Please write to me in a "
                "private chat: {link}"
            ).format(link=link)

    return say


def build_dispatcher(tg: Telegram) -> Dispatcher:
    dispatcher = Dispatcher(disable_fsm=True, name="privacybot-telegram")
    dispatcher.include_router(customer_router(tg))
    dispatcher.include_router(group_router(tg))
    return dispatcher


def is_handled(update: Update) -> bool:
    """Updates the bot reads (edits, channel posts and the rest are acknowledged unread)."""
    return update.message is not None or update.callback_query is not None


def _language_code(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user is not None else None


def _incoming(
    message: Message,
    text: str,
    *,
    intent: str | None = None,
    shared_phone: str | None = None,
) -> Incoming:
    user = message.from_user
    return Incoming(
        channel=CHANNEL,
        external_id=str(message.chat.id),
        text=text,
        sender_id=str(user.id) if user is not None else None,
        locale_hint=_language_code(message),
        shared_phone=shared_phone,
        metadata={"intent": intent} if intent else {},
    )


async def _note(tg: Telegram, message: Message, update: Update, say: words.Say) -> None:
    await turns.note(
        tg,
        update_id=update.update_id,
        chat_id=message.chat.id,
        say=say,
        locale_hint=_language_code(message),
    )


def customer_router(tg: Telegram) -> Router:
    router = Router(name="customers")
    router.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.is_bot.is_(False))

    @router.message(Command(*GREETING_COMMANDS, ignore_mention=True))
    async def on_command(message: Message, event_update: Update) -> None:
        command = (message.text or "").split(maxsplit=1)[0].split("@", 1)[0]
        incoming = _incoming(message, command, intent="greeting")
        await turns.converse(
            tg, incoming, update_id=event_update.update_id, chat_id=message.chat.id
        )

    @router.message(F.contact)
    async def on_contact(message: Message, event_update: Update) -> None:
        assert message.contact is not None  # the filter
        phone = contact.own_phone(message.contact, message.from_user)
        if phone is None:
            await _note(tg, message, event_update, translated(REFUSED_CONTACT))
            return
        # The number goes on as if typed: verified now when it is an account's number,
        # otherwise the ordinary code flow with the ordinary words.
        incoming = _incoming(message, phone, shared_phone=phone)
        await turns.converse(
            tg,
            incoming,
            update_id=event_update.update_id,
            chat_id=message.chat.id,
            shared_phone=phone,
        )

    @router.message(F.text | F.caption)
    async def on_text(message: Message, event_update: Update) -> None:
        # A photo's or a document's caption is what the customer wrote with it.
        text = kit_text.valid_unicode(message.text or message.caption or "")
        if kit_text.too_long(text):
            length = len(text)
            await _note(tg, message, event_update, lambda lang: words.too_long(lang, length))
            return
        await turns.converse(
            tg, _incoming(message, text), update_id=event_update.update_id, chat_id=message.chat.id
        )

    @router.message()
    async def on_other(message: Message, event_update: Update) -> None:
        await _note(tg, message, event_update, words.text_only)

    @router.callback_query()
    async def on_button(callback: CallbackQuery, event_update: Update) -> None:
        await button(tg, callback, event_update.update_id)

    return router


async def button(tg: Telegram, callback: CallbackQuery, update_id: int) -> None:
    """A pressed inline button: the customer's answer, or "no longer open"."""
    chat = callback.message.chat if callback.message is not None else None
    value, user = callback.data, callback.from_user
    if chat is None or chat.type != ChatType.PRIVATE or not value or user.is_bot:
        # Not one of our reply buttons: only stop its progress indicator.
        await turns.note(
            tg,
            update_id=update_id,
            chat_id=user.id,
            say=None,
            locale_hint=user.language_code,
            callback_id=callback.id,
        )
        return
    if isinstance(callback.message, InaccessibleMessage):  # too old for Telegram to show
        await turns.note(
            tg,
            update_id=update_id,
            chat_id=chat.id,
            say=words.no_longer_open,
            locale_hint=user.language_code,
            callback_id=callback.id,
        )
        return
    incoming = Incoming(
        channel=CHANNEL,
        external_id=str(chat.id),
        sender_id=str(user.id),
        button=value,
        locale_hint=user.language_code,
    )
    await turns.converse(
        tg, incoming, update_id=update_id, chat_id=chat.id, callback_id=callback.id
    )


def group_router(tg: Telegram) -> Router:
    router = Router(name="groups")
    router.message.filter(F.chat.type.in_(GROUPS), F.from_user.is_bot.is_(False))

    @router.message()
    async def on_group_message(message: Message, event_update: Update) -> None:
        if not (message.entities or message.caption_entities or message.reply_to_message):
            return  # no mention and no reply: cannot be addressed to the bot
        try:
            me = await tg.bot.me()  # getMe once; aiogram keeps the answer
        except TELEGRAM_ERRORS as exc:
            log.warning("telegram getMe failed: %s", type(exc).__name__)
            return
        if not me.username or not mentions(message, me):
            return  # the group's own conversation: not for the bot
        link = create_deep_link(me.username, "start", START_PAYLOAD)
        await _note(tg, message, event_update, write_privately(link))

    return router


def mentions(message: Message, me: User) -> bool:
    """Whether a group message is addressed to the bot: @username, a text mention, a
    /command@username, or a reply to one of the bot's messages."""
    text = message.text or message.caption or ""
    handle = f"@{(me.username or '').lower()}"
    for entity in message.entities or message.caption_entities or []:
        if entity.type == MessageEntityType.TEXT_MENTION:
            if entity.user is not None and entity.user.id == me.id:
                return True
        elif entity.type in (MessageEntityType.MENTION, MessageEntityType.BOT_COMMAND) and (
            entity.extract_from(text).lower().endswith(handle)
        ):
            return True
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == me.id


@dataclass
class Inbound:
    """Updates in, from the webhook or from `getUpdates`: parsed, then dispatched."""

    tg: Telegram
    dispatcher: Dispatcher

    @classmethod
    def build(cls, tg: Telegram) -> Inbound:
        return cls(tg, build_dispatcher(tg))

    def parse(self, data: dict[str, Any]) -> Update | None:
        """An Update bound to our Bot, leniently (`parsing`); None when it cannot be read."""
        return parsing.parse(data, self.tg.bot)

    async def process(self, update: Update) -> None:
        """Handle one update. Database errors propagate (the caller retries the update)."""
        if is_handled(update):
            await self.dispatcher.feed_update(self.tg.bot, update)
