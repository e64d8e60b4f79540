"""A day each officer can do, from the brief: the order of a day's work, the overflow to the station
chief as a capacity notice, and lateness (so accountability) only for planned visits that were missed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.audit import AuditLog
from models.follow_up import AccountabilityEntry, CapacityNotice, FollowUp, SupervisionNotice
from models.jurisdiction import Officer
from models.risk import Risk
from tasks.follow_up.capacity import capacities, day_lists, in_order, plan_day
from tasks.follow_up.reassign import reassign_overflow
from tasks.jurisdiction import load_jurisdiction
from tests.factories import OFFICERS, write_csv, write_jurisdiction
from tests.tasks.follow_up.scenario import BASE, add_calls, at, call, days, sweep

RULES = get_rules()


def test_the_days_work_is_red_then_first_visits_then_most_late_then_orange_yellow_blue() -> None:
    day = date(2026, 3, 10)
    owed = pd.DataFrame(
        [
            (1, "O1", day, "cadence", "blue"),
            (2, "O1", day - timedelta(days=5), "cadence", "yellow"),  # most late of the rest
            (3, "O1", day, "cadence", "orange"),
            (4, "O1", day, "new_signal", "yellow"),  # a first visit
            (5, "O1", day, "cadence", "red"),
            (6, "O1", day, "cadence", "yellow"),
        ],
        columns=["follow_up_id", "officer_code", "due_on", "why", "level"],
    )
    assert in_order(owed, day)["follow_up_id"].tolist() == [5, 4, 2, 3, 6, 1]


def test_an_officers_own_capacity_overrides_the_roles(engine: Engine, tmp_path: Path) -> None:
    header = ("officer_code", "name", "role", "station_code", "community_code", "daily_capacity")
    folder = write_jurisdiction(tmp_path / "j")
    write_csv(folder / "officers.csv", header, [(*o, "3" if o[0] == "O000001" else "") for o in OFFICERS])
    with session_scope() as s:
        load_jurisdiction(s, folder, actor="person:test")
    with session_scope() as s:
        caps = capacities(s, RULES)
    assert caps["O000001"] == 3  # its own figure
    assert caps["O000002"] == 8 and caps["O000006"] == 6  # community officer, assistant: the defaults
    assert caps["O000003"] is None  # a patrol officer's day is not planned in visits


def _owed(engine: Engine, n: int, tmp_path: Path) -> list[int]:
    """n yellow risks of officer O000001, each opened the day before BASE at its own address."""
    add_calls(
        tmp_path,
        *[call(f"C{i}", at(BASE - days(1), 9), "yellow", address=f"幸福路{i + 1}号") for i in range(n)],
    )
    with session_scope() as s:
        s.execute(update(Officer).where(Officer.officer_code == "O000001").values(daily_capacity=2))
    sweep(BASE)  # assigned: first visits due within 72 hours
    with Session(engine) as s:
        return list(s.execute(select(FollowUp.id).where(FollowUp.status == "pending")).scalars())


def test_what_does_not_fit_the_day_goes_to_the_chief_once(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    _owed(engine, 5, tmp_path)
    with Session(engine) as s:
        last_due = max(s.execute(select(FollowUp.due_on)).scalars())
    with session_scope() as s:
        plan = plan_day(s, RULES, last_due)
    assert (plan.listed, plan.overflow, plan.notices) == (2, 3, 1)
    with session_scope() as s:
        assert plan_day(s, RULES, last_due).notices == 0  # the same day again: one notice
    with Session(engine) as s:
        (notice,) = s.execute(select(CapacityNotice)).scalars()
        listed = s.execute(select(FollowUp.id).where(FollowUp.planned_on == last_due)).scalars().all()
    assert (notice.officer_code, notice.recipient_officer_code, notice.station_code) == (
        "O000001",
        "O000004",  # 赵所长, the station's chief
        "61030301",
    )
    assert (notice.owed, notice.capacity, notice.overflow) == (5, 2, 3)
    assert len(listed) == 2


def test_an_officer_with_no_room_at_all_lists_nothing_and_the_chief_hears_of_all(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """The day's plan reads each officer's lists and counts the rest where it lies: an officer whose
    list holds nothing still has their overflow counted and sent."""
    _owed(engine, 3, tmp_path)
    with session_scope() as s:
        s.execute(update(Officer).where(Officer.officer_code == "O000001").values(daily_capacity=0))
    with Session(engine) as s:
        last_due = max(s.execute(select(FollowUp.due_on)).scalars())
        s.execute(update(FollowUp).values(planned_on=None))
        s.commit()
    with session_scope() as s:
        plan = plan_day(s, RULES, last_due)
    assert (plan.listed, plan.first_listed, plan.overflow, plan.notices) == (0, 0, 3, 1)
    with Session(engine) as s:
        (notice,) = s.execute(select(CapacityNotice).where(CapacityNotice.issued_on == last_due)).scalars()
    assert (notice.owed, notice.capacity, notice.overflow) == (3, 0, 3)


def test_lateness_and_accountability_fall_only_on_planned_visits_missed(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """Five visits owed, two a day, nobody visits for twelve days: the two on the list climb the
    ladder; the three that never fitted go to the chief each day and cost the officer nothing."""
    _owed(engine, 5, tmp_path)
    day = BASE
    for _ in range(12):
        day += days(1)
        sweep(day)
    with Session(engine) as s:
        pending = s.execute(select(FollowUp).where(FollowUp.status == "pending")).scalars().all()
        noticed = set(s.execute(select(SupervisionNotice.follow_up_id)).scalars())
        accountable = s.execute(select(AccountabilityEntry.source_id)).scalars().all()
        overloads = s.execute(select(CapacityNotice.overflow)).scalars().all()
    planned = {f.id for f in pending if f.planned_on is not None}
    assert len(pending) == 5 and len(planned) == 2
    assert noticed == planned  # lateness only for the visits that were on the list
    assert {int(a) for a in accountable if a.isdigit()} <= planned  # and accountability the same
    assert accountable  # twelve days: the missed planned visits reached it
    assert overloads and set(overloads) == {3}  # the chief hears of the three every day they do not fit


def test_a_chief_shares_out_the_overflow_to_the_officer_with_room_and_the_risks_go_too(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """O000001 can do 2 a day and owes 5; O000002, in the same station, owes nothing: the 3 that did
    not fit go to O000002 with their risks, on O000002's list that day, audited by the chief."""
    _owed(engine, 5, tmp_path)
    with Session(engine) as s:
        day = max(s.execute(select(FollowUp.due_on)).scalars())
    with session_scope() as s:
        plan_day(s, RULES, day)
    with session_scope() as s:
        done = reassign_overflow(s, RULES, day)
    assert (done.risks, done.stations, done.still_over) == (3, 1, 0)
    with session_scope() as s:
        lists = day_lists(s, RULES, day)
        owners = dict(s.execute(select(Risk.id, Risk.officer_code)).all())
        moved = s.execute(select(AuditLog).where(AuditLog.action == "reassign")).scalars().all()
    assert lists.groupby("officer_code").size().to_dict() == {"O000001": 2, "O000002": 3}
    assert sorted(owners.values()) == ["O000001"] * 2 + ["O000002"] * 3
    assert {m.actor for m in moved} == {"person:O000004"} and len(moved) == 3
    with session_scope() as s:
        assert reassign_overflow(s, RULES, day).risks == 0  # nothing left over: nothing moves again


