"""Issue 13.1 with real processes: guesses spread over two web processes and several
conversations hit the per-account cap at exactly ten.

Two `python -m bot serve` processes on one PostgreSQL; every message of every
conversation goes to the other process in turn. The account holder's real code
(delivered by email to a local SMTP stand-in) is refused once ten wrong codes were
typed; the holder is emailed, the agents alerted, and the database holds ten failures.
"""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.privacy_models import AgentAlert
from storage.security_models import VerificationFailure
from tests.faults.processes import BotProcess, Fleet, wait_until
from tests.faults.scenario import scalar
from tests.notifier.standins import SmtpStandIn
from workflow.identity import parse_code

pytestmark = pytest.mark.postgres

# the fault tests' fixtures: a fresh PostgreSQL database and real processes
from tests.faults.conftest import data_dir, fleet, http, pg, pg_url  # noqa: E402, F401
from tests.notifier.conftest import smtp  # noqa: E402, F401 - the SMTP stand-in

BEN = "ben@example.com"
LOCKED = "Too many wrong codes have been typed"


class Chat:
    """One web chat conversation; each call goes to the next web process in turn."""

    def __init__(self, client: aiohttp.ClientSession, webs: list[BotProcess], first: int) -> None:
        self.http, self.webs, self.turn = client, webs, first
        self.id = self.token = ""
        self.served_by: list[str] = []

    def _web(self) -> BotProcess:
        self.turn += 1
        web = self.webs[self.turn % len(self.webs)]
        self.served_by.append(web.name)
        return web

    async def open(self) -> Chat:
        async with self.http.post(f"{self._web().url}/webchat/api/conversations") as response:
            assert response.status == 201
            body = await response.json()
        self.id, self.token = body["conversation_id"], body["token"]
        return self

    async def say(self, **body: str) -> str:
        url = f"{self._web().url}/webchat/api/conversations/{self.id}/messages"
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.post(url, json=body, headers=headers) as response:
            assert response.status == 200, await response.text()
            replies = (await response.json())["replies"]
        return "\n".join(reply["text"] for reply in replies)

    async def ask_for_code(self) -> str:
        await self.say(text="I would like a copy of my data")
        await self.say(button="confirm")
        return await self.say(text=BEN)


async def _emails_to(server: SmtpStandIn, address: str, count: int) -> list[str]:
    async def arrived() -> bool:
        return sum(address in to for _frm, to, _msg in server.messages) >= count

    await wait_until(arrived, f"{count} email(s) to {address}")
    bodies = []
    for _frm, to, message in server.messages:
        if address in to:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            bodies.append(body.get_content())
    return bodies


async def test_guesses_over_two_web_processes_and_many_conversations_stop_at_ten(
    pg: Database,  # noqa: F811 - the fixtures imported above
    fleet: Fleet,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    smtp: SmtpStandIn,  # noqa: F811
) -> None:
    outbound = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false"}
    webs = [fleet.web(f"web-{n}", **outbound) for n in (1, 2)]
    for web in webs:
        await web.wait_ready(http)

    holder = await Chat(http, webs, 0).open()
    assert "6-digit code" in await holder.ask_for_code()
    right = parse_code((await _emails_to(smtp, BEN, 1))[0])
    assert right is not None
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    answers: list[str] = []
    chats = []
    for n, tries in enumerate((4, 4, 2, 1)):  # four attacker conversations, both processes
        chat = await Chat(http, webs, n + 1).open()
        chats.append(chat)
        await chat.ask_for_code()
        for _ in range(tries):
            answers.append(await chat.say(text=wrong))
    assert [LOCKED in a for a in answers] == [False] * 9 + [True] * 2
    assert all("not right" in a for a in answers[:9])
    assert all({"web-1", "web-2"} <= set(c.served_by) for c in chats), "both processes served"
    assert LOCKED in await holder.say(text=right), "even the right code is refused now"

    failures = await scalar(pg, select(func.count()).select_from(VerificationFailure))
    assert failures == 10, "the tries after the tenth were refused, not counted"
    async with pg.sessions() as session:
        alerts = list(await session.scalars(select(AgentAlert.event)))
    assert alerts == ["code_locked"]
    emails = await _emails_to(smtp, BEN, 2)
    assert "10 times within an hour" in emails[-1], "the holder is told"
    print(f"\nguessing: {len(answers) + 1} guesses over 2 processes; {failures} were compared")
