"""Reading input files row by row against a contract, keeping every bad row with its reason.

CSV (header row) and JSON Lines take the same field names. Whatever a file holds, each of its rows
is either handed on or rejected with its line number and a one-line reason: no row stops the file,
and no row disappears. The rules, and why:

- **What a row is.** CSV is parsed by the stdlib `csv` module (strict mode). A quoted field may run
  over several lines, as CSV allows, but such a record is kept whole only if it parses and has the
  header's number of fields. Otherwise (a quote opened and never closed, text after a closing quote)
  only the record's first physical line is rejected and reading starts again on the next line: when
  quoting is unbalanced a row is a physical line, so one stray quote costs one line, never the rows
  after it. A quote inside an unquoted field (`6'0" tall`) is an ordinary character. In JSON Lines a
  row is a line. A blank line is not a row.
- **Line endings and bytes.** LF, CRLF, CR alone (old Mac) and any mix of them; a UTF-8 BOM is
  dropped. A row that is not UTF-8 is rejected ("the line is not valid UTF-8"), not the file.
- **Control characters.** A value holding a character below U+0020 other than tab, line feed and
  carriage return (those occur in quoted text), or DEL, or U+0080-U+009F, is rejected naming the
  field: PostgreSQL cannot store NUL at all, and none of them is text a person typed.
- **Size.** A value longer than FIELD_LIMIT (64 KiB) characters is rejected naming the field: no
  address or summary is that long, so it is a broken export. The csv module's own field limit
  (128 KiB, which used to fail the whole file) is raised far above it, so the row is read and judged.
- **Header.** A header that repeats a column, lacks a required one, or has a column that looks like a
  personal contact the contract does not take (`Contact`, `mobile`, `email`, `tel`, ...) is refused:
  every row is rejected with the same reason, and the contact-like values are not kept in
  quarantine. In JSON Lines, an object's keys are judged the same way, one row at a time.
- **Types.** CSV values are text and are parsed from text; a JSON value that is not text must already
  have the field's type (models.common.typed): a time is ISO 8601 text, never a number. JSON that
  Python reads but JSON does not allow (NaN, an object naming a key twice) is refused, and so is
  nesting deeper than MAX_NESTING.
- **Privacy.** A reason never repeats the value of a personal field (contact, phone or anything
  named like one), and the raw row kept in quarantine hides them (bridgehead.privacy.redact).
- **Not a file.** A directory, a named pipe or any other path that is not a regular file raises
  `NotAFile` (a ValueError) before anything is read; a missing file raises FileNotFoundError. Both
  carry a one-line message that starts with the path.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from pydantic import BaseModel

from bridgehead.privacy import PERSONAL_FIELDS, redact, scrub_text

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")  # a checked row: a contract's model, or its model_dump()
Record = tuple[int, dict[str, Any] | None, str | None]  # (line, row, why it is refused)

MAX_NESTING = 8  # JSON lists and objects inside a row (party_keys is one level)
FIELD_LIMIT = 64 * 1024  # characters in one value; longer is a broken export, not free text
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # read long fields, then judge them

NOT_UTF8 = "the line is not valid UTF-8"
QUOTE_RUNS_ON = (
    'a quote (") opened on this line is not closed where the row should end; '
    "the next line is read as a new row"
)
SURROGATE = re.compile("[\ud800-\udfff]")  # undecodable bytes (surrogateescape) or a JSON "\ud800"
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTACT_LIKE = re.compile(
    r"contact|phone|mobile|e-?mail|wechat|weixin|whatsapp|telegram"
    r"|(?<![a-z])(?:tel|fax|cell|qq|wx|sms|msisdn)(?![a-z])|电话|手机|联系|邮箱|微信",
    re.IGNORECASE,
)


class NotAFile(ValueError):
    """A path that cannot be read as an input file (a directory, a named pipe, ...)."""


@dataclass(frozen=True)
class Reject:
    """A row that cannot be loaded: where it is, and why in words a person understands."""

    file: str
    line: int
    reason: str
    raw: dict[str, Any] | None = None

    def safe_raw(self) -> str | None:
        """The row as JSON with personal fields hidden and phone numbers masked, nested ones too."""
        return None if self.raw is None else scrub_text(json.dumps(redact(self.raw), ensure_ascii=False))


@dataclass
class Checked(Generic[R]):
    file: str
    sha256: str
    rows: list[tuple[int, R]] = field(default_factory=list)
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


def must_be_a_file(path: Path) -> None:
    """Fail early, in one line, on what is not a regular file: opening a FIFO would wait forever."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        raise NotAFile(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise NotAFile(f"{path}: not a regular file ({_kind(mode)})")


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a named pipe",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a file")


