"""Disposal (处置): closing an incident frees its units, and a dispute that remains goes on a risk."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from bridgehead import audit
from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.audit import AuditLog
from models.common import utcnow
from models.incident import Dispatch, IncidentOutcome, UnitStatusEvent
from models.jurisdiction import Officer, PatrolUnit
from models.signal import Signal
from tasks.quick_response.dispatch import dispatch_incident
from tasks.quick_response.disposal import Disposal, close_incident
from tasks.quick_response.incidents import get_incident, open_incidents
from tests.factories import ingest, write_rows

RULES = get_rules()
S = timedelta(seconds=1)
PHONE = "13812345678"


def open_call(tmp_path: Path, category: str = "violence", **fields: Any) -> datetime:
    """INC-C1: an open priority-1 call in 61030301001 received 40 minutes ago (older than intake answers
    itself, so its units are the test's to send); returns when."""
    at = utcnow().replace(microsecond=0) - timedelta(minutes=40)
    row = {
        "call_id": "C1",
        "received_at": at.isoformat(),
        "category": category,
        "priority": 1,
        "summary": "报警",
        "party_keys": "P-ZHANG;P-LI",
        **fields,
    }
    ingest(write_rows(tmp_path / "calls.csv", row))
    return at


def send(code: str, wanted: int | None, at: datetime) -> list[str]:
    with session_scope() as s:
        return [u["unit_code"] for u in dispatch_incident(s, get_incident(s, code), wanted, at).units]


def close(code: str, outcome: str, at: datetime | None = None, **kw: Any) -> Disposal:
    with session_scope() as s:
        return close_incident(
            s, RULES, code, IncidentOutcome(outcome), by=kw.pop("by", "王志英"), at=at, **kw
        )


def call_risk(engine: Engine, source_id: str = "C1") -> int | None:
    with Session(engine) as s:
        return s.execute(select(Signal.risk_id).where(Signal.source_id == source_id)).scalar_one()


def test_closing_frees_the_units_and_records_the_outcome(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    sent = send("INC-C1", 2, t0 + 20 * S)
    done = close("INC-C1", "resolved_on_scene", t0 + 600 * S, note="双方已劝离")

    assert (done.outcome, sorted(done.units_freed), done.signal_id) == (
        "resolved_on_scene",
        sorted(sent),
        None,
    )
    with Session(engine) as s:
        incident = get_incident(s, "INC-C1")
        units = {u.unit_code: (u.status, u.incident_id) for u in s.execute(select(PatrolUnit)).scalars()}
        cleared = s.execute(select(Dispatch.cleared_at)).scalars().all()
        events = s.execute(select(UnitStatusEvent.unit_code).where(UnitStatusEvent.status == "cleared")).all()
        closing = s.execute(select(AuditLog).where(AuditLog.action == "close")).scalar_one()
        assert audit.verify(s).ok
    assert (incident.status, incident.outcome, incident.closed_at, incident.outcome_note) == (
        "closed",
        "resolved_on_scene",
        t0 + 600 * S,
        "双方已劝离",
    )
    assert all(status == "free" and iid is None for status, iid in units.values())
    assert cleared == [t0 + 600 * S] * 2 and len(events) == 2
    assert (closing.actor, closing.entity_id) == ("person:王志英", "INC-C1")


def test_a_mediated_dispute_goes_on_the_calls_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path, "family_neighbor", summary="邻里纠纷")
    done = close("INC-C1", "mediated", t0 + 900 * S)

    assert done.signal_id is not None and done.risk_id is not None
    assert done.risk_id == call_risk(engine)  # the same dispute: the same risk, visited again
    with Session(engine) as s:
        signal = s.get(Signal, done.signal_id)
    assert signal is not None
    assert (signal.source_id, signal.channel, signal.category, signal.disposition) == (
        "INC-C1#disposal",
        "call",
        "family_neighbor",
        "mediated",
    )
    assert signal.closed_at == t0 + 900 * S and signal.risk_id == done.risk_id


def test_a_dispute_from_a_red_risk_goes_back_on_that_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    at = utcnow().replace(microsecond=0) - timedelta(minutes=35)
    knife = {
        "call_id": "C1",
        "received_at": at.isoformat(),
        "category": "land_property",
        "priority": 3,
        "community_code": "61032301001",
        "summary": "宅基地纠纷, 对方持刀",
        "party_keys": "P-WANG;P-ZHAO",
    }
    opened = ingest(write_rows(tmp_path / "calls.csv", knife))["incidents"]
    [code] = [i["incident_code"] for i in opened.live]
    assert code.startswith("INC-R")
    done = close(code, "referred", at + 1800 * S)
    assert done.risk_id == call_risk(engine)
    with Session(engine) as s:
        assert get_incident(s, code).risk_id == done.risk_id


def test_a_dispute_settled_on_scene_is_not_handed_on(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path, "family_neighbor")
    done = close("INC-C1", "resolved_on_scene", t0 + 600 * S)
    assert (done.signal_id, done.risk_id) == (None, None)
    with Session(engine) as s:
        assert s.execute(select(Signal).where(Signal.source_id == "INC-C1#disposal")).first() is None


def test_the_officer_can_name_the_dispute_that_remains(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path, "violence", summary="酒后斗殴")
    done = close("INC-C1", "case_filed", t0 + 600 * S, dispute="family_neighbor")
    with Session(engine) as s:
        signal = s.get(Signal, done.signal_id)
    assert signal is not None and signal.category == "family_neighbor"
    assert done.risk_id is not None and signal.risk_id == done.risk_id


def test_a_named_dispute_must_be_a_dispute_category(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    with pytest.raises(ValueError, match="not a dispute category"):
        close("INC-C1", "case_filed", t0 + 600 * S, dispute="violence")
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").status == "open"


def test_an_incident_closes_once(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    t0 = open_call(tmp_path)
    close("INC-C1", "false_alarm", t0 + 60 * S)
    with pytest.raises(ValueError, match="INC-C1 was closed"):
        close("INC-C1", "resolved_on_scene", t0 + 120 * S)
    with Session(engine) as s:
        incident = get_incident(s, "INC-C1")
        closes = s.execute(select(AuditLog).where(AuditLog.action == "close")).all()
    assert (incident.outcome, incident.closed_at, len(closes)) == ("false_alarm", t0 + 60 * S, 1)


def test_an_incident_cannot_close_before_it_opened(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path)
    with pytest.raises(ValueError, match="cannot close before"):
        close("INC-C1", "false_alarm", t0 - 60 * S)


def test_an_unknown_incident_cannot_be_closed(engine: Engine, jurisdiction: Path) -> None:
    with pytest.raises(LookupError, match="INC-NOPE"):
        close("INC-NOPE", "false_alarm")


def test_a_phone_number_in_the_note_is_masked_everywhere(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    t0 = open_call(tmp_path, "family_neighbor")
    done = close("INC-C1", "mediated", t0 + 600 * S, note=f"已调解, 当事人张某电话 {PHONE}, 约定明日回访")
    with Session(engine) as s:
        incident = get_incident(s, "INC-C1")
        signal = s.get(Signal, done.signal_id)
        reasons = s.execute(select(AuditLog.reason).where(AuditLog.entity_id == "INC-C1")).scalars().all()
    assert signal is not None
    assert incident.outcome_note is not None and "约定明日回访" in incident.outcome_note
    for text in [incident.outcome_note, signal.summary, *reasons]:
        assert PHONE not in (text or "")


def test_a_closed_search_does_not_start_again_on_the_next_intake_run(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """The missing person is found and the incident closed; the call's risk stays red for a while.
    The next intake run must not open a new incident for it (it would send every free unit again)."""
    t0 = open_call(tmp_path, "missing_person", summary="老人走失")
    send("INC-C1", None, t0 + 20 * S)
    close("INC-C1", "person_found", t0 + 300 * S)
    with session_scope() as s:
        again = open_incidents(s, RULES)
    assert again.live == []


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("O000003", "O000003"),  # an officer code
        ("王志英", "O000003"),  # the one officer of the station by that name
        ("张伟", "O000005"),  # no such name at this station, one in the city
        ("值班员", None),  # nobody's name: kept as given, earns nobody points
    ],
)
def test_the_closer_is_recorded_as_an_officer_when_it_names_exactly_one(
    engine: Engine, jurisdiction: Path, tmp_path: Path, by: str, expected: str | None
) -> None:
    open_call(tmp_path)
    done = close("INC-C1", "resolved_on_scene", by=by)
    assert done.officer_code == expected
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").closed_by == (expected or by)


def test_a_name_two_officers_of_the_station_share_credits_neither(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    with session_scope() as s:
        s.add(Officer(officer_code="O000099", name="王志英", role="patrol", station_code="61030301"))
    open_call(tmp_path)
    done = close("INC-C1", "resolved_on_scene", by="王志英")
    assert done.officer_code is None
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").closed_by == "王志英"


def test_an_incident_is_not_closed_in_the_future(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    open_call(tmp_path)
    with pytest.raises(ValueError, match="in the future"):
        close("INC-C1", "mediated", utcnow() + timedelta(days=3))
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").status != "closed"
