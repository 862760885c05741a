"""Prometheus metrics. Counters are counted where things happen, per process (messages in
the web process, action attempts in the worker); what describes the database (requests,
queue, deadlines, retention) is read from it when `/metrics` is scraped, so every web
process reports the same shared truth and nothing is lost when a process restarts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from storage.db import Database
from storage.privacy_models import Action, Notification, PrivacyRequest
from workflow import lifecycle, retention, retention_runs
from workflow.lifecycle import ActionStatus

log = logging.getLogger(__name__)

DB_TIMEOUT = 5.0  # seconds a scrape waits for the database

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter(
    "privacybot_messages_total",
    "Customer messages handled, by channel.",
    ["channel"],
    registry=REGISTRY,
)
RESENT = Counter(
    "privacybot_messages_resent_total",
    "Customer messages sent again with the same client_id (a chat page retrying after a "
    "lost answer), answered from the transcript and not stored twice, by channel.",
    ["channel"],
    registry=REGISTRY,
)
TURN_SECONDS = Histogram(
    "privacybot_turn_seconds", "Time to answer one customer message.", registry=REGISTRY
)
ACTION_SECONDS = Histogram(
    "privacybot_action_seconds",
    "Time a worker spent on one action attempt, by kind (worker processes).",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
ACTIONS = Counter(
    "privacybot_actions_total",
    "Action attempts by kind and outcome: done, retried, failed, skipped, lost.",
    ["kind", "outcome"],
    registry=REGISTRY,
)


def observe_action(kind: str, outcome: str, seconds: float) -> None:
    """The worker's hook: one action attempt finished."""
    ACTION_SECONDS.labels(kind).observe(seconds)
    ACTIONS.labels(kind, outcome).inc()


# --- read from the database at scrape time ---------------------------------------------


@dataclass(frozen=True)
class DatabaseSnapshot:
    """The shared truth every web process reports alike, read in one short session."""

    requests: dict[tuple[str, str], int]
    queue_depth: int
    queue_oldest_age: float
    actions_running: int
    overdue: int
    notifications_pending: int
    retention: retention_runs.SweepTotals


async def read_database(db: Database, now: datetime) -> DatabaseSnapshot:
    """A handful of indexed counts; no query touches the account store's big tables."""
    async with db.sessions() as session:
        grouped = await session.execute(
            select(PrivacyRequest.kind, PrivacyRequest.status, func.count()).group_by(
                PrivacyRequest.kind, PrivacyRequest.status
            )
        )
        requests = {(kind, status): int(n) for kind, status, n in grouped}
        depth = await session.scalar(
            select(func.count()).select_from(Action).where(Action.status == ActionStatus.READY)
        )
        oldest = await session.scalar(
            select(Action.created_at)
            .where(Action.status == ActionStatus.READY)
            .order_by(Action.created_at)
            .limit(1)
        )
        running = await session.scalar(
            select(func.count()).select_from(Action).where(Action.status == ActionStatus.RUNNING)
        )
        overdue = await session.scalar(
            select(func.count())
            .select_from(PrivacyRequest)
            .where(PrivacyRequest.status.in_(sorted(lifecycle.OPEN)), PrivacyRequest.due_at < now)
        )
        pending = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == "pending")
        )
        sweeps = await retention_runs.totals(session)
    return DatabaseSnapshot(
        requests=requests,
        queue_depth=int(depth or 0),
        queue_oldest_age=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        actions_running=int(running or 0),
        overdue=int(overdue or 0),
        notifications_pending=int(pending or 0),
        retention=sweeps,
    )


class DatabaseCollector(Collector):
    """Prometheus families from one snapshot (None: the database could not be read)."""

    def __init__(self, snapshot: DatabaseSnapshot | None) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield GaugeMetricFamily(
            "privacybot_database_up",
            "1 when this process could read the database for this scrape, else 0.",
            value=0 if snap is None else 1,
        )
        if snap is None:
            return
        requests = GaugeMetricFamily(
            "privacybot_requests",
            "Privacy requests, by kind and status.",
            labels=["kind", "status"],
        )
        for kind in lifecycle.KINDS:
            for status in lifecycle.STATUSES:
                requests.add_metric([kind, status], snap.requests.get((kind, status), 0))
        yield requests
        yield GaugeMetricFamily(
            "privacybot_queue_depth",
            "Actions waiting to run (due now or waiting for a retry).",
            value=snap.queue_depth,
        )
        yield GaugeMetricFamily(
            "privacybot_queue_oldest_age_seconds",
            "Age of the oldest waiting action (0 when none waits).",
            value=snap.queue_oldest_age,
        )
        yield GaugeMetricFamily(
            "privacybot_actions_running",
            "Actions a worker is running now.",
            value=snap.actions_running,
        )
        yield GaugeMetricFamily(
            "privacybot_requests_overdue",
            "Open requests past their legal due date.",
            value=snap.overdue,
        )
        yield GaugeMetricFamily(
            "privacybot_notifications_pending",
            "Customer notifications waiting to be delivered.",
            value=snap.notifications_pending,
        )
        rows = CounterMetricFamily(
            "privacybot_retention_rows",
            "Rows changed by all retention sweeps so far, by category (from the audit log).",
            labels=["category"],
        )
        last = GaugeMetricFamily(
            "privacybot_retention_last_sweep_rows",
            "Rows changed by the most recent retention sweep, by category.",
            labels=["category"],
        )
        for category in retention.CATEGORIES:
            rows.add_metric([category], snap.retention.totals.get(category, 0))
            last.add_metric([category], snap.retention.last_counts.get(category, 0))
        yield rows
        yield last
        if snap.retention.last_at is not None:
            yield GaugeMetricFamily(
                "privacybot_retention_last_sweep_timestamp_seconds",
                "When the most recent retention sweep ended (Unix time).",
                value=snap.retention.last_at.timestamp(),
            )


async def exposition(db: Database, now: datetime) -> bytes:
    """This process's counters plus the database gauges, in the Prometheus text format."""
    snapshot: DatabaseSnapshot | None
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            snapshot = await read_database(db, now)
    except Exception as exc:  # a scrape must answer even while the database is away
        log.warning("metrics: database not readable: %s", type(exc).__name__)
        snapshot = None
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(DatabaseCollector(snapshot))
    return generate_latest(REGISTRY) + generate_latest(scrape)
