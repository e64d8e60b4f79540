"""Import profiles: a small YAML file that maps a CAD export onto the brief's call file.

Real call exports name and code things their own way (Sacramento's open dispatch data has
`Record_ID`, `Description`, `Beat`, dates only, Pacific time). A profile says how to turn one into
`calls.csv` (and, if wanted, a jurisdiction folder), so the normal intake reads it unchanged and
every decision about the mapping lives in one file a user can read and edit.

Templates are Python `str.format` strings with bare field names only (`"SAC-{Record_ID}"`); a value
without braces names one source column. A template whose fields are not all filled gives a blank,
so a missing id never becomes a plausible-looking `"SAC-"`.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
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


class _Rule(BaseModel):
    """A condition on one source column: an exact value out of `codes`, or a `pattern` found in it."""

    model_config = ConfigDict(extra="forbid")
    column: str | None = None  # default: the rule set's column
    codes: list[str] = []
    pattern: str | None = None  # a Python regular expression, searched case-insensitively

    _pattern = field_validator("pattern")(_check_pattern)

    @model_validator(mode="after")
    def _one_condition(self) -> _Rule:
        if bool(self.codes) == (self.pattern is not None):
            raise ValueError("give exactly one of `codes` (exact values) or `pattern` (a regex)")
        return self


class CategoryRule(_Rule):
    category: CategoryCode


class CategoryRules(BaseModel):
    """First matching rule wins; no match gives `default`."""

    model_config = ConfigDict(extra="forbid")
    column: str
    rules: list[CategoryRule] = []
    default: CategoryCode = "other"  # type: ignore[assignment]


class PriorityRule(_Rule):
    priority: int = Field(ge=1, le=4)


class PriorityRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    rules: list[PriorityRule] = []
    default: int = Field(default=3, ge=1, le=4)


class RedKeyword(_Rule):
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


class Drop(_Rule):
    """Rows the profile leaves out before anything is read (a cancelled or duplicate call): a condition
    on `column` (required here), as a rule's."""

    column: str  # type: ignore[assignment]


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
        for name, made in (("lookups", self.lookups), ("derived", self.derived)):
            for i, m in enumerate(made):
                used.setdefault(m.source, f"{name}.{i}.from")
        return used

    def made_columns(self) -> set[str]:
        """The columns lookups and derived values add (not the export's own)."""
        return {m.column for m in [*self.lookups, *self.derived]}


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


def read_source(path: Path, profile: ImportProfile) -> pd.DataFrame:
    """The export's columns the profile reads, as stripped text with blanks as '', with the looked-up
    and derived columns added and the dropped rows left out (`attrs["dropped"]` counts them; the
    index keeps each row's position in the file).

    A column the profile names but the file lacks is a file-level error naming the profile key.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [str(c).strip() for c in df.columns]
    made = profile.made_columns()
    used = {col: key for col, key in profile.source_columns().items() if col not in made}
    missing = {col: key for col, key in used.items() if col not in df.columns}
    if missing:
        named = ", ".join(f"{col!r} (named by {key})" for col, key in missing.items())
        raise ValueError(f"{path.name} lacks columns the profile {profile.name!r} reads: {named}")
    out = pd.DataFrame({col: df[col].str.strip().astype(object) for col in used}, index=df.index)
    for lookup in profile.lookups:
        out[lookup.column] = out[lookup.source].map(_lookup_table(lookup, profile)).fillna(lookup.default)
    for d in profile.derived:
        found = out[d.source].str.extract(f"({d.pattern})", flags=re.IGNORECASE)
        out[d.column] = found.iloc[:, -1 if found.shape[1] > 1 else 0].fillna("").astype(object)
    dropped = np.zeros(len(out), dtype=bool)
    for rule in profile.drop:
        dropped |= _matches(out, rule, rule.column)
    kept = out[~dropped]
    kept.attrs["dropped"] = int(dropped.sum())
    return kept


def _lookup_table(lookup: Lookup, profile: ImportProfile) -> dict[str, str]:
    path = lookup.file if lookup.file.is_absolute() else (profile.folder or Path.cwd()) / lookup.file
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"lookups: cannot read {path}: {exc.strerror or exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    for column in (lookup.key, lookup.value):
        if column not in table.columns:
            raise ValueError(
                f"lookups: {path.name} has no column {column!r} (columns: {', '.join(table.columns)})"
            )
    return dict(zip(table[lookup.key].str.strip(), table[lookup.value].str.strip(), strict=True))


def render(df: pd.DataFrame, template: str, strict: bool = False) -> pd.Series:
    """A template filled for every row at once.

    A blank field drops out with the separator before it ("{number} {dir} {road}" with no direction
    is "1963 BONAVISTA WAY", not blank); the text before the first field and after the last stays,
    and a row whose fields are all blank is blank. `strict` (an id): blank wherever any field is."""
    if template.startswith(CONSTANT):
        return pd.Series(template[len(CONSTANT) :], index=df.index, dtype=object)
    if "{" not in template and "}" not in template:
        return df[template]
    parts = list(string.Formatter().parse(template))
    body = pd.Series("", index=df.index, dtype=object)
    started = np.zeros(len(df), dtype=bool)
    blank = np.zeros(len(df), dtype=bool)
    lead, tail = parts[0][0], parts[-1][0] if parts[-1][1] is None else ""
    for i, (literal, field, _, _) in enumerate(parts):
        if field is None:
            continue
        present = (df[field] != "").to_numpy()
        blank |= ~present
        separator = literal if i > 0 else ""
        body = body.where(~present, body + np.where(started, separator, "") + df[field])
        started |= present
    out = (lead + body + tail).where(started, "")
    return out.where(~blank, "") if strict else out


def _distinct(df: pd.DataFrame, columns: set[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct combinations of some columns, and each row's position among them.

    Rules run once per distinct value (Sacramento: 155 call types for 25,000 rows), then spread back.
    """
    cols = sorted(columns)
    if not cols or df.empty:
        return df.iloc[:1, :0].copy() if len(df) else df.iloc[:0, :0], np.zeros(len(df), dtype=int)
    codes = df.groupby(cols, sort=False).ngroup().to_numpy()
    return df.loc[~df.duplicated(cols), cols].reset_index(drop=True), codes


