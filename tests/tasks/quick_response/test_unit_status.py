"""The unit status feed (警力状态): units report dispatched, en route, on scene and cleared.

Each test opens a live urgent call INC-C1 in the smart-security estate 61030301001, usually
dispatches its nearest unit U6103030102 20 s later, and then takes in feed files.
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
from models.audit import AuditLog
from models.common import utcnow
from models.incident import Dispatch, UnitStatusEvent
from models.intake import QuarantinedRow
from models.jurisdiction import PatrolUnit
from tasks.quick_response.dispatch import dispatch_incident
from tasks.quick_response.incidents import get_incident, response_times
from tasks.quick_response.unit_status import FeedResult, apply_feed
from tests.factories import ingest, write_rows

S = timedelta(seconds=1)
UNIT = "U6103030102"


@pytest.fixture
def t0(engine: Engine, jurisdiction: Path, tmp_path: Path) -> datetime:
    """INC-C1 opened half an hour ago; returns when."""
    at = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    row = {
        "call_id": "C1",
        "received_at": at.isoformat(),
        "category": "violence",
        "priority": 1,
        "community_code": "61030301001",
        "summary": "打架",
    }
    ingest(write_rows(tmp_path / "calls" / "calls.csv", row))
    return at


def send(at: datetime) -> None:
    with session_scope() as s:
        assert dispatch_incident(s, get_incident(s, "INC-C1"), 1, at).units


def feed(path: Path, *lines: tuple[str, str, str, datetime | str]) -> Path:
    rows = [
        {
            "unit_code": u,
            "incident_id": i,
            "status": st,
            "at": at.isoformat() if isinstance(at, datetime) else at,
        }
        for u, i, st, at in lines
    ]
    return write_rows(path / "unit_status.csv", *rows)


def apply(path: Path) -> FeedResult:
    with session_scope() as s:
        return apply_feed(s, path)


def unit(engine: Engine, code: str = UNIT) -> tuple[str, int | None, datetime | None]:
    with Session(engine) as s:
        u = s.get(PatrolUnit, code)
        assert u is not None
        return u.status, u.incident_id, u.status_since


def dispatch_of(engine: Engine, code: str = UNIT) -> Dispatch:
    with Session(engine) as s:
        return s.execute(select(Dispatch).where(Dispatch.unit_code == code)).scalar_one()


def incident_id(engine: Engine) -> int:
    with Session(engine) as s:
        return get_incident(s, "INC-C1").id  # type: ignore[return-value]


def test_a_unit_goes_en_route_then_on_scene_then_clears(engine: Engine, t0: datetime, tmp_path: Path) -> None:
    send(t0 + 20 * S)
    iid = incident_id(engine)

    first = apply(feed(tmp_path / "a", (UNIT, "INC-C1", "en_route", t0 + 30 * S)))
    assert (first.rows, first.applied, first.dispatches, first.units) == (1, 1, 1, 1)
    assert unit(engine) == ("en_route", iid, t0 + 30 * S)

    apply(feed(tmp_path / "b", (UNIT, "INC-C1", "on_scene", t0 + 150 * S)))
    assert unit(engine) == ("on_scene", iid, t0 + 150 * S)

    apply(feed(tmp_path / "c", (UNIT, "INC-C1", "cleared", t0 + 900 * S)))
    assert unit(engine) == ("free", None, t0 + 900 * S)  # cleared frees the unit

    d = dispatch_of(engine)
    assert (d.dispatched_at, d.en_route_at, d.on_scene_at, d.cleared_at) == (
        t0 + 20 * S,
        t0 + 30 * S,
        t0 + 150 * S,
        t0 + 900 * S,
    )
    with Session(engine) as s:
        times = response_times(s, [iid])[iid]
    assert times.first_on_scene_at == t0 + 150 * S  # what the arrival target is judged by


def test_one_file_with_the_whole_story(engine: Engine, t0: datetime, tmp_path: Path) -> None:
    send(t0 + 20 * S)
    result = apply(
        feed(
            tmp_path,
            (UNIT, "INC-C1", "cleared", t0 + 900 * S),  # lines need not be in order
            (UNIT, "INC-C1", "on_scene", t0 + 150 * S),
            (UNIT, "INC-C1", "en_route", t0 + 30 * S),
        )
    )
    assert (result.rows, result.applied, result.duplicates, result.quarantined) == (3, 3, 0, 0)
    assert unit(engine) == ("free", None, t0 + 900 * S)
    d = dispatch_of(engine)
    assert (d.en_route_at, d.on_scene_at, d.cleared_at) == (t0 + 30 * S, t0 + 150 * S, t0 + 900 * S)


def test_a_unit_that_reports_in_without_being_sent_gets_a_dispatch(
    engine: Engine, t0: datetime, tmp_path: Path
) -> None:
    # nobody dispatched INC-C1 through the system; the other station's unit turns up on its own
    result = apply(
        feed(
            tmp_path,
            ("U6103230101", "INC-C1", "en_route", t0 + 40 * S),
            ("U6103230101", "INC-C1", "on_scene", t0 + 400 * S),
        )
    )
    assert (result.applied, result.dispatches) == (2, 1)
    d = dispatch_of(engine, "U6103230101")
    assert (d.dispatched_at, d.en_route_at, d.on_scene_at, d.escalation) == (
        t0 + 40 * S,
        t0 + 40 * S,
        t0 + 400 * S,
        False,
    )
    assert unit(engine, "U6103230101") == ("on_scene", incident_id(engine), t0 + 400 * S)
    with Session(engine) as s:
        assert get_incident(s, "INC-C1").status == "dispatched"


def test_bad_lines_are_quarantined_with_file_line_and_reason(
    engine: Engine, t0: datetime, tmp_path: Path
) -> None:
    send(t0 + 20 * S)
    path = feed(
        tmp_path,
        ("U9999999999", "INC-C1", "en_route", t0 + 30 * S),
        (UNIT, "INC-NOPE", "en_route", t0 + 30 * S),
        (UNIT, "INC-C1", "en_route", t0 - 60 * S),
        (UNIT, "INC-C1", "parked", t0 + 30 * S),
        (UNIT, "INC-C1", "on_scene", t0 + 100 * S),
    )
    result = apply(path)
    assert (result.applied, result.quarantined) == (1, 4)
    with Session(engine) as s:
        kept = {q.line: (q.file, q.reason) for q in s.execute(select(QuarantinedRow)).scalars()}
    assert set(kept) == {2, 3, 4, 5}
    assert all(file.endswith("unit_status.csv") for file, _ in kept.values())
    assert kept[2][1] == "unit_code: 'U9999999999' is not a known patrol unit"
    assert kept[3][1] == "incident_id: there is no incident 'INC-NOPE'"
    assert kept[4][1].startswith("at: ") and "before the incident opened" in kept[4][1]
    assert kept[5][1].startswith("status: ")
    assert unit(engine)[0] == "on_scene"  # the good line still counts
    assert dispatch_of(engine).en_route_at is None


def test_the_result_counts_each_line_of_the_file_once(engine: Engine, t0: datetime, tmp_path: Path) -> None:
    """`bridgehead incidents update` prints "N lines, A applied, Q quarantined": N is the file's lines."""
    send(t0 + 20 * S)
    path = feed(
        tmp_path,
        (UNIT, "INC-NOPE", "en_route", t0 + 30 * S),  # a known shape, an unknown incident
        (UNIT, "INC-C1", "parked", t0 + 30 * S),  # not a status at all
        (UNIT, "INC-C1", "on_scene", t0 + 100 * S),
    )
    result = apply(path)
    assert (result.applied, result.quarantined) == (1, 2)
    assert result.rows == 3


