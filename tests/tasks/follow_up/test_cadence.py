"""Follow-up (跟进督促), from the brief's table: cadence, first-visit window, visits, the evidence rule.

Time travel: the signals are written with Asia/Shanghai times on days before the sweep day, ingested as
intake does, and each day is swept as the daily sweep does it — record visits, then schedule, then
supervise — for successive days in order. A visit is always ingested before the sweep of the day after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bridgehead import audit
from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.audit import AuditLog
from models.follow_up import AccountabilityEntry, FollowUp, SupervisionNotice
from models.risk import Risk, RiskLevelChange
from models.signal import Signal
from tasks.follow_up.cadence import VisitSummary, day_start, local_date, next_due, schedule
from tasks.follow_up.supervision import SupervisionSummary
from tests.factories import ingest, write_rows
from tests.tasks.follow_up.scenario import (
    BASE,
    add_calls,
    add_visit,
    at,
    call,
    days,
    follow_ups,
    level_history,
    open_risk,
    pending,
    risk,
    sweep,
    trail,
)

RULES = get_rules()
COLOURS = ["red", "orange", "yellow", "blue"]


def sweep_days(first: date, last: date) -> None:
    day = first
    while day <= last:
        sweep(day)
        day += days(1)


def signal_id(engine: Engine, source_id: str) -> int:
    with Session(engine) as s:
        return s.execute(select(Signal.id).where(Signal.source_id == source_id)).scalar_one()


def every(colour: str) -> int:
    return RULES.follow_up.for_colour(colour).every_days


# --- dates: the sweep's "as of" and due dates are Asia/Shanghai dates ----------------------------------


def test_the_sweep_day_starts_at_midnight_in_shanghai_and_due_dates_are_local_dates() -> None:
    assert day_start(BASE) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == BASE  # 01:00 on 2 March in Shanghai
    # a call at 07:00 on 4 March Shanghai time is 23:00 on 3 March UTC: 72 hours later is 7 March locally
    due, why = next_due(RULES.follow_up, "yellow", at(BASE, 9), at(date(2026, 3, 4), 7))
    assert (due, why) == (date(2026, 3, 7), "new_signal")


@pytest.mark.parametrize(
    ("colour", "after_new_signal"),
    [
        ("red", (date(2026, 3, 3), "cadence")),  # every day already comes before 24 hours after the signal
        ("orange", (date(2026, 3, 4), "new_signal")),  # 24 h after 3 March 22:00, sooner than 3 days
        ("yellow", (date(2026, 3, 6), "new_signal")),  # 72 h, sooner than 7 days
        ("blue", (date(2026, 3, 10), "new_signal")),  # 7 days, sooner than 30
    ],
)
def test_next_due_is_the_colours_cadence_after_the_last_visit_or_sooner_after_a_new_signal(
    colour: str, after_new_signal: tuple[date, str]
) -> None:
    last_visit = at(BASE, 9)
    assert next_due(RULES.follow_up, colour, last_visit, None) == (BASE + days(every(colour)), "cadence")
    assert next_due(RULES.follow_up, colour, last_visit, at(BASE + days(1), 22)) == after_new_signal
    # a signal from before the last visit was seen by that visit: it brings nothing forward
    assert next_due(RULES.follow_up, colour, last_visit, at(BASE, 8)) == (
        BASE + days(every(colour)),
        "cadence",
    )


# --- schedule: cadence, first-visit window, never retroactive -----------------------------------------


@pytest.mark.parametrize("colour", COLOURS)
def test_each_colour_is_visited_again_every_n_days_after_the_last_visit(
    engine: Engine, jurisdiction: Path, tmp_path: Path, colour: str
) -> None:
    rid = open_risk(tmp_path, colour)
    sweep(BASE)
    assert pending(engine, rid) is not None
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low")
    sweep(BASE + days(1))
    done, nxt = follow_ups(engine, rid)
    assert risk(engine, rid).level == colour
    assert done.status == "done"
    assert (nxt.status, nxt.due_on, nxt.why) == ("pending", BASE + days(every(colour)), "cadence")
    assert nxt.basis_at == at(BASE, 15)
    assert nxt.officer_code == "O000001"  # the community officer of 61030301001


@pytest.mark.parametrize(
    ("colour", "first_visit_by"),
    [
        ("red", BASE),  # the call was at 10:00 the day before: 24 hours
        ("orange", BASE),  # 24 hours
        ("yellow", BASE + days(2)),  # 72 hours
        ("blue", BASE + days(6)),  # 7 days
    ],
)
def test_a_new_risk_is_first_visited_within_its_colours_first_visit_window(
    engine: Engine, jurisdiction: Path, tmp_path: Path, colour: str, first_visit_by: date
) -> None:
    """The brief: "first visit after a new signal within" 24 h / 24 h / 72 h / 7 days. The call that opens a
    risk is a new signal; waiting a whole cadence (3 / 7 / 30 days) for the first visit is not that."""
    rid = open_risk(tmp_path, colour)
    sweep(BASE)
    first = pending(engine, rid)
    assert first is not None
    assert first.due_on <= first_visit_by, (
        f"a new {colour} risk opened {at(BASE - days(1))} is first due {first.due_on}, "
        f"not within {RULES.follow_up.for_colour(colour).first_within_hours} hours"
    )


@pytest.mark.parametrize(("colour", "window_days"), [("yellow", 3), ("blue", 7)])
def test_a_new_call_brings_the_owed_visit_forward_and_cancels_the_later_one(
    engine: Engine, jurisdiction: Path, tmp_path: Path, colour: str, window_days: int
) -> None:
    rid = open_risk(tmp_path, colour)
    sweep(BASE)
    first = pending(engine, rid)
    assert first is not None
    visited = first.due_on
    add_visit(tmp_path, "V1", at(visited, 9), rid, concern="low")
    sweep_days(BASE + days(1), visited + days(1))
    later = pending(engine, rid)
    assert later is not None and later.due_on == visited + days(every(colour))
    add_calls(tmp_path, call("C2", at(visited + days(1), 20), colour))
    _, assigned, _ = sweep(visited + days(2))
    assert assigned == 1
    sooner = pending(engine, rid)
    assert sooner is not None
    assert (sooner.due_on, sooner.why) == (visited + days(1 + window_days), "new_signal")
    assert sooner.basis_at == at(visited, 9)  # still counted from the last visit
    cancelled = next(f for f in follow_ups(engine, rid) if f.id == later.id)
    assert cancelled.status == "cancelled"
    assert [a.action for a in trail(engine, "follow_up", later.id)] == ["assign", "cancel"]


def test_an_assignment_is_never_due_before_the_day_it_is_made(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow", when=at(date(2026, 1, 10)))  # weeks before the first sweep
    _, _, supervised = sweep(BASE)
    first = pending(engine, rid)
    assert first is not None and first.due_on == BASE  # not 17 January: nobody could have seen it then
    assert supervised == SupervisionSummary()  # not late on the day it is assigned
    _, _, supervised = sweep(BASE + days(1))
    assert supervised.officer_notices == 1
    with Session(engine) as s:
        notice = s.execute(select(SupervisionNotice)).scalar_one()
    assert notice.days_late == 1  # lateness counts from the assignment, not from January


def test_a_risk_first_seen_on_the_sweep_day_is_assigned_by_the_next_days_sweep(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "red", when=at(BASE, 8))
    assert sweep(BASE)[1] == 0  # the sweep of a day judges as of its start
    assert follow_ups(engine, rid) == []
    assert sweep(BASE + days(1))[1] == 1
    assert pending(engine, rid) is not None


def test_a_cancelled_follow_up_does_not_push_back_a_red_risks_next_visit(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow")
    sweep(BASE)
    add_calls(tmp_path, call("C2", at(BASE, 10), "red"))  # a knife: the risk turns red
    sweep(BASE + days(1))
    assert risk(engine, rid).level == "red"
    assert [f.status for f in follow_ups(engine, rid)] == ["cancelled", "pending"]
    add_visit(tmp_path, "V1", at(BASE + days(1), 15), rid, concern="medium")
    sweep(BASE + days(2))
    nxt = pending(engine, rid)
    assert nxt is not None
    # red: visit every day, so the day after the visit; the cancelled yellow follow-up's date is irrelevant
    assert nxt.due_on == BASE + days(2), f"a red risk visited on {BASE + days(1)} is next due {nxt.due_on}"


def test_an_early_visit_does_not_push_back_the_next_one(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low")
    sweep(BASE + days(1))
    owed = pending(engine, rid)
    assert owed is not None and owed.due_on == BASE + days(7)
    # two days later, well before that follow-up is due, the officer calls again and finds trouble
    add_visit(tmp_path, "V2", at(BASE + days(2), 15), rid, concern="high")
    sweep_days(BASE + days(2), BASE + days(3))
    assert risk(engine, rid).level == "orange"  # a visit with high concern is a signal: two channels
    nxt = pending(engine, rid)
    assert nxt is not None
    # orange: visit every 3 days, counted from the last visit, not from the date the early-met follow-up had
    assert nxt.due_on == BASE + days(2 + 3), (
        f"an orange risk visited on {BASE + days(2)} is next due {nxt.due_on}"
    )


# --- record_visits: a visit completes the follow-up; calm or not ---------------------------------------


def test_a_visit_completes_the_follow_up_and_is_recorded_on_it(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow")
    sweep(BASE)
    (owed,) = follow_ups(engine, rid)
    add_visit(tmp_path, "V1", at(BASE, 15), rid)
    visits, assigned, _ = sweep(BASE + days(1))
    assert (visits.completed, visits.calm, assigned) == (1, 1, 1)
    done = follow_ups(engine, rid)[0]
    assert (done.id, done.status, done.calm) == (owed.id, "done", True)
    assert done.done_at == at(BASE, 15)
    assert done.visit_signal_id == signal_id(engine, "V1")
    assert risk(engine, rid).calm_streak == 1
    complete = [a for a in trail(engine, "follow_up", owed.id) if a.action == "complete"]
    assert len(complete) == 1
    assert complete[0].after == {"status": "done", "visit": signal_id(engine, "V1"), "calm": True}


def test_the_sweep_of_a_day_sees_the_visits_made_before_midnight_shanghai_time(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    late_evening = open_risk(tmp_path, "yellow")
    after_midnight = open_risk(tmp_path, "yellow", call_id="C2", address="和平街2号")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 23, 30), late_evening)
    add_visit(tmp_path, "V2", at(BASE + days(1), 0, 30), after_midnight, address="和平街2号")
    visits, _, _ = sweep(BASE + days(1))
    assert visits.completed == 1
    assert follow_ups(engine, late_evening)[0].status == "done"
    assert follow_ups(engine, after_midnight)[0].status == "pending"
    visits, _, _ = sweep(BASE + days(2))
    assert visits.completed == 1
    assert follow_ups(engine, after_midnight)[0].status == "done"


@pytest.mark.parametrize(("concern", "calm"), [("low", True), ("medium", False)])
def test_a_visit_is_calm_when_it_reports_no_or_low_concern(
    engine: Engine, jurisdiction: Path, tmp_path: Path, concern: str, calm: bool
) -> None:
    rid = open_risk(tmp_path, "yellow")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern=concern)
    visits, _, _ = sweep(BASE + days(1))
    assert (visits.completed, visits.calm) == (1, int(calm))
    assert follow_ups(engine, rid)[0].calm is calm
    assert risk(engine, rid).calm_streak == int(calm)


def test_a_new_call_before_the_visit_makes_the_visit_not_calm(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow")
    sweep(BASE)
    add_calls(tmp_path, call("C2", at(BASE, 12)))
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="none")
    visits, _, _ = sweep(BASE + days(1))
    assert (visits.completed, visits.calm) == (1, 0)
    assert follow_ups(engine, rid)[0].calm is False
    assert risk(engine, rid).calm_streak == 0


# --- the evidence rule ---------------------------------------------------------------------------------


def test_two_calm_follow_ups_in_a_row_lower_a_red_risk_one_step(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "red")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="none")
    visits, _, _ = sweep(BASE + days(1))
    assert visits.lowered == [] and risk(engine, rid).level == "red"
    add_visit(tmp_path, "V2", at(BASE + days(1), 15), rid, concern="low")
    visits, _, _ = sweep(BASE + days(2))
    assert visits.lowered == [{"risk_id": rid, "from": "red", "to": "orange"}]
    after = risk(engine, rid)
    assert (after.level, after.status, after.calm_streak) == ("orange", "open", 0)
    assert after.level_since == at(BASE + days(1), 15)
    (change,) = level_history(engine, rid, cause="evidence")
    assert (change.from_level, change.to_level, change.at) == ("red", "orange", at(BASE + days(1), 15))
    assert change.rules_version == RULES.version
    evidence = [a for a in trail(engine, "risk", rid) if a.action == "evidence"]
    assert len(evidence) == 1
    assert (evidence[0].before, evidence[0].after) == (
        {"level": "red", "status": "open"},
        {"level": "orange"},
    )
    nxt = pending(engine, rid)
    assert nxt is not None and nxt.due_on == BASE + days(1 + every("orange"))  # now orange's cadence


def test_calm_then_not_calm_then_calm_does_not_lower(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "red")
    sweep(BASE)
    for n, concern in enumerate(["none", "medium", "none"]):
        add_visit(tmp_path, f"V{n}", at(BASE + days(n), 15), rid, concern=concern)
        visits, _, _ = sweep(BASE + days(n + 1))
        assert visits.completed == 1 and visits.lowered == []
    assert risk(engine, rid).level == "red"
    assert level_history(engine, rid, cause="evidence") == []
    add_visit(tmp_path, "V3", at(BASE + days(3), 15), rid, concern="none")  # the second calm in a row
    visits, _, _ = sweep(BASE + days(4))
    assert visits.lowered == [{"risk_id": rid, "from": "red", "to": "orange"}]


def test_a_blue_risk_with_two_calm_follow_ups_is_resolved_and_no_longer_followed_up(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "blue")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low")
    sweep(BASE + days(1))
    add_visit(tmp_path, "V2", at(BASE + days(1), 15), rid, concern="none")
    visits, _, _ = sweep(BASE + days(2))
    assert (visits.resolved, visits.lowered) == ([rid], [])
    after = risk(engine, rid)
    assert (after.status, after.level, after.resolved_at) == ("resolved", "blue", at(BASE + days(1), 15))
    (change,) = level_history(engine, rid, cause="evidence")
    assert "evidence.resolved" in change.reasons
    assert pending(engine, rid) is None
    assert sweep(BASE + days(3))[1] == 0
    assert len(follow_ups(engine, rid)) == 2


def test_an_orange_risk_comes_down_over_calm_follow_ups_and_ends_dormant(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """Each follow-up is visited on its due day and found calm: orange, yellow, blue; then, 60 days
    after its last signal with the last follow-up calm, the blue risk is resolved as dormant."""
    rid = open_risk(tmp_path, "orange")
    day, lowered, dormant, notices = BASE, [], [], 0
    sweep(day)
    for n in range(5):
        owed = pending(engine, rid)
        assert owed is not None, f"no follow-up owed after {n} calm visits"
        add_visit(tmp_path, f"V{n}", at(owed.due_on, 9), rid, concern="none")
        while day <= owed.due_on:
            day += days(1)
            visits, _, supervised = sweep(day)
            lowered += [(c["from"], c["to"]) for c in visits.lowered]
            dormant += visits.ends.resolved.get("ends.dormant", [])
            notices += supervised.officer_notices
    while risk(engine, rid).status == "open" and day < BASE + days(61):
        day += days(1)
        dormant += sweep(day)[0].ends.resolved.get("ends.dormant", [])
    assert lowered == [("orange", "yellow"), ("yellow", "blue")]
    assert dormant == [rid]
    assert day == BASE - days(1) + days(60)  # the call was the day before BASE: 60 quiet days
    assert risk(engine, rid).status == "resolved"
    assert [f.calm for f in follow_ups(engine, rid) if f.status == "done"] == [True] * 5
    assert [(c.from_level, c.to_level) for c in level_history(engine, rid, cause="evidence")] == [
        ("orange", "yellow"),
        ("yellow", "blue"),
    ]
    (end,) = level_history(engine, rid, cause="end")
    assert end.reasons == ["ends.dormant"]
    assert notices == 0  # every visit was on time


def test_a_resolved_risk_reopened_by_a_new_signal_is_followed_up_again(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "blue")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low")
    sweep(BASE + days(1))
    add_visit(tmp_path, "V2", at(BASE + days(1), 15), rid, concern="low")
    sweep(BASE + days(2))
    assert risk(engine, rid).status == "resolved"
    sweep(BASE + days(3))
    assert pending(engine, rid) is None
    result = ingest(write_rows(tmp_path / "later" / "calls.csv", call("C2", at(date(2026, 5, 2)), "blue")))
    assert (result["linked"].reopened, result["linked"].new_risks) == (1, 0)
    again = risk(engine, rid)
    assert (again.status, again.reopened_count, again.calm_streak) == ("open", 1, 0)
    _, assigned, _ = sweep(date(2026, 5, 3))
    assert assigned == 1
    owed = pending(engine, rid)
    assert owed is not None
    assert owed.officer_code == "O000001"
    assert owed.due_on >= date(2026, 5, 3)


# --- a day run twice; the audit trail ------------------------------------------------------------------

TABLES = (FollowUp, SupervisionNotice, AccountabilityEntry, Risk, RiskLevelChange)


def digest(engine: Engine) -> dict[str, Any]:
    with Session(engine) as s:
        out: dict[str, Any] = {
            m.__tablename__: [tuple(r) for r in s.execute(select(m.__table__).order_by(m.__table__.c.id))]
            for m in TABLES
        }
        out["audit_rows"] = s.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    return out


def fortnight(tmp_path: Path, engine: Engine, *, twice: bool = False) -> None:
    """Two weeks of sweeps: a red risk visited calm (lowered), a blue one with a new call and a visit,
    and a village risk nobody visits (notices, then accountability). `twice`: every day is swept again."""
    red = open_risk(tmp_path, "red")
    blue = open_risk(tmp_path, "blue", call_id="C2", address="和平街2号")
    open_risk(tmp_path, "yellow", call_id="C3", when=at(date(2026, 2, 1)), community_code="61032301001")
    inputs = {
        1: lambda: add_visit(tmp_path, "V1", at(BASE, 15), red, concern="none"),
        2: lambda: add_visit(tmp_path, "V2", at(BASE + days(1), 15), red, concern="low"),
        3: lambda: add_calls(tmp_path, call("C4", at(BASE + days(2), 11), "blue", address="和平街2号")),
        4: lambda: add_visit(
            tmp_path, "V3", at(BASE + days(3), 15), blue, concern="high", address="和平街2号"
        ),
    }
    for offset in range(14):
        day = BASE + days(offset)
        if offset in inputs:
            inputs[offset]()
        sweep(day)
        if twice:
            first = digest(engine)
            visits, assigned, supervised = sweep(day)
            assert (visits, assigned, supervised) == (VisitSummary(), 0, SupervisionSummary()), day
            assert digest(engine) == first, f"sweeping {day} again changed something"


def test_running_a_days_sweep_twice_changes_nothing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    fortnight(tmp_path, engine, twice=True)
    state = digest(engine)
    # the story did climb the ladder and lower a colour, so "nothing changed" is not vacuous
    assert len(state["supervision_notice"]) >= 2 and len(state["accountability_entry"]) >= 1
    assert any(row for row in state["risk_level_change"] if "evidence" in row)


def test_the_audit_chain_verifies_after_two_weeks_of_sweeps(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    fortnight(tmp_path, engine)
    with Session(engine) as s:
        verdict = audit.verify(s)
        actions = set(s.execute(select(AuditLog.action)).scalars())
    assert verdict.ok, verdict.problem
    assert {"assign", "complete", "evidence", "notice", "accountability"} <= actions


def test_a_backlog_planned_in_parts_is_planned_and_audited_once(
    engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.follow_up.cadence as follow_up

    monkeypatch.setattr(follow_up, "PLAN_PART", 2)  # five risks: three parts
    for n in range(5):
        open_risk(tmp_path, "yellow", call_id=f"C{n}", address=f"幸福路{n + 10}号")
    with session_scope() as s:
        assert schedule(s, RULES, BASE) == 5
    with Session(engine) as s:
        planned = s.execute(select(func.count()).select_from(FollowUp)).scalar_one()
        assigned = s.execute(select(func.count()).where(AuditLog.action == "assign")).scalar_one()
    assert planned == assigned == 5


def test_follow_up_visits_that_find_trouble_do_not_raise_the_cadence(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """Five visits in a fortnight to a yellow dispute, each finding it not yet settled: still yellow (the
    officer's own visits are not reports of new trouble); one call more and it is a repeat: orange."""
    rid = open_risk(tmp_path, "yellow")
    for i in range(5):
        add_visit(tmp_path, f"V{i}", at(BASE + days(2 * i)), rid, concern="medium")
    assert risk(engine, rid).level == "yellow"
    add_calls(tmp_path, call("C2", at(BASE + days(9)), "yellow"), call("C3", at(BASE + days(10)), "yellow"))
    assert risk(engine, rid).level == "orange"  # three calls in 30 days
