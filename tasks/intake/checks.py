"""A file's rows checked against their contract: every value that is not text a person typed, and every
pydantic error, becomes one line naming the field; no row is lost (the rules: `tasks/intake/files.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bridgehead.privacy import REDACTED, scrub_text
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


def check_file(path: Path, contract: type[M], key: str | None = None) -> Checked[M]:
    """Validate every row of a file; an id seen twice in one file is rejected after the first."""
    must_be_a_file(path)
    checked: Checked[M] = Checked(file=str(path), sha256=file_sha256(path))
    seen: dict[Any, int] = {}
    for line, row, problem in read_rows(path, contract):
        if row is not None and problem is None:
            problem = content_problem(row)
        if problem is not None:
            checked.rejects.append(Reject(checked.file, line, problem, _keepable(row)))
            continue
        assert row is not None
        try:
            model = contract.model_validate(row)
        except ValidationError as exc:
            checked.rejects.append(Reject(checked.file, line, describe(exc), _keepable(row)))
            continue
        if key is not None:
            value = getattr(model, key)
            if value in seen:
                reason = f"{key} {value!r} repeats line {seen[value]} of the same file"
                checked.rejects.append(Reject(checked.file, line, reason, _keepable(row)))
                continue
            seen[value] = line
        checked.rows.append((line, model))
    return checked
