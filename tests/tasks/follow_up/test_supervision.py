"""Supervision (督促问责), from the brief: late by 1 day a notice to the officer, by 3 days to the
station chief, by 7 days (or at a third notice within 30 days) an accountability entry — each exactly once.

Most stories start from a risk whose only call came weeks before the first sweep, so its first follow-up
is due on the day of that sweep (never retroactively) and each later day adds one day of lateness.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.audit import AuditLog
from models.follow_up import AccountabilityEntry, FollowUp, SupervisionNotice
from tasks.follow_up.cadence import record_visits, schedule
from tasks.follow_up.supervision import SupervisionSummary, rungs, supervise
from tasks.follow_up.sweep import finish, finished, last_finished, station_summary
from tests.factories import sweep_stages
from tests.tasks.follow_up.overdue import LONG_AGO, add_visit, open_risk
from tests.tasks.follow_up.scenario import at

RULES = get_rules()
BASE = date(2026, 3, 2)
KNIFE_CALL = {"category": "family_neighbor", "summary": "邻居持刀威胁"}  # red


def days(n: int) -> timedelta:
    return timedelta(days=n)


sweep = sweep_stages


def sweep_days(first: date, last: date) -> dict[date, SupervisionSummary]:
    out, day = {}, first
    while day <= last:
        out[day] = sweep(day)[2]
        day += days(1)
    return out


def notices(engine: Engine) -> list[tuple[str, str | None, str, int | None, date]]:
    """(level, recipient, station, days late, issued on) of every notice, in order."""
    with Session(engine) as s:
        return [
            (n.level, n.recipient_officer_code, n.station_code, n.days_late, n.issued_on)
            for n in s.execute(select(SupervisionNotice).order_by(SupervisionNotice.id)).scalars()
        ]


def entries(engine: Engine) -> list[AccountabilityEntry]:
    with Session(engine) as s:
        return list(s.execute(select(AccountabilityEntry).order_by(AccountabilityEntry.id)).scalars())


def owed(engine: Engine, risk_id: int) -> FollowUp:
    with Session(engine) as s:
        return s.execute(
            select(FollowUp).where(FollowUp.risk_id == risk_id, FollowUp.status == "pending")
        ).scalar_one()


def test_the_rungs_reached_by_days_late() -> None:
    ladder = RULES.supervision
    assert rungs(ladder, 0) == []
    assert rungs(ladder, 1) == rungs(ladder, 2) == ["officer"]
    assert rungs(ladder, 3) == rungs(ladder, 6) == ["officer", "chief"]
    assert rungs(ladder, 7) == rungs(ladder, 40) == ["officer", "chief", "accountability"]


def test_one_day_late_a_notice_goes_to_the_responsible_officer(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path)
    assert sweep(BASE)[2] == SupervisionSummary()  # due today: not late yet
    fid = owed(engine, rid).id
    assert owed(engine, rid).due_on == BASE
    assert sweep(BASE + days(1))[2] == SupervisionSummary(officer_notices=1)
    assert notices(engine) == [("officer", "O000001", "61030301", 1, BASE + days(1))]
    with Session(engine) as s:
        (row,) = s.execute(
            select(AuditLog).where(AuditLog.action == "notice", AuditLog.entity_id == str(fid))
        ).scalars()
    assert row.after == {"to": "O000001", "level": "officer", "days_late": 1}


def test_three_days_late_the_notice_goes_to_the_station_chief(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    open_risk(tmp_path)
    daily = sweep_days(BASE, BASE + days(3))
    assert daily[BASE + days(2)] == SupervisionSummary()  # two days late: nothing new
    assert daily[BASE + days(3)] == SupervisionSummary(chief_notices=1)
    assert notices(engine) == [
        ("officer", "O000001", "61030301", 1, BASE + days(1)),
        ("chief", "O000004", "61030301", 3, BASE + days(3)),
    ]
    assert entries(engine) == []


def test_seven_days_late_an_accountability_entry_is_recorded_once(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path)
    daily = sweep_days(BASE, BASE + days(10))
    assert daily[BASE + days(6)].accountability == 0
    assert daily[BASE + days(7)] == SupervisionSummary(accountability=1)
    assert all(daily[BASE + days(n)] == SupervisionSummary() for n in (8, 9, 10))
    (entry,) = entries(engine)
    assert (entry.kind, entry.officer_code, entry.station_code) == ("late_follow_up", "O000001", "61030301")
    assert (entry.source_entity, entry.source_id) == ("follow_up", str(owed(engine, rid).id))
    assert entry.recorded_on == BASE + days(7)
    assert len(notices(engine)) == 2  # one officer, one chief: nothing repeated over ten days


def test_a_village_follow_up_is_chased_in_its_own_station(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """北营村 has no community officer but an assistant; its station has its own chief."""
    open_risk(tmp_path, community_code="61032301002", address="北营村5组")
    sweep_days(BASE, BASE + days(3))
    assert notices(engine) == [
        ("officer", "O000006", "61032301", 1, BASE + days(1)),
        ("chief", "O000007", "61032301", 3, BASE + days(3)),
    ]


def test_a_missed_sweep_is_caught_up_with_every_rung_reached_at_once(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    open_risk(tmp_path)
    sweep(BASE)
    assert sweep(BASE + days(7))[2] == SupervisionSummary(
        officer_notices=1, chief_notices=1, accountability=1
    )
    assert notices(engine) == [
        ("officer", "O000001", "61030301", 7, BASE + days(7)),
        ("chief", "O000004", "61030301", 7, BASE + days(7)),
    ]
    assert [e.kind for e in entries(engine)] == ["late_follow_up"]


def test_a_backlog_larger_than_a_page_is_climbed_whole(
    engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's first sweep reads its late follow-ups in pages; every one still gets its rungs."""
    monkeypatch.setattr("tasks.follow_up.supervision.PAGE", 2)
    for n in range(1, 6):
        open_risk(tmp_path, f"C{n}", address=f"金台区宝桥新村{n}号楼")
    sweep(BASE)
    # five late follow-ups, and one more entry: the officer's third notice of the window
    assert sweep(BASE + days(7))[2] == SupervisionSummary(
        officer_notices=5, chief_notices=5, accountability=6
    )
    assert sweep(BASE + days(8))[2] == SupervisionSummary()
    assert sorted(e.kind for e in entries(engine)) == ["late_follow_up"] * 5 + ["repeated_notices"]


