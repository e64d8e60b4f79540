"""`bridgehead incidents list|show|close`: the quick-response board as a duty officer reads it.

(`respond`, `watch` and `update` start Prefect flows and are tested with the flows.)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session
from typer.testing import CliRunner

from bridgehead.db import session_scope
from deployments.cli import app
from models.audit import AuditLog
from models.common import LOCAL_TZ, utcnow
from models.jurisdiction import PatrolUnit
from tasks.quick_response.dispatch import dispatch_incident
from tasks.quick_response.incidents import get_incident
from tests.factories import ingest, write_rows

runner = CliRunner()
S = timedelta(seconds=1)


@pytest.fixture
def t0(engine: Engine, jurisdiction: Path, tmp_path: Path) -> datetime:
    """Three calls received half an hour ago: INC-C1 (violence, dispatched after 20 s), INC-C2 (a
    neighbour dispute given priority 1, never dispatched) and INC-C3 (village, already closed)."""
    at = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    base = {"received_at": at.isoformat(), "priority": 1, "summary": "报警", "party_keys": "P-A;P-B"}
    ingest(
        write_rows(
            tmp_path / "calls.csv",
            {**base, "call_id": "C1", "category": "violence"},
            {**base, "call_id": "C2", "category": "family_neighbor", "community_code": "61030301002"},
            {
                **base,
                "call_id": "C3",
                "category": "public_order",
                "community_code": "61032301001",
                "closed_at": (at + 600 * S).isoformat(),
                "disposition": "resolved_on_scene",
            },
        )
    )
    with session_scope() as s:
        dispatch_incident(s, get_incident(s, "INC-C1"), 1, at + 20 * S)
    return at


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["incidents", *args])


def as_json(output: str) -> Any:
    return json.loads(output)


def test_list_shows_each_incident_with_its_targets(t0: datetime) -> None:
    result = invoke("list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["incident"]: r for r in as_json(result.output)}
    assert set(rows) == {"INC-C1", "INC-C2", "INC-C3"}
    c1, c2, c3 = rows["INC-C1"], rows["INC-C2"], rows["INC-C3"]
    assert (c1["status"], c1["units"], c1["dispatch"]) == ("dispatched", 1, "+20 s met")
    assert c1["arrival"] == "MISSED"  # half an hour, nobody reported on scene
    assert (c2["status"], c2["units"], c2["dispatch"], c2["arrival"]) == ("open", 0, "MISSED", "MISSED")
    assert (c3["status"], c3["outcome"], c3["station"]) == ("closed", "resolved_on_scene", "61032301")
    assert c1["opened"] == t0.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")  # station time


def test_list_filters_by_status_and_station(t0: datetime) -> None:
    closed = invoke("list", "--status", "closed", "--format", "json")
    assert [r["incident"] for r in as_json(closed.output)] == ["INC-C3"]
    station = invoke("list", "--station", "61030301", "--format", "json")
    assert sorted(r["incident"] for r in as_json(station.output)) == ["INC-C1", "INC-C2"]


def test_list_as_a_table(t0: datetime) -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "Incidents (3 of 3)" in result.output
    for code in ("INC-C1", "INC-C2", "INC-C3"):
        assert code in result.output


def test_show_gives_targets_units_and_state_changes(t0: datetime) -> None:
    result = invoke("show", "INC-C1", "--format", "json")
    assert result.exit_code == 0, result.output
    [shown] = as_json(result.output)
    assert shown["incident"]["incident_code"] == "INC-C1"
    assert {t["target"]: t["verdict"] for t in shown["targets"]} == {"dispatch": "met", "arrival": "missed"}
    assert [t["after_open"] for t in shown["targets"]] == ["+20 s", ""]
    assert [(u["unit"], u["dispatched"], u["from_other_station"]) for u in shown["units"]] == [
        ("U6103030102", "+20 s", "")
    ]
    assert [(c["unit"], c["status"]) for c in shown["state_changes"]] == [("U6103030102", "dispatched")]


def test_show_as_a_table(t0: datetime) -> None:
    result = invoke("show", "INC-C1")
    assert result.exit_code == 0, result.output
    assert "INC-C1: violence in 61030301001 (station 61030301)" in result.output
    assert "U6103030102" in result.output and "Targets (1-3-5)" in result.output


def test_show_an_unknown_incident(t0: datetime) -> None:
    result = invoke("show", "INC-NOPE")
    assert result.exit_code == 1
    assert "There is no incident INC-NOPE." in result.output


def test_close_frees_the_units_under_the_officers_name(engine: Engine, t0: datetime) -> None:
    result = invoke("close", "INC-C1", "--outcome", "resolved_on_scene", "--by", "王志英", "--note", "已处置")
    assert result.exit_code == 0, result.output
    assert "INC-C1 closed: resolved_on_scene; units freed: U6103030102" in result.output
    assert "closed by officer O000003" in result.output
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").status == "closed"
        assert get_incident(s, "INC-C1").closed_by == "O000003"
        unit = s.get(PatrolUnit, "U6103030102")
        actor = s.execute(select(AuditLog.actor).where(AuditLog.action == "close")).scalar_one()
    assert unit is not None and unit.status == "free"
    assert actor == "person:王志英"
    listed = {r["incident"]: r for r in as_json(invoke("list", "--format", "json").output)}
    assert listed["INC-C1"]["outcome"] == "resolved_on_scene"


def test_close_a_dispute_puts_it_on_a_risk(engine: Engine, t0: datetime) -> None:
    result = invoke("close", "INC-C2", "--outcome", "mediated", "--by", "李明")
    assert result.exit_code == 0, result.output
    assert "INC-C2 closed: mediated; units freed: none" in result.output
    assert "the remaining dispute is on risk" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["INC-C1", "--outcome", "solved", "--by", "李"], 2, "--outcome must be one of"),
        (["INC-C3", "--outcome", "false_alarm", "--by", "李"], 1, "INC-C3 was closed"),
        (["INC-NOPE", "--outcome", "false_alarm", "--by", "李"], 1, "there is no incident INC-NOPE"),
        (
            ["INC-C1", "--outcome", "false_alarm", "--by", "李", "--at", "2020-01-01T00:00:00"],
            1,
            "cannot close",
        ),
        (
            ["INC-C1", "--outcome", "false_alarm", "--by", "李", "--at", "yesterday"],
            2,
            "not an ISO 8601 time",
        ),
    ],
)
def test_close_refuses_with_a_clear_message(
    engine: Engine, t0: datetime, args: list[str], code: int, message: str
) -> None:
    result = invoke("close", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").status == "dispatched"
