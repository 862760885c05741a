"""The conversation router: one channel-neutral `Incoming` in, the bot's `Reply`s out.

A turn loads the conversation, settles the language, recognises the intent, lets the
handler answer, then writes the customer's message, the replies and the new dialog state
together. Either all of it is stored or none of it, so a crash mid-turn loses nothing
that was acknowledged.

Most turns need nothing from the database but the conversation: they run first as a
lean turn (`storage.lean_turn`: read with no lock, written back in one step checked
against the version read); a web chat turn starts from the row its process wrote last
(`lean_turn.Recent`) when it has one. The moment a handler reaches for the session, or
the version changed meanwhile, the turn is dropped unwritten and answered again in one
transaction, the conversation locked on PostgreSQL (on PostgreSQL the save is then one
statement: `conversations.save_turn`). A channel whose own work must share the turn's
transaction (`prepare`) always gets the transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

import locales
from bot import metrics
from handlers import registry
from handlers.state import DialogState
from handlers.turn import Services, Turn
from handlers.types import Button, Incoming, Link, Reply, Understanding
from storage import conversations, lean_turn
from storage.db import Database
from storage.models import Conversation, OutboxMessage, TranscriptMessage

log = logging.getLogger(__name__)

Recogniser = Callable[[str, str | None], Understanding]
# A channel's own work inside a turn's transaction, run once the conversation is loaded and
# before the handler (Telegram: claim the update_id, vouch for a shared phone number).
# Whatever it raises rolls the whole turn back and reaches the caller.
Prepare = Callable[[AsyncSession, Conversation], Awaitable[None]]
# A check of the conversation that needs no database (it raises to refuse the message).
Admit = Callable[[Conversation], None]

MAX_TEXT = 4000
_RETRIES = 3


class ConversationNotFound(LookupError):
    """The conversation id is unknown (web chat: answered with 404)."""


class NeedsTransaction(BaseException):
    """A lean turn's handler reached for the database session: the turn is answered
    again inside a transaction. A BaseException, so that no handler's `except Exception`
    can swallow it."""


class _NoSession:
    """The session a lean turn's handler gets: any use raises `NeedsTransaction`."""

    def __getattr__(self, name: str) -> Any:
        raise NeedsTransaction(name)


_NO_SESSION = cast(AsyncSession, _NoSession())


