"""`privacybot demo seed --history`: a year of past privacy requests, for the dashboard.

Every request goes through the workflow's own functions with a clock set in the past:
`requests.open_request`, `decisions.approve/reject/extend/answer`, the customer's
`cancel_by_customer`, and the worker's `claim_and_start` + `process`, which run the real
executors against small history accounts. So the audit chain verifies afterwards, and
the figures are what the system itself recorded. Weekly retention sweeps over the last
twelve weeks run the same way. The plan is drawn from a fixed seed: every machine gets
the same history (relative to the day it is seeded).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from storage.db import Database
from storage.demo_seed import HISTORY_COMPANIES, seed_history_accounts
from storage.privacy_models import AgentAlert, Notification, PrivacyRequest
from workflow import decisions, lifecycle, requests, worker
from workflow.approvals import Agent, identity_ref
from workflow.lifecycle import Status
from workflow.retention_runs import run_sweep

SEED = 2026
PER_MONTH = 24
AGENTS = ("mette", "jonas")
KINDS = (
    ("access", 30),
    ("erasure", 12),
    ("objection", 16),
    ("portability", 10),
    ("rectification", 12),
    ("restriction", 8),
    ("human_review", 12),
)
CHANNELS = (("webchat", 55), ("telegram", 20), ("slack", 20), ("console", 5))
OUTCOMES = (("on_time", 74), ("late", 7), ("extended", 8), ("rejected", 7), ("cancelled", 4))
DETAILS: dict[str, dict[str, Any]] = {
    "rectification": {"field": "company", "value": "Nyt Navn ApS"},
    "objection": {"purposes": ["marketing_email", "profiling"]},
    "human_review": {"decision": "Your sender name was blocked by the automatic filter."},
}
REASONS = {
    ("extended", "da"): (
        "Udtrækket dækker flere års beskeder og kræver mere tid.",
        "Vi venter på oplysninger fra vores regnskabssystem.",
    ),
    ("extended", "en"): (
        "The export covers several years of messages and needs more time.",
        "We are waiting for records from our accounting system.",
    ),
    ("rejected", "da"): (
        "Vi kunne ikke bekræfte, at du administrerer kontoen.",
        "Fakturaerne skal gemmes efter bogføringsloven.",
    ),
    ("rejected", "en"): (
        "We could not confirm that you administer this account.",
        "The invoices must be kept under the Bookkeeping Act.",
    ),
}


@dataclass
class HistoryResult:
    created: bool
    requests: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    sweeps: int = 0


@dataclass
class _Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    names, weights = zip(*table, strict=True)
    return str(rng.choices(names, weights)[0])


@dataclass(frozen=True, slots=True)
class _Planned:
    received: datetime
    kind: str
    channel: str
    outcome: str  # on_time | late | extended | rejected | cancelled | open | overdue
    account: int
    language: str


def _plan(
    rng: random.Random, accounts: list[tuple[int, str]], now: datetime, per_month: int
) -> list[_Planned]:
    """A year of requests, oldest first; the last month's are partly still open."""
    planned: list[_Planned] = []
    erased: set[int] = set()
    for n in range(per_month * 12):
        days = rng.uniform(4, 365)
        received = (now - timedelta(days=days)).replace(second=0, microsecond=0)
        kind = _pick(rng, KINDS)
        account, language = rng.choice([a for a in accounts if a[0] not in erased])
        outcome = _pick(rng, OUTCOMES)
        if days < 28 and rng.random() < 0.5:
            outcome = "open"
        if n < 2:  # two requests nobody decided in time: the dashboard's overdue ones
            received, outcome, kind = now - timedelta(days=38 + 3 * n), "overdue", "access"
        if kind == "erasure" and len(erased) < len(accounts) // 2:
            erased.add(account)
        elif kind == "erasure":
            kind = "access"  # half the history accounts stay, to keep making requests
        planned.append(_Planned(received, kind, _pick(rng, CHANNELS), outcome, account, language))
    planned.sort(key=lambda p: p.received)
    # an erased account makes no later request
    seen: set[int] = set()
    kept = []
    for p in planned:
        if p.account in seen:
            continue
        if p.kind == "erasure":
            seen.add(p.account)
        kept.append(p)
    return kept


