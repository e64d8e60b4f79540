"""Import profiles (the schema): a small YAML file that maps a CAD export onto the brief's call file.

Real call exports name and code things their own way (Sacramento's open dispatch data has
`Record_ID`, `Description`, `Beat`, dates only, Pacific time). A profile says how to turn one into
`calls.csv` (and, if wanted, a jurisdiction folder), so the normal intake reads it unchanged and
every decision about the mapping lives in one file a user can read and edit. Like the rules file
(`bridgehead/rules.py`), it is validated whole on loading: a bad key is one line naming it. The shipped
profiles sit beside it in `bridgehead/profiles/`; the conversion is `tasks/intake/profiles.py`.

Templates are Python `str.format` strings with bare field names only (`"SAC-{Record_ID}"`); a value
without braces names one source column. A template whose fields are not all filled gives a blank,
so a missing id never becomes a plausible-looking `"SAC-"`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import bridgehead
from models.common import CategoryCode
from models.contracts import FILE_COLUMNS

CALL_COLUMNS: tuple[str, ...] = FILE_COLUMNS["calls.csv"]

TIME_COLUMNS = ("received_at", "dispatched_at", "arrived_at", "closed_at")
RESPONSE_TIMES = ("dispatched_at", "arrived_at")  # left out of a date-only export
PROFILES_DIR = Path(bridgehead.__file__).parent / "profiles"
FIT_DEGREES = 1.0  # a linear coordinate fit holds near its origin only: farther positions are junk
ISO_OFFSET = r"\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"  # a time with its offset
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


CONSTANT = "="  # "=SDPD": the constant SDPD, for every row (a template names columns; this names none)


def template_fields(template: str) -> list[str]:
    """The source columns a template names; a plain column name is its own one field; a constant none."""
    if template.startswith(CONSTANT):
        return []
    if "{" not in template and "}" not in template:
        return [template]
    fields = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"bad template {template!r}: {exc}") from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field or spec or conversion or any(c in field for c in ".[]"):
            raise ValueError(f"bad template {template!r}: use bare column names only, like {{Record_ID}}")
        fields.append(field)
    return fields


Template = Annotated[str, Field(min_length=1)]


def _check_template(value: str) -> str:
    template_fields(value)
    return value


def _check_pattern(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regular expression {value!r}: {exc}") from exc
    return value


class Rule(BaseModel):
    """A condition on one source column: an exact value out of `codes`, or a `pattern` found in it."""

    model_config = ConfigDict(extra="forbid")
    column: str | None = None  # default: the rule set's column
    codes: list[str] = []
    pattern: str | None = None  # a Python regular expression, searched case-insensitively

    _pattern = field_validator("pattern")(_check_pattern)

    @model_validator(mode="after")
    def _one_condition(self) -> Rule:
        if bool(self.codes) == (self.pattern is not None):
            raise ValueError("give exactly one of `codes` (exact values) or `pattern` (a regex)")
        return self


class CategoryRule(Rule):
    category: CategoryCode


class CategoryRules(BaseModel):
    """First matching rule wins; no match gives `default`."""

    model_config = ConfigDict(extra="forbid")
    column: str
    rules: list[CategoryRule] = []
    default: CategoryCode = "other"  # type: ignore[assignment]


class PriorityRule(Rule):
    priority: int = Field(ge=1, le=4)


class PriorityRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    rules: list[PriorityRule] = []
    default: int = Field(default=3, ge=1, le=4)


class RedKeyword(Rule):
    """Words appended to the summary where the rule matches, so the grading engine's red rules see them."""

    add: str = Field(min_length=1)


