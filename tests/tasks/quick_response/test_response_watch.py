"""The response watch (快反督导): the 1-3-5 targets judged from the records as of a time.

Dispatch within 60 s; on scene within 3 min in the smart-security estate 61030301001, 5 min in the
urban community 61030301002, 15 min in the village 61032301001. A missed target is recorded once,
tells the station chief, and pulls a unit from the nearest other station while still unmet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, SQLModel

from bridgehead import audit
from bridgehead.db import session_scope
from models.audit import AuditLog
from models.common import utcnow
from models.follow_up import SupervisionNotice
from models.incident import Dispatch, Incident, ResponseBreach
from models.jurisdiction import PatrolUnit
from tasks.quick_response.dispatch import dispatch_incident
from tasks.quick_response.incidents import ResponseTimes, get_incident
from tasks.quick_response.response_watch import Verdict, WatchSummary, judge, verdicts, watch_targets
from tests.factories import ingest, write_rows

SMART, URBAN, VILLAGE = "61030301001", "61030301002", "61032301001"
CHIEF = {"61030301": "O000004", "61032301": "O000007"}
S = timedelta(seconds=1)


def open_call(tmp_path: Path, community: str = SMART, call_id: str = "C1") -> datetime:
    """A live priority-1 call received half an hour ago (as_of times below are replays after it)."""
    t0 = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    row = {
        "call_id": call_id,
        "received_at": t0.isoformat(),
        "category": "public_order",
        "priority": 1,
        "community_code": community,
        "summary": "聚众闹事",
    }
    ingest(write_rows(tmp_path / call_id / "calls.csv", row))
    return t0


def send(code: str, at: datetime) -> None:
    with session_scope() as s:
        assert dispatch_incident(s, get_incident(s, code), 1, at).units


def on_scene(code: str, at: datetime) -> None:
    with session_scope() as s:
        s.execute(
            update(Dispatch).where(Dispatch.incident_id == get_incident(s, code).id).values(on_scene_at=at)
        )


def watch(as_of: datetime) -> WatchSummary:
    with session_scope() as s:
        return watch_targets(s, as_of)


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def breaches(engine: Engine) -> list[tuple[str, datetime, datetime, str | None]]:
    with Session(engine) as s:
        return [
            (b.target, b.due_at, b.detected_at, b.escalated_unit_code)
            for b in s.execute(select(ResponseBreach).order_by(ResponseBreach.id)).scalars()
        ]


def notices(engine: Engine) -> list[tuple[str | None, str, str]]:
    with Session(engine) as s:
        return [
            (n.recipient_officer_code, n.level, n.station_code)
            for n in s.execute(
                select(SupervisionNotice).where(SupervisionNotice.breach_id.is_not(None))
            ).scalars()
        ]


# --- judging --------------------------------------------------------------------------------------

T = datetime(2026, 8, 7, 12, 0, 0).astimezone()


@pytest.mark.parametrize(
    ("done", "as_of", "verdict"),
    [
        (T - S, T + 10 * S, Verdict.met),
        (T, T + 10 * S, Verdict.met),  # exactly on time is in time
        (T + S, T + 10 * S, Verdict.missed),  # done, but late
        (None, T, Verdict.pending),  # not done, not yet due
        (None, T + S, Verdict.missed),
        (T + S, T - S, Verdict.missed),  # a replay: the records already show it late
    ],
)
def test_judge(done: datetime | None, as_of: datetime, verdict: Verdict) -> None:
    assert judge(T, done, as_of) is verdict


def test_a_closed_incident_is_judged_as_of_its_closing() -> None:
    incident = Incident(
        incident_code="INC-X",
        station_code="61030301",
        community_code=SMART,
        category="violence",
        opened_at=T,
        dispatch_target_at=T + 60 * S,
        arrival_target_at=T + 180 * S,
        status="closed",
        closed_at=T + 100 * S,
    )
    judged = verdicts(incident, ResponseTimes(None, None, 0), as_of=T + 3600 * S)
    assert judged == {"dispatch": Verdict.missed, "arrival": Verdict.pending}
    sent = verdicts(incident, ResponseTimes(T + 50 * S, T + 90 * S, 1), as_of=T + 3600 * S)
    assert sent == {"dispatch": Verdict.met, "arrival": Verdict.met}


# --- the dispatch target (1 minute) ---------------------------------------------------------------


def test_dispatched_after_59_seconds_meets_the_target(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    send("INC-C1", t0 + 59 * S)
    summary = watch(t0 + 61 * S)
    assert (summary.watched, summary.breaches, summary.notices) == (1, [], 0)
    assert breaches(engine) == []


def test_dispatched_after_61_seconds_misses_the_target(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    send("INC-C1", t0 + 61 * S)
    summary = watch(t0 + 62 * S)
    # missed, but a unit is on its way: the chief is told and nobody is pulled from elsewhere
    assert summary.breaches == [{"incident_code": "INC-C1", "target": "dispatch", "escalated_unit": None}]
    assert breaches(engine) == [("dispatch", t0 + 60 * S, t0 + 62 * S, None)]
    assert notices(engine) == [("O000004", "chief", "61030301")]
    with Session(engine) as s:
        assert (
            s.execute(select(func.count()).select_from(Dispatch).where(Dispatch.escalation)).scalar_one() == 0
        )


def test_nobody_dispatched_pulls_a_unit_from_the_nearest_other_station(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    summary = watch(t0 + 90 * S)
    assert summary.breaches == [
        {"incident_code": "INC-C1", "target": "dispatch", "escalated_unit": "U6103230101"}
    ]
    assert (summary.escalated, summary.notices) == (1, 1)
    assert breaches(engine) == [("dispatch", t0 + 60 * S, t0 + 90 * S, "U6103230101")]
    with Session(engine) as s:
        [d] = s.execute(select(Dispatch)).scalars()
        unit = s.get(PatrolUnit, "U6103230101")
        incident = get_incident(s, "INC-C1")
    assert (d.unit_code, d.escalation, d.dispatched_at) == ("U6103230101", True, t0 + 90 * S)
    assert (unit.status, unit.incident_id) == ("dispatched", incident.id)  # type: ignore[union-attr]
    assert incident.status == "dispatched"


def test_before_the_target_is_due_nothing_is_judged(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    summary = watch(t0 + 59 * S)
    assert (summary.watched, summary.breaches) == (0, [])
    assert breaches(engine) == [] and count(engine, Dispatch) == 0


# --- the arrival targets (3-5 minutes; 15 in a village) -------------------------------------------

ARRIVAL = [(SMART, 180), (URBAN, 300), (VILLAGE, 900)]


@pytest.mark.parametrize(("community", "target_s"), ARRIVAL)
def test_on_scene_a_second_before_the_target_meets_it(
    engine: Engine, jurisdiction: Path, tmp_path: Path, community: str, target_s: int
) -> None:
    t0 = open_call(tmp_path, community)
    send("INC-C1", t0 + 30 * S)
    on_scene("INC-C1", t0 + (target_s - 1) * S)
    summary = watch(t0 + (target_s + 5) * S)
    assert summary.watched == 1 and summary.breaches == []
    assert breaches(engine) == [] and notices(engine) == []


@pytest.mark.parametrize(("community", "target_s"), ARRIVAL)
def test_on_scene_a_second_after_the_target_misses_it(
    engine: Engine, jurisdiction: Path, tmp_path: Path, community: str, target_s: int
) -> None:
    t0 = open_call(tmp_path, community)
    send("INC-C1", t0 + 30 * S)
    on_scene("INC-C1", t0 + (target_s + 1) * S)
    summary = watch(t0 + (target_s + 5) * S)
    # late but there: recorded and the chief told, no unit pulled from elsewhere
    assert summary.breaches == [{"incident_code": "INC-C1", "target": "arrival", "escalated_unit": None}]
    assert breaches(engine) == [("arrival", t0 + target_s * S, t0 + (target_s + 5) * S, None)]
    station = "61032301" if community == VILLAGE else "61030301"
    assert notices(engine) == [(CHIEF[station], "chief", station)]


@pytest.mark.parametrize(
    ("community", "target_s", "pulled"), [(URBAN, 300, "U6103230101"), (VILLAGE, 900, "U6103030102")]
)
def test_nobody_on_scene_after_the_target_pulls_help(
    engine: Engine, jurisdiction: Path, tmp_path: Path, community: str, target_s: int, pulled: str
) -> None:
    t0 = open_call(tmp_path, community)
    send("INC-C1", t0 + 30 * S)
    summary = watch(t0 + (target_s + 1) * S)
    assert summary.breaches == [{"incident_code": "INC-C1", "target": "arrival", "escalated_unit": pulled}]
    with Session(engine) as s:
        escalated = s.execute(select(Dispatch.unit_code).where(Dispatch.escalation)).scalars().all()
    assert escalated == [pulled]


def test_a_second_watch_adds_nothing(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    t0 = open_call(tmp_path)
    first = watch(t0 + 200 * S)  # both targets missed at once: nobody sent, nobody there
    assert sorted(b["target"] for b in first.breaches) == ["arrival", "dispatch"]
    counts = {m: count(engine, m) for m in (ResponseBreach, SupervisionNotice, Dispatch, AuditLog)}
    again = watch(t0 + 400 * S)
    assert (again.watched, again.breaches, again.escalated, again.notices) == (1, [], 0, 0)
    assert {m: count(engine, m) for m in counts} == counts


def test_only_open_incidents_are_watched(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    t0 = open_call(tmp_path)
    with session_scope() as s:
        incident = get_incident(s, "INC-C1")
        incident.status, incident.closed_at = "closed", t0 + 30 * S
        s.add(incident)
    summary = watch(t0 + 1000 * S)
    assert (summary.watched, summary.breaches) == (0, [])


def test_with_no_free_unit_elsewhere_the_chief_is_still_told(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    with session_scope() as s:
        s.execute(update(PatrolUnit).where(PatrolUnit.station_code == "61032301").values(status="on_scene"))
    summary = watch(t0 + 90 * S)
    assert summary.breaches == [{"incident_code": "INC-C1", "target": "dispatch", "escalated_unit": None}]
    assert (summary.escalated, summary.notices) == (0, 1)
    assert notices(engine) == [("O000004", "chief", "61030301")]


def test_breaches_notices_and_escalations_are_audited(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    open_call(tmp_path, VILLAGE, call_id="C2")
    watch(t0 + 90 * S)
    with Session(engine) as s:
        rows = s.execute(
            select(AuditLog.action, AuditLog.entity_id).where(
                AuditLog.action.in_(["breach", "notice", "escalate"])
            )
        ).all()
        assert audit.verify(s).ok
    assert sorted(rows) == [
        ("breach", "INC-C1"),
        ("breach", "INC-C2"),
        ("escalate", "INC-C1"),
        ("escalate", "INC-C2"),
        ("notice", "O000004"),
        ("notice", "O000007"),
    ]
