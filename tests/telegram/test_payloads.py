"""Telegram updates in the shapes the Bot API sends, each acknowledged and handled once.

Edits, channel posts, messages from bots, photos and documents with captions, groups,
buttons on old messages, and the forwarded-from-a-hidden-user message that aiogram
cannot parse strictly (aiogram issue #1840): none is ever answered with an error, none
is handled twice, and none makes long polling stall.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bot.channels.telegram.context import Telegram
from bot.channels.telegram.polling import run_polling
from bot.channels.telegram.updates import Inbound
from bot.runtime import Runtime
from tests.telegram.helpers import (
    ANNA_CHAT,
    BEN_CHAT,
    PATH,
    SECRET,
    SECRET_HEADER,
    TelegramEnv,
    callback_update,
    claimed,
    customer_lines,
    message_update,
)
from tests.telegram.standin import BOT_ID, TelegramStandIn

GROUP = {"id": -1001234567890, "type": "supergroup", "title": "GatewayAPI users"}
HIDDEN_FORWARD = {"type": "hidden_user", "date": 1422450181}  # no sender_user_name


def _photo(caption: str) -> dict[str, Any]:
    return {
        "photo": [
            {"file_id": "AgAD1", "file_unique_id": "AQAD1", "width": 90, "height": 67},
            {"file_id": "AgAD2", "file_unique_id": "AQAD2", "width": 1280, "height": 960},
        ],
        "caption": caption,
    }


def _document(caption: str) -> dict[str, Any]:
    document = {
        "file_id": "BQACAgQ",
        "file_unique_id": "AgAD",
        "file_name": "invoice.pdf",
        "mime_type": "application/pdf",
        "file_size": 48213,
    }
    return {"document": document, "caption": caption}


def _in_group(update: dict[str, Any], **extra: Any) -> dict[str, Any]:
    update["message"]["chat"] = GROUP
    update["message"].update(extra)
    return update


async def test_a_message_forwarded_from_a_hidden_user_is_read_not_refused(
    tg: TelegramEnv,
) -> None:
    update = message_update(
        ANNA_CHAT,
        text="Hvad gemmer I om mig?",
        language_code="da",
        forward_origin=HIDDEN_FORWARD,
        forward_date=1422450181,
    )
    for _ in range(2):
        response = await tg.post(update)
        assert response.status == 200, await response.text()
    await tg.settle()
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 1, "read once, as the text it holds"
    assert tg.api.texts(ANNA_CHAT), "and answered"


async def test_edits_and_channel_posts_are_acknowledged_and_not_read(tg: TelegramEnv) -> None:
    edited = message_update(ANNA_CHAT, text="changed my mind")["message"]
    edited["edit_date"] = int(time.time())
    channel = {"id": -1009876543210, "type": "channel", "title": "News"}
    post = {"message_id": 7, "date": int(time.time()), "chat": channel, "text": "News!"}
    post["sender_chat"] = channel
    updates = [
        {"update_id": 700_000_001, "edited_message": edited},
        {"update_id": 700_000_002, "channel_post": post},
        {"update_id": 700_000_003, "edited_channel_post": {**post, "edit_date": 1}},
        {"update_id": 700_000_004, "my_chat_member": {"unknown": "shape"}},
    ]
    for update in updates:
        assert (await tg.post(update)).status == 200, update
    await tg.settle()
    assert tg.api.calls == [] and await claimed(tg.runtime) == 0


async def test_messages_from_bots_are_ignored(tg: TelegramEnv) -> None:
    update = message_update(ANNA_CHAT, text="/start")
    update["message"]["from"] = {"id": 6_000_001, "is_bot": True, "first_name": "Other"}
    grouped = _in_group(message_update(ANNA_CHAT, text="@pbot hi"))
    grouped["message"]["from"] = {"id": 6_000_002, "is_bot": True, "first_name": "Spam"}
    grouped["message"]["entities"] = [{"type": "mention", "offset": 0, "length": 5}]
    for each in (update, grouped):
        assert (await tg.post(each)).status == 200
    await tg.settle()
    assert tg.api.calls == [] and await customer_lines(tg.runtime, ANNA_CHAT) == 0


async def test_a_caption_is_read_as_the_customers_text(tg: TelegramEnv) -> None:
    photo = message_update(ANNA_CHAT, language_code="da", **_photo("Hej, hvad kan du?"))
    answered = await tg.deliver(photo, ANNA_CHAT)
    assert answered and "Hej" in answered[0]
    document = message_update(BEN_CHAT, language_code="en", **_document("What do you keep?"))
    assert await tg.deliver(document, BEN_CHAT)
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 1
    assert await customer_lines(tg.runtime, BEN_CHAT) == 1
    bare = message_update(BEN_CHAT, **{"photo": _photo("")["photo"]})
    (note,) = await tg.deliver(bare, BEN_CHAT)
    assert "only read text" in note


async def test_in_a_group_a_mention_gets_a_link_to_the_private_chat_and_nothing_else(
    tg: TelegramEnv,
) -> None:
    said = "@pbot I want my data erased, I am anna@example.dk"
    mention = _in_group(
        message_update(ANNA_CHAT, text=said, language_code="en"),
        entities=[{"type": "mention", "offset": 0, "length": 5}],
    )
    for _ in range(2):  # delivered twice: answered once
        assert (await tg.post(mention)).status == 200
    await tg.settle()
    (answer,) = tg.api.texts(GROUP["id"])
    assert "https://t.me/pbot?start=privacy" in answer and "private chat" in answer
    assert "anna" not in answer and "erased" not in answer
    assert await customer_lines(tg.runtime, GROUP["id"]) == 0, "no conversation in a group"


async def test_in_a_group_only_what_addresses_the_bot_is_answered(tg: TelegramEnv) -> None:
    by_name = {"type": "text_mention", "offset": 0, "length": 10}
    by_name["user"] = {"id": BOT_ID, "is_bot": True, "first_name": "Privacybot"}
    reply_to_bot = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": GROUP,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Privacybot", "username": "pbot"},
        "text": "an earlier answer",
    }
    addressed = [
        _in_group(
            message_update(ANNA_CHAT, text="Privacybot help", language_code="da"),
            entities=[by_name],
        ),
        _in_group(
            message_update(ANNA_CHAT, text="/start@pbot"),
            entities=[{"type": "bot_command", "offset": 0, "length": 11}],
        ),
        _in_group(message_update(ANNA_CHAT, text="and now?"), reply_to_message=reply_to_bot),
    ]
    not_addressed = [
        _in_group(message_update(ANNA_CHAT, text="hello everyone")),
        _in_group(
            message_update(ANNA_CHAT, text="@someone_else hi"),
            entities=[{"type": "mention", "offset": 0, "length": 13}],
        ),
        _in_group(
            message_update(ANNA_CHAT, text="/start@otherbot"),
            entities=[{"type": "bot_command", "offset": 0, "length": 15}],
        ),
    ]
    for update in (*addressed, *not_addressed):
        assert (await tg.post(update)).status == 200
    await tg.settle()
    answers = tg.api.texts(GROUP["id"])
    assert len(answers) == len(addressed)
    assert "privat chat" in answers[0], "in the language Telegram gives for the user"
    assert all("t.me/pbot?start=privacy" in a for a in answers)


async def test_a_stale_button_is_no_longer_open_whatever_its_value(tg: TelegramEnv) -> None:
    for value in ("cancel", "confirm", "access"):  # nothing offered yet
        answer = await tg.press(ANNA_CHAT, value)
        assert "no longer open" in answer, (value, answer)
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 0
    await tg.say(ANNA_CHAT, "Jeg vil gerne have slettet min konto", language_code="da")
    assert tg.buttons(ANNA_CHAT)[:2] == ["confirm", "cancel"]
    lines = await customer_lines(tg.runtime, ANNA_CHAT)
    stale = await tg.press(ANNA_CHAT, "access")  # from the greeting's keyboard, long gone
    assert "ikke længere aktiv" in stale
    assert await customer_lines(tg.runtime, ANNA_CHAT) == lines
    assert "jeg stopper her" in await tg.press(ANNA_CHAT, "cancel"), "the latest keyboard works"


async def test_a_button_on_a_message_too_old_to_show_is_no_longer_open(tg: TelegramEnv) -> None:
    await tg.say(ANNA_CHAT, "I want to delete my account", language_code="en")
    update = callback_update(ANNA_CHAT, "confirm")  # offered, but on an inaccessible message
    update["callback_query"]["message"] = {
        "message_id": 3,
        "date": 0,
        "chat": {"id": ANNA_CHAT, "type": "private", "first_name": "Customer"},
    }
    sent = await tg.deliver(update, ANNA_CHAT)
    assert len(sent) == 1 and "no longer open" in sent[0]
    answered = tg.api.to("answerCallbackQuery")
    assert answered[-1]["callback_query_id"] == update["callback_query"]["id"]


async def test_a_text_over_the_limit_is_answered_too_long(tg: TelegramEnv) -> None:
    (answer,) = await tg.deliver(
        message_update(ANNA_CHAT, text="æ" * 4001, language_code="da"), ANNA_CHAT
    )
    assert "for lang" in answer and "4.001" in answer
    (answer,) = await tg.deliver(
        message_update(BEN_CHAT, language_code="en", **_photo("x" * 4096)), BEN_CHAT
    )
    assert "too long" in answer and "4,096" in answer
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 0
    assert await customer_lines(tg.runtime, BEN_CHAT) == 0


async def test_a_lone_surrogate_in_the_text_is_replaced(tg: TelegramEnv) -> None:
    update = message_update(ANNA_CHAT, text="hej LONE", language_code="da")
    raw = json.dumps(update).replace("LONE", "\\ud800")  # JSON's escape, as a sender writes it
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    response = await tg.client.post(PATH, data=raw.encode(), headers=headers)
    assert response.status == 200
    await tg.settle()
    assert await customer_lines(tg.runtime, ANNA_CHAT) == 1


async def test_polling_reads_past_an_update_aiogram_cannot_parse(
    runtime: Runtime, telegram_api: TelegramStandIn
) -> None:
    forwarded = message_update(
        ANNA_CHAT, text="/start", language_code="da", forward_origin=HIDDEN_FORWARD
    )
    unreadable = {"update_id": forwarded["update_id"] + 1, "message": "not a message"}
    after = message_update(BEN_CHAT, text="/start", language_code="en")
    after["update_id"] = forwarded["update_id"] + 2
    await telegram_api.queue(forwarded, unreadable, after)
    inbound = Inbound.build(Telegram.build(runtime))
    stop = asyncio.Event()
    polling = asyncio.create_task(run_polling(inbound, stop))
    try:
        await telegram_api.wait_until(
            lambda: any(
                int(a.get("offset") or 0) == after["update_id"] + 1
                for a in telegram_api.to("getUpdates")
            )
        )
    finally:
        stop.set()
        await asyncio.wait_for(polling, 10)
        await runtime.tasks.drain()
        await inbound.tg.bot.session.close()
    assert await customer_lines(runtime, ANNA_CHAT) == 1
    assert await customer_lines(runtime, BEN_CHAT) == 1
    assert await claimed(runtime) == 2, "the unreadable one is skipped, not handled"
