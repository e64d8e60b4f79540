"""A review's outputs: three files, exact figures in the CSV, and one page that needs nothing but itself."""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tasks.review.report import CSV_COLUMNS, TEST_NAME, write_report

SAMPLE = Path(__file__).with_name("review_sample.json")


@pytest.fixture(scope="module")
def review() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def written(review: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_report(review, tmp_path_factory.mktemp("review"))


def test_writes_three_files_named_by_slug(written: dict[str, Path]) -> None:
    assert set(written) == {"html", "json", "csv"}
    for kind, path in written.items():
        assert path.name == f"review-district-610302-2026-w47.{kind}"
        assert path.stat().st_size > 0


def test_json_round_trips(review: dict[str, Any], written: dict[str, Path]) -> None:
    text = written["json"].read_text(encoding="utf-8")
    assert "渭滨区" in text  # not \\u escapes: readable as it is
    assert json.loads(text) == review


def test_csv_has_a_row_per_figure_exactly(review: dict[str, Any], written: dict[str, Path]) -> None:
    with written["csv"].open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CSV_COLUMNS
        rows = list(reader)
    assert [row["figure"] for row in rows] == list(review["figures"])
    for row in rows:
        fig = review["figures"][row["figure"]]
        assert row["label"] == fig["label"]
        for column in CSV_COLUMNS[3:]:
            if column not in fig:  # a ratio's parts and why a value is unknown: none in this sample
                assert column.endswith(("_numerator", "_denominator", "unknown")) and row[column] == ""
                continue
            value = fig[column]
            if value is None:
                assert row[column] == ""
            elif isinstance(value, bool):
                assert row[column] == str(value)
            else:
                assert float(row[column]) == value, column  # exact, not rounded
    calls = next(row for row in rows if row["figure"] == "calls")
    assert float(calls["change_vs_last_year_pct"]) == review["figures"]["calls"]["change_vs_last_year_pct"]
    assert calls["change_vs_last_year_pct"] == repr(review["figures"]["calls"]["change_vs_last_year_pct"])


def test_html_is_self_contained(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//|@import|<script|<link", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page  # not even as SVG namespaces
    for chart in ("chart-trend", "chart-colours", "chart-response"):
        assert re.search(rf'<svg id="{chart}" class="chart"', page)
    assert page.count('class="chart"') == 3


def test_html_shows_title_figures_and_the_test(review: dict[str, Any], written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    assert "渭滨区" in page and "2026-W47" in page and "2026-11-16" in page and "2025-11-17" in page
    assert TEST_NAME in page
    assert review["findings"][0] in page
    assert '<td class="n sig" title="p = 0.0003233">-13.26% ●</td>' in page  # calls year on year
    assert '<td class="n ns" title="p = 0.1362">+6.45%</td>' in page  # calls on the previous week
    for name in ("经二路派出所", "斗鸡苑社区", "王伟", "K202611170001"):
        assert name in page


def test_html_escapes_names(review: dict[str, Any], tmp_path: Path) -> None:
    spoilt = copy.deepcopy(review)
    spoilt["scope_name"] = "<script>alert(1)</script>区"
    spoilt["rankings"][0]["name"] = '<img src=x onerror="alert(2)">所'
    spoilt["findings"].append("<b>粗体</b> & 更多")
    page = write_report(spoilt, tmp_path)["html"].read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;区" in page
    assert "&lt;b&gt;粗体&lt;/b&gt; &amp; 更多" in page


def test_empty_sections_still_render(review: dict[str, Any], tmp_path: Path) -> None:
    bare: dict[str, Any] = {"slug": "review-city-2026-11", "scope": "city", "period": "2026-11", "lang": "en"}
    bare["response_histogram"] = {"edges_s": review["response_histogram"]["edges_s"], "dispatch": [0] * 8}
    paths = write_report(bare, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count('<p class="none">none</p>') >= 7  # findings, figures and the five tables
    assert page.count('class="chart"') == 3
    assert paths["csv"].read_text(encoding="utf-8").strip() == ",".join(CSV_COLUMNS)


def test_slug_may_not_be_a_path(review: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        write_report({**review, "slug": "../elsewhere"}, tmp_path)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no system Chromium to render the page")
def test_report_draws_in_a_browser(written: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("playwright")
    from deployments.browser_check import check_report

    result = check_report(written["html"], screenshot=tmp_path / "report.png")
    assert result.console_errors == []
    assert result.external_requests == []
    assert result.charts == {"chart-trend": True, "chart-colours": True, "chart-response": True}
    assert result.ok
    assert (tmp_path / "report.png").stat().st_size > 10_000
