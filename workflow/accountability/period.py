"""The period a dashboard or report covers, and the buckets (months, days) it is cut into.

Months and days are counted in UTC on both backends (SQLite has no time zones), which
the page and the report say. A period is whole days: `first` to `last`, both included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Integer, cast, func
from sqlalchemy.orm import InstrumentedAttribute

When = ColumnElement[datetime] | InstrumentedAttribute[datetime]

DEFAULT_MONTHS = 12
MAX_DAYS = 3 * 366  # a longer period is refused: the daily charts would be unreadable


class PeriodError(ValueError):
    """The dates do not make a period (last before first, or longer than MAX_DAYS)."""


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError("the period ends before it starts")
        if (self.last - self.first).days >= MAX_DAYS:
            raise PeriodError(f"a period is at most {MAX_DAYS} days")

    @classmethod
    def default(cls, today: date) -> Period:
        """The last twelve months: from the first of the month eleven months ago to today."""
        index = today.year * 12 + today.month - 1 - (DEFAULT_MONTHS - 1)
        return cls(date(index // 12, index % 12 + 1, 1), today)

    @classmethod
    def between(cls, first: date | None, last: date | None, today: date) -> Period:
        """`first`..`last`, each defaulting to the default period's end."""
        default = cls.default(today if last is None else last)
        return cls(first or default.first, last or today)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)

    def months(self) -> list[str]:
        """Every month the period touches, as 'YYYY-MM'."""
        found, index = [], self.first.year * 12 + self.first.month - 1
        while index <= self.last.year * 12 + self.last.month - 1:
            found.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
            index += 1
        return found

    def days(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + timedelta(days=n)).isoformat() for n in range(count)]


def bucket(column: When, unit: str, dialect: str) -> ColumnElement[str]:
    """`column` as its UTC month ('YYYY-MM') or day ('YYYY-MM-DD'), in SQL."""
    if dialect == "postgresql":
        pattern = "YYYY-MM" if unit == "month" else "YYYY-MM-DD"
        return func.to_char(func.timezone("UTC", column), pattern)
    return func.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d", column)


def whole_days(since: When, until: When, dialect: str) -> ColumnElement[int]:
    """Whole days from `since` to `until` (rounded down), in SQL."""
    if dialect == "postgresql":
        seconds = func.extract("epoch", until - since)
        return cast(func.floor(seconds / 86400), Integer)
    return cast(func.julianday(until) - func.julianday(since), Integer)
