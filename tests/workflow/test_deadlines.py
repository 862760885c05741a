"""Deadline arithmetic: one calendar month, clamped to month end; days left; reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow import deadlines


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(2027, 1, 31), at(2027, 2, 28)),  # not a leap year: clamped to the 28th
        (at(2028, 1, 31), at(2028, 2, 29)),  # leap year
        (at(2028, 1, 30), at(2028, 2, 29)),
        (at(2027, 1, 15), at(2027, 2, 15)),
        (at(2027, 3, 31), at(2027, 4, 30)),
        (at(2027, 12, 31), at(2028, 1, 31)),  # across the year end
        (at(2100, 1, 29), at(2100, 2, 28)),  # 2100 is not a leap year
        (at(2000, 1, 29), at(2000, 2, 29)),  # 2000 is
    ],
)
def test_due_date_is_one_calendar_month_clamped_to_month_end(
    received: datetime, due: datetime
) -> None:
    assert deadlines.due_date(received) == due


def test_extension_counts_from_receipt_so_clamping_does_not_accumulate() -> None:
    received = at(2027, 1, 31)
    assert deadlines.due_date(received, 1) == at(2027, 3, 31)
    assert deadlines.due_date(received, 2) == at(2027, 4, 30)
    assert deadlines.add_months(at(2027, 11, 30), 3) == at(2028, 2, 29)


def test_add_months_keeps_the_time_of_day() -> None:
    moment = datetime(2027, 5, 31, 23, 59, 59, 999, tzinfo=UTC)
    assert deadlines.add_months(moment, 1) == datetime(2027, 6, 30, 23, 59, 59, 999, tzinfo=UTC)


def test_days_left_and_overdue() -> None:
    due = at(2027, 2, 28)
    assert deadlines.days_left(due, at(2027, 2, 21)) == 7
    assert deadlines.days_left(due, at(2027, 2, 28, 9)) == 0
    assert not deadlines.is_overdue(due, at(2027, 2, 28, 9))
    assert deadlines.is_overdue(due, at(2027, 2, 28, 11))
    assert deadlines.days_left(due, at(2027, 3, 2)) == -2


def test_reminder_is_due_seven_days_before_and_after_the_deadline() -> None:
    due = at(2027, 2, 28)
    assert deadlines.reminder_due(due, due - timedelta(days=8)) is None
    assert deadlines.reminder_due(due, due - timedelta(days=7)) == "deadline_soon"
    assert deadlines.reminder_due(due, due + timedelta(seconds=1)) == "deadline_passed"
