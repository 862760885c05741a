"""Long texts under Telegram's 4,096-character limit, escaped for parse_mode=HTML.

The stand-in refuses, like Telegram, a message over 4,096 UTF-16 units after parsing
or with a broken entity or tag, so the sending test fails if a piece is wrong.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from bot.channels.telegram import notify, render, send
from bot.channels.telegram.context import Telegram
from bot.runtime import Runtime
from handlers.types import Button, Link, Reply
from tests.telegram.helpers import ANNA_CHAT, SQLITE_ONLY
from tests.telegram.standin import TelegramStandIn, html_error, parsed_length

# Customer and handler words full of what HTML would read as markup, and emoji (2 units).
SENTENCE = "Tom & Jerry <b>bold</b> &amp; 1 < 2 > 0 😀 æøå. "


def long_text(length: int = 5000) -> str:
    paragraphs, text = [], ""
    while len(text) < length:
        paragraphs.append(SENTENCE * 7)
        text = "\n\n".join(paragraphs)
    return text[:length]


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize(
    "text",
    [
        long_text(5000),
        "x" * 5000,  # no boundary at all: a hard cut
        "😀" * 2500,  # 5,000 UTF-16 units in 2,500 characters
        "a" * 4095 + "😀" + "b" * 904,  # the emoji would straddle the limit
        ("&" * 4000) + " " + ("<" * 1000),
    ],
)
def test_a_5000_character_text_is_split_under_the_limit_and_nothing_is_lost(text: str) -> None:
    pieces = render.split_text(text)
    assert len(pieces) == 2
    assert all(render.units(p) <= render.TEXT_LIMIT for p in pieces)
    assert "".join(words("".join(pieces))) == "".join(words(text))  # hard cuts join up
    for piece in pieces:
        escaped = render.escape(piece)
        assert html_error(escaped) is None
        assert html.unescape(escaped) == piece
        assert parsed_length(escaped) <= 4096


def test_the_split_prefers_a_paragraph_then_a_line_then_a_space() -> None:
    text = long_text(5000)
    first, second = render.split_text(text)
    assert text.startswith(first) and first.endswith("0 😀 æøå.")
    assert words(first + " " + second) == words(text)
    lines = ("line " * 20 + "\n") * 60  # no paragraph breaks
    pieces = render.split_text(lines)
    assert all(p.endswith("line") for p in pieces[:-1])
    assert sum(len(p.split("\n")) for p in pieces) == 60


def test_texts_are_escaped_so_nothing_becomes_markup() -> None:
    [message] = render.messages(1, Reply(text='<a href="x">hi</a> & &lt;'))
    assert message.text == '&lt;a href="x"&gt;hi&lt;/a&gt; &amp; &amp;lt;'
    assert message.parse_mode == "HTML"
    assert html.unescape(message.text) == '<a href="x">hi</a> & &lt;'


def test_buttons_go_under_the_last_piece_only() -> None:
    reply = Reply(text=long_text(9000), buttons=(Button("Ja", "confirm"), Button("Nej", "cancel")))
    messages = render.messages(1, reply)
    assert len(messages) == 3
    assert [m.reply_markup for m in messages[:-1]] == [None, None]
    keyboard = messages[-1].reply_markup
    assert keyboard is not None and [
        [b.callback_data for b in row]
        for row in keyboard.inline_keyboard  # type: ignore[union-attr]
    ] == [["confirm"], ["cancel"]]


def test_a_button_value_too_long_for_callback_data_is_left_out() -> None:
    reply = Reply(text="Vælg", buttons=(Button("Ok", "confirm"), Button("Lang", "x" * 65)))
    keyboard = render.inline_keyboard(reply)
    assert keyboard is not None
    assert [row[0].callback_data for row in keyboard.inline_keyboard] == ["confirm"]


def test_a_link_is_written_out_under_the_text() -> None:
    reply = Reply(text="Klar.", link=Link("https://x.test/downloads/t?a=1&b=2", "Hent"))
    [message] = render.messages(1, reply)
    assert html.unescape(message.text) == "Klar.\n\nHent: https://x.test/downloads/t?a=1&b=2"


def test_a_long_notification_with_a_file_sends_the_text_then_the_file(tmp_path: Path) -> None:
    export = tmp_path / "PR-1.zip"
    export.write_bytes(b"PK")
    short = notify.methods(1, "Her er den & mere", export)
    assert [m.__api_method__ for m in short] == ["sendDocument"]
    assert short[0].caption == "Her er den &amp; mere"  # type: ignore[attr-defined]
    long = notify.methods(1, "ord " * 400, export)
    assert [m.__api_method__ for m in long] == ["sendMessage", "sendDocument"]
    assert long[-1].caption is None  # type: ignore[attr-defined]


@SQLITE_ONLY
async def test_a_5000_character_reply_reaches_telegram_in_two_valid_messages(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    text = long_text(5000)
    reply = Reply(text=text, buttons=(Button("OK", "confirm"),))
    tg = Telegram.build(runtime)
    try:
        await send.deliver(tg, send.Answer(ANNA_CHAT, [reply], "da"))
    finally:
        await tg.bot.session.close()
    sent = telegram_api.to("sendMessage")
    assert len(sent) == 2  # the stand-in accepted both: valid HTML, each ≤ 4,096 parsed
    received = telegram_api.texts(ANNA_CHAT)
    assert all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in received)
    assert words(" ".join(received)) == words(text)
    assert "reply_markup" not in sent[0] and "inline_keyboard" in sent[1]["reply_markup"]
    assert re.search(r"&(?!amp;|lt;|gt;)", sent[0]["text"]) is None


@SQLITE_ONLY
async def test_a_refused_message_stops_the_answer_so_nothing_arrives_out_of_order(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    telegram_api.failing.add("sendMessage")
    tg = Telegram.build(runtime)
    try:
        replies = [Reply(text="første"), Reply(text="anden")]
        await send.deliver(tg, send.Answer(ANNA_CHAT, replies, "da"))
    finally:
        await tg.bot.session.close()
    assert len(telegram_api.to("sendMessage")) == 1
