"""Reading files: every bad row kept with its line and a reason; the good rows go through."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session

from bridgehead.db import session_scope
from models import CallIn, QuarantinedRow, TipIn
from tasks.intake.checks import check_file
from tasks.intake.files import FIELD_LIMIT, QUOTE_RUNS_ON, NotAFile
from tasks.intake.load import load_file, validate_file
from tests.factories import TIP, write_rows

HEADER = "call_id,received_at,community_code,address,category,priority,summary,phone\n"


def test_bad_rows_are_rejected_with_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(
        (
            HEADER
            + "C1,2026-08-07 20:15,c1,盛世广场,走失,1,孩子走失,13912345678\n"
            + "C2,not-a-time,c1,a,public_order,2,,\n"
            + "C3,2026-08-07 20:16,c1,a,public_order,9,,\n"
            + "C1,2026-08-07 20:17,c1,a,public_order,2,,\n"
            + '"C4",2026-08-07 20:18,c1,"a, b",other,3,"two\nlines",\n'
        ).encode()
        + "C5,2026-08-07 20:19,c1,a,other,3,乱码,\n".encode("gb18030")
        + b"C6,2026-08-07 20:20,c1,a,other,3,,\n"
        + b"C7,2026-08-07 20:21,c1\n"
    )
    checked = check_file(path, CallIn, key="call_id")
    assert [line for line, _ in checked.rows] == [2, 6, 9]
    assert checked.rows[1][1].summary == "two\nlines"
    reasons = {r.line: r.reason for r in checked.rejects}
    assert set(reasons) == {3, 4, 5, 8, 10}
    assert reasons[3].startswith("received_at: Input should be a valid datetime")
    assert reasons[4] == "priority: Input should be less than or equal to 4 (got '9')"
    assert reasons[5] == "call_id 'C1' repeats line 2 of the same file"
    assert reasons[8] == "the line is not valid UTF-8"
    assert reasons[10] == "has 3 fields where the header has 8"


def test_quarantined_raw_rows_hide_the_phone(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(HEADER + "C1,bad,c1,a,other,1,,13912345678\n", encoding="utf-8")
    reject = check_file(path, CallIn).rejects[0]
    assert "13912345678" not in reject.safe_raw()
    assert json.loads(reject.safe_raw())["phone"] == "[redacted]"


def test_json_lines_take_the_same_fields(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    good = {
        "call_id": "C1",
        "received_at": "2026-08-07T20:15:00+08:00",
        "community_code": "c",
        "address": "a",
        "category": "暴力",
        "priority": 1,
        "phone": "",
    }
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n\n[1]\n{oops\n", encoding="utf-8")
    checked = check_file(path, CallIn)
    assert len(checked.rows) == 1 and checked.rows[0][1].phone is None
    assert (checked.rejects[0].line, checked.rejects[0].reason) == (3, "not a JSON object")
    assert checked.rejects[1].line == 4


def test_a_phone_number_in_a_bad_field_is_masked_in_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(HEADER + "C1,13912345678,c1,a,other,1,,\n", encoding="utf-8")
    reason = check_file(path, CallIn).rejects[0].reason
    assert reason == "received_at: Value error, not an ISO 8601 date and time: '[phone]' (got '[phone]')"


def test_a_header_missing_a_column_is_named_once_per_row_not_field_by_field(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,received_at,community_code,address,catgory\n"
        "C1,2026-03-01 10:00,61030301001,幸福路1号,fraud\n"
        "C2,2026-03-01 11:00,61030301001,幸福路2号,fraud\n",
        encoding="utf-8",
    )
    checked = check_file(path, CallIn, key="call_id")
    assert checked.rows == []
    assert [(r.line, r.reason) for r in checked.rejects] == [
        (n, "the header has no column category (columns it has that the contract does not know: catgory)")
        for n in (2, 3)
    ]


# Issue 18: no row is lost and none stops the file. One test per symptom the tester measured.

SEVEN = [f"C{i},2026-08-07 20:1{i},c1,幸福路{i}号,other,3,第{i}起,\n" for i in range(1, 8)]


def test_a_stray_quote_inside_a_field_is_a_character_and_costs_no_row(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    rows = SEVEN.copy()
    rows[2] = """C3,2026-08-07 20:13,c1,幸福路3号,other,3,he is 6'0" tall,\n"""
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    checked = check_file(path, CallIn, key="call_id")
    assert [line for line, _ in checked.rows] == [2, 3, 4, 5, 6, 7, 8] and checked.rejects == []
    assert checked.rows[2][1].summary == """he is 6'0" tall"""


