"""Issue 18's "done when": malformed files of every channel, CSV and JSON Lines, go through validate and
load, and every row written is loaded or quarantined (rows in = loaded + quarantined, exactly), the right
rows are the quarantined ones, the database agrees, and no contact leaks into quarantine or the audit.

Each malformation is one row with a known outcome (most are quarantined; a stray quote inside a field and
a multi-line quoted value load). Files mix them with good rows, blank lines, BOMs, LF / CRLF / CR / mixed
line endings and a last line without its newline; CSV files may also carry a header fault that refuses
every row. One fixed corpus covers every malformation three times per channel and format (over 300
malformed rows); hypothesis mixes them at random.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from models import CriminalCase, QuarantinedRow, Signal, SourceFile, Tip
from models.contracts import FILE_COLUMNS, INPUT_CONTRACTS
from tasks.intake.load import load_file, validate_file

SECRET = "wxid_fuzz_secret"
CHANNELS = tuple(INPUT_CONTRACTS)
ENDINGS = ("\n", "\r\n", "\r")
_files = itertools.count()


class Raw(str):
    """A CSV cell written as it is, not quoted: how broken exports break."""


@dataclass
class Row:
    data: bytes  # the row's text without its line ending
    loads: bool
    lines: int = 1  # physical lines it takes


@dataclass
class Case:
    channel: str
    fmt: str  # csv | jsonl
    kinds: list[str]
    ending: str = "\n"  # or "mixed"
    bom: bool = False
    final_newline: bool = True
    blanks: list[bool] = field(default_factory=list)  # a blank line before row i
    header_fault: str | None = None  # repeat | contact | missing (CSV)


def good(channel: str, n: int, i: int, typed: bool) -> dict[str, Any]:
    spec = INPUT_CONTRACTS[channel]
    row: dict[str, Any] = dict.fromkeys(FILE_COLUMNS[spec.default_file], "")
    row |= {"community_code": "61030301001", "address": f"幸福路{i}号", spec.key: f"F{n}-{i}"}
    row[spec.time_field] = f"2025-03-{1 + i % 28:02d} 10:{i % 60:02d}"
    row |= {
        "call": {"category": "family_neighbor", "priority": 2 if typed else "2", "phone": "13900000000"},
        "visit": {"category": "家庭邻里", "officer_code": "O000001", "concern": "low"},
        "analysis": {"category": "fraud", "source": "model", "score": 0.5 if typed else "0.5"},
        "tip": {"category": "fraud", "contact": SECRET, "wants_reward": True if typed else "true"},
        "case": {"offence": "theft", "party_keys": "PK1;PK2"},
    }[channel]
    return row


def _cell(value: Any) -> str:
    if isinstance(value, Raw) or not any(c in str(value) for c in ',"\r\n'):
        return str(value)
    return '"' + value.replace('"', '""') + '"'


def _csv(row: dict[str, Any], extra: list[Any] | None = None, drop_last: bool = False) -> bytes:
    cells = [_cell(v) for v in row.values()] + [_cell(v) for v in extra or []]
    return ",".join(cells[:-1] if drop_last else cells).encode("utf-8", "surrogatepass")


def _json(row: dict[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False).encode()


def _wrong_type(channel: str) -> dict[str, Any]:
    """A JSON value of the wrong type that lax parsing would have accepted."""
    return {
        "call": {"priority": True},
        "visit": {"risk_id": True},
        "analysis": {"score": True},
        "tip": {"wants_reward": 1},
        "case": {"solved_at": 1_900_000_000},
    }[channel]


def _time(channel: str) -> str:
    return INPUT_CONTRACTS[channel].time_field


Maker = Callable[[str, dict[str, Any], str], Row]  # (channel, good row, id of the first row) -> Row

CSV_KINDS: dict[str, Maker] = {
    "good": lambda c, r, first: Row(_csv(r), True),
    "stray_quote": lambda c, r, first: Row(_csv(r | {"address": Raw("幸福路6'0\" tall")}), True),
    "multi_line": lambda c, r, first: Row(_csv(r | {"address": "幸福路\n1号"}), True, lines=2),
    "tricky_text": lambda c, r, first: Row(_csv(r | {"address": 'say "hi", ok'}), True),
    "open_quote": lambda c, r, first: Row(_csv(r | {"address": Raw('"幸福路 never closed')}), False),
    "text_after_quote": lambda c, r, first: Row(_csv(r | {"address": Raw('"幸福路"1号')}), False),
    "nul": lambda c, r, first: Row(_csv(r | {"address": "幸福\x00路"}), False),
    "control": lambda c, r, first: Row(_csv(r | {"address": "幸福\x1b路"}), False),
    "huge": lambda c, r, first: Row(_csv(r | {"address": "路" * 200_000}), False),
    "bad_time": lambda c, r, first: Row(_csv(r | {_time(c): "yesterday"}), False),
    "future": lambda c, r, first: Row(_csv(r | {_time(c): "2099-01-01 10:00"}), False),
    "missing_field": lambda c, r, first: Row(_csv(r, drop_last=True), False),
    "extra_field": lambda c, r, first: Row(_csv(r, extra=["extra"]), False),
    "non_utf8": lambda c, r, first: Row(_csv(r | {"address": "坏地址"}).decode().encode("gb18030"), False),
    "blank_required": lambda c, r, first: Row(_csv(r | {"address": "  "}), False),
    "unknown_community": lambda c, r, first: Row(_csv(r | {"community_code": "99999999999"}), False),
    "repeated_id": lambda c, r, first: Row(_csv(r | {INPUT_CONTRACTS[c].key: first}), False),
}

JSON_KINDS: dict[str, Maker] = {
    "good": lambda c, r, first: Row(_json(r), True),
    "stray_quote": lambda c, r, first: Row(_json(r | {"address": "幸福路6'0\" tall"}), True),
    "multi_line": lambda c, r, first: Row(_json(r | {"address": "幸福路\n1号"}), True),
    "time_number": lambda c, r, first: Row(_json(r | {_time(c): 1_700_000_000}), False),
    "wrong_type": lambda c, r, first: Row(_json(r | _wrong_type(c)), False),
    "contact_list": lambda c, r, first: Row(_json(r | {"contact": [SECRET]}), False),
    "contact_number": lambda c, r, first: Row(_json(r | {"contact": 13912345678}), False),
    "contact_key": lambda c, r, first: Row(_json(r | {"Mobile": SECRET}), False),
    "nul": lambda c, r, first: Row(_json(r | {"address": "幸福\x00路"}), False),
    "control": lambda c, r, first: Row(_json(r | {"address": "幸福\x1b路"}), False),
    "huge": lambda c, r, first: Row(_json(r | {"address": "路" * 200_000}), False),
    "surrogate": lambda c, r, first: Row(_json(r | {"address": "@S@"}).replace(b"@S@", b"\\ud800"), False),
    "bad_json": lambda c, r, first: Row(_json(r)[:-5], False),
    "not_object": lambda c, r, first: Row(b"[1, 2]", False),
    "repeated_key": lambda c, r, first: Row(_json(r)[:-1] + b', "address": "x"}', False),
    "nan": lambda c, r, first: Row(_json(r | {"score": float("nan")}), False),
    "deep": lambda c, r, first: Row(
        _json(r | {"address": "@D@"}).replace(b'"@D@"', b"[" * 5000 + b"]" * 5000), False
    ),
    "nested": lambda c, r, first: Row(
        _json(r | {"address": "@D@"}).replace(b'"@D@"', b"[" * 100 + b"]" * 100), False
    ),
    "big_number": lambda c, r, first: Row(
        _json(r | {"address": "@N@"}).replace(b'"@N@"', b"9" * 5000), False
    ),
    "non_utf8": lambda c, r, first: Row(_json(r | {"address": "坏地址"}).decode().encode("gb18030"), False),
    "missing_required": lambda c, r, first: Row(_json({k: v for k, v in r.items() if k != "address"}), False),
    "null_required": lambda c, r, first: Row(_json(r | {"address": None}), False),
    "unknown_community": lambda c, r, first: Row(_json(r | {"community_code": "99999999999"}), False),
    "future": lambda c, r, first: Row(_json(r | {_time(c): "2099-01-01T10:00:00+08:00"}), False),
    "repeated_id": lambda c, r, first: Row(_json(r | {INPUT_CONTRACTS[c].key: first}), False),
}

HEADER_FAULTS = {  # CSV: a header that refuses every row (name: (extra header, extra cell))
    "repeat": ("address", "幸福路"),
    "contact": ("Mobile", SECRET),
}


def _header(case: Case) -> bytes:
    columns = list(FILE_COLUMNS[INPUT_CONTRACTS[case.channel].default_file])
    if case.header_fault == "missing":
        columns[0] += "_typo"
    elif case.header_fault in HEADER_FAULTS:
        columns.append(HEADER_FAULTS[case.header_fault][0])
    return ",".join(columns).encode()


def build(case: Case, folder: Path) -> tuple[Path, int, set[int]]:
    """Write the case's file; return it with the number of rows and the lines that must be quarantined."""
    n = next(_files)
    kinds = CSV_KINDS if case.fmt == "csv" else JSON_KINDS
    first_id = good(case.channel, n, 0, False)[INPUT_CONTRACTS[case.channel].key]
    pieces: list[bytes] = [_header(case)] if case.fmt == "csv" else []
    line = len(pieces)  # physical lines written so far
    bad: set[int] = set()
    for i, kind in enumerate(case.kinds):
        if i < len(case.blanks) and case.blanks[i]:
            pieces.append(b"   " if case.fmt == "jsonl" else b"")
            line += 1
        row_data = good(case.channel, n, i, typed=case.fmt == "jsonl")
        if case.header_fault in HEADER_FAULTS:  # the extra column's cell, last
            row_data["extra column"] = HEADER_FAULTS[case.header_fault][1]
        row = kinds[kind](case.channel, row_data, first_id)
        if not row.loads or case.header_fault:
            bad.add(line + 1)
        pieces.append(row.data)
        line += row.lines
    path = folder / f"{case.channel}-{n}.{case.fmt}"
    path.write_bytes(("\ufeff".encode() if case.bom else b"") + _join(pieces, case))
    return path, len(case.kinds), bad


