"""Hostile input: whatever arrives, the answer is a clear 4xx or a helpful reply, never a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.webchat import LIMITS
from bot.web.ratelimit import CLIENT_LIMIT
from tests.conftest import make_settings
from tests.live_server import LiveServer

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded", "")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(make_settings(database_url, tmp_path)).start()
    assert live.app is not None
    live.app[LIMITS].per_conversation.limit = 10**9  # flood limits tested elsewhere
    live.app[CLIENT_LIMIT].limit = 10**9
    yield live
    live.stop()


@pytest.fixture
def conversation(server: LiveServer) -> tuple[str, dict[str, str]]:
    status, body = server.request("POST", "/webchat/api/conversations")
    assert status == 201
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )


@FAST
@given(text=st.text(max_size=4100))
def test_any_text_gets_a_reply_or_a_clear_4xx(
    server: LiveServer, conversation: tuple[str, dict[str, str]], text: str
) -> None:
    conversation_id, headers = conversation
    status, body = server.request(
        "POST",
        f"/webchat/api/conversations/{conversation_id}/messages",
        json.dumps({"text": text}).encode(),
        {**headers, "Content-Type": "application/json"},
    )
    if status == 200:
        assert body["replies"] and all(reply["text"] for reply in body["replies"])
    else:
        assert status in (400, 413) and body["error"]


@FAST
@given(body=_json_values())
def test_any_json_body_gets_a_clear_answer(
    server: LiveServer, conversation: tuple[str, dict[str, str]], body: Any
) -> None:
    conversation_id, headers = conversation
    status, answer = server.request(
        "POST",
        f"/webchat/api/conversations/{conversation_id}/messages",
        json.dumps(body).encode(),
        {**headers, "Content-Type": "application/json"},
    )
    assert status in (200, 400, 413) and isinstance(answer, dict)


@FAST
@given(raw=st.binary(max_size=2000), content_type=st.sampled_from(CONTENT_TYPES))
def test_raw_bytes_and_any_content_type_get_a_clear_answer(
    server: LiveServer, conversation: tuple[str, dict[str, str]], raw: bytes, content_type: str
) -> None:
    conversation_id, headers = conversation
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    status, body = server.request(
        "POST",
        f"/webchat/api/conversations/{conversation_id}/messages",
        raw,
        {**headers, "Content-Type": content_type} if content_type else headers,
    )
    if isinstance(parsed, dict):
        assert status in (200, 400, 413)
    else:
        assert status == 400 and body["error"]


@FAST
@given(path=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60))
def test_any_path_answers_json_without_a_server_error(server: LiveServer, path: str) -> None:
    from urllib.parse import quote

    status, _ = server.request("GET", "/webchat/api/conversations/" + quote(path, safe="/"))
    assert status < 500


def test_oversized_body_is_refused(
    server: LiveServer, conversation: tuple[str, dict[str, str]]
) -> None:
    conversation_id, headers = conversation
    status, body = server.request(
        "POST",
        f"/webchat/api/conversations/{conversation_id}/messages",
        b'{"text": "' + b"a" * 200_000 + b'"}',
        {**headers, "Content-Type": "application/json"},
    )
    assert status == 413 and body["error"]


def test_unknown_paths_and_methods_answer_json(server: LiveServer) -> None:
    status, body = server.request("GET", "/no/such/page")
    assert status == 404 and body["error"]
    status, body = server.request("DELETE", "/webchat/api/conversations")
    assert status == 405 and body["error"]
