"""How risks end (化解), one test per rule of the brief's section: settled and confirmed by a return
visit, a signal before it, the chief's sign-off for red, referred, dormant, the 180-day re-check, a
dispute mediated on the scene; and no sequence of signals and visits lowers a colour without calm.

The city is played as in `scenario.py`: signals ingested as intake does, each day swept in order.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.common import utcnow
from models.follow_up import FollowUp, SweepDay
from models.incident import IncidentOutcome
from tasks.follow_up.ends import calm_end, decide
from tasks.follow_up.sign_off import settle_by_chief
from tasks.jurisdiction import load_jurisdiction
from tasks.quick_response.disposal import close_incident
from tests.factories import empty_tables
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


def sweep_until(day: date, last: date) -> date:
    while day < last:
        day += days(1)
        sweep(day)
    return day


def settled_yellow(engine: Engine, tmp_path: Path) -> tuple[int, date]:
    """A yellow dispute risk settled at its first follow-up visit on BASE."""
    rid = open_risk(tmp_path, "yellow")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low", outcome="已化解")
    sweep(BASE + days(1))
    return rid, BASE + days(1)


# --- settled -> return visit -> resolved --------------------------------------------------------


def test_a_settled_risk_waits_for_its_return_visit_and_a_calm_one_resolves_it(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid, day = settled_yellow(engine, tmp_path)
    settled = risk(engine, rid)
    assert (settled.status, settled.level) == ("settled", "yellow")
    owed = pending(engine, rid)
    assert owed is not None and owed.why == "return_visit"
    assert owed.due_on == BASE + days(RULES.ends.return_visit_days["yellow"])
    day = sweep_until(day, owed.due_on - days(1))
    assert risk(engine, rid).status == "settled"  # nothing due until the return visit
    assert [f.why for f in follow_ups(engine, rid) if f.status == "pending"] == ["return_visit"]

    add_visit(tmp_path, "V2", at(owed.due_on, 9), rid, concern="none")
    visits, _, _ = sweep(owed.due_on + days(1))
    assert visits.ends.resolved == {"ends.return_visit": [rid]}
    ended = risk(engine, rid)
    assert (ended.status, ended.level) == ("resolved", "yellow")  # ended, not lowered
    (end,) = [c for c in level_history(engine, rid, cause="end") if c.reasons == ["ends.return_visit"]]
    assert "return visit" in (end.note or "")
    audited = [a for a in trail(engine, "risk", rid) if a.action == "end"]
    assert [a.after["rule"] for a in audited] == ["ends.settled", "ends.return_visit"]
    assert all("visit" in a.after["evidence"] for a in audited)  # every end names its evidence
    recheck = pending(engine, rid)
    assert recheck is not None and recheck.why == "recheck"
    assert recheck.due_on == owed.due_on + days(RULES.ends.recheck_after_days)


def test_a_return_visit_that_finds_it_not_calm_puts_it_back_on_the_cadence(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid, _ = settled_yellow(engine, tmp_path)
    owed = pending(engine, rid)
    assert owed is not None
    add_visit(tmp_path, "V2", at(owed.due_on, 9), rid, concern="low", outcome="escalated")
    sweep(owed.due_on + days(1))
    assert risk(engine, rid).status == "open"
    nxt = pending(engine, rid)
    assert nxt is not None and nxt.why in ("cadence", "new_signal")


# --- a signal before the return visit ---------------------------------------------------------------


def test_a_new_signal_before_the_return_visit_reopens_the_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid, day = settled_yellow(engine, tmp_path)
    add_calls(tmp_path, call("C2", at(day, 11), "yellow"))
    assert risk(engine, rid).status == "open"  # at intake, before any sweep
    assert [a.reason for a in trail(engine, "risk", rid) if a.action == "reopen"] == [
        "ends.signal_before_return_visit: a new signal before the return visit or check"
    ]
    assert pending(engine, rid) is None  # the return visit gave way
    sweep(day + days(1))
    nxt = pending(engine, rid)
    assert nxt is not None and nxt.why == "new_signal"


def test_a_calm_visit_before_the_return_visit_changes_nothing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid, day = settled_yellow(engine, tmp_path)
    add_visit(tmp_path, "V2", at(day, 11), rid, concern="none")  # before the window opens
    sweep(day + days(1))
    assert risk(engine, rid).status == "settled"
    assert pending(engine, rid).why == "return_visit"  # type: ignore[union-attr]


# --- red: only the station chief signs off ------------------------------------------------------


def test_a_red_risk_is_settled_only_on_its_station_chiefs_sign_off(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "red")
    sweep(BASE)
    with session_scope() as s, pytest.raises(ValueError, match="no visit that settled it"):
        settle_by_chief(s, RULES, rid, "赵所长", "mediated", utcnow())
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low", outcome="settled")
    visits, _, _ = sweep(BASE + days(1))
    assert visits.ends.awaiting_chief == [rid]
    assert risk(engine, rid).status == "open"  # a visit alone does not settle red

    for outsider in (
        "王志英",
        "O000003",
        "陈所长",
    ):  # a patrol officer, by name and code; another station's chief
        with session_scope() as s, pytest.raises(PermissionError, match="not a chief of station 61030301"):
            settle_by_chief(s, RULES, rid, outsider, "mediated", utcnow())
    assert risk(engine, rid).status == "open"

    with session_scope() as s:
        settle_by_chief(s, RULES, rid, "赵所长", "both families signed the mediation agreement", utcnow())
    settled = risk(engine, rid)
    assert (settled.status, settled.level) == ("settled", "red")
    (signed,) = [a for a in trail(engine, "risk", rid) if a.action == "end"]
    assert signed.actor == "person:赵所长"
    assert signed.after["rule"] == "ends.chief_sign_off"
    assert pending(engine, rid).why == "return_visit"  # type: ignore[union-attr]


# --- referred ------------------------------------------------------------------------------------


def test_a_referred_risk_leaves_the_cadence_with_one_check_after_30_days(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow")  # a dispute for the labour bureau or a village committee
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="medium", outcome="已移交")
    sweep(BASE + days(1))
    assert risk(engine, rid).status == "referred"
    check = pending(engine, rid)
    assert check is not None and check.why == "referral_check"
    assert check.due_on == BASE + days(30)
    day = sweep_until(BASE + days(1), BASE + days(29))
    assert [f.why for f in follow_ups(engine, rid) if f.status != "done"] == ["referral_check"]  # no cadence
    add_visit(tmp_path, "V2", at(check.due_on, 9), rid, concern="low", outcome="settled")
    sweep_until(day, check.due_on + days(1))
    assert risk(engine, rid).status == "settled"  # the body settled it: the return visit follows


# --- dormant -------------------------------------------------------------------------------------


def test_a_quiet_yellow_risk_is_dormant_at_day_60_and_not_at_day_59(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid = open_risk(tmp_path, "yellow")  # its one call, the last signal: the day before BASE
    sweep(BASE)
    with session_scope() as s:  # a register swept before: only the risks that can turn dormant are read
        s.add(SweepDay(day=BASE, actor="person:test", summary={}))
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low")  # the last follow-up: calm
    signal_day = BASE - days(1)
    sweep_until(BASE, signal_day + days(59))
    assert risk(engine, rid).status == "open"
    assert risk(engine, rid).level == "yellow"  # one calm visit: no evidence step yet
    visits, _, _ = sweep(signal_day + days(60))
    assert visits.ends.resolved == {"ends.dormant": [rid]}
    assert risk(engine, rid).status == "resolved"
    assert [f.why for f in follow_ups(engine, rid) if f.status == "pending"] == ["recheck"]


def test_a_red_or_orange_risk_is_never_dormant(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    rid = open_risk(tmp_path, "orange")
    sweep(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), rid, concern="low")
    sweep_until(BASE, BASE + days(70))
    assert risk(engine, rid).status == "open"


# --- the 180-day re-check ---------------------------------------------------------------------------


def resolved_with_its_recheck(engine: Engine, tmp_path: Path) -> tuple[int, FollowUp]:
    """A yellow dispute risk settled, then resolved by a calm return visit: its re-check is owed."""
    rid, _ = settled_yellow(engine, tmp_path)
    owed = pending(engine, rid)
    assert owed is not None
    add_visit(tmp_path, "V2", at(owed.due_on, 9), rid, concern="none")
    sweep(owed.due_on + days(1))
    recheck = pending(engine, rid)
    assert recheck is not None and recheck.why == "recheck"
    return rid, recheck


def test_a_resolved_dispute_risk_is_rechecked_once_after_180_days(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid, recheck = resolved_with_its_recheck(engine, tmp_path)
    add_visit(tmp_path, "V3", at(recheck.due_on, 9), rid, concern="none")
    assert risk(engine, rid).status == "resolved"  # a calm re-check visit is evidence, not news
    visits, _, _ = sweep(recheck.due_on + days(1))
    assert visits.ends.rechecked_calm == [rid]
    assert pending(engine, rid) is None  # once
    assert risk(engine, rid).status == "resolved"


def test_a_recheck_that_finds_trouble_brings_the_risk_back(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rid, recheck = resolved_with_its_recheck(engine, tmp_path)
    add_visit(tmp_path, "V3", at(recheck.due_on, 9), rid, concern="high")
    back = risk(engine, rid)
    assert back.status == "open" and back.reopened_count == 1  # counted as come back


# --- a dispute mediated on the scene ----------------------------------------------------------------


def test_a_dispute_mediated_on_the_scene_is_settled_and_gets_its_return_visit(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    from tasks.quick_response.incidents import open_incidents

    now = utcnow()
    add_calls(tmp_path, {**call("C9", now - timedelta(minutes=5), "yellow"), "priority": 1})
    with session_scope() as s:
        open_incidents(s, RULES)
    with session_scope() as s:
        done = close_incident(s, RULES, "INC-C9", IncidentOutcome.mediated, by="王志英", at=now)
    assert done.risk_id is not None
    ended = risk(engine, done.risk_id)
    assert ended.status == "settled"
    assert pending(engine, done.risk_id).why == "return_visit"  # type: ignore[union-attr]


# --- the rules as plain functions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "level", "why", "outcome", "calm", "step"),
    [
        ("open", "yellow", "cadence", "settled", True, "settle"),
        ("open", "red", "cadence", "settled", True, "await_chief"),
        ("open", "orange", "cadence", "referred", False, "refer"),
        ("open", "orange", "cadence", None, True, ""),
        ("settled", "yellow", "return_visit", None, True, "resolve"),
        ("settled", "yellow", "return_visit", "settled", False, "reopen"),
        ("settled", "yellow", "return_visit", "unreachable", False, "again"),
        ("settled", "yellow", "return_visit", "escalated", True, "reopen"),
        ("referred", "orange", "referral_check", "settled", True, "settle"),
        ("referred", "orange", "referral_check", "referred", False, "refer"),
        ("referred", "orange", "referral_check", "ongoing", False, "reopen"),
        ("resolved", "yellow", "recheck", None, True, "recheck_calm"),
        ("resolved", "yellow", "recheck", None, False, ""),
    ],
)
def test_what_a_visit_does_to_a_risks_life(
    status: str, level: str, why: str, outcome: str | None, calm: bool, step: str
) -> None:
    assert decide(status, level, why, outcome, calm) == step


def test_calm_enough_to_end_on() -> None:
    assert calm_end("low", None, False) and calm_end(None, "settled", False)
    assert not calm_end("medium", "settled", False)
    assert not calm_end("none", "settled", True)  # a signal came in between


# --- property: no lowering without calm evidence ------------------------------------------------------

EVENT = st.one_of(
    st.tuples(st.just("call"), st.sampled_from(["yellow", "orange", "blue", "red"])),
    st.tuples(
        st.just("visit"),
        st.sampled_from(["medium", "high", ""]),
        st.sampled_from(["", "settled", "referred", "escalated", "unreachable", "ongoing"]),
    ),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 9), EVENT), min_size=1, max_size=8))
@example(events=[(1, ("call", "yellow"))] * 2 + [(1, ("call", "blue"))] * 4)  # it becomes a place
def test_no_sequence_of_signals_and_visits_lowers_a_colour_without_calm_evidence(
    engine: Engine, jurisdiction: Path, tmp_path: Path, events: list[tuple[int, tuple[str, ...]]]
) -> None:
    empty_tables(engine)
    with session_scope() as s:
        load_jurisdiction(s, jurisdiction, actor="person:test")
    folder = tmp_path / f"run-{abs(hash(tuple(events)))}"
    rid = open_risk(folder, "yellow", call_id="C0")
    day = BASE
    sweep(day)
    for n, (gap, event) in enumerate(events):
        when = at(day, 11)
        if event[0] == "call":
            add_calls(folder, call(f"C{n + 1}", when, event[1]))
        else:
            add_visit(folder, f"V{n}", when, rid, concern=event[1], outcome=event[2])
        day = sweep_until(day, day + days(gap))
    with Session(engine) as s:
        assert s.get(type(risk(engine, rid)), rid) is not None
    order = ["blue", "yellow", "orange", "red"]
    for change in level_history(engine, rid):
        # a risk whose address becomes a place comes down once to what the rules about people give it
        # (the brief's hotspots, tasks/intake/hotspots.py): a lowering by rule, not by a visit
        if change.from_level is not None and change.cause != "place":
            assert order.index(change.to_level) >= order.index(change.from_level), change


def test_a_place_quiet_for_60_days_leaves_the_patrol_ranking_whatever_its_colour(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """A hotspot is patrolled, not visited: no follow-up can be its evidence, so its quiet is."""
    crossing = {"address": "建设路 & 幸福路", "category": "public_order", "summary": "有人持刀威胁路人"}
    add_calls(tmp_path, {"call_id": "P1", "received_at": at(BASE - days(1)).isoformat(), **crossing})
    rid = pending_place(engine)
    assert (risk(engine, rid).place_kind, risk(engine, rid).level) == ("crossing", "red")
    sweep(BASE)
    with session_scope() as s:
        s.add(SweepDay(day=BASE, actor="person:test", summary={}))
    sweep_until(BASE, BASE - days(1) + days(59))
    assert risk(engine, rid).status == "open"
    visits, _, _ = sweep(BASE - days(1) + days(60))
    assert visits.ends.resolved == {"ends.place_quiet": [rid]}
    assert follow_ups(engine, rid) == []  # no household visit, no re-check


def pending_place(engine: Engine) -> int:
    from sqlalchemy import select

    from models.risk import Risk

    with Session(engine) as s:
        return int(s.execute(select(Risk.id).where(Risk.place_kind.is_not(None))).scalar_one())


def test_a_visit_that_finds_a_dispute_and_settles_it_on_the_spot_settles_its_new_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """The melon field: the officer came across the quarrel and mediated it there; no follow-up was owed."""
    from tests.factories import ingest, write_rows

    row = {"visit_id": "M1", "visited_at": at(BASE - days(1), 10).isoformat(), "officer_code": "O000001",
           "address": "南营村瓜地", "category": "land_property", "summary": "当场调解，双方和解",
           "concern": "low", "outcome": "已化解"}  # fmt: skip
    ingest(write_rows(tmp_path / "melon" / "visits.csv", row), "visit")
    rid = _risk_of(engine, "M1")
    sweep(BASE)
    assert risk(engine, rid).status == "settled"
    (back,) = [f for f in follow_ups(engine, rid) if f.status == "pending"]
    assert (back.why, back.due_on) == ("return_visit", BASE - days(1) + days(7))
    sweep(BASE + days(1))  # the next morning changes nothing: it is applied once
    assert [c.reasons[0] for c in level_history(engine, rid, cause="end")] == ["ends.settled"]


def _risk_of(engine: Engine, source_id: str) -> int:
    from sqlalchemy import select

    from models.signal import Signal

    with Session(engine) as s:
        return int(s.execute(select(Signal.risk_id).where(Signal.source_id == source_id)).scalar_one())
