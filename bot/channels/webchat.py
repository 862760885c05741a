"""The web chat channel: a small JSON API used by the chat page at `/`.

A conversation is opened without an account; the browser gets an unguessable id and a
bearer token. Only a keyed hash of the token is stored, and it is compared in
constant time, so a database leak does not let anyone continue someone's chat.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

import locales
from bot.channels.kit import text as kit_text
from bot.channels.kit import words
from bot.conversation import ConversationNotFound
from bot.web.errors import json_error
from bot.web.keys import RUNTIME
from bot.web.ratelimit import RateLimiter
from handlers import state as dialog_state
from handlers.types import Incoming
from storage import conversations, keys
from storage.models import Conversation

CHANNEL = "webchat"
MAX_BODY = 64 * 1024
MAX_AFTER = 2**31 - 1  # transcript sequence numbers are 32-bit INTEGERs
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
routes = web.RouteTableDef()


@dataclass(frozen=True)
class Limits:
    """Flood protection; a person types far slower than this. One set per application.
    (The limit per client address is shared by all processes: `bot.web.ratelimit`.)"""

    per_conversation: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=20, window=60.0)
    )


LIMITS: web.AppKey[Limits] = web.AppKey("webchat_limits", Limits)


def _limit(limiter: RateLimiter, key: str) -> None:
    wait = limiter.hit(key)
    if wait:
        raise web.HTTPTooManyRequests(
            reason="Too many messages in a short time. Please wait a moment.",
            headers={"Retry-After": str(int(wait) + 1)},
        )


def token_hash(secret: bytes, token: str) -> str:
    return keys.mac_hex(secret, keys.CHAT_TOKEN, token)


async def _json_body(request: web.Request, *, required: bool) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    raw = await request.read()
    if not raw and not required:
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise web.HTTPBadRequest(reason="The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="The body must be a JSON object.")
    return body


def _check(request: web.Request, conversation: Conversation | None) -> None:
    """404 for an unknown conversation, 401 unless the bearer token matches."""
    if conversation is None or conversation.channel != CHANNEL:
        raise web.HTTPNotFound(reason="No such conversation.")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = conversation.token_hash or ""
    secret = request.app[RUNTIME].services.secret
    given = token_hash(secret, token.strip()) if token.strip() else ""
    if scheme.lower() != "bearer" or not keys.same(given, expected):
        raise web.HTTPUnauthorized(reason="Missing or wrong conversation token.")


async def _authorised(request: web.Request) -> Conversation:
    """The conversation, once the bearer token matches; 404 unknown, 401 wrong token."""
    conversation_id = request.match_info["conversation_id"]
    async with request.app[RUNTIME].db.sessions() as session:
        conversation = await conversations.get(session, conversation_id)
    _check(request, conversation)
    assert conversation is not None  # _check answered 404 otherwise
    return conversation


def _message(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The text or button of a message body; 400/413 web errors when it is not valid.
    A lone UTF-16 surrogate in the text becomes U+FFFD (`kit.text`)."""
    text, button = body.get("text"), body.get("button")
    if (text is None) == (button is None):
        raise web.HTTPBadRequest(reason='Send either "text" or "button".')
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise web.HTTPBadRequest(reason='"text" must be a non-empty string.')
    if button is not None and (
        not isinstance(button, str)
        or not 0 < len(button) <= 64
        or kit_text.has_lone_surrogate(button)
    ):
        raise web.HTTPBadRequest(reason='"button" must be a button value.')
    if text is not None and kit_text.too_long(text):
        raise _TooLong(len(text))
    return (kit_text.valid_unicode(text) if text is not None else None), button


def _client_id(body: dict[str, Any]) -> str | None:
    """The page's own id of the message (sent again with a retry), or None; 400 when it
    is not 8 to 64 letters, digits, "-" or "_" (a UUID fits)."""
    client_id = body.get("client_id")
    if client_id is not None and not (
        isinstance(client_id, str) and _CLIENT_ID.fullmatch(client_id)
    ):
        raise web.HTTPBadRequest(reason='"client_id" must be 8 to 64 letters, digits, "-" or "_".')
    return client_id


class _TooLong(Exception):
    """The text is over the length limit (answered 413, in the customer's language)."""

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


@routes.post("/webchat/api/conversations")
async def open_conversation(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await _json_body(request, required=False)
    locale = body.get("locale")
    if locale is not None and locale not in ("da", "en"):
        raise web.HTTPBadRequest(reason='"locale" must be "da" or "en".')
    token = secrets.token_urlsafe(32)
    async with runtime.db.transaction() as session:
        conversation = conversations.create(
            session, CHANNEL, locale=locale, token_hash=token_hash(runtime.services.secret, token)
        )
        if locale:
            conversation.state = dialog_state.locked_to_language()
    return web.json_response({"conversation_id": conversation.id, "token": token}, status=201)


@routes.post("/webchat/api/conversations/{conversation_id}/messages")
async def post_message(request: web.Request) -> web.Response:
    """Answer one message. The token is checked, and the per-conversation limit counted,
    inside the turn's own transaction (one read of the conversation, not two); a body
    that is not valid is checked after the token, so the answers keep their order:
    404, 401, 429, then 400/413. A message sent again with the same "client_id" (the
    page retrying when an answer was lost) gets the stored answer: nothing is written."""
    conversation_id = request.match_info["conversation_id"]
    try:
        body = await _json_body(request, required=True)
        text, button = _message(body)
        client_id = _client_id(body)
    except (web.HTTPException, _TooLong) as invalid:
        conversation = await _authorised(request)
        _limit(request.app[LIMITS].per_conversation, conversation_id)
        if isinstance(invalid, _TooLong):
            hint = locales.language_hint(request.headers.get("Accept-Language"))
            return json_error(413, words.too_long(conversation.locale or hint, invalid.length))
        raise
    counted = False

    def admit(conversation: Conversation) -> None:
        nonlocal counted
        _check(request, conversation)
        if not counted:  # a turn answered again after a conflict is still one message
            counted = True
            _limit(request.app[LIMITS].per_conversation, conversation_id)

    incoming = Incoming(
        channel=CHANNEL,
        external_id=conversation_id,
        text=text,
        button=button,
        locale_hint=request.headers.get("Accept-Language"),
        client_id=client_id,
    )
    try:
        replies = await request.app[RUNTIME].router.handle(
            incoming, conversation_id=conversation_id, admit=admit
        )
    except ConversationNotFound:
        raise web.HTTPNotFound(reason="No such conversation.") from None
    return web.json_response({"replies": [reply.to_json() for reply in replies]})


@routes.get("/webchat/api/conversations/{conversation_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    conversation_id = (await _authorised(request)).id
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        after = -1
    if not 0 <= after <= MAX_AFTER:
        raise web.HTTPBadRequest(reason='"after" must be a message number: a whole number from 0.')
    async with request.app[RUNTIME].db.sessions() as session:
        messages = await conversations.messages_after(session, conversation_id, after)
    return web.json_response({"messages": [conversations.message_json(m) for m in messages]})