def _join(pieces: list[bytes], case: Case) -> bytes:
    """The pieces, each ended by the case's line ending (the last one only if final_newline)."""
    out, previous = b"", ""
    for number, piece in enumerate(pieces):
        ending = ENDINGS[number % 3] if case.ending == "mixed" else case.ending
        if previous == "\r" and not piece.strip() and ending == "\n":
            ending = "\r"  # "\r" + "\n" would read as one CRLF and swallow the blank line
        last = number == len(pieces) - 1
        out += piece + (ending.encode() if not last or case.final_newline else b"")
        previous = ending
    return out


def ingest_and_check(engine: Engine, case: Case, folder: Path) -> tuple[int, int]:
    """Ingest the case's file and check the invariant; return (rows, quarantined)."""
    path, written, bad = build(case, folder)
    from bridgehead.db import session_scope

    with session_scope() as s:
        validated = validate_file(s, case.channel, path)
    with session_scope() as s:
        result = load_file(s, validated)
    assert result.rows == written, case
    assert result.loaded + result.duplicates + result.quarantined == written, case
    assert (result.loaded, result.duplicates, result.quarantined) == (written - len(bad), 0, len(bad)), case
    with Session(engine) as s:
        kept = dict(
            s.execute(
                select(QuarantinedRow.line, QuarantinedRow.reason).where(
                    QuarantinedRow.file_sha256 == validated.sha256
                )
            ).all()
        )
        table = CriminalCase if case.channel == "case" else Signal
        stored = s.execute(
            select(func.count()).select_from(table).where(table.source_file_id == result.source_file_id)
        ).scalar_one()
        source = s.execute(select(SourceFile).where(SourceFile.id == result.source_file_id)).scalar_one()
        if case.channel == "tip":
            tips = s.execute(
                select(func.count())
                .select_from(Tip)
                .join(Signal, Signal.id == Tip.signal_id)
                .where(Signal.source_file_id == result.source_file_id)
            ).scalar_one()
            assert tips == result.loaded
    assert set(kept) == bad, (case, sorted(kept.items()))
    assert all(reason and "\n" not in reason and len(reason) < 400 for reason in kept.values()), kept
    assert stored == result.loaded
    assert (source.rows_total, source.rows_loaded, source.rows_quarantined) == (
        written,
        result.loaded,
        result.quarantined,
    )
    return written, len(bad)


