"""The one back-off rule: doubling from `base`, capped, jitter only upwards and bounded."""

from __future__ import annotations

from datetime import timedelta

from bot.notifier.dispatch import Policy
from workflow import backoff


def test_doubles_from_base_up_to_the_cap() -> None:
    waits = [backoff.seconds(n, base=2.0, cap=20.0) for n in range(0, 7)]
    assert waits == [2.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_a_long_run_of_failures_stays_at_the_cap() -> None:
    assert backoff.seconds(10_000, base=1.0, cap=30.0) == 30.0


def test_jitter_adds_at_most_its_fraction() -> None:
    waits = {backoff.seconds(3, base=2.0, cap=600.0, jitter=0.2) for _ in range(200)}
    assert all(8.0 <= wait <= 9.6 for wait in waits)
    assert len(waits) > 1


def test_outbox_policy_uses_it() -> None:
    policy = Policy(backoff_base=timedelta(seconds=10), backoff_cap=timedelta(minutes=10))
    assert [policy.backoff(n) for n in (1, 2, 3)] == [
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=40),
    ]
    assert policy.backoff(20) == timedelta(minutes=10)
