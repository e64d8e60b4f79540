"""An export is the whole list: csv and json give every row unless --limit says otherwise, and a
table says how many it shows of how many there are (25,575 quarantined rows once came back as 200)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from deployments.cli import app
from tests.factories import ingest, write_rows

runner = CliRunner()
BAD = 260  # more than the table's screenful of 200


def _quarantine_many(tmp_path: Path) -> None:
    call = {
        "received_at": "2026-03-01 20:00",
        "category": "family_neighbor",
        "priority": "2",
        "summary": "吵架",
    }
    # every other call has no id (quarantined); the others are at addresses of their own (a risk each)
    rows = [
        {**call, "call_id": f"C{i}", "address": f"幸福路{i}号"} if i % 2 else call for i in range(2 * BAD)
    ]
    ingest(write_rows(tmp_path / "calls.csv", *rows), "call")


def test_csv_and_json_give_every_quarantined_row(jurisdiction: Path, tmp_path: Path) -> None:
    _quarantine_many(tmp_path)
    as_csv = runner.invoke(app, ["quarantine", "list", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert len(list(csv.DictReader(io.StringIO(as_csv.output)))) == BAD
    as_json = runner.invoke(app, ["quarantine", "list", "--format", "json"])
    assert len(json.loads(as_json.output)) == BAD
    table = runner.invoke(app, ["quarantine", "list"])
    assert f"Quarantined rows (200 of {BAD})" in table.output


def test_limit_still_cuts_an_export_and_zero_means_all(jurisdiction: Path, tmp_path: Path) -> None:
    _quarantine_many(tmp_path)
    ten = runner.invoke(app, ["quarantine", "list", "--format", "json", "--limit", "10"])
    assert len(json.loads(ten.output)) == 10
    every = runner.invoke(app, ["quarantine", "list", "--limit", "0"])
    assert f"Quarantined rows ({BAD} of {BAD})" in every.output
    risks = runner.invoke(app, ["risks", "list", "--format", "json"])
    assert len(json.loads(risks.output)) == BAD  # one risk per good call: none stopped at 100
