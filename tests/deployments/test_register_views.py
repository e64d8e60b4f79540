"""The register as an officer and a chief read it: risks with their address and officer, a red risk
settled on the chief's sign-off, and an officer's day in the order to work it, up to capacity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from bridgehead.db import session_scope
from deployments.cli import app
from models.jurisdiction import Officer
from tests.tasks.follow_up.scenario import BASE, add_calls, add_visit, at, call, days, open_risk, sweep

runner = CliRunner()


def test_risks_list_shows_the_address_and_takes_an_officer(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    add_calls(tmp_path, call("C1", at(BASE, 9), "yellow", address="幸福路7号"))
    mine = runner.invoke(app, ["risks", "list", "--officer", "O000001", "--format", "json"])
    assert mine.exit_code == 0, mine.output
    (row,) = json.loads(mine.output)
    assert (row["address"], row["officer"]) == ("幸福路7号", "O000001")
    other = runner.invoke(app, ["risks", "list", "--officer", "O000002", "--format", "json"])
    assert json.loads(other.output) == []


def test_a_red_risk_is_settled_from_the_command_line_only_by_its_chief(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "red")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low", outcome="已化解")
    sweep(BASE + days(1))
    refused = runner.invoke(app, ["risks", "settle", str(rid), "--by", "王志英", "--reason", "调解成功"])
    assert refused.exit_code == 1
    assert len(refused.output.strip().splitlines()) == 1 and "not a chief of station" in refused.output
    signed = runner.invoke(app, ["risks", "settle", str(rid), "--by", "赵所长", "--reason", "调解成功"])
    assert signed.exit_code == 0, signed.output
    assert "return visit is due in 14 days" in signed.output
    shown = json.loads(runner.invoke(app, ["risks", "show", str(rid), "--format", "json"]).output)[0]
    assert shown["risk"]["status"] == "settled"
    assert [s["outcome"] for s in shown["signals"] if s["channel"] == "visit"] == ["settled"]


def test_an_officers_day_is_in_the_briefs_order_up_to_capacity(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    add_calls(
        tmp_path,
        call("C1", at(BASE - days(1), 9), "blue", address="和平街1号"),
        call("C2", at(BASE - days(1), 9), "red", address="幸福路2号"),
        call("C3", at(BASE - days(1), 9), "yellow", address="幸福路3号"),
    )
    with session_scope() as s:
        s.execute(update(Officer).where(Officer.officer_code == "O000001").values(daily_capacity=2))
    sweep(BASE)
    later = str(BASE + days(7))
    day = runner.invoke(
        app, ["followups", "due", "--officer", "O000001", "--date", later, "--format", "json"]
    )
    assert day.exit_code == 0, day.output
    rows = json.loads(day.output)
    assert [r["level"] for r in rows] == ["red", "yellow", "blue"]  # red, then by colour (all first visits)
    assert [r["address"] for r in rows] == ["幸福路2号", "幸福路3号", "和平街1号"]
    assert [r["place"] for r in rows] == [1, 2, None]  # the third does not fit a day of two
    table = runner.invoke(app, ["followups", "due", "--officer", "O000001", "--date", later])
    assert "2 on the list; 1 more than a day's 2: the chief's to share out" in table.output


def test_raising_to_red_without_a_server_says_the_next_intake_responds(
    engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    rid = open_risk(tmp_path, "yellow")
    raised = runner.invoke(
        app, ["risks", "raise", str(rid), "--to", "red", "--by", "赵所长", "--reason", "扬言报复"]
    )
    assert raised.exit_code == 0, raised.output
    assert "the next intake opens its quick response" in raised.output
