"""The staffing what-if's page: the curve in order of capacity, and nothing measured shown as nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tasks.review.staffing_report import StaffingPoint, render_html, shown, write_staffing_report

POINTS = [
    StaffingPoint(8, 91.4, 82.0, 3, 0.3, 95),
    StaffingPoint(2, 47.1, None, 12, 0.9, 2_885),
]


def test_the_curve_runs_in_order_of_capacity_with_its_chart(tmp_path: Path) -> None:
    paths = write_staffing_report(POINTS, tmp_path, "staffing-x", "2026-08-04 to 2026-12-01")
    rows = list(csv.DictReader(paths["csv"].open(encoding="utf-8")))
    assert [r["capacity"] for r in rows] == ["2", "8"]
    saved = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [p["capacity"] for p in saved["points"]] == [2, 8]
    page = paths["html"].read_text(encoding="utf-8")
    assert '<svg id="staffing"' in page and "http" not in page.split("<svg", 1)[1]  # loads nothing


def test_a_rate_with_nothing_to_measure_is_a_dash_with_its_reason_not_a_zero() -> None:
    page = render_html(POINTS, "p")
    assert shown(None) == "—" and shown(47.06) == "47.1" and shown(2885) == "2,885"
    assert "<td>—</td>" in page and "nothing to measure" in page and "at capacity 2" in page
    assert "<td>0.0</td>" not in page
