"""A file's rows checked against their contract: every value that is not text a person typed, and every
pydantic error, becomes one line naming the field; no row is lost (the rules: `tasks/intake/files.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bridgehead.privacy import REDACTED, scrub_text
from models.common import CATEGORY_LABELS, FUTURE_TOLERANCE, LOCAL_TZ, Category, utcnow
from models.signal import CallIn
from tasks.intake.files import (
    CONTROL,
    FIELD_LIMIT,
    SURROGATE,
    Checked,
    M,
    Reject,
    file_sha256,
    looks_personal,
    must_be_a_file,
    read_rows,
    shown_name,
)

_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_OWN_MESSAGES = {"value_error", "assertion_error"}  # ours, and they may quote the value


def _strings(value: Any) -> Iterator[str]:
    """Every piece of text in a value (JSON nests lists and objects)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def _value_problem(name: str, value: Any) -> str | None:
    for text in _strings(value):
        if SURROGATE.search(text):
            return f"{name}: holds a lone surrogate (\\ud800-\\udfff), which is not text"
        if control := CONTROL.search(text):
            return f"{name}: holds a control character (U+{ord(control.group()):04X})"
        if len(text) > FIELD_LIMIT:
            return f"{name}: {len(text):,} characters, more than the {FIELD_LIMIT:,} a value may hold"
    return None


def content_problem(row: dict[str, Any]) -> str | None:
    """What no contract should see: text that is not text (control characters, surrogates) or that
    is far too long. Named field by field; the values are not repeated."""
    if _plain_text(row):
        return None
    problems = [p for key, value in row.items() if (p := _value_problem(shown_name(key), value))]
    return "; ".join(problems) or None


def _plain_text(row: dict[str, Any]) -> bool:
    """The common case, told fast: nothing but blanks and short, clean text."""
    values = [v for v in row.values() if v is not None]
    if not all(type(v) is str for v in values):
        return False
    return not values or (max(map(len, values)) <= FIELD_LIMIT and not _NOT_TEXT.search("".join(values)))


def _keepable(value: Any) -> Any:
    """A value fit to keep in quarantine: no surrogate (the database would refuse the row), no
    64 KiB blob, no value under a contact-like key."""
    if isinstance(value, str):
        value = SURROGATE.sub("\ufffd", value)
        return value if len(value) <= FIELD_LIMIT else f"{value[:200]}… [{len(value):,} characters]"
    if isinstance(value, list):
        return [_keepable(v) for v in value]
    if isinstance(value, dict):
        return {
            _keepable(k): REDACTED if v is not None and looks_personal(k) else _keepable(v)
            for k, v in value.items()
        }
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def describe(error: ValidationError) -> str:
    """pydantic's errors as one sentence per field: 'priority: must be at most 4 (got '7')'. The
    value of a personal field (contact, phone) is never repeated, whatever type it came as."""
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        got = err.get("input")
        personal = looks_personal(str(err["loc"][0])) if err["loc"] else False
        if err["type"] == "missing":
            parts.append(f"{where}: required but missing")
        elif got is None:
            parts.append(f"{where}: required but blank")
        elif personal:
            parts.append(f"{where}: {'not valid' if err['type'] in _OWN_MESSAGES else err['msg']}")
        elif isinstance(got, dict):
            parts.append(f"{where}: {err['msg']}")
        else:
            parts.append(f"{where}: {err['msg']} (got {_shown(got)})")
    return scrub_text("; ".join(parts))  # a bad value echoed back must not leak a phone number


