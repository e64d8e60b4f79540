"""What a review (复盘问效) covers: its scope and its period, with the windows it is compared against.

A period is one of `2026-W47` (an ISO week), `2026-11` (a month), `28d:2026-11-29` (the N days ending
on that date, any N), `ytd:2026-11-29` (1 January to that date). Every window is a run of whole local
days (Asia/Shanghai). The previous window (环比) is the same number of days just before — the
previous week, the previous calendar month, the N days before — and last year's (同比) the same dates
a year earlier (the same ISO week of last year for a week).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session, col

from models.common import LOCAL_TZ
from models.jurisdiction import Community, Station

PERIOD_FORMS = "2026-W47 (ISO week), 2026-11 (month), 28d:2026-11-29 (N days to a date), ytd:2026-11-29"
SCOPE_FORMS = "city, district:CODE (610302 or 渭滨区), station:CODE, community:CODE"


@dataclass(frozen=True)
class Window:
    """Whole local days, `first` to `last` inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL_TZ)

    @property
    def end(self) -> datetime:
        """The first moment after the window."""
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL_TZ)

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


def between(column: Any, window: Window, dates: bool = False) -> Any:
    """In the window: its whole local days for a date column, from its start to its end for a time."""
    if dates:
        return and_(column >= window.first, column <= window.last)
    return and_(column >= window.start, column < window.end)


@dataclass(frozen=True)
class Period:
    text: str
    current: Window
    previous: Window
    last_year: Window

    @property
    def windows(self) -> dict[str, Window]:
        return {"current": self.current, "previous": self.previous, "last_year": self.last_year}


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month(year: int, month: int) -> Window:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Window(first, following - timedelta(days=1))


def _week(year: int, week: int) -> Window:
    first = date.fromisocalendar(year, week, 1)
    return Window(first, first + timedelta(days=6))


def parse_period(text: str) -> Period:
    """The period and its comparison windows; a ValueError that lists the forms allowed otherwise."""
    raw = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", raw, re.IGNORECASE):
            year, week = int(m[1]), int(m[2])
            current = _week(year, week)
            last_week = _week(year - 1, min(week, date(year - 1, 12, 28).isocalendar().week))
            return Period(f"{year}-W{week:02d}", current, _shift(current, -7), last_week)
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", raw):
            year, month = int(m[1]), int(m[2])
            current = _month(year, month)
            previous = _month(year - (month == 1), 12 if month == 1 else month - 1)
            return Period(f"{year}-{month:02d}", current, previous, _month(year - 1, month))
        if m := re.fullmatch(r"(\d+)d:(\d{4}-\d{2}-\d{2})", raw, re.IGNORECASE):
            n, last = int(m[1]), date.fromisoformat(m[2])
            if n < 1:
                raise ValueError("a period of 0 days")
            current = Window(last - timedelta(days=n - 1), last)
            return Period(f"{n}d:{last}", current, _shift(current, -n), _year_before(current))
        if m := re.fullmatch(r"ytd:(\d{4}-\d{2}-\d{2})", raw, re.IGNORECASE):
            last = date.fromisoformat(m[1])
            current = Window(date(last.year, 1, 1), last)
            return Period(f"ytd:{last}", current, _shift(current, -current.days), _year_before(current))
    except (ValueError, OverflowError) as e:
        raise ValueError(f"period {text!r} is not a real period ({e}); use {PERIOD_FORMS}") from None
    raise ValueError(f"period {text!r} is not understood; use {PERIOD_FORMS}")


def _shift(window: Window, days: int) -> Window:
    return Window(window.first + timedelta(days=days), window.last + timedelta(days=days))


def _year_before(window: Window) -> Window:
    return Window(year_earlier(window.first), year_earlier(window.last))


def last_full_week(before: date) -> str:
    """The last ISO week that ends before `before` (the Monday review's default)."""
    sunday = before - timedelta(days=before.isoweekday())
    year, week, _ = sunday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Scope:
    """Where a review looks: the communities it counts, and the level below it that it ranks."""

    text: str
    kind: str  # city | district | station | community
    code: str | None
    name: str
    communities: tuple[str, ...]
    units: dict[str, str]  # the level ranked below the scope: code -> name
    unit_of: dict[str, str]  # community code -> unit code

    @property
    def slug(self) -> str:
        return self.kind if self.code is None else f"{self.kind}-{self.code}"


def district_code(station_code: str, district: str) -> str:
    """A district's code is the six-digit prefix of its stations' codes (610302 = 渭滨区), the
    national division code; a jurisdiction coded otherwise (Sacramento) is grouped by the district
    its stations.csv names."""
    prefix = station_code[:6]
    return prefix if prefix.isdigit() and len(prefix) == 6 else district


def parse_scope(session: Session, text: str) -> Scope:
    """The scope, resolved against the jurisdiction; a ValueError that says what is allowed otherwise."""
    kind, _, code = text.strip().partition(":")
    kind, code = kind.lower(), code.strip()
    rows = session.execute(
        select(
            col(Community.community_code),
            col(Community.name),
            col(Station.station_code),
            col(Station.name),
            col(Station.district),
        )
        .join(Station)
        .order_by(col(Community.community_code))
    ).all()
    if not rows:
        raise ValueError("the jurisdiction is empty: load it first (bridgehead jurisdiction load DIR)")

    def pick(keep: Any, level: str) -> Scope:
        chosen = [r for r in rows if keep(r)]
        if not chosen:
            raise ValueError(f"scope {text!r}: there is no {kind} {code!r}; use {SCOPE_FORMS}")
        unit = {
            "station": lambda r: (r[2], r[3]),
            "district": lambda r: (district_code(r[2], r[4]), r[4]),
            "community": lambda r: (r[0], r[1]),
        }[level]
        districts = sorted({district_code(r[2], r[4]) for r in chosen})
        if kind == "district" and len(districts) > 1:
            raise ValueError(
                f"scope {text!r}: {code!r} names {len(districts)} districts; give one of {districts}"
            )
        canonical = districts[0] if kind == "district" else code  # 渭滨区 -> 610302
        name = {
            "city": "全市",
            "district": chosen[0][4],
            "station": chosen[0][3],
            "community": chosen[0][1],
        }[kind]
        return Scope(
            text=f"{kind}:{canonical}" if kind != "city" else "city",
            kind=kind,
            code=canonical if kind != "city" else None,
            name=name,
            communities=tuple(r[0] for r in chosen),
            units=dict(unit(r) for r in chosen),
            unit_of={r[0]: unit(r)[0] for r in chosen},
        )

    if kind == "city" and not code:
        return pick(lambda r: True, "district")
    if kind == "district" and code:
        return pick(lambda r: code in (district_code(r[2], r[4]), r[4]), "station")
    if kind == "station" and code:
        return pick(lambda r: r[2] == code, "community")
    if kind == "community" and code:
        return pick(lambda r: r[0] == code, "community")
    raise ValueError(f"scope {text!r} is not understood; use {SCOPE_FORMS}")
