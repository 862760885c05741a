"""The whole path: a web chat objection, the worker, and the answer in the transcript."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.runtime import Runtime
from storage.privacy_models import PrivacyRequest
from tests.test_conversation_auth import latest_code
from tests.webchat import WebChat
from tests.workflow.conftest import make_deps
from workflow import worker


async def test_objection_from_web_chat_is_carried_out_and_answered_once(
    client: TestClient[Any, Any], runtime: Runtime, tmp_path: Path
) -> None:
    chat = await WebChat.open(client)
    await chat.send("I object to marketing emails and profiling")
    await chat.send(button="confirm")
    await chat.send("ben@example.com")
    code = await latest_code(runtime.db, "ben@example.com")
    registered = await chat.say(code)  # the purposes were named: nothing more to ask
    assert "PR-" in registered, registered
    async with runtime.db.sessions() as session:
        request = await session.scalar(select(PrivacyRequest))
    assert request is not None and request.status == "approved"
    assert request.conversation_id == chat.id

    clock = runtime.services.clock
    deps = make_deps(runtime.db, clock, tmp_path)
    assert await worker.run_worker(deps, stop=asyncio.Event(), concurrency=2, once=True) == 0
    assert await worker.run_worker(deps, stop=asyncio.Event(), concurrency=2, once=True) == 0
    texts = [m["text"] for m in await chat.transcript() if m["from"] == "bot"]
    done = [t for t in texts if "no longer use your data" in t]
    assert len(done) == 1 and request.reference in done[0]
    assert sum(request.reference in t for t in texts) == 2, "registered once, completed once"