def test_a_quote_never_closed_costs_its_own_line_only(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    rows = SEVEN.copy()
    rows[2] = 'C3,2026-08-07 20:13,c1,"幸福路3号,other,3,,\n'
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    checked = check_file(path, CallIn, key="call_id")
    assert [line for line, _ in checked.rows] == [2, 3, 5, 6, 7, 8]
    assert [(r.line, r.reason) for r in checked.rejects] == [(4, QUOTE_RUNS_ON)]


def test_control_characters_are_refused_per_row_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    rows = SEVEN.copy()
    rows[1] = "C2,2026-08-07 20:12,c1,幸福路2号,other,3,a\x00b,\n"
    rows[4] = 'C5,2026-08-07 20:15,c1,幸福路5号,other,3,"bell\x07\tand tab",\n'
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    checked = check_file(path, CallIn, key="call_id")
    assert [(r.line, r.reason) for r in checked.rejects] == [
        (3, "summary: holds a control character (U+0000)"),
        (6, "summary: holds a control character (U+0007)"),
    ]
    assert len(checked.rows) == 5
    assert "\x00" not in (checked.rejects[0].safe_raw() or "")  # JSON-escaped: PostgreSQL can store it


def test_a_nul_byte_is_quarantined_the_same_on_both_databases(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    path = write_rows(
        tmp_path / "calls.csv",
        *({"call_id": f"C{i}", "received_at": "2026-03-01 10:00", "category": "fraud"} for i in range(3)),
    )
    path.write_bytes(path.read_bytes().replace(b"C1,", b"C1\x00,"))
    with session_scope() as s:
        validated = validate_file(s, "call", path)
    with session_scope() as s:
        result = load_file(s, validated)
    assert (result.rows, result.loaded, result.quarantined) == (3, 2, 1)
    with Session(engine) as s:
        kept = s.execute(select(QuarantinedRow.line, QuarantinedRow.reason)).all()
    assert kept == [(3, "call_id: holds a control character (U+0000)")]


def test_a_huge_field_is_quarantined_and_the_file_still_read(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    rows = SEVEN.copy()
    rows[3] = f'C4,2026-08-07 20:14,c1,幸福路4号,other,3,"{"长" * 200_000}",\n'
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    checked = check_file(path, CallIn, key="call_id")
    assert len(checked.rows) == 6
    assert [(r.line, r.reason) for r in checked.rejects] == [
        (5, f"summary: 200,000 characters, more than the {FIELD_LIMIT:,} a value may hold")
    ]
    assert len(checked.rejects[0].safe_raw() or "") < 1000  # kept, cut short


def test_cr_only_and_mixed_line_endings_read_every_row(tmp_path: Path) -> None:
    old_mac = tmp_path / "calls.csv"
    old_mac.write_text((HEADER + "".join(SEVEN)).replace("\n", "\r"), encoding="utf-8", newline="")
    assert [line for line, _ in check_file(old_mac, CallIn).rows] == [2, 3, 4, 5, 6, 7, 8]
    mixed = tmp_path / "mixed.csv"
    endings = ["\r\n", "\r", "\n"]
    text = "".join(line.replace("\n", endings[i % 3]) for i, line in enumerate([HEADER, *SEVEN]))
    mixed.write_text(text.rstrip("\n\r"), encoding="utf-8", newline="")  # no newline at the end either
    checked = check_file(mixed, CallIn)
    assert [line for line, _ in checked.rows] == [2, 3, 4, 5, 6, 7, 8] and checked.rejects == []


def test_a_repeated_header_column_refuses_every_row(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,received_at,community_code,address,category,summary,category\n"
        "C1,2026-03-01 10:00,c1,幸福路1号,fraud,,violence\n"
        "C2,2026-03-01 11:00,c1,幸福路2号,fraud,,fraud\n",
        encoding="utf-8",
    )
    checked = check_file(path, CallIn, key="call_id")
    assert checked.rows == []
    assert [(r.line, r.reason) for r in checked.rejects] == [
        (n, "the header has column category more than once (a file must name each column once)")
        for n in (2, 3)
    ]


def _jsonl(path: Path, *rows: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


GOOD_TIP = {"tip_id": "T1", "received_at": "2026-03-01T10:00:00+08:00", "community_code": "c1",
            "address": "幸福路1号", "category": "fraud"}  # fmt: skip


def test_json_lines_values_must_have_the_fields_type(tmp_path: Path) -> None:
    calls = _jsonl(
        tmp_path / "calls.jsonl",
        {**GOOD_TIP, "call_id": "C1", "received_at": 1_772_330_400},
        {**GOOD_TIP, "call_id": "C2", "priority": True},
        {**GOOD_TIP, "call_id": "C3", "priority": 2.0},
        {**GOOD_TIP, "call_id": "C4", "priority": 2, "closed_at": "2026-03-01T11:00:00+08:00"},
        {**GOOD_TIP, "call_id": "C5", "priority": "2"},  # text is read as CSV text is
    )
    checked = check_file(calls, CallIn, key="call_id")
    assert [(r.line, r.reason) for r in checked.rejects] == [
        (1, "received_at: must be ISO 8601 text, not a number (got 1772330400)"),
        (2, "priority: must be a whole number, not true/false (got True)"),
        (3, "priority: must be a whole number, not a number (got 2.0)"),
    ]
    assert [m.priority for _, m in checked.rows] == [2, 2]
    tips = _jsonl(
        tmp_path / "tips.jsonl",
        {**GOOD_TIP, "wants_reward": 1},
        {**GOOD_TIP, "tip_id": "T2", "wants_reward": True},
    )
    checked_tips = check_file(tips, TipIn, key="tip_id")
    assert [r.reason for r in checked_tips.rejects] == [
        "wants_reward: must be true or false, not a number (got 1)"
    ]
    assert checked_tips.rows[0][1].wants_reward is True
    csv_tips = tmp_path / "tips.csv"  # CSV stays text: "1" and "是" are still true
    csv_tips.write_text(
        "tip_id,received_at,community_code,address,category,wants_reward\n"
        "T1,2026-03-01 10:00,c1,a,fraud,1\nT2,2026-03-01 10:00,c1,a,fraud,是\n",
        encoding="utf-8",
    )
    assert [m.wants_reward for _, m in check_file(csv_tips, TipIn).rows] == [True, True]


def test_a_contact_of_the_wrong_type_is_not_echoed_in_the_reason(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "tips.jsonl",
        {**GOOD_TIP, "contact": ["wxid_secret_li", "13912345678"]},
        {**GOOD_TIP, "tip_id": "T2", "contact": 13912345678},
        {**GOOD_TIP, "tip_id": "T3", "contact": {"wechat": "wxid_secret_li"}},
    )
    rejects = check_file(path, TipIn, key="tip_id").rejects
    assert [r.reason for r in rejects] == ["contact: Input should be a valid string"] * 2 + [
        "contact: Input should be a valid string"
    ]
    for r in rejects:
        assert "wxid_secret_li" not in (r.safe_raw() or "") and "13912345678" not in (r.safe_raw() or "")


def test_an_unknown_contact_column_refuses_the_file_and_is_not_kept(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    for name in ("Contact", "contact_phone", "phone_number", "mobile", "Email", "tel"):
        path = tmp_path / f"{name}" / "visits.csv"
        path.parent.mkdir()
        path.write_text(
            f"visit_id,visited_at,officer_code,community_code,address,category,{name}\n"
            f"V-{name},2026-03-02 09:00,O000001,61030301001,幸福路1号,家庭邻里,wxid_secret_li\n",
            encoding="utf-8",
        )
        with session_scope() as s:
            validated = validate_file(s, "visit", path)
        assert (validated.kept, validated.quarantined) == (0, 1)
        with engine.connect() as conn:
            reasons = conn.execute(
                select(QuarantinedRow.reason).where(QuarantinedRow.file_sha256 == validated.sha256)
            ).scalars()
        assert list(reasons) == [
            f"the header has column {name}, which looks like a personal contact this file does not take: "
            "remove or rename it (its values are not kept)"
        ]
    with engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.execute(text("SELECT * FROM quarantined_row")))
    assert dump.count("visits.csv") == 6 and "wxid_secret_li" not in dump
    # the channel's own contact field is no problem
    tips = write_rows(tmp_path / "tips.csv", TIP)
    with session_scope() as s:
        assert validate_file(s, "tip", tips).kept == 1


@pytest.mark.parametrize("kind", ["directory", "fifo", "empty", "missing"])
def test_a_path_that_is_not_a_file_fails_early_in_one_line(tmp_path: Path, kind: str) -> None:
    path = {"directory": tmp_path, "fifo": tmp_path / "calls.csv", "empty": Path(""),
            "missing": tmp_path / "nope.csv"}[kind]  # fmt: skip
    if kind == "fifo":
        os.mkfifo(path)  # opening it would wait for a writer forever
    expected = {
        "directory": (NotAFile, f"{tmp_path}: not a regular file (a directory)"),
        "fifo": (NotAFile, f"{path}: not a regular file (a named pipe)"),
        "empty": (NotAFile, ".: not a regular file (a directory)"),
        "missing": (FileNotFoundError, f"{path}: no such file"),
    }[kind]
    with pytest.raises(expected[0]) as caught:
        check_file(path, CallIn)
    assert str(caught.value) == expected[1]
    assert isinstance(caught.value, ValueError | FileNotFoundError)
