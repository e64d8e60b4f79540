"""A window before the data begins is unknown, not zero: a 20-day export compared with an empty last
year once reported every count as a real rise."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tasks.review.figures import NO_RECORD
from tests.factories import ingest, review_of, write_rows


def _calls(tmp_path: Path, days: range) -> None:
    rows = [
        {"call_id": f"C{d}{i}", "received_at": f"2026-03-{d:02d} 2{i}:00", "address": f"幸福路{d}{i}号",
         "category": "public_order", "priority": "2", "summary": "深夜喧哗"}
        for d in days for i in range(3)
    ]  # fmt: skip
    ingest(write_rows(tmp_path / "calls.csv", *rows), "call")


def test_an_export_with_no_last_year_claims_no_change_against_it(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    _calls(tmp_path, range(1, 21))  # twenty days of March 2026, nothing before
    review = review_of("2026-03")
    calls = review["figures"]["calls"]
    assert calls["current"] == 60
    assert (calls["previous"], calls["last_year"]) == (None, None)
    assert calls["change_vs_last_year_pct"] is None and calls["significant"] is None
    assert calls["unknown"] == dict.fromkeys(("previous", "last_year"), NO_RECORD[1])
    assert not [f for f in review["findings"] if "real change" in f]
    assert all(r["cases_last_year"] is None and r["significant"] is None for r in review["rankings"])


def test_a_window_with_data_keeps_its_zeros(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    _calls(tmp_path, range(1, 21))
    old = {"call_id": "OLD1", "received_at": "2025-03-05 20:00", "community_code": "61030301002",
           "category": "traffic", "priority": "3", "summary": "剐蹭"}  # fmt: skip
    ingest(write_rows(tmp_path / "last-year" / "calls.csv", old), "call")
    calls = review_of("2026-03")["figures"]["calls"]
    assert calls["last_year"] == 1 and calls["significant"] is True  # 60 against 1: a real rise
    cases = review_of("2026-03")["figures"]["cases_filed"]
    assert cases["last_year"] == 0  # last March is on record: no case that month is a real zero
