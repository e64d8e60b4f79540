"""The column check of 110 calls gives pydantic's answer: the same values for the rows it takes, and the
contract itself (so its reasons, word for word) for every other row."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from models.common import LOCAL_TZ, utcnow
from models.signal import CallIn
from tasks.intake.checks import COLUMN_CHECKS, check_file, check_records
from tasks.intake.files import read_rows
from tests.factories import write_csv
from tests.tasks.intake.rows import CALL_HEADER, call_row

SOON = (utcnow() + timedelta(minutes=30)).astimezone(LOCAL_TZ)
LATER = (utcnow() + timedelta(hours=3)).astimezone(LOCAL_TZ)

# Values of every kind a field may bring, good, odd and bad, for every column.
VARIANTS: dict[str, list[Any]] = {
    "call_id": ["C1", " C2 ", None, 7],
    "received_at": [
        "2025-03-01T08:00:00+08:00",
        "2025-03-01 08:00:00",
        "2025-03-01T00:00:00Z",
        " 2025-03-01T08:00:00-05:00 ",
        "2025-03-01T08:00:00.250+08:00",
        "2025-03-01T08:00",
        "2025-03-01",
        "2025-02-30T08:00:00",
        "2025-03-01T24:00:00",
        "2025-03-01T08:00:00+25:00",
        "1740787200",
        "31/02/2026",
        SOON.strftime("%Y-%m-%dT%H:%M:%S"),
        LATER.strftime("%Y-%m-%dT%H:%M:%S"),
        None,
        1740787200,
    ],
    "community_code": ["61030301001", " 61030301002 ", None],
    "address": ["幸福路1号", None],
    "category": ["violence", " 家庭邻里 ", "Violence", "野猪", None, 3],
    "priority": ["1", "4", " 2", "0", "5", "2.0", "二", None, 2, True],
    "summary": ["吵架", "  有人  ", None],
    "party_keys": ["PK1; PK2;PK1", ";", "PK9", None, ["PK1"]],
    "phone": ["13912345678", None],
    "dispatched_at": [None, "2025-03-01T08:05:00+08:00", "2025-03-01T07:55:00+08:00"],
    "arrived_at": [None, "2025-03-01T08:10:00+08:00", "2025-03-01T08:02:00+08:00"],
    "closed_at": [None, "2025-03-01T09:00:00+08:00", "2025-03-01T07:00:00+08:00"],
    "disposition": ["mediated", None],
}
BASE = {name: values[0] for name, values in VARIANTS.items()}
# Plain in form, odd in fact: the edges of the calendar, an hour the clocks went back (China, 1990), the
# local mean time before 1901. Each on its own, not in pairs, so the pairs measure the common forms.
ODD_TIMES = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "1990-09-16 01:30:00",
    "1990-04-15 02:30:00",
    "1900-06-01T12:00:00",
]


def _rows() -> list[dict[str, Any]]:
    """Each value of each column on the base row, then each pair of times together."""
    rows = [{**BASE, name: value} for name, values in VARIANTS.items() for value in values]
    rows += [{**BASE, name: value} for name in ("received_at", "closed_at") for value in ODD_TIMES]
    times = ["received_at", "dispatched_at", "arrived_at", "closed_at"]
    for a, b in itertools.combinations(times, 2):
        rows += [{**BASE, a: x, b: y} for x in VARIANTS[a] for y in VARIANTS[b]]
    rows.append({k: v for k, v in BASE.items() if k not in ("priority", "party_keys", "phone")})
    rows.append({k: v for k, v in BASE.items() if k != "call_id"})
    rows.append({**BASE, "extra": "ignored"})
    return rows


def test_the_column_check_gives_pydantic_s_values_or_leaves_the_row_to_it() -> None:
    rows = _rows()
    fast = COLUMN_CHECKS[CallIn](rows)
    taken = valid = 0
    for row, record in zip(rows, fast, strict=True):
        try:
            expected = CallIn.model_validate(row).model_dump()
        except ValidationError:
            assert record is None, row
            continue
        valid += 1
        if record is not None:
            taken += 1
            assert record == expected, row
            assert list(record) == list(expected)
            assert [type(v) for v in record.values()] == [type(v) for v in expected.values()], row
            assert [getattr(v, "tzinfo", None) for v in record.values()] == [
                getattr(v, "tzinfo", None) for v in expected.values()
            ], row
    assert taken > valid * 2 // 3  # the plain forms do take the fast way


def test_the_column_check_knows_every_field_and_rule_of_the_contract() -> None:
    """A field or validator added to CallIn must be added to its column check too (or the check removed)."""
    record = COLUMN_CHECKS[CallIn]([dict(BASE)])[0]
    assert record is not None and list(record) == list(CallIn.model_fields)
    decorators = CallIn.__pydantic_decorators__
    assert set(decorators.model_validators) == {"_in_order"}
    assert not decorators.field_validators and not decorators.validators


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_check_records_gives_check_file_s_verdicts(tmp_path: Path, suffix: str) -> None:
    good = [call_row(i) for i in range(300)]
    bad = [
        call_row(900, received_at="31/02/2026"),
        call_row(901, priority=7),
        call_row(902, category="野猪"),
        call_row(903, address=""),
        call_row(904, closed_at="2024-01-01 00:00:00"),
        call_row(5),  # C000005 again
        call_row(905, received_at=LATER.strftime("%Y-%m-%d %H:%M:%S")),
        call_row(906, summary="a\x01b"),
        call_row(908, received_at="0001-01-01 00:00:00"),  # before UTC's year 1: once crashed the file
    ]
    rows = good[:100] + bad + good[100:]
    path = write_csv(tmp_path / "calls.csv", CALL_HEADER, rows)
    if suffix == ".jsonl":
        import json

        lines = [json.dumps(r, ensure_ascii=False) for _, r, _ in read_rows(path) if r is not None]
        lines.insert(3, json.dumps({**dict(zip(CALL_HEADER, call_row(907), strict=True)), "priority": 2}))
        path = tmp_path / "calls.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    slow, fast = check_file(path, CallIn, key="call_id"), check_records(path, CallIn, key="call_id")
    plain = write_csv(tmp_path / "plain" / "calls.csv", CALL_HEADER, good)
    assert all(COLUMN_CHECKS[CallIn]([r for _, r, _ in read_rows(plain) if r is not None]))
    assert [(line, m.model_dump()) for line, m in slow.rows] == fast.rows
    assert sorted(slow.rejects, key=lambda r: r.line) == sorted(fast.rejects, key=lambda r: r.line)
    assert len(fast.rejects) == len(bad)
    assert any("0001-01-01T00:00+08:05:43 is out of the range of dates" in r.reason for r in fast.rejects)