class RedKeywords(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    rules: list[RedKeyword] = []


class Rewrite(BaseModel):
    """A regex replacement in the summary, e.g. 'NO WEAPON' → 'UNARMED' so no keyword matches a negation."""

    model_config = ConfigDict(extra="forbid")
    pattern: str
    replace: str = ""

    _pattern = field_validator("pattern")(_check_pattern)


class Drop(Rule):
    """Rows the profile leaves out before anything is read (a cancelled or duplicate call): a condition
    on `column` (required here), as a rule's."""

    column: str


class Derived(BaseModel):
    """A column made from another, for templates and rules: what `pattern` finds in `from` (its first
    group if it has one), blank where it finds nothing. "^(\\d)" on a beat "121" gives division "1"."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    column: str = Field(min_length=1)
    source: str = Field(alias="from", min_length=1)
    pattern: str

    _pattern = field_validator("pattern")(_check_pattern)


class Lookup(BaseModel):
    """A column looked up in a CSV file the city ships beside its export (call type → description):
    `from`'s value found in the file's `key` column gives its `value` column; `default` otherwise."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    column: str = Field(min_length=1)
    source: str = Field(alias="from", min_length=1)
    file: Path  # relative to the profile's folder, or absolute
    key: str = Field(min_length=1)
    value: str = Field(min_length=1)
    default: str = ""


class Position(BaseModel):
    """A place on the globe in degrees (jurisdiction.center), whatever the export's coordinates are."""

    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Origin(BaseModel):
    x: float
    y: float
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Coordinates(BaseModel):
    """Source coordinates: degrees (`x` = longitude, `y` = latitude), or planar with a linear fit.

    lat = origin.lat + (y - origin.y) / units_per_degree.y; lon likewise with x. Zero, blank or
    non-numeric values are missing, and so is a fitted position more than a degree from the origin.
    """

    model_config = ConfigDict(extra="forbid")
    x: str
    y: str
    origin: Origin | None = None
    units_per_degree: dict[Literal["x", "y"], float] | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> Coordinates:
        if (self.origin is None) != (self.units_per_degree is None):
            raise ValueError("give `origin` and `units_per_degree` together (or neither, for degrees)")
        if self.units_per_degree is not None and set(self.units_per_degree) != {"x", "y"}:
            raise ValueError("units_per_degree needs both `x` and `y`")
        return self


class Jurisdiction(BaseModel):
    """How rows name their community and station; what a generated jurisdiction looks like."""

    model_config = ConfigDict(extra="forbid")
    community: Template  # → the call's community_code
    station: Template  # → the community's station_code
    community_name: Template
    station_name: Template
    district: str = Field(min_length=1)  # the stations' district (city or county) name
    kind: Literal["community", "village"] = "community"
    population: int = Field(default=15000, ge=0)
    patrol_officers: int = Field(default=2, ge=0)  # per station, besides one chief
    units: int = Field(default=2, ge=0)  # patrol units per station
    unit_members: int = Field(default=2, ge=1)
    coordinates: Coordinates | None = None
    center: Position | None = None  # where to put places with no coordinates (default: the mean)

    _templates = field_validator("community", "station", "community_name", "station_name")(_check_template)


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    history: bool = False  # every row is a past record: a blank closed_at becomes received_at


class ImportProfile(BaseModel):
    """A validated profile; see the README section 'Import profiles' for each key."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    timezone: str
    date_only: bool = False
    time_format: str | None = None  # strptime format of the source times; default ISO 8601
    blanks: list[str] = []  # values that mean "nothing here" in this export ("null", "N/A"): read as blank
    columns: dict[str, Template]
    category: CategoryRules | None = None
    priority: PriorityRules | None = None
    red_keywords: RedKeywords | None = None
    summary_rewrites: list[Rewrite] = []
    jurisdiction: Jurisdiction | None = None
    closed: Closed = Closed()
    drop: list[Drop] = []
    lookups: list[Lookup] = []
    derived: list[Derived] = []
    folder: Path | None = Field(default=None, exclude=True)  # where the profile was read from

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name like America/Los_Angeles"
            ) from exc
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        for key, template in value.items():
            if key not in CALL_COLUMNS:
                raise ValueError(
                    f"{key!r} is not a column of the brief's call file ({', '.join(CALL_COLUMNS)})"
                )
            try:
                template_fields(template)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _complete(self) -> ImportProfile:
        derived = {"category": self.category, "priority": self.priority, "community_code": self.jurisdiction}
        where = {"category": "category", "priority": "priority", "community_code": "jurisdiction.community"}
        for key, section in derived.items():
            if section is not None and key in self.columns:
                raise ValueError(f"columns.{key} and {where[key]} both set {key}: keep one")
        for key in ("call_id", "received_at", "address"):
            if key not in self.columns:
                raise ValueError(f"columns.{key} is required")
        for key in ("category", "community_code"):
            if key not in self.columns and derived[key] is None:
                raise ValueError(f"{key} needs columns.{key} or the `{where[key].split('.')[0]}` section")
        return self

    def source_columns(self) -> dict[str, str]:
        """Every source column the profile reads, with the first key that reads it (for error messages)."""
        used: dict[str, str] = {}
        for key, template in self.columns.items():
            for field in template_fields(template):
                used.setdefault(field, f"columns.{key}")
        for section, name in (
            (self.category, "category"),
            (self.priority, "priority"),
            (self.red_keywords, "red_keywords"),
        ):
            if section is not None:
                used.setdefault(section.column, f"{name}.column")
                for i, rule in enumerate(section.rules):
                    if rule.column:
                        used.setdefault(rule.column, f"{name}.rules.{i}.column")
        j = self.jurisdiction
        if j is not None:
            for key in ("community", "station", "community_name", "station_name"):
                for field in template_fields(getattr(j, key)):
                    used.setdefault(field, f"jurisdiction.{key}")
            if j.coordinates is not None:
                used.setdefault(j.coordinates.x, "jurisdiction.coordinates.x")
                used.setdefault(j.coordinates.y, "jurisdiction.coordinates.y")
        for i, rule in enumerate(self.drop):
            used.setdefault(rule.column, f"drop.{i}.column")
        made: list[tuple[str, Sequence[Lookup | Derived]]] = [
            ("lookups", self.lookups),
            ("derived", self.derived),
        ]
        for name, columns in made:
            for i, m in enumerate(columns):
                used.setdefault(m.source, f"{name}.{i}.from")
        return used

    def made_columns(self) -> set[str]:
        """The columns lookups and derived values add (not the export's own)."""
        made: list[Lookup | Derived] = [*self.lookups, *self.derived]
        return {m.column for m in made}


# --- loading ---------------------------------------------------------------------------------


def shipped_profiles() -> list[str]:
    """The profile names that come with Bridgehead (`bridgehead/profiles/*.yaml`)."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def _problems(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"]) or "profile"
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if err["type"] == "missing":
            parts.append(f"{where}: required but missing")
        elif err["type"] == "extra_forbidden":
            parts.append(f"{where}: not a profile key here")
        elif isinstance(got, str | int | float) and not isinstance(got, bool):
            parts.append(f"{where}: {msg} (got {got!r})")
        else:
            parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def parse_profile(data: Any, source: str = "profile") -> ImportProfile:
    """Validate a profile already read into Python; errors name the key that is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: an import profile is a YAML mapping of keys, not {type(data).__name__}")
    try:
        return ImportProfile.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{source}: not a valid import profile: {_problems(exc)}") from None


def load_profile(path_or_name: str | Path) -> ImportProfile:
    """Read a profile from a file path, or by the name of a shipped one (`sacramento`)."""
    path = Path(path_or_name)
    if not path.is_file():
        name = str(path_or_name)
        if not _NAME.match(name):
            raise FileNotFoundError(f"no import profile file {name}")
        path = PROFILES_DIR / f"{name}.yaml"
        if not path.exists():
            raise ValueError(f"no import profile named {name!r}: give a file or one of {shipped_profiles()}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    profile = parse_profile(data, str(path))
    profile.folder = path.parent.resolve()  # a lookup file is found beside its profile
    return profile


# --- converting ------------------------------------------------------------------------------
