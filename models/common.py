"""Vocabulary and field types shared by every family of models.

Input files are read as text, so the contract types accept blanks, Chinese labels and local
times and turn them into one canonical form: codes, lists and timezone-aware UTC. JSON Lines may
bring typed values instead of text; those must already have the field's type (`typed`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError


def _jurisdiction_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise SystemExit(
            f"BRIDGEHEAD_TIMEZONE={name!r} is not a time zone: give an IANA name such as Asia/Shanghai "
            "or America/Los_Angeles"
        ) from None


# The jurisdiction's time zone (Settings.timezone, read here once so every layer shares it): days,
# weeks, sweep days and every time shown. Set it once, before the first intake: stored days follow it.
LOCAL_TZ = _jurisdiction_zone(os.environ.get("BRIDGEHEAD_TIMEZONE") or "Asia/Shanghai")
ZONE = LOCAL_TZ.key


class SimulatedClock:
    """A clock that runs `speed` times faster than the real one from `anchor` (real) = `start` (simulated),
    and never ahead of the real clock: what `bridgehead simulate --live` gives the served flows.

    Written as `BRIDGEHEAD_CLOCK="<start> x<speed> since <anchor>"` (ISO times with their offset)."""

    def __init__(self, start: datetime, speed: float, anchor: datetime) -> None:
        self.start, self.speed, self.anchor = start.astimezone(UTC), speed, anchor.astimezone(UTC)

    @classmethod
    def parse(cls, text: str) -> SimulatedClock:
        try:
            start, speed, since, anchor = text.split()
            if since != "since" or not speed.startswith("x"):
                raise ValueError
            clock = cls(datetime.fromisoformat(start), float(speed[1:]), datetime.fromisoformat(anchor))
        except ValueError:
            raise ValueError(
                f"BRIDGEHEAD_CLOCK={text!r}: write '<simulated ISO time> x<speed> since <real ISO time>', "
                "e.g. '2026-11-30T05:50:00+08:00 x60 since 2026-12-03T12:00:00+00:00'"
            ) from None
        if clock.start.tzinfo is None or clock.anchor.tzinfo is None or clock.speed <= 0:
            raise ValueError(f"BRIDGEHEAD_CLOCK={text!r}: both times need their offset, the speed above 0")
        return clock

    def now(self) -> datetime:
        real = datetime.now(UTC)
        return min(real, self.start + (real - self.anchor) * self.speed)

    def __str__(self) -> str:
        return f"{self.start.isoformat()} x{self.speed:g} since {self.anchor.isoformat()}"


_UNSET = object()
_clock: Any = _UNSET


def use_clock(clock: SimulatedClock | None) -> None:
    """Run this process on `clock` (None: the real one)."""
    global _clock
    _clock = clock


def utcnow() -> datetime:
    """Now, on the process's clock: the real one, or a live simulation's (`use_clock`, or the
    BRIDGEHEAD_CLOCK setting read once here, so a flow run's own process keeps the time its server does)."""
    if _clock is _UNSET:
        text = os.environ.get("BRIDGEHEAD_CLOCK")
        use_clock(SimulatedClock.parse(text) if text else None)
    return datetime.now(UTC) if _clock is None else _clock.now()


class Colour(StrEnum):
    """四色预警: the four colours, in rising order of urgency."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"

    @property
    def rank(self) -> int:
        return _RANK[self.value]


_RANK = {c.value: i for i, c in enumerate(Colour)}


class Channel(StrEnum):
    """四个渠道: how a signal reached the station."""

    call = "call"  # 110 警情
    visit = "visit"  # 面对面走访
    analysis = "analysis"  # 数据研判
    tip = "tip"  # 线索举报


class Category(StrEnum):
    labor_debt = "labor_debt"
    family_neighbor = "family_neighbor"
    marriage_romance = "marriage_romance"
    land_property = "land_property"
    public_order = "public_order"
    violence = "violence"
    missing_person = "missing_person"
    fraud = "fraud"
    traffic = "traffic"
    other = "other"


CATEGORY_LABELS: dict[str, str] = {
    "劳资债务": "labor_debt",
    "家庭邻里": "family_neighbor",
    "婚恋情感": "marriage_romance",
    "土地物业": "land_property",
    "治安": "public_order",
    "暴力": "violence",
    "走失": "missing_person",
    "电诈": "fraud",
    "交通": "traffic",
    "其他": "other",
}

CRIMES = ("theft", "assault", "homicide", "telecom_fraud", "other_crime")

DISPUTE_CATEGORIES = frozenset(
    {
        Category.labor_debt,
        Category.family_neighbor,
        Category.marriage_romance,
        Category.land_property,
    }
)


# Criminal-case offences: the signal categories plus the crimes the review counts.
Offence = StrEnum(  # type: ignore[misc]
    "Offence", [(c.name, c.value) for c in Category] + [(o, o) for o in CRIMES]
)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, float) and value != value:  # NaN from a pandas frame
        return None
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _category_code(value: Any) -> Any:
    value = _strip(value)
    return CATEGORY_LABELS.get(value, value) if isinstance(value, str) else value


def _to_utc(value: datetime) -> datetime:
    """A timestamp without an offset is local time in the jurisdiction's time zone (the brief's rule)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 east of Greenwich, year 9999 west of it
        shown = value.isoformat(timespec="minutes")
        raise ValueError(f"{shown} is out of the range of dates a record can hold") from None


