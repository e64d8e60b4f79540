"""An export converted by its import profile (`bridgehead/import_profile.py`) into the brief's calls.csv:
read, dropped, mapped, templated, looked up, its wall-clock times read in the profile's zone."""

from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np
import pandas as pd

from bridgehead.import_profile import (
    CALL_COLUMNS,
    CONSTANT,
    ISO_OFFSET,
    RESPONSE_TIMES,
    TIME_COLUMNS,
    CategoryRules,
    ImportProfile,
    Lookup,
    PriorityRules,
    Rule,
    template_fields,
)


def read_source(path: Path, profile: ImportProfile) -> pd.DataFrame:
    """The export's columns the profile reads, as stripped text with blanks (and the profile's
    `blanks`, such as "null") as '', with the looked-up
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
    if profile.blanks:
        out = out.mask(out.isin(profile.blanks), "")
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


def _matches(df: pd.DataFrame, rule: Rule, column: str) -> np.ndarray:
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
