"""Dispatch (派警): the nearest free units of the station, never one unit for two incidents.

Station 61030301 (陈仓) has units U6103030101 at (34.37, 107.15) and U6103030102 at (34.371, 107.151),
the latter exactly at community 61030301001; station 61032301 (麦禾营) has U6103230101, ~44 km east.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bridgehead import audit
from bridgehead.db import session_scope
from models.audit import AuditLog
from models.common import utcnow
from models.incident import Dispatch, Incident
from models.jurisdiction import PatrolUnit
from tasks.jurisdiction import load_jurisdiction
from tasks.quick_response.dispatch import (
    DispatchResult,
    dispatch_incident,
    distance_km,
    escalate,
    nearest_free,
)
from tasks.quick_response.incidents import get_incident
from tests.factories import STATIONS, UNITS, ingest, write_jurisdiction, write_rows

CHENCANG = "61030301"
FOUR_UNITS = [
    ("U6103030101", CHENCANG, 2, 34.37, 107.15),
    ("U6103030102", CHENCANG, 2, 34.371, 107.151),
    ("U6103030103", CHENCANG, 2, 34.38, 107.16),
    ("U6103030104", CHENCANG, 2, 34.39, 107.17),
    ("U6103230101", "61032301", 3, 34.45, 107.62),
]


def load(tmp_path: Path, **tables: Any) -> None:
    """The small jurisdiction with some of its tables replaced."""
    with session_scope() as s:
        load_jurisdiction(s, write_jurisdiction(tmp_path / "j2", **tables), actor="person:test")


def open_calls(tmp_path: Path, *calls: tuple[str, str, str]) -> datetime:
    """Urgent calls (call_id, category, community) still open, received 40 minutes ago: too old for intake
    to answer them itself (`live_call_within_min`), so their dispatch is these tests'; returns that time."""
    at = utcnow().replace(microsecond=0) - timedelta(minutes=40)
    rows = [
        {
            "call_id": cid,
            "received_at": at.isoformat(),
            "category": cat,
            "priority": 1,
            "community_code": community,
            "summary": "报警",
        }
        for cid, cat, community in calls
    ]
    ingest(write_rows(tmp_path / "calls.csv", *rows))
    return at


def dispatch(code: str, wanted: int | None, at: datetime) -> DispatchResult:
    with session_scope() as s:
        return dispatch_incident(s, get_incident(s, code), wanted, at)


def units(engine: Engine) -> dict[str, tuple[str, int | None]]:
    with Session(engine) as s:
        return {u.unit_code: (u.status, u.incident_id) for u in s.execute(select(PatrolUnit)).scalars()}


def dispatches(engine: Engine) -> list[Dispatch]:
    with Session(engine) as s:
        return list(s.execute(select(Dispatch).order_by(Dispatch.unit_code)).scalars())


# --- pure ----------------------------------------------------------------------------------------


def test_distance_is_great_circle_km() -> None:
    d = distance_km(34.0, 107.0, [34.0, 35.0, 34.0], [107.0, 107.0, 108.0])
    assert d[0] == 0
    assert d[1] == pytest.approx(111.195, abs=0.01)  # one degree of latitude
    assert d[2] == pytest.approx(111.195 * 0.829, abs=0.1)  # one degree of longitude at 34°N


def test_nearest_free_skips_busy_units_and_breaks_ties_by_code() -> None:
    frame = pd.DataFrame(
        [
            ("U3", "s", "free", 34.02, 107.0),
            ("U2", "s", "free", 34.01, 107.0),
            ("U1", "s", "free", 34.01, 107.0),  # same place as U2
            ("U0", "s", "on_scene", 34.0, 107.0),  # nearest but busy
        ],
        columns=["unit_code", "station_code", "status", "lat", "lon"],
    )
    assert list(nearest_free(frame, 34.0, 107.0, 2)["unit_code"]) == ["U1", "U2"]
    assert list(nearest_free(frame, 34.0, 107.0, None)["unit_code"]) == ["U1", "U2", "U3"]
    assert nearest_free(frame[frame["status"] != "free"], 34.0, 107.0, 1).empty