def _open_text(path: Path, newline: str | None) -> IO[str]:
    """Bytes that are not UTF-8 become lone surrogates, found per row, so they never stop the file."""
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline=newline)


def read_rows(path: Path, contract: type[BaseModel] | None = None) -> Iterator[Record]:
    """Yield (line, row, problem) for each row; blanks become None. A row comes with a problem when
    it cannot be read (row None) or is refused as a whole (row kept for quarantine)."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        yield from _read_jsonl(path, contract)
    else:
        yield from _read_csv(path, contract)


# --- JSON Lines ---------------------------------------------------------------------------------


class _RepeatedKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object naming a key twice is refused: json would keep the last value without a word."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not JSON")


def _parse_json(text: str) -> tuple[Any, str | None]:
    """The JSON value of a line, or why there is none."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant), None
    except _RepeatedKey as exc:
        return None, f"the object has key {shown_name(str(exc))} more than once"
    except json.JSONDecodeError as exc:
        return None, f"not a JSON object ({exc.msg})"
    except _NotJson as exc:  # NaN, Infinity: Python's json reads them, JSON has no such thing
        return None, f"not a JSON object ({exc})"
    except ValueError:  # only a number of over 4,300 digits gets here
        return None, "not a JSON object (a number too long to read)"
    except RecursionError:
        return None, "not a JSON object (nested too deeply)"


def _too_deep(value: Any, depth: int = 0) -> bool:
    """Nesting no field needs; bounded here so that checking and keeping the row cannot recurse
    without end (json itself reads several hundred levels)."""
    if not isinstance(value, list | dict):
        return False
    if depth >= MAX_NESTING:
        return True
    return any(_too_deep(v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))


def _read_jsonl(path: Path, contract: type[BaseModel] | None) -> Iterator[Record]:
    with _open_text(path, newline=None) as fh:  # universal newlines: JSON text holds no raw CR or LF
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            if SURROGATE.search(text):
                yield number, None, NOT_UTF8
                continue
            row, problem = _parse_json(text)
            if problem is None and not isinstance(row, dict):
                problem = "not a JSON object"
            if problem is None and _too_deep(row):
                problem = f"a value is nested more than {MAX_NESTING} levels deep"
            if problem is not None:
                yield number, None, problem
                continue
            yield number, _blanks_to_none(row), _contact_columns(list(row), contract, "the object has key")


# --- CSV ----------------------------------------------------------------------------------------


class _Lines:
    """Physical lines for csv.reader, remembering which ones the current record took, so that the
    lines after the first of a record gone wrong can be given back and read again."""

    def __init__(self, fh: IO[str]) -> None:
        self._source = enumerate(fh, start=1)
        self._back: list[tuple[int, str]] = []
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        item = self._back.pop() if self._back else next(self._source)
        self.taken.append(item)
        return item[1]

    def give_back(self) -> None:
        self._back.extend(reversed(self.taken[1:]))
        del self.taken[1:]