def _screened(
    path: Path, contract: type[BaseModel], checked: Checked[Any]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows that can be read and hold only text: the rest go to `checked.rejects` with their reason."""
    for line, row, problem in read_rows(path, contract):
        if row is not None and problem is None:
            problem = content_problem(row)
        if problem is not None:
            checked.rejects.append(Reject(checked.file, line, problem, _keepable(row)))
            continue
        assert row is not None
        yield line, row


def _repeats(checked: Checked[Any], seen: dict[Any, int], key: str, value: Any, line: int, row: Any) -> bool:
    """An id seen before in the file: rejected, naming the line that had it first."""
    if value in seen:
        reason = f"{key} {value!r} repeats line {seen[value]} of the same file"
        checked.rejects.append(Reject(checked.file, line, reason, _keepable(row)))
        return True
    seen[value] = line
    return False


def check_file(path: Path, contract: type[M], key: str | None = None) -> Checked[M]:
    """Validate every row of a file; an id seen twice in one file is rejected after the first."""
    must_be_a_file(path)
    checked: Checked[M] = Checked(file=str(path), sha256=file_sha256(path))
    seen: dict[Any, int] = {}
    for line, row in _screened(path, contract, checked):
        try:
            model = contract.model_validate(row)
        except ValidationError as exc:
            checked.rejects.append(Reject(checked.file, line, describe(exc), _keepable(row)))
            continue
        if key is not None and _repeats(checked, seen, key, getattr(model, key), line, row):
            continue
        checked.rows.append((line, model))
    return checked


BATCH_ROWS = 20_000  # rows checked column by column at a time


def check_records(path: Path, contract: type[BaseModel], key: str | None = None) -> Checked[dict[str, Any]]:
    """`check_file`'s verdicts, each good row as its `model_dump()`: `check_parts` gathered in one."""
    whole: Checked[dict[str, Any]] | None = None
    for part in check_parts(path, contract, key):
        if whole is None:
            whole = part
        else:
            whole.rows += part.rows
            whole.rejects += part.rejects
    return whole or Checked(file=str(path), sha256=file_sha256(path))


def check_parts(
    path: Path, contract: type[BaseModel], key: str | None = None
) -> Iterator[Checked[dict[str, Any]]]:
    """A file of any size checked `BATCH_ROWS` rows at a time: each part holds its good rows (as
    `model_dump()`) and the rejects met while reading them, so memory does not grow with the file.

    A contract with a column check (`COLUMN_CHECKS`) is checked column by column: a row whose every
    value has the plain form of its field is converted there, as pydantic would, with none of its
    per-row validator calls. Any other row (a bad value, an unusual but valid form, a JSON value that
    is not text) goes through the contract itself, so every reason is the one `check_file` gives,
    word for word. An id is a repeat across the whole file, not only within a part.
    """
    must_be_a_file(path)
    reading: Checked[dict[str, Any]] = Checked(file=str(path), sha256=file_sha256(path))
    seen: dict[Any, int] = {}
    column_check = COLUMN_CHECKS.get(contract)
    rows = _screened(path, contract, reading)
    while True:
        batch = list(islice(rows, BATCH_ROWS))
        part = Checked[dict[str, Any]](file=reading.file, sha256=reading.sha256, rejects=reading.rejects)
        reading.rejects = []  # _screened appends the next part's unreadable rows here
        fast = column_check([row for _, row in batch]) if column_check else [None] * len(batch)
        for (line, row), record in zip(batch, fast, strict=True):
            if record is None:
                try:
                    record = contract.model_validate(row).model_dump()
                except ValidationError as exc:
                    part.rejects.append(Reject(part.file, line, describe(exc), _keepable(row)))
                    continue
            if key is not None and _repeats(part, seen, key, record[key], line, row):
                continue
            part.rows.append((line, record))
        if part.total:
            part.rejects.sort(key=lambda r: r.line)
            yield part
        if not batch:
            return


# --- column checks ------------------------------------------------------------------------------
# Each converts the rows it can vouch for exactly as the contract would (tests/tasks/intake/test_checks.py
# compares them value for value with pydantic) and answers None for any other row.

_PLAIN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?")
_CATEGORIES: dict[str, Category] = {c.value: c for c in Category} | {
    label: Category(code) for label, code in CATEGORY_LABELS.items()
}
_PRIORITIES: dict[str | None, int | None] = {str(n): n for n in range(1, 5)}  # CallIn.priority: 1 to 4


class _Columns:
    """A batch of rows read column by column; a row any column cannot vouch for is marked not ok."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.ok = [True] * len(rows)
        self.latest = utcnow() + FUTURE_TOLERANCE  # later than this is the contract's to judge

    def _values(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]

    def text(self, name: str, required: bool) -> list[str | None]:
        """Text (stripped), or for an optional field None where blank."""
        out: list[str | None] = []
        for i, value in enumerate(self._values(name)):
            if type(value) is str:
                value = value.strip()
                out.append(value if value or required else None)
            else:
                self.ok[i] = self.ok[i] and value is None and not required
                out.append(None)
        return out

    def time(self, name: str, required: bool) -> list[datetime | None]:
        """ISO 8601 to the second, with its offset or local, as UTC; none in the future."""
        out: list[datetime | None] = []
        for i, value in enumerate(self._values(name)):
            at = None
            if type(value) is str and _PLAIN_TIME.fullmatch(text := value.strip()):
                with suppress(ValueError, OverflowError):  # the contract says why
                    read = datetime.fromisoformat(text)
                    at = (read if read.tzinfo else read.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)
            if at is None or at > self.latest:
                self.ok[i] = self.ok[i] and value is None and not required
                at = None
            out.append(at)
        return out

    def coded(self, name: str, codes: dict[Any, Any], strip: bool = True) -> list[Any]:
        """A value of a fixed vocabulary (a code or its label), blank allowed only if the codes say."""
        out = []
        for i, value in enumerate(self._values(name)):
            if strip and type(value) is str:
                value = value.strip()
            code = codes.get(value, _NO_CODE) if value is None or type(value) is str else _NO_CODE
            if code is _NO_CODE:
                self.ok[i] = False
            out.append(code)
        return out

    def keys(self, name: str) -> list[list[str]]:
        """Party keys: `a;b` as a sorted list without repeats; blank is none."""
        out: list[list[str]] = []
        for i, value in enumerate(self._values(name)):
            if type(value) is str and ";" not in value:
                out.append([key] if (key := value.strip()) else [])
            elif type(value) is str:
                out.append(sorted({k.strip() for k in value.split(";") if k.strip()}))
            else:
                self.ok[i] = self.ok[i] and value is None
                out.append([])
        return out


_NO_CODE = object()


def _calls(rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """CallIn, column by column."""
    c = _Columns(rows)
    columns: dict[str, list[Any]] = {
        "community_code": c.text("community_code", True),
        "address": c.text("address", True),
        "category": c.coded("category", _CATEGORIES),
        "summary": c.text("summary", False),
        "call_id": c.text("call_id", True),
        "received_at": c.time("received_at", True),
        "priority": c.coded("priority", {**_PRIORITIES, None: None}, strip=False),
        "party_keys": c.keys("party_keys"),
        "phone": c.text("phone", False),
        "dispatched_at": c.time("dispatched_at", False),
        "arrived_at": c.time("arrived_at", False),
        "closed_at": c.time("closed_at", False),
        "disposition": c.text("disposition", False),
    }
    names = list(columns)
    out: list[dict[str, Any] | None] = []
    for ok, values in zip(c.ok, zip(*columns.values(), strict=True), strict=True):
        record = dict(zip(names, values, strict=True)) if ok else None
        if record is not None and not _in_order(record):
            record = None  # the contract says which time is out of order
        out.append(record)
    return out


def _in_order(record: dict[str, Any]) -> bool:
    """CallIn._in_order: nothing before the call was received, nobody arrived before being dispatched."""
    received, dispatched = record["received_at"], record["dispatched_at"]
    arrived, closed = record["arrived_at"], record["closed_at"]
    return (
        (dispatched is None or dispatched >= received)
        and (arrived is None or (arrived >= received and (dispatched is None or arrived >= dispatched)))
        and (closed is None or closed >= received)
    )


ColumnCheck = Callable[[list[dict[str, Any]]], list[dict[str, Any] | None]]
COLUMN_CHECKS: dict[type[BaseModel], ColumnCheck] = {CallIn: _calls}