def assert_no_secret(engine: Engine) -> None:
    with engine.connect() as conn:
        dump = "\n".join(
            str(row)
            for table in ("quarantined_row", "audit_log", "signal", "tip")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert SECRET not in dump and "13912345678" not in dump


def test_a_corpus_of_every_malformation_on_every_channel(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    malformed = 0
    for channel in CHANNELS:
        for fmt, kinds in (("csv", CSV_KINDS), ("jsonl", JSON_KINDS)):
            order = ["good"] + [k for k in kinds if k != "good"] * 3
            for ending, bom, final in (("\n", True, True), ("\r", False, False), ("mixed", False, True)):
                case = Case(
                    channel, fmt, order, ending, bom, final, blanks=[i % 7 == 3 for i in range(len(order))]
                )
                ingest_and_check(engine, case, tmp_path)
                malformed += len(order) - 1
    assert malformed >= 300
    assert_no_secret(engine)


@pytest.mark.parametrize("fault", ["repeat", "contact", "missing"])
def test_a_header_fault_quarantines_every_row_of_every_channel(
    engine: Engine, jurisdiction: Path, tmp_path: Path, fault: str
) -> None:
    for channel in CHANNELS:
        case = Case(channel, "csv", ["good", "stray_quote", "open_quote", "nul", "good"], header_fault=fault)
        assert ingest_and_check(engine, case, tmp_path) == (5, 5)
    assert_no_secret(engine)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    fmt = draw(st.sampled_from(["csv", "jsonl"]))
    kinds = list(CSV_KINDS if fmt == "csv" else JSON_KINDS)
    rows = ["good", *draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=14))]
    return Case(
        channel=draw(st.sampled_from(CHANNELS)),
        fmt=fmt,
        kinds=rows,
        ending=draw(st.sampled_from([*ENDINGS, "mixed"])),
        bom=draw(st.booleans()),
        final_newline=draw(st.booleans()),
        blanks=draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows))),
        header_fault=draw(st.sampled_from([None, None, None, "repeat", "contact", "missing"]))
        if fmt == "csv"
        else None,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases())
def test_random_files_lose_no_row(engine: Engine, jurisdiction: Path, tmp_path: Path, case: Case) -> None:
    ingest_and_check(engine, case, tmp_path)
    assert_no_secret(engine)
