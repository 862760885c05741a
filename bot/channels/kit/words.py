"""The channels' own sentences, in the customer's language.

The conversation speaks through the router; these are what a channel says when there
is no turn to speak through: the apology after a failure, "your message is too long",
"that button is no longer open", "I can only read text". The language is the
conversation's, else the platform's hint, else English (`language_of`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

import locales
from bot.conversation import MAX_TEXT
from locales import _
from storage import conversations
from storage.db import Database

log = logging.getLogger(__name__)

# A channel's own words for one language: `say(language)` is the sentence to send.
Say = Callable[[str], str]


async def language_of(db: Database, channel: str, external_id: str, hint: str | None) -> str:
    """The conversation's language; else the platform's locale as a hint; else English.

    Never raises: when the database is what failed, the hint decides."""
    try:
        async with db.sessions() as session:
            conversation = await conversations.find(session, channel, external_id)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("could not read the conversation language: %s", type(exc).__name__)
        conversation = None
    if conversation is not None and conversation.locale:
        return conversation.locale
    return locales.language_hint(hint) or locales.DEFAULT_LANGUAGE


def apology(language: str | None) -> str:
    """After a failure on our side: nothing of the customer's message is repeated."""
    with locales.use(language):
        return _("Sorry, something went wrong on our side. Please write again in a moment.")


def too_long(language: str | None, length: int) -> str:
    """A message over MAX_TEXT characters is not cut short silently: the customer is told."""
    with locales.use(language):
        return _(
            "Your message is too long for me ({length} characters; at most {limit}). "
            "Please shorten it or send it in parts."
        ).format(length=locales.format_number(length), limit=locales.format_number(MAX_TEXT))


def no_longer_open(language: str | None) -> str:
    """A button from an earlier message, pressed after the conversation moved on."""
    with locales.use(language):
        return _(
            "That button is no longer open. Please use the buttons of my latest message, "
            "or write what you need."
        )


def text_only(language: str | None) -> str:
    """A sticker, a file without words: the bot reads text."""
    with locales.use(language):
        return _("I can only read text messages here. Please write what you need.")