def _matches(df: pd.DataFrame, rule: _Rule, column: str) -> np.ndarray:
    values = df[rule.column or column]
    if rule.codes:
        return values.isin(rule.codes).to_numpy(dtype=bool)
    found = re.compile(rule.pattern or "", re.IGNORECASE).search
    return values.map(lambda v: found(v) is not None).to_numpy(dtype=bool)


def _select(df: pd.DataFrame, rules: CategoryRules | PriorityRules, attr: str) -> np.ndarray:
    """First matching rule's value per row (numpy.select), else the default."""
    default = str(rules.default)
    if not rules.rules:
        return np.full(len(df), default, dtype=object)
    conditions = [_matches(df, r, rules.column) for r in rules.rules]
    choices = [str(getattr(r, attr)) for r in rules.rules]
    return np.select(conditions, choices, default=default).astype(object)


def _summary(df: pd.DataFrame, profile: ImportProfile) -> pd.Series:
    """The summary text, rewritten, plus '(words)' from every red keyword rule that matched."""
    if "summary" in profile.columns:
        summary = render(df, profile.columns["summary"])
    else:
        summary = pd.Series("", index=df.index, dtype=object)
    for rw in profile.summary_rewrites:
        summary = summary.str.replace(rw.pattern, rw.replace, flags=re.IGNORECASE, regex=True)
    red = profile.red_keywords
    extra = pd.Series("", index=df.index, dtype=object)
    for rule in red.rules if red is not None else []:
        word = rf"\b{re.escape(rule.add)}\b" if rule.add.isascii() else re.escape(rule.add)  # as the rules do
        said = re.compile(word, re.IGNORECASE).search
        present = (summary + " " + extra).map(lambda v, said=said: said(v) is not None).to_numpy(dtype=bool)
        need = _matches(df, rule, red.column) & ~present  # type: ignore[union-attr]
        extra = extra.where(~need, extra + ", " + rule.add)
    extra = extra.str.removeprefix(", ")
    return (summary + " (" + extra + ")").str.strip().where(extra != "", summary)


def _derived(df: pd.DataFrame, profile: ImportProfile) -> dict[str, np.ndarray]:
    """category, priority and summary: functions of a few columns, so computed per distinct combination."""
    columns: set[str] = set()
    if "summary" in profile.columns:
        columns |= set(template_fields(profile.columns["summary"]))
    for section in (profile.category, profile.priority, profile.red_keywords):
        if section is not None:
            columns |= {section.column} | {r.column for r in section.rules if r.column}
    small, codes = _distinct(df, columns)
    derived = {"summary": _summary(small, profile).to_numpy(dtype=object)}
    if profile.category is not None:
        derived["category"] = _select(small, profile.category, "category")
    if profile.priority is not None:
        derived["priority"] = _select(small, profile.priority, "priority")
    return {key: values[codes] for key, values in derived.items()}


