"""Reading files: every bad row kept with its line and a reason; the good rows go through."""

from __future__ import annotations

import json
from pathlib import Path

from models import CallIn
from tasks.files import check_file

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