FUTURE_TOLERANCE = timedelta(hours=1)  # clocks drift; a record from later than that is a bad row


def _not_future(value: datetime | None) -> datetime | None:
    """A record cannot come from the future: a row dated 2030 would open a risk that every later
    signal at its address joins, and skew every response time."""
    if value is not None and value > utcnow() + FUTURE_TOLERANCE:
        raise ValueError(f"{value.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} ({ZONE}) is in the future")
    return value


def _iso_only(value: Any) -> Any:
    """ISO 8601 text only: pydantic would read a bare number as seconds since 1970."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        raise ValueError(f"not an ISO 8601 date and time: {value.strip()!r}")
    return value


def _json_kind(value: Any) -> str:
    """What a JSON value is, in words; never the value itself (it may be a phone number)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    kinds: dict[type, str] = {list: "a list", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def typed(kind: Any, expected: str) -> BeforeValidator:
    """CSV brings text, JSON Lines typed values. Text is parsed as it always was; any other value
    must already be `kind` in pydantic's strict mode, so a JSON number is never read as seconds
    since 1970, nor `true` as priority 1, nor `1` as true."""
    strict: TypeAdapter[Any] = TypeAdapter(kind, config=ConfigDict(strict=True))

    def check(value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        try:
            strict.validate_python(value)
        except ValidationError:
            raise PydanticCustomError(
                "json_type",
                "must be {expected}, not {given}",
                {"expected": expected, "given": _json_kind(value)},
            ) from None
        return value

    return BeforeValidator(check)


def _split_keys(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return sorted({k.strip() for k in value.split(";") if k.strip()})
    return value


def _bool_text(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes", "y", "是"}:
            return True
        if lowered in {"false", "0", "no", "n", "否"}:
            return False
    return value


Text = Annotated[str, BeforeValidator(_strip)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none), BeforeValidator(_strip)]
_ISO_TEXT = typed(datetime, "ISO 8601 text")
UtcTime = Annotated[
    datetime,
    AfterValidator(_to_utc),
    AfterValidator(_not_future),
    BeforeValidator(_iso_only),
    BeforeValidator(_strip),
    _ISO_TEXT,
]
OptionalUtcTime = Annotated[
    datetime | None,
    AfterValidator(lambda v: v and _to_utc(v)),
    AfterValidator(_not_future),
    BeforeValidator(_iso_only),
    _ISO_TEXT,
    BeforeValidator(_blank_to_none),
]
CategoryCode = Annotated[Category, BeforeValidator(_category_code)]
OffenceCode = Annotated[Offence, BeforeValidator(_category_code)]
PartyKeys = Annotated[list[str], BeforeValidator(_split_keys), BeforeValidator(_blank_to_none)]
_TRUE_FALSE = typed(bool, "true or false")
TextBool = Annotated[bool, BeforeValidator(_bool_text), _TRUE_FALSE]
OptionalTextBool = Annotated[
    bool | None, BeforeValidator(_bool_text), _TRUE_FALSE, BeforeValidator(_blank_to_none)
]
WholeNumber = Annotated[int | None, typed(int, "a whole number")]  # JSON: not true, not 2.0
Number = Annotated[float | None, typed(float, "a number")]  # JSON: not true


def join_keys(keys: list[str]) -> str | None:
    """Party keys as stored: sorted and ;-joined, or NULL when there are none."""
    return ";".join(sorted(set(keys))) or None


def not_before(start: datetime | None, **later: datetime | None) -> None:
    """Each of `later` (named as in the file) is at or after `start`: a call closed before it was
    received, or a case solved before it was filed, is a bad row, not a negative duration."""
    for name, value in later.items():
        if start is not None and value is not None and value < start:
            raise ValueError(f"{name} is before {start.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} ({ZONE})")


def local_text(at: datetime, minutes: bool = False) -> str:
    """A stored (UTC) time as the stations read it: local time, to the second or the minute."""
    shown = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(LOCAL_TZ)
    return shown.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")
