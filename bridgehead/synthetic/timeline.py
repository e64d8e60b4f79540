"""The two years the generator covers, their seasons and hours, and how times are written.

Times are handled as int64 "local seconds": Asia/Shanghai wall-clock time counted from
1970-01-01 00:00 as if it were UTC. Shanghai has had a fixed +08:00 offset since 1991, so
writing such a value with a literal ``+08:00`` suffix is exact, and all arithmetic stays
vectorised integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

DAY = 86_400
OFFSET = "+08:00"
YEAR_DAYS = 365

#: Spring Festival (春节) dates; labour-debt disputes peak in the weeks before it.
# fmt: off
SPRING_FESTIVAL = {
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25),
    2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
    2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}
# fmt: on

_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def spring_festival(year: int) -> date:
    """Spring Festival of ``year`` (5 February as a fallback outside the table)."""
    return SPRING_FESTIVAL.get(year, date(year, 2, 5))


@dataclass(frozen=True)
class Windows:
    """The previous year [end-730d, end-365d) and the current year [end-365d, end)."""

    end: date

    @property
    def start(self) -> date:
        return self.end - timedelta(days=2 * YEAR_DAYS)

    @property
    def current_start(self) -> date:
        return self.end - timedelta(days=YEAR_DAYS)

    @property
    def n_days(self) -> int:
        return 2 * YEAR_DAYS

    @property
    def start_sec(self) -> int:
        return day_number(self.start) * DAY

    @property
    def current_start_sec(self) -> int:
        return day_number(self.current_start) * DAY

    @property
    def end_sec(self) -> int:
        return day_number(self.end) * DAY

    def dates(self) -> np.ndarray:
        """All 730 days as ``datetime64[D]``."""
        first = np.datetime64(self.start.isoformat(), "D")
        return first + np.arange(self.n_days)

    def window_of(self, seconds: np.ndarray) -> np.ndarray:
        """0 for the previous year, 1 for the current year."""
        return (np.asarray(seconds) >= self.current_start_sec).astype(np.int64)

    def manifest(self) -> dict[str, dict[str, str]]:
        return {
            "previous": {"start": self.start.isoformat(), "end": self.current_start.isoformat()},
            "current": {"start": self.current_start.isoformat(), "end": self.end.isoformat()},
        }


def last_before(end: date, month: int, day: int) -> date:
    """The most recent ``month``/``day`` strictly before ``end``."""
    candidate = date(end.year, month, day)
    return candidate if candidate < end else date(end.year - 1, month, day)


def local_seconds(moment: datetime) -> int:
    """A naive Shanghai wall-clock datetime as local seconds."""
    return day_number(moment.date()) * DAY + moment.hour * 3600 + moment.minute * 60 + moment.second


def to_iso(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """ISO 8601 strings with the +08:00 offset; blank where ``valid`` is false."""
    sec = np.asarray(seconds, dtype=np.int64)
    text = np.datetime_as_string(sec.astype("datetime64[s]"), unit="s").astype(object) + OFFSET
    if valid is not None:
        text[~np.asarray(valid, dtype=bool)] = ""
    return text


def ymd(seconds: np.ndarray) -> np.ndarray:
    """``YYYYMMDD`` of each time, for ids."""
    days = (np.asarray(seconds, dtype=np.int64) // DAY).astype("datetime64[D]")
    return np.strings.replace(np.datetime_as_string(days), "-", "")


# --- seasons -------------------------------------------------------------------------------------


def _calendar_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Month (1-12), weekday (0 = Monday) and days until the next Spring Festival."""
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekday = (dates.astype(np.int64) + 3) % 7
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    festivals = {y: day_number(spring_festival(int(y))) for y in range(years.min(), years.max() + 2)}
    this_year = np.array([festivals[y] for y in years.tolist()], dtype=np.int64)
    next_year = np.array([festivals[y + 1] for y in years.tolist()], dtype=np.int64)
    day = dates.astype(np.int64)
    until = np.where(this_year >= day, this_year - day, next_year - day)
    return month, weekday, until


