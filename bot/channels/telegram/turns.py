"""One Telegram update as a conversation turn: claimed and answered in one transaction.

The turn (the router's database transaction, with the update's claim inside it, see
`bot.channels.kit.dedup`) runs while the webhook request waits, so a database error
becomes a 503 and Telegram delivers the update again. A pressed button that is not on
the bot's latest answer rolls the turn back and is answered "no longer open". The Bot
API calls, the slow part, run afterwards in a background task. Any other error is a bug
in a handler: the customer gets an apology and the update counts as answered, so one
poisoned update cannot be retried forever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from bot.channels.kit import buttons, dedup, words
from bot.channels.telegram import contact, send
from bot.channels.telegram.context import CHANNEL, Telegram
from handlers import state as dialog_state
from handlers.types import Incoming
from storage.models import Conversation
from workflow import identity

log = logging.getLogger(__name__)

# Errors that mean "the database is not available now": the webhook answers 503.
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


@dataclass
class _Seen:
    """What the turn's `prepare` hook saw of the conversation."""

    conversation: Conversation | None = None
    state_before: dict[str, Any] | None = None


async def converse(
    tg: Telegram,
    incoming: Incoming,
    *,
    update_id: int,
    chat_id: int,
    callback_id: str | None = None,
    shared_phone: str | None = None,
) -> None:
    """Run the turn for one update (once), then send its answer in the background.

    A pressed button that is not on the bot's latest answer is answered "no longer
    open" instead, whatever its value."""
    seen = _Seen()

    async def prepare(session: AsyncSession, conversation: Conversation) -> None:
        await dedup.claim(session, CHANNEL, str(update_id))
        if incoming.button is not None:
            buttons.check(conversation, incoming.button)
        seen.conversation, seen.state_before = conversation, dict(conversation.state or {})
        if shared_phone is not None:
            await contact.verify(session, conversation, shared_phone, tg.now())

    try:
        async with tg.chat_locks.hold(str(chat_id)):
            replies = await tg.runtime.router.handle(incoming, prepare=prepare)
    except dedup.Duplicate:
        log.info("telegram update handled before; skipped")
        return
    except buttons.StaleButton:
        await note(
            tg,
            update_id=update_id,
            chat_id=chat_id,
            say=words.no_longer_open,
            locale_hint=incoming.locale_hint,
            callback_id=callback_id,
        )
        return
    except IntegrityError:
        # Two processes began the chat's first turn at once: the loser's new conversation
        # row clashes with the winner's. When the winner handled this very update, it is
        # a duplicate; otherwise the update is retried (503).
        if await dedup.seen(tg.runtime.db, CHANNEL, str(update_id)):
            log.info("telegram update handled by another process; skipped")
            return
        raise
    except DATABASE_ERRORS:
        raise
    except Exception as exc:  # a handler's bug: the customer is told, the log gets no text
        log.error("telegram conversation turn failed: %s", type(exc).__name__)
        language = await language_of(tg, chat_id, incoming.locale_hint)
        sorry = words.apology(language)
        tg.spawn(
            send.deliver(tg, send.Answer(chat_id, [], language, callback_id, notes=[sorry])),
            name="apology",
        )
        return
    conversation = seen.conversation
    assert conversation is not None  # prepare ran in the committed attempt
    before, after = seen.state_before, conversation.state
    verified = identity.verified_account(conversation, tg.now()) is not None
    answer = send.Answer(
        chat_id=chat_id,
        replies=replies,
        language=conversation.locale or locales.DEFAULT_LANGUAGE,
        callback_id=callback_id,
        offer_contact=(
            dialog_state.awaiting_contact(after)
            and not dialog_state.awaiting_contact(before)
            and not verified
        ),
        close_keyboard=dialog_state.verifying(before) and not dialog_state.verifying(after),
    )
    tg.spawn(send.deliver(tg, answer), name="answer")


async def note(
    tg: Telegram,
    *,
    update_id: int,
    chat_id: int,
    say: words.Say | None,
    locale_hint: str | None,
    callback_id: str | None = None,
) -> None:
    """Answer an update the conversation does not see (a refused contact, a sticker, a
    stale button, a group mention) with the channel's own words `say(language)` (or no
    words), in the conversation's language. Claimed on its own: nothing else is stored."""
    if not await dedup.claim_alone(tg.runtime.db, CHANNEL, str(update_id)):
        return
    language = await language_of(tg, chat_id, locale_hint)
    notes = [say(language)] if say is not None else []
    tg.spawn(
        send.deliver(tg, send.Answer(chat_id, [], language, callback_id, notes=notes)),
        name="note",
    )


async def language_of(tg: Telegram, chat_id: int, locale_hint: str | None) -> str:
    """The conversation's language; else Telegram's language_code as a hint; else English."""
    return await words.language_of(tg.runtime.db, CHANNEL, str(chat_id), locale_hint)
