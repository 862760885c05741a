"""The retention sweep's settings: how it batches and how often a worker runs it.

Shared by `privacybot retention run` and the worker process, so a manual sweep and the
scheduled one follow the same policy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.config import Settings
from workflow import retention as rules
from workflow import retention_runs


def policy_from(settings: Settings) -> rules.RetentionPolicy:
    """How the sweep batches; the retention periods are the data map's (DATAMAP_PATH)."""
    del settings
    return rules.RetentionPolicy()


def scheduler_from(
    settings: Settings, progress: Callable[[str], None] | None = None
) -> retention_runs.Scheduler:
    """The worker's hourly sweep (RETENTION_INTERVAL_SECONDS)."""
    return retention_runs.Scheduler(
        interval=timedelta(seconds=settings.retention_interval_seconds),
        policy=policy_from(settings),
        data_dir=settings.data_dir,
        progress=progress,
    )
