"""Vocabulary and field types shared by every family of models.

Input files are read as text, so the contract types accept blanks, Chinese labels and local
times and turn them into one canonical form: codes, lists and timezone-aware UTC. JSON Lines may
bring typed values instead of text; those must already have the field's type (`typed`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Colour(StrEnum):
    """四色预警: the four colours, in rising order of urgency."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"

    @property
    def rank(self) -> int:
        return list(Colour).index(self)


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
    """A timestamp without an offset is Asia/Shanghai local time (the brief's rule)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


FUTURE_TOLERANCE = timedelta(hours=1)  # clocks drift; a record from later than that is a bad row


def _not_future(value: datetime | None) -> datetime | None:
    """A record cannot come from the future: a row dated 2030 would open a risk that every later
    signal at its address joins, and skew every response time."""
    if value is not None and value > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise ValueError(f"{value.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} (Asia/Shanghai) is in the future")
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
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


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
            raise ValueError(f"{name} is before {start.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} (Asia/Shanghai)")


def local_text(at: datetime, minutes: bool = False) -> str:
    """A stored (UTC) time as the stations read it: Asia/Shanghai, to the second or the minute."""
    shown = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(LOCAL_TZ)
    return shown.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")
