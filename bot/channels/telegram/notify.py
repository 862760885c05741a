"""Notifications to Telegram customers (`bot.delivery`'s sender for the channel).

A completed export or erasure receipt whose file this process can read (the worker's
DATA_DIR) and Telegram accepts (up to 50 MB) is sent as the file itself with
`sendDocument`, captioned with the notification text; otherwise the text goes as a
message with the signed link. The file is found from the signed link the worker put
in the notification, so only a genuine, unexpired link of ours can name a file. Like
every sender it is at least once: a crash between the send and the commit sends again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.methods import SendDocument, TelegramMethod
from aiogram.types import FSInputFile

from bot import delivery
from bot.channels.telegram import render
from bot.channels.telegram.context import CHANNEL, has_token, make_bot
from bot.config import Settings
from bot.delivery import Sender, conversation_on
from handlers.types import Reply
from storage.db import Database
from storage.privacy_models import Notification
from storage.types import utcnow
from workflow.exports import ExpiredLink, InvalidLink, exports_dir, verify_download

log = logging.getLogger(__name__)

_TOKEN_MARK = "/downloads/"  # noqa: S105 - a URL path
DOCUMENT_LIMIT = 50 * 1024 * 1024  # bytes: the largest file a bot may send


def register_sender(settings: Settings, db: Database) -> bool:
    """Let `bot.delivery` send Telegram customers their notifications from this process
    (the worker's). False when TELEGRAM_BOT_TOKEN is not set."""
    if not has_token(settings):
        return False
    make_bot(settings)  # a malformed token stops the process at start, not at the first send
    delivery.register_sender(CHANNEL, notification_sender(settings, db))
    return True


def local_file(params: dict[str, Any], secret: bytes, folder: Path, now: datetime) -> Path | None:
    """The export or receipt a completed notification links to, if it is on this disk."""
    url = str(params.get("download_url") or params.get("receipt_url") or "")
    _before, mark, token = url.partition(_TOKEN_MARK)
    if not mark or not token:
        return None
    try:
        _reference, filename = verify_download(secret, token, now)
    except (InvalidLink, ExpiredLink):
        return None
    path = folder / filename
    if not path.is_file() or path.stat().st_size > DOCUMENT_LIMIT:
        return None  # not here, or more than Telegram takes from a bot: the link instead
    return path


def methods(chat_id: int, text: str, document: Path | None) -> list[TelegramMethod[Any]]:
    """The text as messages, or the file with the text as its caption (when it fits)."""
    if document is None:
        return list(render.messages(chat_id, Reply(text=text)))
    out: list[TelegramMethod[Any]] = []
    caption: str | None = text
    if render.units(text) > render.CAPTION_LIMIT:
        out.extend(render.messages(chat_id, Reply(text=text)))
        caption = None
    out.append(
        SendDocument(
            chat_id=chat_id,
            document=FSInputFile(document, filename=document.name),
            caption=render.escape(caption) if caption else None,
            parse_mode=ParseMode.HTML if caption else None,
        )
    )
    return out


def notification_sender(
    settings: Settings,
    db: Database,
    *,
    bot: Bot | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Sender:
    """The sender: with `bot` (the web process's) or a Bot opened and closed per send."""
    secret = settings.secret()
    folder = exports_dir(settings.data_dir)

    async def send(note: Notification, text: str) -> None:
        conversation = await conversation_on(db, note, CHANNEL)
        chat_id = int(conversation.external_id)
        document = None
        if note.event == "completed":
            document = local_file(note.params or {}, secret, folder, clock())
        calls = methods(chat_id, text, document)
        if bot is not None:
            for method in calls:
                await bot(method)
            return
        async with make_bot(settings) as own:
            for method in calls:
                await own(method)

    return send
