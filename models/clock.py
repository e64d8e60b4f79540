"""The stations' clock: days start at midnight in the jurisdiction's time zone (default Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from models.common import LOCAL_TZ


def day_start(day: date) -> datetime:
    """The sweep's "as of": midnight at the start of the day in the jurisdiction's time zone, as UTC."""
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def local_date(at: datetime) -> date:
    """The stations' calendar day of a stored (UTC) time."""
    return at.astimezone(LOCAL_TZ).date()
