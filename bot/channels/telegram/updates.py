"""The aiogram Dispatcher: which update becomes which turn.

Only private chats are served. Text and `/start` go to the conversation router (the
command forces the greeting; the customer's language comes from the text once there is
some, `language_code` is only a hint); a pressed inline button arrives as its value; a
shared contact is checked by `contact` before it may prove anything. Everything else
gets a short note. The Dispatcher keeps no state of its own (no FSM storage): the
dialog lives in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, Update

from bot.channels.telegram import contact, turns
from bot.channels.telegram.context import CHANNEL, Telegram
from bot.conversation import MAX_TEXT
from handlers.types import Incoming
from locales import N_

GREETING_COMMANDS = ("start", "help")

REFUSED_CONTACT = N_(
    "For your safety I can only use your own phone number, shared with the button "
    '"Share my phone number". You can also type the email address or phone number '
    "registered on your account, and I'll send a one-time code to it."
)
TEXT_ONLY = N_("I can only read text messages here. Please write what you need.")


def build_dispatcher(tg: Telegram) -> Dispatcher:
    dispatcher = Dispatcher(disable_fsm=True, name="privacybot-telegram")
    dispatcher.include_router(customer_router(tg))
    return dispatcher


def is_handled(update: Update) -> bool:
    """Updates the bot reads (others are acknowledged and dropped unread)."""
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


def customer_router(tg: Telegram) -> Router:
    router = Router(name="customers")
    router.message.filter(F.chat.type == ChatType.PRIVATE)

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
            await turns.note(
                tg,
                update_id=event_update.update_id,
                chat_id=message.chat.id,
                text=REFUSED_CONTACT,
                locale_hint=_language_code(message),
            )
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

    @router.message(F.text)
    async def on_text(message: Message, event_update: Update) -> None:
        incoming = _incoming(message, (message.text or "")[:MAX_TEXT])
        await turns.converse(
            tg, incoming, update_id=event_update.update_id, chat_id=message.chat.id
        )

    @router.message()
    async def on_other(message: Message, event_update: Update) -> None:
        await turns.note(
            tg,
            update_id=event_update.update_id,
            chat_id=message.chat.id,
            text=TEXT_ONLY,
            locale_hint=_language_code(message),
        )

    @router.callback_query()
    async def on_button(callback: CallbackQuery, event_update: Update) -> None:
        chat = callback.message.chat if callback.message is not None else None
        value = callback.data
        user = callback.from_user
        if chat is None or chat.type != ChatType.PRIVATE or not value:
            # Not one of our reply buttons: only stop its progress indicator.
            await turns.note(
                tg,
                update_id=event_update.update_id,
                chat_id=user.id,
                text=None,
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
            tg,
            incoming,
            update_id=event_update.update_id,
            chat_id=chat.id,
            callback_id=callback.id,
        )

    return router


@dataclass
class Inbound:
    """Updates in, from the webhook or from `getUpdates`: parsed, then dispatched."""

    tg: Telegram
    dispatcher: Dispatcher

    @classmethod
    def build(cls, tg: Telegram) -> Inbound:
        return cls(tg, build_dispatcher(tg))

    def parse(self, data: dict[str, Any]) -> Update:
        """An Update bound to our Bot; pydantic's ValidationError when it is not one."""
        return Update.model_validate(data, context={"bot": self.tg.bot})

    async def process(self, update: Update) -> None:
        """Handle one update. Database errors propagate (the caller retries the update)."""
        if is_handled(update):
            await self.dispatcher.feed_update(self.tg.bot, update)
