"""What opens an incident (快反警情), its 1-3-5 targets, and the response times read back.

Calls go in through the same stages as intake (tests/factories.py `ingest`); times are near now,
so a call reads as live (and is dispatched as it is opened) and a red risk as fresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bridgehead import audit
from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.audit import AuditLog
from models.common import utcnow
from models.incident import Dispatch, Incident, IncidentDue
from models.risk import RiskLevelChange
from tasks.intake.linking_stage import link_pending
from tasks.quick_response.dispatch import respond
from tasks.quick_response.incidents import (
    OpenedIncidents,
    arrival_target_s,
    get_incident,
    open_incidents,
    response_times,
)
from tests.factories import ingest, ingest_stages, write_rows
from tests.tasks.quick_response.calls import SMART, URBAN, VILLAGE, call

RULES = get_rules()


def take_in(folder: Path, *rows: dict[str, Any]) -> OpenedIncidents:
    return ingest(write_rows(folder / "calls.csv", *rows))["incidents"]


def incidents(engine: Engine) -> dict[str, Incident]:
    with Session(engine) as s:
        return {i.incident_code: i for i in s.execute(select(Incident)).scalars()}


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(microsecond=0)


@pytest.mark.parametrize(
    ("kind", "smart", "seconds"),
    [("community", True, 180), ("community", False, 300), ("village", False, 900), ("village", True, 900)],
)
def test_arrival_target_by_kind_of_place(kind: str, smart: bool, seconds: int) -> None:
    assert arrival_target_s(RULES.quick_response, kind, smart) == seconds


def test_an_urgent_open_call_opens_a_live_incident_with_its_targets(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    opened = now - timedelta(minutes=1)
    result = take_in(tmp_path, call("C1", opened))

    assert [i["incident_code"] for i in result.live] == ["INC-C1"]
    assert result.history == 0
    i = incidents(engine)["INC-C1"]
    assert (i.status, i.station_code, i.community_code, i.category) == (
        "dispatched",  # a live call's units are sent in the step that opens it
        "61030301",
        SMART,
        "violence",
    )
    assert i.opened_at == opened
    assert i.dispatch_target_at == opened + timedelta(seconds=60)
    assert i.arrival_target_at == opened + timedelta(seconds=180)


def test_a_live_call_is_dispatched_in_the_step_that_opens_it_and_an_old_one_waits_for_its_run(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    """No flow run, event or poll between a live call and its units; a call received longer ago than
    `live_call_within_min` (a late export, a replayed night) is left to its quick-response run."""
    result = take_in(
        tmp_path,
        call("C1", now - timedelta(minutes=2)),
        call("C2", now - timedelta(minutes=RULES.quick_response.live_call_within_min + 5)),
    )
    assert sorted(i["incident_code"] for i in result.live) == ["INC-C1", "INC-C2"]  # both announced
    assert [(d.incident_code, len(d.units)) for d in result.dispatched] == [("INC-C1", 2)]
    found = incidents(engine)
    assert (found["INC-C1"].status, found["INC-C2"].status) == ("dispatched", "open")
    with session_scope() as s:
        again = respond(s, get_incident(s, "INC-C1"), RULES.quick_response, now)
        sent = s.execute(select(func.count()).select_from(Dispatch)).scalar_one()
    assert (again.already_dispatched, again.units, sent) == (True, [], 2)  # its triggered run changes nothing


@pytest.mark.parametrize(("community", "seconds"), [(SMART, 180), (URBAN, 300), (VILLAGE, 900)])
def test_the_arrival_target_follows_the_place(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime, community: str, seconds: int
) -> None:
    take_in(tmp_path, call("C1", now, community_code=community))
    i = incidents(engine)["INC-C1"]
    assert i.arrival_target_at - i.opened_at == timedelta(seconds=seconds)
    assert i.station_code == ("61032301" if community == VILLAGE else "61030301")


@pytest.mark.parametrize(
    ("category", "priority", "urgent"),
    [
        ("public_order", 1, True),  # priority 1 is urgent whatever the category
        ("public_order", 2, False),
        ("traffic", 4, False),
        ("violence", 3, True),
        ("missing_person", 4, True),
    ],
)
def test_what_counts_as_urgent(
    engine: Engine,
    jurisdiction: Path,
    tmp_path: Path,
    now: datetime,
    category: str,
    priority: int,
    urgent: bool,
) -> None:
    result = take_in(tmp_path, call("C1", now, category=category, priority=priority, summary="来电"))
    assert ("INC-C1" in incidents(engine)) is urgent
    assert [i["incident_code"] for i in result.live] == (["INC-C1"] if urgent else [])


def test_an_urgent_call_taken_in_already_closed_is_history(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    at = now - timedelta(hours=3)
    result = take_in(
        tmp_path,
        call("C1", at, closed_at=at + timedelta(minutes=40), disposition="resolved_on_scene"),
        call("C2", at, closed_at=at + timedelta(minutes=50), disposition="劝离"),  # not an outcome
    )
    assert result.live == [] and result.history == 2
    found = incidents(engine)
    assert (found["INC-C1"].status, found["INC-C1"].outcome) == ("closed", "resolved_on_scene")
    assert found["INC-C1"].closed_at == at + timedelta(minutes=40)
    assert (found["INC-C2"].status, found["INC-C2"].outcome) == ("closed", None)


def test_a_risk_turning_red_on_a_fresh_signal_opens_an_incident(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    # a neighbour dispute is not urgent as a call, but a knife makes its risk red
    knife = call("C1", now - timedelta(minutes=5), category="family_neighbor", summary="邻居持刀威胁")
    result = take_in(tmp_path, {**knife, "community_code": VILLAGE})

    with Session(engine) as s:
        change = s.execute(select(RiskLevelChange).where(RiskLevelChange.to_level == "red")).scalar_one()
    code = f"INC-R{change.id}"
    assert [i["incident_code"] for i in result.live] == [code]
    i = incidents(engine)[code]
    assert (i.risk_id, i.signal_id, i.status, i.station_code) == (change.risk_id, None, "open", "61032301")
    assert i.arrival_target_at - i.opened_at == timedelta(seconds=900)


def test_a_risk_turning_red_on_old_signals_is_no_emergency(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    old = call("C1", now - timedelta(hours=25), category="family_neighbor", summary="邻居持刀威胁")
    result = take_in(tmp_path, old)
    assert result.live == [] and incidents(engine) == {}


def test_the_urgent_call_that_turns_its_risk_red_is_the_only_incident(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    result = take_in(tmp_path, call("C1", now, category="missing_person", summary="老人走失"))
    assert [i["incident_code"] for i in result.live] == ["INC-C1"]
    assert list(incidents(engine)) == ["INC-C1"]


def test_rerunning_opens_nothing_new(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    take_in(
        tmp_path,
        call("C1", now),
        call("C2", now, category="family_neighbor", summary="扬言要杀了你", community_code=VILLAGE),
    )
    before = incidents(engine)
    assert len(before) == 2
    with session_scope() as s:
        again = open_incidents(s, RULES)
    assert again.live == [] and again.history == 0
    assert incidents(engine).keys() == before.keys()


def test_an_urgent_call_linked_by_a_run_that_died_is_opened_by_the_next_run(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    """The link stage queues its urgent calls; a run killed before opening incidents leaves them queued,
    and the next intake (of anything) opens them once and empties the queue."""
    (tmp_path / "first").mkdir()
    load, _rest = ingest_stages(write_rows(tmp_path / "first" / "calls.csv", call("C1", now)))
    load()
    with session_scope() as s:
        link_pending(s, RULES)  # ... and the run dies here
    with Session(engine) as s:
        assert list(s.execute(select(IncidentDue.signal_id)).scalars()) != []
    assert incidents(engine) == {}
    later = take_in(tmp_path, call("C2", now, priority=3, category="other", summary="咨询"))
    assert [i["incident_code"] for i in later.live] == ["INC-C1"]
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(IncidentDue)).scalar_one() == 0
    with session_scope() as s:
        assert open_incidents(s, RULES).live == []
    assert list(incidents(engine)) == ["INC-C1"]


def test_rerunning_after_a_closed_urgent_call_on_a_red_risk_opens_nothing_new(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    """A child reported missing 40 minutes ago and already found: the closed call is history and
    its risk is red. That history incident is the risk's incident; the next run must not open another."""
    at = now - timedelta(minutes=40)
    first = take_in(
        tmp_path,
        call(
            "C1",
            at,
            category="missing_person",
            summary="孩子走失",
            closed_at=at + timedelta(minutes=30),
            disposition="person_found",
        ),
    )
    assert first.live == [] and first.history == 1
    with session_scope() as s:
        again = open_incidents(s, RULES)
    assert again.live == [], "a rerun opened a live incident for a risk whose call is already closed"
    assert list(incidents(engine)) == ["INC-C1"]


