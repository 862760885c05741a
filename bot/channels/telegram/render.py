"""Channel-neutral replies as Bot API messages: split, escaped, with inline keyboards.

Telegram allows 4,096 characters per message after entity parsing, counted in UTF-16
code units (an emoji counts two). A longer text is cut at the last paragraph break,
else line break, else space that keeps the piece under the limit, and only as a last
resort inside a word. Texts are sent with `parse_mode=HTML`: `&`, `<` and `>` are
escaped, so nothing a customer or a handler writes can turn into markup. Buttons go
under the last piece as an inline keyboard whose `callback_data` is the button value.
"""

from __future__ import annotations

import html
import logging

from aiogram.enums import ParseMode
from aiogram.methods import SendMessage
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from handlers.types import Reply

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096  # sendMessage text
CAPTION_LIMIT = 1024  # sendDocument caption
CALLBACK_DATA_LIMIT = 64  # bytes of callback_data
EMPTY = "…"  # Telegram refuses an empty message

# Link previews are off: Telegram's servers would otherwise fetch a signed download link.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Text for parse_mode=HTML: the three characters Telegram reads as markup, escaped."""
    return html.escape(text, quote=False)


def _fits(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units, cut on the best boundary."""
    pieces: list[str] = []
    rest = text.strip()
    while units(rest) > limit:
        window = rest[: _fits(rest, limit)]
        cut, skip = _boundary(window)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut + skip :].lstrip()
    if rest:
        pieces.append(rest)
    return pieces or [EMPTY]


def _boundary(window: str) -> tuple[int, int]:
    """Where to cut `window` (a prefix that fits) and how many separator characters to drop.

    A paragraph break wins, then a line break, then a space; one in the second half of the
    window is preferred so that pieces stay large, else any one; else a hard cut.
    """
    for minimum in (len(window) // 2, 1):
        for separator in ("\n\n", "\n", " "):
            position = window.rfind(separator)
            if position >= minimum:
                return position, len(separator)
    return len(window), 0


def inline_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row (labels are sentences); values that cannot be callback data are
    left out rather than sent cut short."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in reply.buttons:
        if not 0 < len(button.value.encode()) <= CALLBACK_DATA_LIMIT:
            log.warning("button value too long for Telegram callback data; left out")
            continue
        rows.append([InlineKeyboardButton(text=button.label, callback_data=button.value)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def contact_keyboard(label: str) -> ReplyKeyboardMarkup:
    """A keyboard with one button that shares the customer's own phone number."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=label, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def reply_text(reply: Reply) -> str:
    """The reply's words, with its link (if any) written out under them."""
    if reply.link is None:
        return reply.text
    return f"{reply.text}\n\n{reply.link.label}: {reply.link.url}"


def message(chat_id: int, text: str, markup: Markup | None = None) -> SendMessage:
    return SendMessage(
        chat_id=chat_id,
        text=escape(text),
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=NO_PREVIEW,
    )


def messages(chat_id: int, reply: Reply, *, markup: Markup | None = None) -> list[SendMessage]:
    """One reply as messages: its text split under the limit, the keyboard on the last.

    `markup` (a reply keyboard to show or remove) is used when the reply has no buttons.
    """
    pieces = split_text(reply_text(reply))
    keyboard = inline_keyboard(reply) or markup
    return [
        message(chat_id, piece, keyboard if last else None)
        for last, piece in ((i == len(pieces) - 1, p) for i, p in enumerate(pieces))
    ]