def test_the_risks_own_community_office_takes_the_overflow_before_the_rest_of_the_station(
    engine: Engine, tmp_path: Path
) -> None:
    """孙宪河's community has an assistant (辅警) with room for one: that one goes to the assistant,
    the other two to 李明, who has more room but another community."""
    header = ("officer_code", "name", "role", "station_code", "community_code", "daily_capacity")
    folder = write_jurisdiction(tmp_path / "j")
    rows = [(*o, "") for o in OFFICERS] + [("O000008", "周静", "assistant", "61030301", "61030301001", "1")]
    write_csv(folder / "officers.csv", header, rows)
    with session_scope() as s:
        load_jurisdiction(s, folder, actor="person:test")
    _owed(engine, 5, tmp_path)
    with Session(engine) as s:
        day = max(s.execute(select(FollowUp.due_on)).scalars())
    with session_scope() as s:
        plan_day(s, RULES, day)
        done = reassign_overflow(s, RULES, day)
    assert (done.risks, done.still_over) == (3, 0)
    with Session(engine) as s:
        owners = s.execute(select(Risk.officer_code)).scalars().all()
    assert sorted(owners) == ["O000001"] * 2 + ["O000002"] * 2 + ["O000008"]


def test_what_nobody_in_the_station_has_room_for_stays_on_the_notice(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    _owed(engine, 5, tmp_path)
    with session_scope() as s:
        s.execute(update(Officer).where(Officer.officer_code == "O000002").values(daily_capacity=1))
    with Session(engine) as s:
        day = max(s.execute(select(FollowUp.due_on)).scalars())
    with session_scope() as s:
        done = reassign_overflow(s, RULES, day)
    assert (done.risks, done.still_over) == (1, 2)
