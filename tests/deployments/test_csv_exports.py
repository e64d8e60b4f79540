"""CSV exports neutralise cells a spreadsheet would run as formulas (OWASP: = + - @ tab CR)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from bridgehead.exports import safe_cell, safe_frame, safe_row
from deployments.cli import app

runner = CliRunner()
ATTACKS = ['=HYPERLINK("http://x","click")', "+1+2", "@SUM(A1:A2)", "-2+3", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_text_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["幸福路1号", "a=b", "", None, -12.5, -3, 0.0, "'=already"])
def test_other_cells_and_numbers_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value


def test_rows_and_frames() -> None:
    import pandas as pd

    assert safe_row({"a": "=1", "b": -1}) == {"a": "'=1", "b": -1}
    frame = safe_frame(pd.DataFrame({"t": ["@x", "ok"], "n": [-1.5, 2.0]}))
    assert frame["t"].tolist() == ["'@x", "ok"] and frame["n"].tolist() == [-1.5, 2.0]


def test_emit_csv_neutralises_every_text_cell(capsys: pytest.CaptureFixture[str]) -> None:
    from deployments.console import emit

    emit([{"summary": text, "days_late": -2} for text in ATTACKS], "csv", "")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert [r["summary"] for r in rows] == ["'" + t for t in ATTACKS]
    assert {r["days_late"] for r in rows} == {"-2"}  # a number stays a number


def test_risks_show_csv_and_quarantine_list_csv(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    from models.contracts import FILE_COLUMNS
    from tests.factories import ingest, write_rows

    calls = tmp_path / "calls.csv"
    write_rows(
        calls,
        {"call_id": "C1", "received_at": "2026-03-01 20:00", "category": "family_neighbor",
         "severity": "2", "summary": "=HYPERLINK(\"http://evil\",\"查看\")"},
        {"call_id": "C2", "received_at": "2026-03-01 21:00", "category": "family_neighbor",
         "severity": "2", "summary": "@SUM(1+1)"},
        {"call_id": "=C3", "received_at": "not a time", "category": "family_neighbor"},
    )  # fmt: skip
    assert "summary" in FILE_COLUMNS["calls.csv"]
    ingest(calls, "call")
    with engine.connect() as conn:  # PostgreSQL's ids go on counting across tests
        risk_id = conn.execute(text("SELECT min(id) FROM risk")).scalar_one()
    shown = runner.invoke(app, ["risks", "show", str(risk_id), "--format", "csv"])
    assert shown.exit_code == 0, shown.output
    summaries = [r["summary"] for r in csv.DictReader(io.StringIO(shown.output)) if r["record"] == "signal"]
    assert summaries and all(s.startswith("'") for s in summaries), summaries
    listed = runner.invoke(app, ["quarantine", "list", "--format", "csv"])
    for row in csv.reader(io.StringIO(listed.output)):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


def test_the_review_csv(tmp_path: Path) -> None:
    from tasks.review.report import write_report

    review = {
        "slug": "r",
        "figures": {
            "calls": {"label": "=cmd|'/C calc'!A0", "kind": "count", "current": 3, "previous": 5,
                      "change_vs_previous_pct": -40.0},
        },
    }  # fmt: skip
    paths = write_report(review, tmp_path)
    rows = list(csv.DictReader(paths["csv"].open(encoding="utf-8")))
    assert rows[0]["label"] == "'=cmd|'/C calc'!A0"
    assert rows[0]["change_vs_previous_pct"] == "-40.0"  # a number, not text: left alone
