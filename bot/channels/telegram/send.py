"""Bot API calls after a turn: answer the pressed button, send the replies in order.

Runs in a background task (the webhook has already answered). A failed call is logged
by its method and error type only (never the text) and ends the sending for that turn,
so the customer never gets a later message without the one before it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import ReplyKeyboardRemove

import locales
from bot.channels.telegram import render
from bot.channels.telegram.context import TELEGRAM_ERRORS, Telegram
from handlers.types import Reply
from locales import _

log = logging.getLogger(__name__)

MAX_RETRY_WAIT = 30.0  # seconds we wait when Telegram asks us to slow down


@dataclass(frozen=True)
class Answer:
    """What a turn sends back to one chat."""

    chat_id: int
    replies: list[Reply]
    language: str
    callback_id: str | None = None  # the pressed button's query, answered first
    offer_contact: bool = False  # the bot just asked who the customer is
    close_keyboard: bool = False  # verification is over: hide the share-contact keyboard
    notes: list[str] = field(default_factory=list)  # the channel's own words, sent last


async def call(bot: Bot, method: TelegramMethod[Any]) -> bool:
    """One Bot API call; waits once when rate-limited. False when it failed."""
    for attempt in (1, 2):
        try:
            await bot(method)
            return True
        except TelegramRetryAfter as exc:
            if attempt == 2:
                break
            await asyncio.sleep(min(float(exc.retry_after), MAX_RETRY_WAIT))
        except TELEGRAM_ERRORS as exc:
            log.error("telegram %s failed: %s", method.__api_method__, type(exc).__name__)
            return False
    log.error("telegram %s failed: rate limited", method.__api_method__)
    return False


async def answer_callback(bot: Bot, callback_id: str) -> None:
    """Stop the button's progress indicator; nothing is shown."""
    await call(bot, AnswerCallbackQuery(callback_query_id=callback_id))


def methods(answer: Answer) -> list[TelegramMethod[Any]]:
    """The messages of one answer, in the order they are sent."""
    out: list[TelegramMethod[Any]] = []
    close: ReplyKeyboardRemove | None = (
        ReplyKeyboardRemove(remove_keyboard=True) if answer.close_keyboard else None
    )
    for reply in answer.replies:
        markup = None
        if close is not None and not reply.buttons:
            markup, close = close, None  # a message with inline buttons cannot carry it
        out.extend(render.messages(answer.chat_id, reply, markup=markup))
    with locales.use(answer.language):
        for note in answer.notes:
            out.append(render.message(answer.chat_id, note))
        if answer.offer_contact:
            out.append(
                render.message(
                    answer.chat_id,
                    _(
                        "You can also share your phone number with the button below. If it "
                        "is the number on your account, you need no code."
                    ),
                    render.contact_keyboard(_("Share my phone number")),
                )
            )
    return out


async def deliver(tg: Telegram, answer: Answer) -> None:
    """Send one turn's answer; holds the chat's lock so answers never overtake each other."""
    async with tg.chat_locks.hold(str(answer.chat_id)):
        if answer.callback_id is not None:
            await answer_callback(tg.bot, answer.callback_id)
        for method in methods(answer):
            if not await call(tg.bot, method):
                return
