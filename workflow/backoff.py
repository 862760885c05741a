"""How long to wait before trying again: the one back-off rule of the bot.

Every retry loop (queued actions, outbox messages, the worker while the database is
away) waits `base`, then twice that, four times ... never more than `cap`. `jitter`
adds up to that fraction at random, so processes that failed together do not all come
back at the same instant.
"""

from __future__ import annotations

import random
from datetime import timedelta

_MAX_DOUBLINGS = 30  # 2**30 x base is past any cap; keeps the float finite


def seconds(failures: int, *, base: float, cap: float, jitter: float = 0.0) -> float:
    """The wait after the `failures`-th failure in a row (1 for the first): base x 2^(n-1),
    at most `cap`, then plus up to `jitter` x that at random."""
    doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
    wait = min(cap, base * 2**doublings)
    if jitter:
        wait *= 1 + random.random() * jitter  # noqa: S311 - spreading retries, not crypto
    return float(wait)


def delay(failures: int, *, base: float, cap: float, jitter: float = 0.0) -> timedelta:
    """`seconds` as a timedelta, for a `next attempt at` column."""
    return timedelta(seconds=seconds(failures, base=base, cap=cap, jitter=jitter))
