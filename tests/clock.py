"""A clock tests can move forward, instead of sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.types import utcnow


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