# --- dispatching an incident ---------------------------------------------------------------------


def test_the_nearest_free_unit_is_sent_and_recorded(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    opened = open_calls(tmp_path, ("C1", "public_order", "61030301001"))
    at = opened + timedelta(seconds=20)
    result = dispatch("INC-C1", 1, at)

    assert (result.station_code, result.free_before, result.already_dispatched) == (CHENCANG, 2, False)
    assert [(u["unit_code"], u["distance_km"]) for u in result.units] == [("U6103030102", 0.0)]
    with Session(engine) as s:
        incident = get_incident(s, "INC-C1")
    assert incident.status == "dispatched"
    assert units(engine) == {
        "U6103030101": ("free", None),
        "U6103030102": ("dispatched", incident.id),
        "U6103230101": ("free", None),
    }
    [d] = dispatches(engine)
    assert (d.unit_code, d.dispatched_at, d.escalation, d.distance_km) == ("U6103030102", at, False, 0.0)


def test_violence_gets_two_units_nearest_first(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    opened = open_calls(tmp_path, ("C1", "violence", "61030301001"))
    result = dispatch("INC-C1", 2, opened + timedelta(seconds=10))
    assert [u["unit_code"] for u in result.units] == ["U6103030102", "U6103030101"]
    assert result.units[1]["distance_km"] == pytest.approx(0.143, abs=0.005)


def test_a_search_takes_every_free_unit_of_the_station_only(engine: Engine, tmp_path: Path) -> None:
    load(tmp_path, units=FOUR_UNITS)
    opened = open_calls(
        tmp_path, ("C1", "public_order", "61030301002"), ("C2", "missing_person", "61030301001")
    )
    dispatch("INC-C1", 1, opened + timedelta(seconds=5))
    result = dispatch("INC-C2", None, opened + timedelta(seconds=6))
    assert result.free_before == 3
    assert {u["unit_code"] for u in result.units} == {"U6103030101", "U6103030103", "U6103030104"}
    assert units(engine)["U6103230101"] == ("free", None)  # the other station's unit stays home


def test_a_second_dispatch_for_the_same_incident_changes_nothing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    opened = open_calls(tmp_path, ("C1", "violence", "61030301001"))
    dispatch("INC-C1", 1, opened + timedelta(seconds=10))
    with Session(engine) as s:
        audit_rows = s.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    again = dispatch("INC-C1", 1, opened + timedelta(seconds=30))
    assert again.already_dispatched and again.units == []
    assert [d.unit_code for d in dispatches(engine)] == ["U6103030102"]
    assert units(engine)["U6103030101"] == ("free", None)
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(AuditLog)).scalar_one() == audit_rows


def test_a_closed_incident_gets_no_units(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    opened = open_calls(tmp_path, ("C1", "violence", "61030301001"))
    with session_scope() as s:
        incident = get_incident(s, "INC-C1")
        incident.status, incident.closed_at = "closed", opened + timedelta(seconds=5)
        s.add(incident)
    result = dispatch("INC-C1", 2, opened + timedelta(seconds=10))
    assert result.closed and result.units == []
    assert dispatches(engine) == []


def test_with_no_free_unit_nothing_is_sent(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    opened = open_calls(tmp_path, ("C1", "missing_person", "61030301001"), ("C2", "violence", "61030301002"))
    assert len(dispatch("INC-C1", None, opened).units) == 2
    result = dispatch("INC-C2", 2, opened + timedelta(seconds=1))
    assert (result.free_before, result.units, result.already_dispatched) == (0, [], False)
    with Session(engine) as s:
        assert get_incident(s, "INC-C2").status == "open"


# --- escalation ----------------------------------------------------------------------------------


FAR = ("61099901", "远山派出所", "远县", 36.0, 109.0)


def test_escalation_pulls_the_nearest_other_stations_nearest_unit(engine: Engine, tmp_path: Path) -> None:
    load(
        tmp_path,
        stations=[*STATIONS, FAR],
        units=[*UNITS, ("U6109990101", FAR[0], 2, 34.372, 107.152)],  # near the scene, far station
    )
    opened = open_calls(tmp_path, ("C1", "violence", "61030301001"))
    at = opened + timedelta(seconds=70)
    with session_scope() as s:
        first = escalate(s, get_incident(s, "INC-C1"), at, "INC-C1: dispatch target missed")
        second = escalate(s, get_incident(s, "INC-C1"), at, "INC-C1: still nobody")
        third = escalate(s, get_incident(s, "INC-C1"), at, "INC-C1: and again")
    # the station nearest the scene is chosen first, even though the far station's unit is closer
    assert first is not None and (first["unit_code"], first["station_code"]) == ("U6103230101", "61032301")
    assert second is not None and second["unit_code"] == "U6109990101"
    assert third is None  # no free unit at any other station; the own station's are never taken
    escalated = [d for d in dispatches(engine) if d.escalation]
    assert [d.unit_code for d in escalated] == ["U6103230101", "U6109990101"]
    assert all(d.dispatched_at == at for d in escalated)
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").status == "dispatched"
        actions = s.execute(
            select(AuditLog.action).where(AuditLog.entity_id == "INC-C1", AuditLog.action == "escalate")
        ).all()
    assert len(actions) == 2


def test_every_dispatch_is_audited(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    opened = open_calls(tmp_path, ("C1", "violence", "61030301001"))
    dispatch("INC-C1", 2, opened + timedelta(seconds=10))
    with Session(engine) as s:
        rows = s.execute(
            select(AuditLog.action, AuditLog.entity, AuditLog.entity_id).where(
                AuditLog.action.in_(["dispatch", "status"])
            )
        ).all()
        assert audit.verify(s).ok
    assert sorted(rows) == [
        ("dispatch", "incident", "INC-C1"),
        ("status", "patrol_unit", "U6103030101"),
        ("status", "patrol_unit", "U6103030102"),
    ]


# --- two dispatchers at once ---------------------------------------------------------------------


@pytest.mark.parametrize(("wanted", "sizes"), [(None, [0, 4]), (1, [1, 1]), (3, [1, 3])])
def test_two_incidents_dispatched_at_once_never_share_a_unit(
    engine: Engine, tmp_path: Path, wanted: int | None, sizes: list[int]
) -> None:
    load(tmp_path, units=FOUR_UNITS)
    opened = open_calls(tmp_path, ("C1", "violence", "61030301001"), ("C2", "violence", "61030301002"))
    barrier = threading.Barrier(2)
    results: dict[str, DispatchResult] = {}
    errors: list[BaseException] = []

    def run(code: str) -> None:
        try:
            with session_scope() as s:
                incident = get_incident(s, code)
                barrier.wait(timeout=10)
                results[code] = dispatch_incident(s, incident, wanted, opened + timedelta(seconds=15))
        except BaseException as exc:  # re-raised by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(code,)) for code in ("INC-C1", "INC-C2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    sent = {code: {u["unit_code"] for u in r.units} for code, r in results.items()}
    assert sent["INC-C1"].isdisjoint(sent["INC-C2"])
    assert sorted(len(s) for s in sent.values()) == sizes

    with Session(engine) as s:
        ids = {i.incident_code: i.id for i in s.execute(select(Incident)).scalars()}
        open_assignments = s.execute(
            select(Dispatch.unit_code, func.count())
            .where(Dispatch.cleared_at.is_(None))
            .group_by(Dispatch.unit_code)
        ).all()
        assert audit.verify(s).ok
    assert all(n == 1 for _, n in open_assignments)
    assert {u for u, _ in open_assignments} == sent["INC-C1"] | sent["INC-C2"]
    state = units(engine)
    for code, claimed in sent.items():
        for unit in claimed:
            assert state[unit] == ("dispatched", ids[code])
