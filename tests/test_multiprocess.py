"""Two web processes and three workers on one PostgreSQL behave like one bot.

Real processes (`python -m bot serve`, `python -m bot worker`), real HTTP, one database,
one shared DATA_DIR. Several customers talk at the same time, each turn of a
conversation going to the other web process, so the dialog only works if its state
lives in the database. Their codes arrive by email at a local SMTP stand-in; an agent
approves; the workers compete for the actions. Then the data is counted: one request
per conversation, one action run once per request, one code email per customer, one
completion message per customer, and one retention sweep between the three workers.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Account, Person, SmsMessage, TranscriptMessage
from storage.privacy_models import AuditEntry, PrivacyRequest
from storage.types import utcnow
from tests.faults.processes import BotProcess, Fleet, wait_until
from tests.faults.scenario import Opened, approve, customer_lines, outcome, scalar
from tests.notifier.standins import SmtpStandIn
from workflow.identity import parse_code

pytestmark = pytest.mark.postgres

# the fault tests' fixtures: a fresh PostgreSQL database and real processes
from tests.faults.conftest import data_dir, fleet, http, pg, pg_url  # noqa: E402, F401

CUSTOMERS = ["anna@example.dk", "ben@example.com", "carl@example.org", "dora@example.org"]
ASK = "I would like a copy of my data"


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    server = SmtpStandIn()
    server.start()
    yield server
    server.stop()


async def _add_customers(db: Database) -> None:
    """Two more accounts besides the demo's, so four customers ask at once."""
    async with db.transaction() as session:
        for email in CUSTOMERS[2:]:
            account = Account(company=f"{email} ApS", status="active", created_at=utcnow())
            session.add(account)
            await session.flush()
            session.add(
                Person(
                    account_id=account.id,
                    name=email.split("@")[0].title(),
                    email=email,
                    preferred_language="en",
                    is_primary=True,
                    created_at=utcnow(),
                )
            )


class Customer:
    """One customer in the web chat; each message goes to the next web process in turn."""

    def __init__(self, client: aiohttp.ClientSession, webs: list[BotProcess], first: int) -> None:
        self.http, self.webs, self.turn = client, webs, first
        self.id = self.token = ""

    def _web(self) -> BotProcess:
        self.turn += 1
        return self.webs[self.turn % len(self.webs)]

    async def open(self) -> None:
        async with self.http.post(f"{self._web().url}/webchat/api/conversations") as response:
            assert response.status == 201
            body = await response.json()
        self.id, self.token = body["conversation_id"], body["token"]

    async def send(self, **body: str) -> list[str]:
        url = f"{self._web().url}/webchat/api/conversations/{self.id}/messages"
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.post(url, json=body, headers=headers) as response:
            assert response.status == 200, await response.text()
            replies = (await response.json())["replies"]
        return [button["value"] for reply in replies for button in reply["buttons"]]


async def _code_for(smtp: SmtpStandIn, email: str) -> str:
    async def arrived() -> bool:
        return any(email in to for _frm, to, _msg in smtp.messages)

    await wait_until(arrived, f"the code email to {email}")
    message = next(msg for _frm, to, msg in smtp.messages if email in to)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    code = parse_code(body.get_content())
    assert code is not None
    return code


async def _verified_request(customer: Customer, smtp: SmtpStandIn, email: str) -> None:
    await customer.open()
    assert (await customer.send(text=ASK))[:2] == ["confirm", "cancel"]
    await customer.send(button="confirm")
    await customer.send(text=email)
    await customer.send(text=await _code_for(smtp, email))


