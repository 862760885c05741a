"""Executors carry out one right against the account store.

The contract every executor keeps (the worker relies on it):
- Idempotent and resumable: running it again after a crash at any point finishes the
  job without doing any part twice. Work in batches that are each committed, and
  make every batch a no-op when its work is already done.
- It returns an `ExecutorResult`: `effects` for the audit log (counts and categories,
  never raw personal data) and `notice` parameters for the customer's notification
  (the worker writes both in the transaction that completes the action, so the
  customer is notified exactly once).
- It never formats chat text: customer-facing documents (the access summary, the
  erasure receipt) are files, written in `ctx.language` with `locales`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.db import Database


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What an executor may use. `details` holds the request's validated parameters."""

    db: Database
    request_id: int
    reference: str
    kind: str
    account_id: int
    language: str
    details: dict[str, Any]
    secret: bytes
    public_url: str
    data_dir: Path
    now: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class ExecutorResult:
    effects: dict[str, Any] = field(default_factory=dict)
    notice: dict[str, Any] = field(default_factory=dict)
    # the request stays open until an agent answers it (what the system cannot do itself)
    needs_person: bool = False
    # route ("email", "sms") -> address for the outcome notice, when the account will no
    # longer hold it at delivery (an erasure); never audited
    contacts: dict[str, str] = field(default_factory=dict)


Executor = Callable[[ActionContext], Awaitable[ExecutorResult]]


class Deferred(Exception):
    """The action may not run yet (it waits for the customer, not for a fault): the
    worker puts it back until `until` without counting an attempt."""

    def __init__(self, until: datetime, why: str) -> None:
        super().__init__(why)
        self.until = until
        self.why = why


class PermanentFailure(Exception):
    """The action cannot succeed by retrying (e.g. the account no longer exists).

    The message is shown to agents, so it must not contain personal data.
    """
