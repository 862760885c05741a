"""Asking for a person records the wish where the privacy team looks: an agent alert."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import TranscriptMessage
from storage.privacy_models import AgentAlert, SupportCase
from tests.clock import FakeClock
from tests.webchat import WebChat
from workflow import alerts
from workflow.retention_runs import run_sweep


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
        "reason": "handover",
    }


async def test_a_support_case_keeps_its_transcript_until_its_alert_is_done(
    client: TestClient[Any, Any], runtime: Runtime, clock: FakeClock
) -> None:
    """The wish for a person is a support case: open while its alert is, then closed, and
    the transcript then ages out like any other (it used to be kept for ever)."""
    chat = await WebChat.open(client)
    await chat.say("I want to talk to a human")
    async with runtime.db.sessions() as session:
        [case] = (await session.scalars(select(SupportCase))).all()
        [alert] = (await session.scalars(select(AgentAlert))).all()
    assert (case.conversation_id, case.alert_id, case.closed_at) == (chat.id, alert.id, None)
    clock.advance(days=40)
    await run_sweep(runtime.db, clock=clock)
    assert await _messages(runtime, chat.id) > 0, "kept while the case is open"
    async with runtime.db.transaction() as session:
        assert await alerts.mark_done(session, [alert.id], clock()) == 1
    async with runtime.db.sessions() as session:
        closed = await session.get(SupportCase, case.id)
    assert closed is not None and closed.closed_at is not None
    clock.advance(days=1)
    await run_sweep(runtime.db, clock=clock)
    assert await _messages(runtime, chat.id) == 0, "gone once the case is closed"


async def _messages(runtime: Runtime, conversation_id: str) -> int:
    async with runtime.db.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(TranscriptMessage)
                .where(TranscriptMessage.conversation_id == conversation_id)
            )
            or 0
        )