async def test_two_web_processes_and_three_workers_behave_like_one(
    pg: Database,  # noqa: F811 - the fixtures imported above
    fleet: Fleet,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    smtp: SmtpStandIn,
) -> None:
    await _add_customers(pg)
    outbound = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
    }
    webs = [fleet.web(f"web-{n}", **outbound) for n in (1, 2)]
    public = {"PUBLIC_URL": webs[0].url}
    workers = [fleet.worker(f"worker-{n}", **outbound, **public) for n in (1, 2, 3)]
    for web in webs:
        await web.wait_ready(http)
    for worker in workers:
        await worker.wait_log("worker started")

    customers = [Customer(http, webs, n) for n in range(len(CUSTOMERS))]
    await asyncio.gather(
        *(_verified_request(c, smtp, e) for c, e in zip(customers, CUSTOMERS, strict=True))
    )
    async with pg.sessions() as session:
        requests = list(await session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)))
    assert sorted(r.conversation_id for r in requests) == sorted(c.id for c in customers)
    assert {r.status for r in requests} == {"awaiting_approval"}
    await asyncio.gather(*(approve(pg, r.reference) for r in requests))

    opened = [Opened(r.reference, r.id, r.conversation_id or "", r.account_id) for r in requests]

    async def all_notified() -> bool:
        results = [await outcome(pg, o) for o in opened]
        return all(r.completed_notices == ["delivered"] for r in results)

    await wait_until(all_notified, "every request to be carried out and the customer told")
    # the export a worker wrote downloads from the web process its link does not name
    link = await _first_download(pg, opened[0])
    assert urlsplit(link).netloc == urlsplit(webs[0].url).netloc
    async with http.get(f"{webs[1].url}{urlsplit(link).path}") as response:
        assert response.status == 200
    for process in [*webs, *workers]:
        process.signal(signal.SIGTERM)
    assert [await p.exit_code() for p in [*webs, *workers]] == [0] * 5

    # one request, one action run once, one completion message, per customer
    for result in [await outcome(pg, o) for o in opened]:
        assert result.status == "completed"
        assert result.actions == [("done", 1)]
        assert result.action_done_audits == 1
        assert result.completed_audits == 1
        assert result.transcript_notices == 1
        assert result.contact_notices == ["delivered"]
    # besides its code, a customer's email gets only the outcome notices of its own request
    # (copies of what the chat said, to the contact the customer verified)
    async with pg.sessions() as session:
        rows = await session.execute(
            select(PrivacyRequest.reference, Person.email).join(
                Person, Person.account_id == PrivacyRequest.account_id
            )
        )
        owner = {str(reference): str(email) for reference, email in rows.all()}
    codes, noticed = [], set()
    for _f, to, message in smtp.messages:
        about = [ref for ref in owner if ref in str(message["Subject"])]
        if about:
            assert to == [owner[about[0]]], "a notice goes to its own customer only"
            noticed.add(about[0])
        else:
            codes.append(to[0])
    assert sorted(codes) == sorted(CUSTOMERS), "one code each"
    assert noticed == set(owner)
    per_worker = [w.log().count(": done\n") for w in workers]
    assert sum(per_worker) == len(requests), per_worker
    # each conversation's whole dialog is there, in order, across both web processes
    for customer in customers:
        lines = await customer_lines(pg, customer.id)
        assert len(lines) == 4 and lines[0] == ASK, lines
    # one retention sweep between three workers, old SMS anonymised, recent untouched
    sweeps = await scalar(
        pg,
        select(func.count()).select_from(AuditEntry).where(AuditEntry.event == "retention_sweep"),
    )
    assert sweeps == 1
    cutoff = utcnow() - timedelta(days=30)
    old_left = await scalar(
        pg,
        select(func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.sent_at < cutoff - timedelta(hours=1), SmsMessage.anonymised_at.is_(None)
        ),
    )
    recent_changed = await scalar(
        pg,
        select(func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.sent_at > cutoff + timedelta(hours=1), SmsMessage.anonymised_at.is_not(None)
        ),
    )
    assert (old_left, recent_changed) == (0, 0)
    print(
        f"\nmultiprocess: {len(requests)} requests; actions done per worker {per_worker}; 1 sweep"
    )


async def _first_download(db: Database, opened: Opened) -> str:
    async with db.sessions() as session:
        text = await session.scalar(
            select(TranscriptMessage.text).where(
                TranscriptMessage.conversation_id == opened.conversation_id,
                TranscriptMessage.text.contains("/downloads/"),
            )
        )
    assert text is not None
    return next(word for word in text.split() if "/downloads/" in word)
