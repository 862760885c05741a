"""`/metrics` speaks Prometheus and counts messages by channel."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.webchat import WebChat


async def _samples(
    client: TestClient[Any, Any],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_web_chat_messages_are_counted(client: TestClient[Any, Any]) -> None:
    key = ("privacybot_messages_total", (("channel", "webchat"),))
    before = (await _samples(client)).get(key, 0.0)
    chat = await WebChat.open(client)
    await chat.send(button="handover")
    await chat.send(button="handover")
    after = await _samples(client)
    assert after[key] == before + 2
    assert after[("privacybot_turn_seconds_count", ())] >= 2
