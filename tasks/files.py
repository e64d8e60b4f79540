"""Reading input files row by row against a contract, keeping every bad row with its reason.

CSV (header row) and JSON Lines take the same field names. A file that is not UTF-8 still
yields its good rows; an undecodable row is rejected, not the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from bridgehead.privacy import redact, scrub_text

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Reject:
    """A row that cannot be loaded: where it is, and why in words a person understands."""

    file: str
    line: int
    reason: str
    raw: dict[str, Any] | None = None

    def safe_raw(self) -> str | None:
        return None if self.raw is None else json.dumps(redact(self.raw), ensure_ascii=False)


@dataclass
class Checked(Generic[M]):
    file: str
    sha256: str
    rows: list[tuple[int, M]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.rejects)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number, text) per physical line; text is None where the bytes are not UTF-8."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, None


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield (line, row, problem) for each record; blanks become None."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    for number, text in _lines(path):
        if text is None:
            yield number, None, "the line is not valid UTF-8"
            continue
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, None, f"not a JSON object ({exc.msg})"
            continue
        if not isinstance(row, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, _blanks_to_none(row), None


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    lines = _lines(path)
    header_line = next(lines, None)
    if header_line is None or header_line[1] is None:
        yield 1, None, "the header row is missing or not UTF-8"
        return
    header = [h.strip() for h in next(csv.reader([header_line[1]]))]
    buffer: list[str] = []
    start = 0
    for number, text in lines:
        if text is None:
            yield number, None, "the line is not valid UTF-8"
            buffer = []
            continue
        if not buffer:
            start = number
        buffer.append(text)
        joined = "".join(buffer)
        if joined.count('"') % 2:  # a quoted field runs on to the next line
            continue
        buffer = []
        if not joined.strip():
            continue
        values = next(csv.reader(io.StringIO(joined)))
        if len(values) != len(header):
            yield start, None, f"has {len(values)} fields where the header has {len(header)}"
            continue
        yield start, _blanks_to_none(dict(zip(header, values, strict=True))), None
    if buffer:
        yield start, None, "a quoted field is never closed"


def _blanks_to_none(row: dict[str, Any]) -> dict[str, Any]:
    return {str(k).strip(): (None if isinstance(v, str) and not v.strip() else v) for k, v in row.items()}


def describe(error: ValidationError) -> str:
    """pydantic's errors as one sentence per field: 'priority: must be at most 4 (got '7')'."""
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        got = err.get("input")
        if err["type"] == "missing":
            parts.append(f"{where}: required but missing")
        elif got is None:
            parts.append(f"{where}: required but blank")
        elif isinstance(got, dict):
            parts.append(f"{where}: {err['msg']}")
        else:
            parts.append(f"{where}: {err['msg']} (got {got!r})")
    return scrub_text("; ".join(parts))  # a bad value echoed back must not leak a phone number


def check_file(path: Path, contract: type[M], key: str | None = None) -> Checked[M]:
    """Validate every row of a file; an id seen twice in one file is rejected after the first."""
    checked: Checked[M] = Checked(file=str(path), sha256=file_sha256(path))
    seen: dict[Any, int] = {}
    wrong_header = header_problem(path, contract)
    for line, row, problem in read_rows(path):
        if row is None:
            checked.rejects.append(Reject(checked.file, line, problem or "unreadable"))
            continue
        if wrong_header:  # every row fails the same way: say why once, in words, on each
            checked.rejects.append(Reject(checked.file, line, wrong_header, row))
            continue
        try:
            model = contract.model_validate(row)
        except ValidationError as exc:
            checked.rejects.append(Reject(checked.file, line, describe(exc), row))
            continue
        if key is not None:
            value = getattr(model, key)
            if value in seen:
                reason = f"{key} {value!r} repeats line {seen[value]} of the same file"
                checked.rejects.append(Reject(checked.file, line, reason, row))
                continue
            seen[value] = line
        checked.rows.append((line, model))
    return checked


def header_problem(path: Path, contract: type[BaseModel]) -> str | None:
    """A CSV header without a required column (often a typo): named once, with the columns the
    contract does not know, instead of "required but missing" on every field of every row."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        return None
    first = next(_lines(path), None)
    if first is None or first[1] is None:
        return None
    header = {h.strip() for h in next(csv.reader([first[1]]), [])}
    fields = contract.model_fields
    absent = [name for name, field in fields.items() if field.is_required() and name not in header]
    if not absent:
        return None
    unknown = sorted(header - set(fields))
    return f"the header has no column {', '.join(absent)}" + (
        f" (columns it has that the contract does not know: {', '.join(unknown)})" if unknown else ""
    )