def _wall_times(raw: pd.Series, profile: ImportProfile) -> pd.Series:
    """Naive wall times in the profile zone; a value with an offset keeps its instant. NaT: unreadable."""
    zone = profile.timezone

    def parse(values: pd.Series, fmt: str) -> pd.Series:
        try:
            parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        except ValueError:  # offsets that differ from row to row
            parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
        return parsed.dt.tz_convert(zone).dt.tz_localize(None) if parsed.dt.tz is not None else parsed

    if profile.time_format:
        return parse(raw, profile.time_format)
    aware = raw.str.contains(ISO_OFFSET, na=False).to_numpy(dtype=bool)  # ISO 8601 may mix both kinds
    wall = parse(raw.where(~aware), "ISO8601")
    if aware.any():
        wall = wall.where(~aware, parse(raw.where(aware), "ISO8601"))
    return wall


def _times(values: pd.Series, profile: ImportProfile) -> pd.Series:
    """Source times as ISO 8601 with the profile zone's offset (DST-aware); blanks stay blank.

    An unreadable time is written as "unreadable time '...'" so the intake rejects that row and says why.
    An ambiguous wall time (the hour repeated when clocks go back) is taken as the first, summer one; a
    wall time that does not exist (skipped when clocks go forward) moves forward to the next valid one.
    """
    if values.empty:
        return values
    blank = (values == "").to_numpy()
    parsed = _wall_times(values.where(~blank), profile)
    if profile.date_only:
        parsed = parsed.dt.normalize()
    local = parsed.dt.tz_localize(
        profile.timezone, ambiguous=np.ones(len(parsed), dtype=bool), nonexistent="shift_forward"
    )
    wall = local.dt.tz_localize(None)
    offset = (wall - local.dt.tz_convert("UTC").dt.tz_localize(None)).dt.total_seconds()
    ok = local.notna().to_numpy()
    stamp = np.datetime_as_string(wall.to_numpy().astype("datetime64[s]"), unit="s")
    minutes = offset.fillna(0).to_numpy().astype(int) // 60
    signs = np.where(minutes < 0, "-", "+")
    hh = np.char.zfill((np.abs(minutes) // 60).astype(str), 2)
    mm = np.char.zfill((np.abs(minutes) % 60).astype(str), 2)
    text = np.char.add(np.char.add(np.char.add(np.char.add(stamp, signs), hh), ":"), mm).astype(object)
    text[~ok] = ""
    unreadable = ~blank & ~ok
    text[unreadable] = ("unreadable time '" + values[unreadable] + "'").to_numpy()
    return pd.Series(text, index=values.index, dtype=object)


def apply_profile(path: Path, profile: ImportProfile) -> pd.DataFrame:
    """The export as the brief's call file: text in `calls.csv` column order, blanks as ''."""
    df = read_source(path, profile)
    out = pd.DataFrame(index=df.index)
    for key in CALL_COLUMNS:
        out[key] = render(df, profile.columns[key], strict=key == "call_id") if key in profile.columns else ""
    for key in TIME_COLUMNS:
        if key in profile.columns:
            out[key] = _times(out[key], profile)
    if profile.date_only:  # a response time from two dates is 0 s or a day, never a measurement
        out[list(RESPONSE_TIMES)] = ""
    if profile.closed.history:
        out["closed_at"] = out["closed_at"].where(out["closed_at"] != "", out["received_at"])
    if profile.jurisdiction is not None:
        out["community_code"] = render(df, profile.jurisdiction.community)
    for key, values in _derived(df, profile).items():
        out[key] = values
    rows = out.index.to_numpy()
    out = out.astype(object).reset_index(drop=True)
    out.attrs = {"source_rows": rows, "dropped": df.attrs.get("dropped", 0)}  # for the dry run's lines
    return out


def convert_file(src: Path, profile: ImportProfile, out: Path) -> Path:
    """Write the converted call file (UTF-8, the brief's columns) for the normal intake to read."""
    out.parent.mkdir(parents=True, exist_ok=True)
    apply_profile(src, profile).to_csv(out, index=False, encoding="utf-8", lineterminator="\n")
    return out


# --- a jurisdiction for the export -----------------------------------------------------------


def _positions(df: pd.DataFrame, coords: Coordinates | None) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) per row, NaN where the source has none (blank, zero, unreadable or off the globe)."""
    if coords is None:
        return np.full(len(df), np.nan), np.full(len(df), np.nan)
    x = pd.to_numeric(df[coords.x], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[coords.y], errors="coerce").to_numpy(dtype=float)
    x[x == 0] = np.nan
    y[y == 0] = np.nan
    if coords.origin is not None and coords.units_per_degree is not None:
        o, per = coords.origin, coords.units_per_degree
        lat, lon = o.lat + (y - o.y) / per["y"], o.lon + (x - o.x) / per["x"]
        off = (np.abs(lat - o.lat) > FIT_DEGREES) | (np.abs(lon - o.lon) > FIT_DEGREES)
    else:
        lat, lon = y, x
        off = np.zeros(len(df), dtype=bool)
    off |= ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    lat[off] = np.nan
    lon[off] = np.nan
    return lat, lon


def _write(folder: Path, name: str, rows: pd.DataFrame) -> None:
    rows = rows.loc[:, list(FILE_COLUMNS[name])]
    rows.to_csv(folder / name, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6f")


def _officers(stations: pd.DataFrame, communities: pd.DataFrame, patrol: int) -> pd.DataFrame:
    """One community officer per community (so every place is covered); a chief and patrol per station."""
    frames = [
        pd.DataFrame(
            {
                "officer_code": communities["community_code"] + "-CO",
                "name": "Community officer, " + communities["name"],
                "role": "community",
                "station_code": communities["station_code"],
                "community_code": communities["community_code"],
            }
        )
    ]
    posts = [("-CHIEF", "Chief", "chief")]
    posts += [(f"-P{i}", f"Patrol officer {i}", "patrol") for i in range(1, patrol + 1)]
    for suffix, title, role in posts:
        frames.append(
            pd.DataFrame(
                {
                    "officer_code": stations["station_code"] + suffix,
                    "name": f"{title}, " + stations["name"],
                    "role": role,
                    "station_code": stations["station_code"],
                    "community_code": "",
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("officer_code")


def profile_jurisdiction(src: Path, profile: ImportProfile, out: Path) -> Path:
    """Write a jurisdiction folder (the four brief files) covering every community the export names.

    One station per station value, one community per community value (its station: the one most of
    its rows name; a community no row places goes to the busiest station), one community officer per
    community, a chief and `patrol_officers` per station, `units` patrol units per station. Places sit
    at the mean position of their rows. Codes come from the profile's templates, so they are stable.
    """
    j = profile.jurisdiction
    if j is None:
        raise ValueError(f"profile {profile.name!r} has no `jurisdiction` section to build one from")
    df = read_source(src, profile)
    lat, lon = _positions(df, j.coordinates)
    rows = pd.DataFrame(
        {
            "community": render(df, j.community),
            "station": render(df, j.station),
            "community_name": render(df, j.community_name),
            "station_name": render(df, j.station_name),
            "lat": lat,
            "lon": lon,
        }
    )
    rows = rows[rows["community"] != ""]
    placed = rows[rows["station"] != ""]
    if placed.empty:
        raise ValueError(
            f"{src.name}: no row names both a community and a station ({j.community}, {j.station})"
        )
    located = rows.dropna(subset=["lat", "lon"])
    if j.center is not None:
        center = (j.center.lat, j.center.lon)
    elif not located.empty:
        center = (float(located["lat"].mean()), float(located["lon"].mean()))
    else:
        raise ValueError(f"profile {profile.name!r}: no row has coordinates; set jurisdiction.center")

    rows = rows.assign(
        community_name=rows["community_name"].replace("", np.nan).fillna(rows["community"]),
        station_name=rows["station_name"].replace("", np.nan).fillna(rows["station"]),
    )
    placed = rows[rows["station"] != ""]
    stations = placed.groupby("station").agg(name=("station_name", "first"), calls=("community", "size"))
    stations = stations.join(located[located["station"] != ""].groupby("station")[["lat", "lon"]].mean())
    stations = stations.fillna({"lat": center[0], "lon": center[1]})
    busiest = stations["calls"].idxmax()

    home = (
        placed.groupby(["community", "station"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["community", "n", "station"], ascending=[True, False, True])
        .drop_duplicates("community")
        .set_index("community")["station"]
    )
    communities = rows.groupby("community").agg(name=("community_name", "first"))
    communities["station_code"] = home.reindex(communities.index).fillna(busiest)
    communities = communities.join(located.groupby("community")[["lat", "lon"]].mean())
    at_station = stations.loc[communities["station_code"], ["lat", "lon"]].set_axis(communities.index)
    communities[["lat", "lon"]] = communities[["lat", "lon"]].fillna(at_station)

    stations = stations.reset_index(names="station_code").assign(district=j.district)
    communities = communities.reset_index(names="community_code").assign(
        kind=j.kind, has_police_office="true", smart_security="false", population=j.population
    )
    officers = _officers(stations, communities, j.patrol_officers)
    units = (
        pd.concat(
            [stations.assign(unit_code=stations["station_code"] + f"-U{i}") for i in range(1, j.units + 1)]
            or [stations.iloc[:0].assign(unit_code="")],
            ignore_index=True,
        )
        .assign(members=j.unit_members)
        .sort_values("unit_code")
    )

    out.mkdir(parents=True, exist_ok=True)
    _write(out, "stations.csv", stations)
    _write(out, "communities.csv", communities)
    _write(out, "officers.csv", officers)
    _write(out, "units.csv", units)
    return out
