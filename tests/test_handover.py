"""Asking for a person records the wish where the privacy team looks: an agent alert."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.runtime import Runtime
from storage.privacy_models import AgentAlert
from tests.webchat import WebChat


async def test_a_handover_wish_raises_one_alert_without_personal_data(
    client: TestClient[Any, Any], runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    first = await chat.say("Jeg vil gerne tale med et menneske, min mail er anna@example.dk")
    second = await chat.say("Kan jeg tale med en person?")
    assert "support@" in first and "kø" in second, (first, second)
    async with runtime.db.sessions() as session:
        found = (await session.scalars(select(AgentAlert))).all()
    assert [(a.event, a.status) for a in found] == [("handover", "pending")]
    assert found[0].params == {
        "channel": "webchat",
        "conversation_id": chat.id,
        "language": "da",
        "verified": False,
    }
