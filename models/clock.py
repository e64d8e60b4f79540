"""The stations' clock: days start at midnight in the jurisdiction's time zone (default Asia/Shanghai).

Every local-time helper lives here, so the review, the rewards, the sweep and the commands count the
same days; "now" is `models.common.utcnow` (the real clock, or a live simulation's)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from models.common import LOCAL_TZ, ZONE, utcnow


def day_start(day: date) -> datetime:
    """The sweep's "as of": midnight at the start of the day in the jurisdiction's time zone, as UTC."""
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def local_date(at: datetime) -> date:
    """The stations' calendar day of a stored (UTC) time."""
    return at.astimezone(LOCAL_TZ).date()


def today() -> date:
    """Today as the stations count days (the jurisdiction's time zone)."""
    return local_date(utcnow())


def not_future(day: date) -> date:
    """A day is swept once it has begun: sweeping ahead would write notices for visits not yet due
    and mark days finished that the real mornings would then skip."""
    if day > today():
        raise ValueError(f"{day} has not come yet (today is {today()} in {ZONE}): it cannot be swept")
    return day
