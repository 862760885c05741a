"""The web chat JSON API contract, including every error case."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.webchat import WebChat, button_values

Client = TestClient[Any, Any]


async def test_open_conversation_returns_unguessable_id_and_token(client: Client) -> None:
    first = await WebChat.open(client)
    second = await WebChat.open(client)
    assert first.id != second.id and first.token != second.token
    assert len(first.id) >= 20 and len(first.token) >= 40


async def test_message_gets_replies_with_buttons_and_lands_in_the_transcript(
    client: Client,
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send("Hello there")
    assert replies and all(set(reply) >= {"text", "buttons"} for reply in replies)
    assert "access" in button_values(replies)
    transcript = await chat.transcript()
    assert [m["from"] for m in transcript] == ["customer"] + ["bot"] * len(replies)
    assert transcript[0]["text"] == "Hello there"
    assert [m["seq"] for m in transcript] == list(range(1, len(transcript) + 1))
    assert transcript[1]["text"] == replies[0]["text"]
    assert all(m["created_at"].endswith("+00:00") for m in transcript)
    assert await chat.transcript(after=transcript[-1]["seq"]) == []
    assert await chat.transcript(after=1) == transcript[1:]


async def test_pressed_button_is_shown_by_its_label(client: Client) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send("hello")
    label = next(b["label"] for r in replies for b in r["buttons"] if b["value"] == "handover")
    await chat.send(button="handover")
    customer_lines = [m["text"] for m in await chat.transcript() if m["from"] == "customer"]
    assert customer_lines == ["hello", label]


async def _status(
    client: Client, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    response = await client.request(method, path, **kwargs)
    body = await response.json()
    return response.status, body


async def test_missing_or_wrong_token_is_401(client: Client) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {chat.token}"},
    ):
        status, body = await _status(client, "POST", path, json={"text": "hi"}, headers=headers)
        assert status == 401 and "token" in body["error"].lower()
        status, body = await _status(client, "GET", path, headers=headers)
        assert status == 401
    other = await WebChat.open(client)
    status, _ = await _status(client, "GET", path, headers=other.headers)
    assert status == 401, "another conversation's token must not open this one"


async def test_unknown_conversation_is_404(client: Client) -> None:
    chat = await WebChat.open(client)
    status, body = await _status(
        client,
        "POST",
        "/webchat/api/conversations/nope/messages",
        json={"text": "hi"},
        headers=chat.headers,
    )
    assert status == 404 and body["error"]


async def test_malformed_bodies_are_400_and_nothing_is_stored(client: Client) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    bad_bodies: list[dict[str, Any]] = [
        {"data": b"{not json"},
        {"data": b"[1, 2]"},
        {"json": {}},
        {"json": {"text": ""}},
        {"json": {"text": "   "}},
        {"json": {"text": 5}},
        {"json": {"text": "hi", "button": "confirm"}},
        {"json": {"button": ""}},
        {"json": {"button": ["confirm"]}},
    ]
    for kwargs in bad_bodies:
        status, body = await _status(client, "POST", path, headers=chat.headers, **kwargs)
        assert status == 400, kwargs
        assert isinstance(body["error"], str) and body["error"]
    assert await chat.transcript() == []


async def test_text_over_4000_characters_is_413(client: Client) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    status, body = await _status(
        client, "POST", path, json={"text": "a" * 4001}, headers=chat.headers
    )
    assert status == 413 and "4,000" in body["error"] and "4,001" in body["error"]
    assert await chat.transcript() == []
    replies = await chat.send("a" * 4000)
    assert replies, "exactly 4000 characters is accepted"


async def test_a_text_too_long_is_answered_in_the_conversations_language(
    client: Client,
) -> None:
    chat = await WebChat.open(client, locale="da")
    status, body = await _status(
        client,
        "POST",
        f"/webchat/api/conversations/{chat.id}/messages",
        json={"text": "ø" * 5000},
        headers={**chat.headers, "Accept-Language": "en-GB"},
    )
    assert status == 413
    assert body["error"].startswith("Din besked er for lang") and "5.000" in body["error"]


async def test_bad_after_parameter_is_400(client: Client) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    for after in ("x", "-1", str(2**31), str(2**63), str(2**64), "9" * 5000, "1e3"):
        status, body = await _status(
            client, "GET", path, params={"after": after}, headers=chat.headers
        )
        assert status == 400 and body["error"], after
    assert await chat.transcript(after=2**31 - 1) == [], "the largest message number is fine"


async def test_a_lone_surrogate_in_the_text_is_replaced_not_a_server_error(
    client: Client,
) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    raw = b'{"text": "\\ud800abc \\udfff"}'
    response = await client.post(
        path, data=raw, headers={**chat.headers, "Content-Type": "application/json"}
    )
    assert response.status == 200, await response.text()
    customer = [m["text"] for m in await chat.transcript() if m["from"] == "customer"]
    assert customer == ["\ufffdabc \ufffd"]
    paired = b'{"text": "smile \\ud83d\\ude00"}'  # a valid pair stays one character
    response = await client.post(
        path, data=paired, headers={**chat.headers, "Content-Type": "application/json"}
    )
    assert response.status == 200
    customer = [m["text"] for m in await chat.transcript() if m["from"] == "customer"]
    assert customer[-1] == "smile \U0001f600"
    status, body = await _status(
        client, "POST", path, data=b'{"button": "\\ud800"}', headers=chat.headers
    )
    assert status == 400 and body["error"]


async def test_open_with_a_locale_answers_in_it(client: Client) -> None:
    chat = await WebChat.open(client, locale="da")
    replies = await chat.send(button="handover")
    assert replies
    status, body = await _status(
        client, "POST", "/webchat/api/conversations", json={"locale": "fr"}
    )
    assert status == 400 and body["error"]


async def test_chat_page_is_served(client: Client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert "text/html" in response.headers["Content-Type"]
    assert "/static/chat.js" in await response.text()


async def test_flooding_one_conversation_gets_429_with_retry_after(client: Client) -> None:
    chat = await WebChat.open(client)
    path = f"/webchat/api/conversations/{chat.id}/messages"
    statuses = []
    for _ in range(21):
        response = await client.post(path, json={"button": "handover"}, headers=chat.headers)
        statuses.append(response.status)
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "wait" in (await response.json())["error"]
    other = await WebChat.open(client)
    assert await other.send(button="handover"), "another conversation is not limited"