def test_each_opened_incident_is_audited(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    take_in(
        tmp_path, call("C1", now), call("C2", now - timedelta(hours=2), closed_at=now - timedelta(hours=1))
    )
    with Session(engine) as s:
        opened = s.execute(
            select(AuditLog.entity_id, AuditLog.after).where(
                AuditLog.action == "open", AuditLog.entity == "incident"
            )
        ).all()
        assert audit.verify(s).ok
    assert {code: after["status"] for code, after in opened} == {"INC-C1": "open", "INC-C2": "closed"}


def test_response_times_are_the_first_dispatch_and_first_arrival(
    engine: Engine, jurisdiction: Path, tmp_path: Path, now: datetime
) -> None:
    t0 = now - timedelta(minutes=40)  # older than intake dispatches itself: the units below are the only ones
    take_in(tmp_path, call("C1", t0), call("C2", t0, community_code=URBAN))
    with session_scope() as s:
        one, two = get_incident(s, "INC-C1"), get_incident(s, "INC-C2")
        s.add_all(
            [
                Dispatch(
                    incident_id=one.id,
                    unit_code="U6103030102",
                    dispatched_at=t0 + timedelta(seconds=50),
                    on_scene_at=t0 + timedelta(seconds=200),
                ),
                Dispatch(
                    incident_id=one.id,
                    unit_code="U6103030101",
                    dispatched_at=t0 + timedelta(seconds=40),
                    on_scene_at=t0 + timedelta(seconds=170),
                ),
                Dispatch(
                    incident_id=one.id, unit_code="U6103230101", dispatched_at=t0 + timedelta(seconds=90)
                ),
            ]
        )
        s.flush()
        times = response_times(s, [one.id, two.id])  # type: ignore[list-item]
    assert two.id not in times  # nothing sent yet: no times at all
    t = times[one.id]  # type: ignore[index]
    assert (t.first_dispatch_at, t.first_on_scene_at, t.units) == (
        t0 + timedelta(seconds=40),
        t0 + timedelta(seconds=170),
        3,
    )


def test_an_unknown_incident_is_a_clear_error(engine: Engine, jurisdiction: Path) -> None:
    with session_scope() as s, pytest.raises(LookupError, match="INC-NOPE"):
        get_incident(s, "INC-NOPE")
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Incident)).scalar_one() == 0