class ConversationRouter:
    """Routes turns to handlers. Its only memory of a conversation is `recent`: the rows
    it wrote last, a starting point the database's version check confirms or refuses."""

    def __init__(
        self,
        db: Database,
        services: Services,
        recognise: Recogniser,
        on_outbound: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.services = services
        self.recognise = recognise
        # Called after a turn that queued an SMS/email commits, so it is sent promptly.
        self.on_outbound = on_outbound
        # The rows of the conversations this process answered last (web chat, by id).
        self.recent = lean_turn.Recent()

    async def handle(
        self,
        incoming: Incoming,
        *,
        conversation_id: str | None = None,
        prepare: Prepare | None = None,
        admit: Admit | None = None,
    ) -> list[Reply]:
        """Answer one message. Retries when another process changed the same dialog.

        `prepare` is a channel's work inside the turn's transaction; `admit` a check of
        the conversation that needs no database (the web chat's token and flood limit),
        run before the handler, and again should the turn be answered a second time."""
        metrics.MESSAGES.labels(incoming.channel).inc()
        with metrics.TURN_SECONDS.time():
            try:
                return await self._handle_with_retries(incoming, conversation_id, prepare, admit)
            except IntegrityError:
                answered = await self._answered_before(incoming, conversation_id)
                if answered is None:
                    raise
                return answered

    async def _answered_before(
        self, incoming: Incoming, conversation_id: str | None
    ) -> list[Reply] | None:
        """The replies stored for this message when it was sent before (its client id is
        in the transcript already: the turn that just failed wrote nothing), else None."""
        if incoming.client_id is None or conversation_id is None:
            return None
        async with self.db.sessions() as session:
            stored = await conversations.answer_to(session, conversation_id, incoming.client_id)
        if stored is None:
            return None
        log.info("a message sent again was answered from the transcript")
        metrics.RESENT.labels(incoming.channel).inc()
        return [_reply(message) for message in stored]

    async def _handle_with_retries(
        self,
        incoming: Incoming,
        conversation_id: str | None,
        prepare: Prepare | None,
        admit: Admit | None,
    ) -> list[Reply]:
        recognised: dict[tuple[str, str | None], Understanding] = {}
        if prepare is None:  # first as a lean turn: no lock, no transaction
            try:
                replies = await self._lean_turn(incoming, conversation_id, admit, recognised)
            except (StaleDataError, OperationalError) as exc:
                if not _is_retryable(exc):
                    raise
                log.info("conversation turn conflicted; answering it again under a lock")
                replies = None
            if replies is not None:
                return replies
        for attempt in range(1, _RETRIES + 1):
            try:
                replies, outbound = await self._turn(
                    incoming, conversation_id, prepare, admit, recognised
                )
            except (StaleDataError, OperationalError) as exc:
                if attempt == _RETRIES or not _is_retryable(exc):
                    raise
                log.info("conversation turn conflicted; retrying (attempt %d)", attempt)
                continue
            if outbound and self.on_outbound is not None:
                self.on_outbound()
            return replies
        raise AssertionError("unreachable")

    async def _lean_turn(
        self,
        incoming: Incoming,
        conversation_id: str | None,
        admit: Admit | None,
        recognised: dict[tuple[str, str | None], Understanding],
    ) -> list[Reply] | None:
        """The turn when it needs nothing but its conversation (`storage.lean_turn`); None
        when it needs more (a new conversation, or a handler used the database), and the
        caller answers it again in a transaction. Nothing is written then. A kept row that
        turns out stale (another process answered the conversation since) costs one
        refused write: the turn is answered again from a fresh read, still lean."""
        async with self.db.driver() as connection:
            kept = self.recent.take(conversation_id) if conversation_id is not None else None
            if kept is not None:
                try:
                    return await self._lean_answer(
                        connection, kept, incoming, conversation_id, admit, recognised
                    )
                except StaleDataError:
                    log.info("kept conversation row was stale; reading it")
            if conversation_id is not None:
                loaded = await lean_turn.read(self.db, connection, conversation_id=conversation_id)
            else:
                loaded = await lean_turn.read(
                    self.db, connection, channel=incoming.channel, external_id=incoming.external_id
                )
            if loaded is None:
                return None
            return await self._lean_answer(
                connection, loaded, incoming, conversation_id, admit, recognised
            )

    async def _lean_answer(
        self,
        connection: Any,
        loaded: lean_turn.Loaded,
        incoming: Incoming,
        conversation_id: str | None,
        admit: Admit | None,
        recognised: dict[tuple[str, str | None], Understanding],
    ) -> list[Reply] | None:
        """Answer from `loaded` and write it back checked against its version; None when
        the handler needs the database."""
        if admit is not None:
            admit(loaded.conversation)
        try:
            replies, lines = await self._answer(
                loaded.conversation, incoming, _NO_SESSION, recognised
            )
        except NeedsTransaction:
            return None
        row = await lean_turn.save(self.db, connection, loaded, lines)
        if conversation_id is not None:
            self.recent.keep(conversation_id, row)
        return replies

    async def _turn(
        self,
        incoming: Incoming,
        conversation_id: str | None,
        prepare: Prepare | None,
        admit: Admit | None,
        recognised: dict[tuple[str, str | None], Understanding],
    ) -> tuple[list[Reply], bool]:
        lock = self.db.is_postgres
        async with self.db.transaction() as session:
            if conversation_id is not None:
                conversation = await conversations.get(session, conversation_id, for_update=lock)
                if conversation is None:
                    raise ConversationNotFound(conversation_id)
            else:
                conversation = await conversations.find(
                    session, incoming.channel, incoming.external_id, for_update=lock
                )
                if conversation is None:
                    conversation = conversations.create(
                        session, incoming.channel, incoming.external_id
                    )
            if prepare is not None:
                await prepare(session, conversation)
            if admit is not None:
                admit(conversation)
            replies, lines = await self._answer(conversation, incoming, session, recognised)
            outbound = any(isinstance(row, OutboxMessage) for row in session.new)
            await conversations.save_turn(session, conversation, lines)
            return replies, outbound

    async def _answer(
        self,
        conversation: Conversation,
        incoming: Incoming,
        session: AsyncSession,
        recognised: dict[tuple[str, str | None], Understanding],
    ) -> tuple[list[Reply], list[conversations.Line]]:
        """Settle the language, recognise the message, let the handler answer; the
        transcript lines to write, and the new dialog state set on the conversation.
        A message is recognised once, however often the turn is answered."""
        text = clean_text(incoming.text)
        dialog = DialogState.from_json(conversation.state)
        hint = conversation.locale or locales.language_hint(incoming.locale_hint)
        understanding = None
        if text:
            understanding = recognised.get((text, hint))
            if understanding is None:
                understanding = recognised[text, hint] = self.recognise(text, hint)
        self._settle_language(conversation, dialog, incoming, understanding)
        shown = self._customer_line(conversation, dialog, incoming, text)
        lines = [conversations.line(conversation, "customer", shown, client_id=incoming.client_id)]
        with locales.use(conversation.locale):
            turn = Turn(conversation, incoming, understanding, session, self.services, dialog)
            await registry.dispatch(turn)
        for reply in turn.replies:
            data = reply.to_json()
            lines.append(
                conversations.line(
                    conversation, "bot", reply.text, data["buttons"], data.get("link")
                )
            )
        dialog.offered = {b.value: b.label for reply in turn.replies for b in reply.buttons}
        conversation.state = dialog.to_json()
        conversations.touch(conversation)
        return turn.replies, lines

    @staticmethod
    def _settle_language(
        conversation: Conversation,
        dialog: DialogState,
        incoming: Incoming,
        understanding: Understanding | None,
    ) -> None:
        """The customer's own words decide; an explicit request sticks; one word in the
        other language ("ok", "yes") does not switch a conversation; hints fill gaps."""
        locale = conversation.locale
        if understanding is not None and understanding.language_request:
            locale = understanding.language_request
            dialog.language_locked = True
        elif (
            understanding is not None
            and not dialog.language_locked
            and (locale is None or understanding.language_sure)
        ):
            locale = understanding.language
        elif locale is None:
            locale = locales.language_hint(incoming.locale_hint) or locales.DEFAULT_LANGUAGE
        if locale != conversation.locale:  # an unchanged one costs the ORM's bookkeeping
            conversation.locale = locale

    @staticmethod
    def _customer_line(
        conversation: Conversation, dialog: DialogState, incoming: Incoming, text: str
    ) -> str:
        """What the transcript shows for this message: the text, or the pressed button's label.

        A button the bot did not offer in its last turn (the web chat's quick starts, a
        platform command) is shown by its intent's label in the conversation's language.
        """
        if text:
            return text
        button = incoming.button or ""
        labels = dialog.offered
        if button in labels:
            return str(labels[button])
        if button in registry.INTENT_LABELS:
            with locales.use(conversation.locale):
                return locales._(registry.INTENT_LABELS[button])
        return button


def _reply(message: TranscriptMessage) -> Reply:
    """A bot message of the transcript as the reply it was."""
    link = message.link
    return Reply(
        message.text,
        tuple(Button(b["label"], b["value"]) for b in message.buttons or ()),
        Link(link["url"], link["label"]) if link else None,
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str | None) -> str:
    """Drop control characters (PostgreSQL refuses NUL in text) and outer white space."""
    return _CONTROL.sub("", text or "").strip()


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError):
        return True
    message = str(exc).lower()
    return "database is locked" in message or "deadlock" in message