def day_weights(dates: np.ndarray, category: str) -> np.ndarray:
    """Relative weight of each day for signals of ``category`` (seasons, weekdays, festival)."""
    month, weekday, until = _calendar_parts(dates)
    since = _days_since_festival(dates)
    w = np.ones(dates.size)
    summer = np.isin(month, (6, 7, 8))
    shoulder = np.isin(month, (5, 9))
    winter = np.isin(month, (12, 1, 2))
    weekend_eve = np.isin(weekday, (4, 5))
    if category in ("public_order", "violence"):
        w *= np.where(summer, 1.45, np.where(shoulder, 1.2, np.where(winter, 0.8, 1.0)))
        w *= np.where(weekend_eve, 1.25, 1.0)
    elif category == "labor_debt":
        w *= np.where(winter, 1.5, 1.0)
        w *= np.where((until >= 1) & (until <= 45), 2.4, 1.0)
    elif category in ("family_neighbor", "marriage_romance"):
        w *= np.where(since <= 10, 1.5, 1.0)
        w *= np.where(summer, 1.15, 1.0)
    elif category == "land_property":
        w *= np.where(np.isin(month, (3, 4, 10)), 1.3, 1.0)
    elif category == "missing_person":
        w *= np.where(summer, 1.3, 1.0) * np.where(weekday >= 5, 1.2, 1.0)
    elif category == "traffic":
        w *= np.where(winter, 1.2, 1.0) * np.where(weekday >= 5, 0.9, 1.0)
    elif category == "visit":
        w *= np.where(weekday >= 5, 0.35, 1.0) * np.where(since <= 6, 0.4, 1.0)
    return w


def _days_since_festival(dates: np.ndarray) -> np.ndarray:
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    festival = np.array([day_number(spring_festival(int(y))) for y in years.tolist()], dtype=np.int64)
    since = dates.astype(np.int64) - festival
    return np.where(since >= 0, since, 10_000)


# --- hours ---------------------------------------------------------------------------------------

# fmt: off
_HOURS = {
    "call": [3, 2, 1.5, 1, 1, 1.2, 2, 3, 4, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 5, 5.5, 6, 7, 7.5, 7, 6,
             4.5],
    "night": [5, 4, 3, 2, 1, 1, 1, 1.5, 2, 2.5, 3, 3, 3, 3, 3, 3, 3.5, 4, 5, 6.5, 8, 8.5, 8, 6.5],
    "traffic": [1, 0.6, 0.5, 0.5, 0.6, 1, 2.5, 6, 7, 5, 4, 4, 4.5, 4, 4, 4.5, 5.5, 7, 7, 5, 4, 3, 2,
                1.5],
    "visit": [0, 0, 0, 0, 0, 0, 0, 0.2, 3, 6, 6, 5, 1, 0.5, 3, 6, 6, 5, 2, 1.5, 0.8, 0, 0, 0],
    "tip": [0.5, 0.3, 0.2, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 4, 4, 4, 3.5, 3.5, 4, 4, 4, 4, 3.5, 4, 4.5,
            4, 3, 1.5],
    "analysis": [0.5, 1, 4, 6, 4, 2, 0.5, 0.5, 1, 2.5, 2.5, 2, 1, 1, 2, 2, 2, 1.5, 0.5, 0.2, 0.2,
                 0.2, 0.2, 0.2],
    "case": [0.5, 0.4, 0.3, 0.2, 0.2, 0.3, 0.6, 1.5, 3.5, 5, 5, 4.5, 3, 3, 4.5, 5, 5, 4.5, 3, 2.5,
             2, 1.5, 1, 0.8],
}
# fmt: on


def hour_profile(kind: str, category: str | None = None) -> np.ndarray:
    """Probability of each hour of the day for a channel (calls depend on the category)."""
    if kind == "call" and category in ("public_order", "violence"):
        kind = "night"
    elif kind == "call" and category == "traffic":
        kind = "traffic"
    p = np.asarray(_HOURS[kind], dtype=float)
    return p / p.sum()


def sample_seconds_of_day(rng: np.random.Generator, n: int, profile: np.ndarray) -> np.ndarray:
    """Seconds into the day drawn from an hourly profile (uniform inside the hour)."""
    hours = rng.choice(24, size=n, p=profile)
    return hours.astype(np.int64) * 3600 + rng.integers(0, 3600, n)


def sample_days(
    rng: np.random.Generator, n: int, weights: np.ndarray, lo: int = 0, hi: int | None = None
) -> np.ndarray:
    """Day indices in [lo, hi) drawn with the given per-day weights."""
    hi = weights.size if hi is None else hi
    w = weights[lo:hi]
    return lo + rng.choice(w.size, size=n, p=w / w.sum())