class _Replay:
    def __init__(
        self, db: Database, secret: bytes, data_dir: Path, public_url: str, now: datetime
    ) -> None:
        self.db, self.secret, self.now = db, secret, now
        self.clock = _Clock(now)
        self.deps = worker.WorkerDeps(
            db=db, secret=secret, public_url=public_url, data_dir=data_dir, clock=self.clock
        )
        self.agents = [Agent.from_identity(secret, name) for name in AGENTS]

    async def open(self, p: _Planned, n: int) -> PrivacyRequest:
        self.clock.now = p.received
        async with self.db.transaction() as session:
            return await requests.open_request(
                session,
                kind=p.kind,
                account_id=p.account,
                conversation_id=None,
                channel=p.channel,
                language=p.language,
                verified_via="email_code" if n % 3 else "sms_code",
                details=dict(DETAILS.get(p.kind, {})),
                requester_ref=identity_ref(self.secret, f"{p.channel}:history-{n}"),
                now=p.received,
                said_in_turn=True,
            )

    async def approve(self, reference: str, moment: datetime) -> None:
        self.clock.now = moment
        for agent in self.agents:
            async with self.db.transaction() as session:
                found = await lifecycle.load(session, reference=reference)
                if found.status != Status.AWAITING_APPROVAL:
                    return
                await decisions.approve(session, reference, agent, moment)

    async def finish(self, reference: str, kind: str, moment: datetime) -> None:
        """A worker runs at `moment` and carries out everything due (this request's action
        too); an agent then answers a human review."""
        self.clock.now = moment
        while (found := await worker.claim_and_start(self.deps, "demo-history")) is not None:
            await worker.process(self.deps, *found)
        if kind != "human_review":
            return
        async with self.db.transaction() as session:
            if (await lifecycle.load(session, reference=reference)).status == Status.IN_PROGRESS:
                await decisions.answer(
                    session,
                    reference,
                    self.agents[0],
                    "We reviewed it and lifted the block.",
                    moment,
                )


async def _replay(replay: _Replay, rng: random.Random, planned: list[_Planned]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for n, p in enumerate(planned):
        request = await replay.open(p, n)
        ref, t0 = request.reference, p.received
        outcome = p.outcome
        if outcome == "cancelled":
            async with replay.db.transaction() as session:
                await requests.cancel_by_customer(session, ref, p.account, t0 + timedelta(hours=20))
        elif outcome in ("open", "overdue"):
            pass
        elif outcome == "rejected" and request.status == Status.AWAITING_APPROVAL:
            why = rng.choice(REASONS[("rejected", p.language)])
            async with replay.db.transaction() as session:
                await decisions.reject(session, ref, replay.agents[1], why, t0 + timedelta(days=3))
        else:
            days = {"late": rng.uniform(32, 45), "extended": rng.uniform(35, 55)}
            done = t0 + timedelta(days=days.get(outcome, rng.uniform(0.2, 20)))
            if done > replay.now - timedelta(hours=1):  # not yet: the request is still open
                outcomes["open"] += 1
                continue
            if outcome == "extended" and request.status == Status.AWAITING_APPROVAL:
                why = rng.choice(REASONS[("extended", p.language)])
                async with replay.db.transaction() as session:
                    await decisions.extend(
                        session, ref, replay.agents[0], why, 1, t0 + timedelta(days=18)
                    )
            else:
                outcome = "late" if outcome == "late" else "on_time"
            await replay.approve(ref, done - timedelta(hours=2))
            await replay.finish(ref, p.kind, done)
        outcomes[
            outcome if outcome != "rejected" or request.status != Status.APPROVED else "on_time"
        ] += 1
    return outcomes


async def seed_history(
    db: Database,
    *,
    secret: bytes,
    data_dir: Path,
    public_url: str,
    now: datetime,
    sweeps: int = 12,
    per_month: int = PER_MONTH,
) -> HistoryResult:
    """A year of past requests on the history accounts; nothing when they already have some."""
    async with db.transaction() as session:
        ids = await seed_history_accounts(session, now=now)
        done = await session.scalar(
            select(PrivacyRequest.id).where(PrivacyRequest.account_id.in_(ids)).limit(1)
        )
    if done is not None:
        return HistoryResult(created=False)
    accounts = [(ids[i], HISTORY_COMPANIES[i][1]) for i in range(len(ids))]
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    planned = _plan(rng, accounts, now, per_month)
    replay = _Replay(db, secret, data_dir, public_url, now)
    outcomes = await _replay(replay, rng, planned)
    await _settle(db, ids)
    for week in range(sweeps, 0, -1):
        await run_sweep(db, clock=_Clock(now - timedelta(days=7 * week)), data_dir=data_dir)
    return HistoryResult(True, len(planned), dict(outcomes), sweeps)


async def _settle(db: Database, accounts: list[int]) -> None:
    """The past is over: the customers were told then, and closed requests' alerts are done."""
    async with db.transaction() as session:
        history = select(PrivacyRequest.id).where(PrivacyRequest.account_id.in_(accounts))
        closed = history.where(PrivacyRequest.status.in_(sorted(lifecycle.CLOSED)))
        await session.execute(
            update(Notification)
            .where(Notification.request_id.in_(history), Notification.status == "pending")
            .values(status="delivered", delivered_at=Notification.created_at)
        )
        await session.execute(
            update(AgentAlert)
            .where(AgentAlert.request_id.in_(closed), AgentAlert.status != "done")
            .values(status="done", delivered_at=AgentAlert.created_at)
        )
