"""One Telegram update as a conversation turn: claimed and answered in one transaction.

The turn (the router's database transaction, with the update's claim inside it, see
`dedup`) runs while the webhook request waits, so a database error becomes a 503 and
Telegram delivers the update again. The Bot API calls, the slow part, run afterwards in
a background task. Any other error is a bug in a handler: the customer gets an apology
and the update counts as answered, so one poisoned update cannot be retried forever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from bot.channels.telegram import contact, dedup, send
from bot.channels.telegram.context import CHANNEL, Telegram
from handlers import state as dialog_state
from handlers.types import Incoming
from locales import _
from storage import conversations
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
    """Run the turn for one update (once), then send its answer in the background."""
    seen = _Seen()

    async def prepare(session: AsyncSession, conversation: Conversation) -> None:
        await dedup.claim(session, update_id)
        seen.conversation, seen.state_before = conversation, dict(conversation.state or {})
        if shared_phone is not None:
            await contact.verify(session, conversation, shared_phone, tg.now())

    try:
        async with tg.chat_locks.hold(str(chat_id)):
            replies = await tg.runtime.router.handle(incoming, prepare=prepare)
    except dedup.DuplicateUpdate:
        log.info("telegram update handled before; skipped")
        return
    except IntegrityError:
        # Two processes began the chat's first turn at once: the loser's new conversation
        # row clashes with the winner's. When the winner handled this very update, it is
        # a duplicate; otherwise the update is retried (503).
        if await dedup.seen(tg.runtime.db, update_id):
            log.info("telegram update handled by another process; skipped")
            return
        raise
    except DATABASE_ERRORS:
        raise
    except Exception as exc:  # a handler's bug: the customer is told, the log gets no text
        log.error("telegram conversation turn failed: %s", type(exc).__name__)
        language = await language_of(tg, chat_id, incoming.locale_hint)
        with locales.use(language):
            sorry = _("Sorry, something went wrong on our side. Please write again in a moment.")
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
    text: str | None,
    locale_hint: str | None,
    callback_id: str | None = None,
) -> None:
    """Answer an update the conversation does not see (a refused contact, a sticker, a
    stale button) with the channel's own words `text` (an English msgid, or None for no
    words), in the conversation's language. Claimed on its own: nothing else is stored."""
    if not await dedup.claim_alone(tg.runtime.db, update_id):
        return
    language = await language_of(tg, chat_id, locale_hint)
    with locales.use(language):
        notes = [_(text)] if text else []
    tg.spawn(
        send.deliver(tg, send.Answer(chat_id, [], language, callback_id, notes=notes)),
        name="note",
    )


async def language_of(tg: Telegram, chat_id: int, locale_hint: str | None) -> str:
    """The conversation's language; else Telegram's language_code as a hint; else English."""
    try:
        async with tg.runtime.db.sessions() as session:
            conversation = await conversations.find(session, CHANNEL, str(chat_id))
    except DATABASE_ERRORS as exc:
        log.warning("could not read the conversation language: %s", type(exc).__name__)
        conversation = None
    if conversation is not None and conversation.locale:
        return conversation.locale
    return hint(locale_hint) or locales.DEFAULT_LANGUAGE


def hint(language_code: str | None) -> str | None:
    """Telegram's `language_code` ("da", "en-GB") as one of our languages, if it is one."""
    if not language_code:
        return None
    language = locales.normalise(language_code)
    return language if language_code.lower().startswith(language) else None
