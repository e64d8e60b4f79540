"""A source that records no dispatch or arrival times cannot say whether the 1-3-5 targets were met:
a 20-day export without them once read "met the 1-3-5 targets in 0.0% of 1,073 incidents"."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.factories import ingest, review_of, write_rows


def _urgent_calls(tmp_path: Path, **times: str) -> None:
    """Ten violence calls of March taken in closed, as an export of past calls has them."""
    rows = [
        {"call_id": f"V{d}", "received_at": f"2026-03-{d:02d} 21:00", "address": f"和平街{d}号",
         "category": "violence", "priority": "1", "summary": "打架", "closed_at": f"2026-03-{d:02d} 22:00",
         "disposition": "resolved_on_scene", **{k: v.format(d=d) for k, v in times.items()}}
        for d in range(1, 11)
    ]  # fmt: skip
    ingest(write_rows(tmp_path / "calls.csv", *rows), "call")


def test_an_export_without_response_times_leaves_compliance_unknown_with_its_reason(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    _urgent_calls(tmp_path)
    for lang, words in (("en", "records no dispatch or arrival times"), ("zh", "数据源未记录")):
        review = review_of("2026-03", lang)
        rate = review["figures"]["response_on_target_pct"]
        assert review["figures"]["incidents"]["current"] == 10
        assert rate["current"] is None  # not 0.0%: nothing could be judged
        assert words in rate["unknown"]["current"]
        assert any(words in f for f in review["findings"])
        assert not any("0.0%" in f for f in review["findings"])


def test_an_export_with_response_times_is_judged(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    _urgent_calls(tmp_path, dispatched_at="2026-03-{d:02d} 21:00:30", arrived_at="2026-03-{d:02d} 21:02")
    rate = review_of("2026-03")["figures"]["response_on_target_pct"]
    assert rate["current"] == 100.0 and "current" not in (rate.get("unknown") or {})