def _next_record(reader: Any, lines: _Lines, width: int | None) -> tuple[int, list[str] | None, str | None]:
    """The next non-blank record as (first line, fields, problem); raises StopIteration at the end."""
    while True:
        lines.taken = []
        try:
            fields = next(reader)
        except csv.Error as exc:
            runs_on = len(lines.taken) > 1
            lines.give_back()
            return lines.taken[0][0], None, QUOTE_RUNS_ON if runs_on else f"cannot be read as CSV ({exc})"
        if fields and (len(fields) > 1 or fields[0].strip()):
            break
    first = lines.taken[0][0]
    if SURROGATE.search("".join(fields)):
        return first, None, NOT_UTF8
    if width is not None and len(fields) != width:
        if len(lines.taken) > 1:
            lines.give_back()
            return first, None, QUOTE_RUNS_ON
        return first, None, f"has {len(fields)} fields where the header has {width}"
    return first, fields, None


def _read_csv(path: Path, contract: type[BaseModel] | None) -> Iterator[Record]:
    with _open_text(path, newline="") as fh:  # csv reads LF, CRLF and CR endings itself
        lines = _Lines(fh)
        reader = csv.reader(lines, strict=True)
        try:
            line, header, problem = _next_record(reader, lines, None)
        except StopIteration:
            return
        names = [h.strip() for h in header or []]
        refusal = f"the header (line {line}) cannot be read: {problem}" if problem else None
        refusal = refusal or header_problem(names, contract)
        width = len(names) if header else None
        while True:
            try:
                number, values, problem = _next_record(reader, lines, width)
            except StopIteration:
                return
            if values is None or header is None:
                yield number, None, problem or refusal
            else:
                yield number, _blanks_to_none(dict(zip(names, values, strict=True))), refusal


def header_problem(header: list[str], contract: type[BaseModel] | None) -> str | None:
    """Why a CSV header makes every row unusable, said once per row in words instead of a field-by-
    field "required but missing": a repeated column (which value would count?), a missing required
    column (often a typo, so the unknown columns are named too), or a personal-contact column the
    contract does not take (it would be dropped from good rows and kept in clear in quarantine)."""
    repeated = sorted(name for name, n in Counter(header).items() if n > 1)
    if repeated:
        return (
            f"the header has column {shown_names(repeated)} more than once "
            "(a file must name each column once)"
        )
    if contract is None:
        return None
    contacts = _contact_columns(header, contract, "the header has column")
    fields = contract.model_fields
    absent = [name for name, f in fields.items() if f.is_required() and name not in header]
    if not absent:
        return contacts
    unknown = sorted(set(header) - set(fields))
    missing = f"the header has no column {', '.join(absent)}" + (
        f" (columns it has that the contract does not know: {shown_names(unknown)})" if unknown else ""
    )
    return "; ".join(p for p in (missing, contacts) if p)


def looks_personal(name: str) -> bool:
    return name in PERSONAL_FIELDS or bool(_CONTACT_LIKE.search(name))


def _contact_columns(names: list[str], contract: type[BaseModel] | None, prefix: str) -> str | None:
    if contract is None:
        return None
    found = [n for n in names if n not in contract.model_fields and looks_personal(n)]
    if not found:
        return None
    return (
        f"{prefix} {shown_names(found)}, which looks like a personal contact this file does not take: "
        "remove or rename it (its values are not kept)"
    )


def _blanks_to_none(row: dict[str, Any]) -> dict[str, Any]:
    return {str(k).strip(): (None if isinstance(v, str) and not v.strip() else v) for k, v in row.items()}


def shown_names(names: list[str], most: int = 10) -> str:
    """Names for a one-line reason: at most `most` of them, each cut short."""
    shown = ", ".join(shown_name(n) for n in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def shown_name(name: str) -> str:
    """A column or key name fit for a one-line reason (names come from the file too)."""
    name = CONTROL.sub("?", SURROGATE.sub("?", name))
    return name if len(name) <= 60 else name[:60] + "…"
