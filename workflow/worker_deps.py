"""What a worker is given and what it counts: its settings, dependencies, run figures.

Kept apart from the loop (`workflow.worker`) and the outcome recording
(`workflow.worker_outcomes`), which both use them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from storage.db import Database
from storage.types import utcnow
from workflow import backoff, queue
from workflow.retention_runs import Scheduler

WORKER = "worker"
RETRY_JITTER = 0.2  # a failed action comes back up to 20 % later, spreading a burst
Housekeeping = Callable[[Database, datetime], Awaitable[object]]
Observer = Callable[[str, str, float], None]  # kind, outcome, seconds (for metrics)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    lease: timedelta = queue.LEASE
    poll_seconds: float = 1.0
    backoff_base: float = queue.BACKOFF_BASE
    backoff_cap: float = queue.BACKOFF_CAP
    heartbeat_seconds: float | None = None  # default: a third of the lease
    max_backoff: float = 30.0  # longest wait between tries while the database is away


@dataclass(slots=True)
class WorkerDeps:
    """What a worker needs; built from settings by `bot.worker_process`."""

    db: Database
    secret: bytes
    public_url: str
    data_dir: Path
    clock: Callable[[], datetime] = utcnow
    config: WorkerConfig = field(default_factory=WorkerConfig)
    housekeeping: Sequence[Housekeeping] = ()
    progress: Callable[[str], None] | None = None
    retention: Scheduler | None = None
    observe: Observer | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)


@dataclass(slots=True)
class RunStats:
    done: int = 0
    retried: int = 0
    deferred: int = 0  # waiting for the customer (an erasure for an unfetched copy)
    failed: int = 0
    skipped: int = 0
    lost: int = 0


def error_name(exc: BaseException) -> str:
    """The error's type, and for a database error its SQLSTATE (40P01 deadlock, 57P01
    server shut down, 08006 connection lost): enough to tell causes apart in the log,
    with none of the message text, which can quote row values."""
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    return (
        f"{type(exc).__name__} (SQLSTATE {state})" if isinstance(state, str) else type(exc).__name__
    )


def away_wait(deps: WorkerDeps, failures: int) -> float:
    """Seconds to wait after `failures` failures in a row: poll, doubled each time, capped."""
    cap = max(deps.config.max_backoff, deps.config.poll_seconds)
    return backoff.seconds(max(failures, 0) + 1, base=deps.config.poll_seconds, cap=cap)