def test_a_visit_stops_the_ladder(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    rid = open_risk(tmp_path)
    sweep_days(BASE, BASE + days(1))
    add_visit(tmp_path, "V1", at(BASE + days(1), 15), rid, concern="low")  # a day late, but done
    daily = sweep_days(BASE + days(2), BASE + days(8))
    assert all(summary == SupervisionSummary() for summary in daily.values())
    assert notices(engine) == [("officer", "O000001", "61030301", 1, BASE + days(1))]
    assert entries(engine) == []
    assert owed(engine, rid).due_on == BASE + days(8)  # the next one, counted from the visit


def test_a_third_officer_notice_within_30_days_is_an_accountability_entry(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """A red risk (visit every day) whose officer is a day late three times in five days."""
    rid = open_risk(tmp_path, when=at(BASE - days(1)), **KNIFE_CALL)
    late_on = [BASE + days(1), BASE + days(3), BASE + days(5)]
    daily = {}
    for day in [BASE + days(n) for n in range(6)]:
        if day - days(1) in late_on[:2]:  # the officer turns up a day late, after the notice
            add_visit(tmp_path, f"V{day}", at(day - days(1), 15), rid, concern="medium")
        daily[day] = sweep(day)[2]
    assert [d for d, s in daily.items() if s.officer_notices] == late_on
    assert daily[late_on[1]].accountability == 0
    assert daily[late_on[2]] == SupervisionSummary(officer_notices=1, accountability=1)
    (entry,) = entries(engine)
    with Session(engine) as s:
        third = s.execute(
            select(SupervisionNotice.id).where(SupervisionNotice.issued_on == late_on[2])
        ).scalar_one()
    assert (entry.kind, entry.officer_code, entry.station_code) == ("repeated_notices", "O000001", "61030301")
    assert (entry.source_entity, entry.source_id, entry.recorded_on) == (
        "supervision_notice",
        str(third),
        late_on[2],
    )
    assert sweep(late_on[2])[2] == SupervisionSummary()  # the same day again: nothing twice
    assert len(entries(engine)) == 1


@pytest.mark.parametrize(("third_due", "repeated"), [(20, 1), (40, 0)])
def test_only_three_notices_within_30_days_count_as_repeated(
    engine: Engine, jurisdiction: Path, tmp_path: Path, third_due: int, repeated: int
) -> None:
    """Three risks of one officer, each follow-up late once: on day 1, day 16, and day 21 or 41."""
    due = [BASE, BASE + days(15), BASE + days(third_due)]
    risks = [open_risk(tmp_path, f"C{n}", address=f"幸福路{n + 10}号") for n in range(3)]
    with session_scope() as s:
        for rid, due_on in zip(risks, due, strict=True):
            s.add(
                FollowUp(
                    risk_id=rid,
                    officer_code="O000001",
                    due_on=due_on,
                    planned_on=due_on,
                    basis_at=at(LONG_AGO),
                )
            )
    for n in range(third_due + 2):
        with session_scope() as s:
            supervise(s, RULES, BASE + days(n))
    officer = [n for n in notices(engine) if n[0] == "officer"]
    assert [n[4] for n in officer] == [d + days(1) for d in due]
    assert sum(e.kind == "repeated_notices" for e in entries(engine)) == repeated


def test_supervising_a_day_again_issues_nothing_twice(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    open_risk(tmp_path)
    open_risk(tmp_path, "C2", community_code="61032301001", address="南营村3组")
    sweep(BASE)
    with session_scope() as s:
        first = supervise(s, RULES, BASE + days(7))
    assert first == SupervisionSummary(officer_notices=2, chief_notices=2, accountability=2)
    before = (notices(engine), [(e.kind, e.source_id) for e in entries(engine)])
    for _ in range(2):
        with session_scope() as s:
            assert supervise(s, RULES, BASE + days(7)) == SupervisionSummary()
    assert (notices(engine), [(e.kind, e.source_id) for e in entries(engine)]) == before


# --- the day's summary per station (tasks/follow_up/sweep.py) ----------------------------------------------


def test_the_days_summary_counts_each_station_and_the_day_is_recorded_once_finished(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    open_risk(tmp_path)  # 陈仓: due BASE, never visited: 3 days late on BASE + 3
    village = {"community_code": "61032301001", "address": "南营村3组", "officer_code": "O000005"}
    red = open_risk(tmp_path, "C2", when=at(BASE - days(1)), **KNIFE_CALL, **village)  # 麦禾营
    for n in range(3):
        if n:  # calm visits on BASE + 1 and BASE + 2: red comes down on BASE + 3
            add_visit(tmp_path, f"V{n}", at(BASE + days(n), 15), red, "none", **village)
        sweep(BASE + days(n))
    open_risk(
        tmp_path,
        "C3",
        when=at(BASE + days(2)),
        community_code="61030301002",
        address="和平街2号",
        **KNIFE_CALL,
    )
    day = BASE + days(3)
    with session_scope() as s:
        visits = record_visits(s, RULES, day)
    with session_scope() as s:
        assigned = schedule(s, RULES, day)
    with session_scope() as s:
        supervise(s, RULES, day)
    assert visits.lowered == [{"risk_id": red, "from": "red", "to": "orange"}]
    with session_scope() as s:
        rows = station_summary(s, day)
        assert finished(s, day) is None
    assert assigned == 2  # the red risk's next visit, and the new red risk in 陈仓大道
    assert rows == [
        {
            "station": "61030301",
            "due_today": 1,
            "late": 1,
            "assigned": 1,
            "visits_recorded": 0,
            "calm": 0,
            "notices": 1,
            "capacity_notices": 0,
            "accountability": 0,
            "colour_changes": 0,
        },
        {
            "station": "61032301",
            "due_today": 0,
            "late": 0,
            "assigned": 1,
            "visits_recorded": 1,
            "calm": 1,
            "notices": 0,
            "capacity_notices": 0,
            "accountability": 0,
            "colour_changes": 1,
        },
    ]
    with session_scope() as s:
        summary = finish(s, day)
    assert summary["changes"] == [{"risk_id": red, "from": "red", "to": "orange"}]
    assert summary["totals"] == {
        "due_today": 1,
        "late": 1,
        "assigned": 2,
        "visits_recorded": 1,
        "calm": 1,
        "notices": 1,
        "capacity_notices": 0,
        "accountability": 0,
        "colour_changes": 1,
    }
    with Session(engine) as s:
        record = finished(s, day)
        assert record is not None and record.summary == summary
        assert last_finished(s) == day
        (row,) = s.execute(select(AuditLog).where(AuditLog.action == "sweep")).scalars()
    assert (row.entity, row.entity_id, row.after) == ("sweep_day", day.isoformat(), summary["totals"])