def test_reloading_a_feed_changes_nothing(engine: Engine, t0: datetime, tmp_path: Path) -> None:
    send(t0 + 20 * S)
    path = feed(
        tmp_path,
        (UNIT, "INC-C1", "en_route", t0 + 30 * S),
        (UNIT, "INC-C1", "on_scene", t0 + 150 * S),
        ("U0000000000", "INC-C1", "on_scene", t0 + 150 * S),
    )
    apply(path)

    def state() -> dict[str, Any]:
        with Session(engine) as s:
            return {
                m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (UnitStatusEvent, Dispatch, QuarantinedRow, AuditLog)
            } | {"unit": unit(engine), "dispatch": dispatch_of(engine).model_dump()}

    before = state()
    again = apply(path)
    assert (again.applied, again.duplicates, again.dispatches, again.units) == (0, 2, 0, 0)
    assert state() == before


def test_an_older_line_arriving_late_does_not_undo_the_units_status(
    engine: Engine, t0: datetime, tmp_path: Path
) -> None:
    send(t0 + 20 * S)
    apply(feed(tmp_path / "a", (UNIT, "INC-C1", "cleared", t0 + 900 * S)))
    late = apply(feed(tmp_path / "b", (UNIT, "INC-C1", "on_scene", t0 + 150 * S)))
    assert late.applied == 1
    assert unit(engine) == ("free", None, t0 + 900 * S)  # still free, not back on an old job
    assert dispatch_of(engine).on_scene_at == t0 + 150 * S  # but the arrival time is recorded


def test_the_earliest_report_of_a_state_is_kept(engine: Engine, t0: datetime, tmp_path: Path) -> None:
    send(t0 + 20 * S)
    apply(feed(tmp_path / "a", (UNIT, "INC-C1", "on_scene", t0 + 200 * S)))
    apply(feed(tmp_path / "b", (UNIT, "INC-C1", "on_scene", t0 + 170 * S)))  # a second radio report
    assert dispatch_of(engine).on_scene_at == t0 + 170 * S


def test_every_change_is_audited(engine: Engine, t0: datetime, tmp_path: Path) -> None:
    send(t0 + 20 * S)
    with Session(engine) as s:
        last = s.execute(select(func.max(AuditLog.seq))).scalar_one()
    apply(feed(tmp_path, (UNIT, "INC-C1", "on_scene", t0 + 150 * S)))
    with Session(engine) as s:
        rows = s.execute(
            select(AuditLog.entity, AuditLog.entity_id, AuditLog.after).where(
                AuditLog.seq > last, AuditLog.action == "status"
            )
        ).all()
        assert audit.verify(s).ok
    changes = {(entity, entity_id): after for entity, entity_id, after in rows}
    assert set(changes) == {("dispatch", f"INC-C1/{UNIT}"), ("patrol_unit", UNIT)}
    assert changes[("patrol_unit", UNIT)]["status"] == "on_scene"
