"""Rewards and accountability (奖励激励): the month's points, tip rewards and accountability lists,
proposed from the records and decided by a person.

Every record is made the way the cycle makes it: risks from calls, follow-ups and accountability
entries by the sweep stages, tips taken in and verified by an officer, incidents dispatched, reported
on scene by the unit status feed and closed by an officer. Points and amounts are read from the rules.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from bridgehead.db import get_engine, session_scope
from bridgehead.rules import TipOutcome, get_rules
from models.audit import AuditLog
from models.common import LOCAL_TZ
from models.follow_up import AccountabilityEntry, FollowUp
from models.incident import IncidentOutcome
from models.reward import RewardEntry
from models.signal import Signal
from models.tip import Tip
from tasks.quick_response.dispatch import dispatch_incident
from tasks.quick_response.disposal import close_incident
from tasks.quick_response.incidents import get_incident
from tasks.quick_response.unit_status import apply_feed
from tasks.rewards.ledger import Decision, decide, ledger, pay
from tasks.rewards.proposals import month, propose
from tasks.rewards.report import payouts, per_station, proposals_markdown, station_lists
from tasks.rewards.tips import tip_status, verify_tip
from tests.factories import TIP, ingest, sweep_stages, write_rows
from tests.tasks.follow_up.overdue import add_visit, open_risk
from tests.tasks.follow_up.scenario import at

RULES = get_rules()
POINTS = RULES.rewards.points
TIERS = RULES.rewards.tip_reward_cny
MARCH, APRIL = "2026-03", "2026-04"
BASE = date(2026, 3, 2)
LAST_OF_MARCH, FIRST_OF_APRIL = date(2026, 3, 31), date(2026, 4, 1)
PHONE = "13912345678"
S = timedelta(seconds=1)


def days(n: int) -> timedelta:
    return timedelta(days=n)


# --- helpers ---------------------------------------------------------------------------------------


def run_propose(period: str = MARCH) -> dict[str, int]:
    with session_scope() as s:
        return propose(s, RULES, period)


def lines(engine: Engine, period: str = MARCH) -> dict[tuple[str, str], RewardEntry]:
    """The period's ledger by (kind, beneficiary)."""
    with Session(engine) as s:
        return {(e.kind, e.beneficiary): e for e in ledger(s, period)}


def officer(engine: Engine, code: str, period: str = MARCH) -> RewardEntry:
    return lines(engine, period)[("officer_points", f"officer:{code}")]


def cited(entry: RewardEntry) -> dict[str, list[int]]:
    """An officer's proposal's sources as kind -> record ids (each kind cited once)."""
    kinds = [s["kind"] for s in entry.sources]
    assert len(kinds) == len(set(kinds)), entry.sources
    return {s["kind"]: s["ids"] for s in entry.sources}


def take_tips(folder: Path, *rows: dict[str, object]) -> dict[str, tuple[int, str]]:
    """Ingest tip rows (TIP of the factories, overridden); each tip id's Tip.id and code."""
    ingest(write_rows(folder / "tips.csv", *[{**TIP, "contact": PHONE, **r} for r in rows]), "tip")
    return tip_codes(get_engine())


def verify(code: str, by: str, outcome: TipOutcome, when: datetime) -> None:
    with session_scope() as s:
        verify_tip(s, code, by, outcome, at=when)


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


def done_follow_up(engine: Engine, risk_id: int) -> FollowUp:
    with Session(engine) as s:
        return s.execute(
            select(FollowUp).where(FollowUp.risk_id == risk_id, FollowUp.status == "done")
        ).scalar_one()


def tip_month(tmp_path: Path) -> dict[str, tuple[int, str]]:
    """March 2026: T1 found a risk (verified by O000001), T2 solved a case (by O000002); T3 waits.

    Proposed: O000001's and O000002's points, and a reward for T1 and for T2 (four lines)."""
    tips = take_tips(
        tmp_path,
        {"tip_id": "T1", "address": "幸福路1号"},
        {"tip_id": "T2", "address": "幸福路2号"},
        {"tip_id": "T3", "address": "幸福路3号"},
    )
    verify(tips["T1"][1], "O000001", TipOutcome.risk_found, local(BASE))
    verify(tips["T2"][1], "O000002", TipOutcome.case_solved, local(BASE))
    return tips


def ids_by(engine: Engine) -> dict[str, int]:
    """The March ledger's ids, by a short name: O1, O2 (officers), T1, T2 (tip rewards)."""
    short = {f"tip:{code}": name for name, (_, code) in tip_codes(engine).items()}
    short |= {"officer:O000001": "O1", "officer:O000002": "O2"}
    return {short[who]: int(e.id or 0) for (_, who), e in lines(engine).items()}


def tip_codes(engine: Engine) -> dict[str, tuple[int, str]]:
    with Session(engine) as s:
        rows = s.execute(select(Signal.source_id, Tip.id, Tip.tip_code).join(Tip, Tip.signal_id == Signal.id))
        return {source: (int(tip_id), code) for source, tip_id, code in rows}


def statuses(engine: Engine) -> dict[int | None, str]:
    with Session(engine) as s:
        return {e.id: e.status for e in ledger(s, MARCH)}


def snapshot(engine: Engine, period: str = MARCH) -> list[dict[str, Any]]:
    with Session(engine) as s:
        return [e.model_dump(exclude={"proposed_at"}) for e in ledger(s, period)]


# --- the rules and the period ----------------------------------------------------------------------


def test_the_default_point_table_is_the_briefs() -> None:
    assert POINTS.model_dump() == {
        "response_on_target": 3,
        "risk_resolved": 5,
        "follow_up_on_time": 1,
        "tip_verified": 2,
        "accountability": -10,
    }
    assert {k.value: v for k, v in TIERS.items()} == {"risk_found": 200, "case_solved": 1000, "unfounded": 0}
    assert [o.value for o in RULES.rewards.useful_outcomes] == ["risk_found", "case_solved"]


def test_rewards_are_monthly() -> None:
    window = month("2026-11")
    assert (window.first, window.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert window.start == datetime(2026, 11, 1, tzinfo=LOCAL_TZ)  # whole local days
    for period in ("2026-W47", "2026-13", "ytd:2026-11-29", "28d:2026-11-29", "2026-1", "november"):
        with pytest.raises(ValueError, match="rewards are monthly, give a month like 2026-11"):
            month(period)


# --- points, rule by rule --------------------------------------------------------------------------


def test_a_follow_up_on_or_before_its_due_date_earns_points_and_a_late_one_nothing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    on_time = open_risk(tmp_path, "C1", address="宝桥新村1号楼")
    late = open_risk(tmp_path, "C2", address="宝桥新村2号楼")
    sweep_stages(BASE)  # both due today
    add_visit(tmp_path, "V1", at(BASE, 23), on_time, "medium")  # late in the evening of the due date
    add_visit(tmp_path, "V2", at(BASE + days(1), 0), late, "medium")  # just after midnight: a day late
    sweep_stages(BASE + days(1))
    sweep_stages(BASE + days(2))
    kept, missed = done_follow_up(engine, on_time), done_follow_up(engine, late)
    assert (kept.due_on, missed.due_on) == (BASE, BASE)

    assert run_propose() == {"proposed": 1, "already_decided": 0, "withdrawn": 0}
    (entry,) = lines(engine).values()
    assert (entry.kind, entry.beneficiary, entry.station_code) == (
        "officer_points",
        "officer:O000001",
        "61030301",
    )
    assert entry.points == POINTS.follow_up_on_time
    assert entry.sources == [{"kind": "follow_up_on_time", "entity": "follow_up", "ids": [kept.id]}]
    assert (entry.status, entry.amount_cny) == ("proposed", 0)


def test_a_risk_resolved_by_the_evidence_rule_earns_its_officer_points(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """A blue risk in 陈仓大道 (O000002's community): two calm visits on time, and it is resolved."""
    his = {"community_code": "61030301002", "address": "和平街8号", "officer_code": "O000002"}
    risk = open_risk(tmp_path, "C1", category="public_order", summary="深夜噪音扰民", **his)
    sweep_stages(BASE)
    add_visit(tmp_path, "V1", at(BASE, 15), risk, "none", **his)
    sweep_stages(BASE + days(1))
    add_visit(tmp_path, "V2", at(BASE + days(2), 15), risk, "none", **his)
    visits = sweep_stages(BASE + days(3))[0]
    assert visits.resolved == [risk]
    with Session(engine) as s:
        follow_ups = sorted(s.execute(select(FollowUp.id).where(FollowUp.status == "done")).scalars())

    run_propose()
    entry = officer(engine, "O000002")
    assert cited(entry) == {"follow_up_on_time": follow_ups, "risk_resolved": [risk]}
    assert {s["kind"]: s["entity"] for s in entry.sources} == {
        "follow_up_on_time": "follow_up",
        "risk_resolved": "risk",
    }
    assert entry.points == POINTS.risk_resolved + 2 * POINTS.follow_up_on_time
    assert set(lines(engine)) == {("officer_points", "officer:O000002")}


def _urgent_calls(tmp_path: Path, *calls: tuple[str, datetime, str]) -> None:
    rows = [
        {"call_id": cid, "received_at": when.isoformat(), "category": "public_order", "priority": 1,
         "summary": "聚众斗殴报警", "address": address}
        for cid, when, address in calls
    ]  # fmt: skip
    ingest(write_rows(tmp_path / "calls" / "calls.csv", *rows))


def _respond(tmp_path: Path, code: str, late_by: timedelta | None, closed: datetime, by: str) -> int:
    """Dispatch within the target, report on scene (within the target, or `late_by` after it), close."""
    with session_scope() as s:
        incident = get_incident(s, code)
        dispatched = incident.dispatch_target_at - 10 * S  # type: ignore[operator]
        arrival_due = incident.arrival_target_at
        [unit] = [u["unit_code"] for u in dispatch_incident(s, incident, 1, dispatched).units]
    on_scene = arrival_due - 10 * S if late_by is None else arrival_due + late_by  # type: ignore[operator]
    feed = {"unit_code": unit, "incident_id": code, "status": "on_scene", "at": on_scene.isoformat()}
    with session_scope() as s:
        assert apply_feed(s, write_rows(tmp_path / code / "unit_status.csv", feed)).applied == 1
    with session_scope() as s:
        close_incident(s, RULES, code, IncidentOutcome.resolved_on_scene, by=by, at=closed)
        return get_incident(s, code).id  # type: ignore[return-value]


def test_an_incident_closed_with_both_targets_met_earns_the_closing_officer_points(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    met_at, missed_at = local(BASE + days(8)), local(BASE + days(8), 14)
    april_at = local(LAST_OF_MARCH, 23, 50)
    _urgent_calls(
        tmp_path, ("C1", met_at, "幸福路1号"), ("C2", missed_at, "幸福路2号"), ("C3", april_at, "幸福路3号")
    )
    met = _respond(tmp_path, "INC-C1", None, met_at + timedelta(minutes=30), "O000003")
    _respond(tmp_path, "INC-C2", timedelta(minutes=1), missed_at + timedelta(minutes=30), "O000003")
    # on target too, but closed 20 minutes into April (local time; still March in UTC)
    in_april = _respond(tmp_path, "INC-C3", None, april_at + timedelta(minutes=20), "O000003")

    run_propose()
    entry = officer(engine, "O000003")
    assert entry.sources == [{"kind": "response_on_target", "entity": "incident", "ids": [met]}]
    assert entry.points == POINTS.response_on_target
    run_propose(APRIL)
    assert cited(officer(engine, "O000003", APRIL)) == {"response_on_target": [in_april]}


def four_tips(tmp_path: Path) -> dict:
    """T1 risk found (O000001), T2 case solved (O000002), T3 unfounded (O000001), T4 wants no reward."""
    tips = take_tips(
        tmp_path,
        {"tip_id": "T1", "address": "幸福路1号"},
        {"tip_id": "T2", "address": "幸福路2号"},
        {"tip_id": "T3", "address": "幸福路3号"},
        {"tip_id": "T4", "address": "幸福路4号", "wants_reward": "false"},
    )
    verify(tips["T1"][1], "O000001", TipOutcome.risk_found, local(BASE))
    verify(tips["T2"][1], "O000002", TipOutcome.case_solved, local(BASE))
    verify(tips["T3"][1], "O000001", TipOutcome.unfounded, local(BASE))
    return tips


def test_a_tip_verified_useful_earns_the_verifying_officer_points_and_an_unfounded_one_nothing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = four_tips(tmp_path)
    verify(tips["T4"][1], "O000002", TipOutcome.risk_found, local(BASE))  # useful, if no reward wanted

    run_propose()
    one, two = officer(engine, "O000001"), officer(engine, "O000002")
    assert one.sources == [{"kind": "tip_verified", "entity": "tip", "ids": [tips["T1"][0]]}]
    assert one.points == POINTS.tip_verified
    assert cited(two) == {"tip_verified": sorted([tips["T2"][0], tips["T4"][0]])}
    assert two.points == 2 * POINTS.tip_verified


def test_an_accountability_entry_costs_points_and_goes_on_its_stations_list(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """Two risks left unvisited 7 days in March (陈仓 and 麦禾营), and one in April (陈仓)."""
    open_risk(tmp_path, "C1", address="宝桥新村1号楼")
    village = {"community_code": "61032301001", "address": "南营村3组", "officer_code": "O000005"}
    open_risk(tmp_path, "C2", **village)
    open_risk(tmp_path, "C3", when=local(date(2026, 3, 20)), address="宝桥新村3号楼")
    for day in (BASE, BASE + days(7), date(2026, 3, 25), FIRST_OF_APRIL):
        sweep_stages(day)
    with Session(engine) as s:
        entries = {
            (e.officer_code, e.recorded_on): e
            for e in s.execute(select(AccountabilityEntry).order_by(AccountabilityEntry.id)).scalars()
        }
    assert sorted(entries) == [
        ("O000001", BASE + days(7)),
        ("O000001", FIRST_OF_APRIL),
        ("O000005", BASE + days(7)),
    ]
    chen, mai = entries[("O000001", BASE + days(7))], entries[("O000005", BASE + days(7))]

    run_propose()
    assert officer(engine, "O000001").sources == [
        {"kind": "accountability", "entity": "accountability_entry", "ids": [chen.id]}
    ]
    assert officer(engine, "O000001").points == officer(engine, "O000005").points == POINTS.accountability
    chen_list = lines(engine)[("accountability_list", "station:61030301")]
    assert chen_list.station_code == "61030301"
    assert chen_list.sources == [
        {"kind": "late_follow_up", "entity": "accountability_entry", "ids": [chen.id], "officer": "O000001"}
    ]
    with Session(engine) as s:
        listed = station_lists(s, MARCH)
        only_mai = station_lists(s, MARCH, station="61032301")
    assert [(r["station"], r["officer"], r["officer_code"], r["kind"], r["reason"]) for r in listed] == [
        ("陈仓派出所", "孙宪河", "O000001", "late_follow_up", chen.reason),
        ("麦禾营派出所", "张伟", "O000005", "late_follow_up", mai.reason),
    ]
    assert [r["officer_code"] for r in only_mai] == ["O000005"]

    run_propose(APRIL)
    april = lines(engine, APRIL)
    april_entry = entries[("O000001", FIRST_OF_APRIL)]
    assert set(april) == {("officer_points", "officer:O000001"), ("accountability_list", "station:61030301")}
    assert [i for s in april[("accountability_list", "station:61030301")].sources for i in s["ids"]] == [
        april_entry.id
    ]


def test_records_just_outside_the_month_count_nothing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """Around local midnight between March and April (16:00 UTC): a follow-up done and a tip verified on
    each side count in their own month only."""
    march_risk = open_risk(tmp_path, "C1", address="宝桥新村1号楼")  # due on the day of the sweep
    april_risk = open_risk(tmp_path, "C2", when=local(date(2026, 3, 30)), address="宝桥新村2号楼")
    sweep_stages(LAST_OF_MARCH)
    add_visit(tmp_path, "V1", at(LAST_OF_MARCH, 23), march_risk, "medium")
    add_visit(tmp_path, "V2", at(FIRST_OF_APRIL, 0), april_risk, "medium")
    sweep_stages(FIRST_OF_APRIL)
    sweep_stages(FIRST_OF_APRIL + days(1))
    in_march, in_april = done_follow_up(engine, march_risk), done_follow_up(engine, april_risk)
    assert (in_march.due_on, in_april.due_on) == (LAST_OF_MARCH, FIRST_OF_APRIL + days(1))  # both on time
    tips = take_tips(
        tmp_path, {"tip_id": "T1", "address": "幸福路1号"}, {"tip_id": "T2", "address": "幸福路2号"}
    )
    verify(tips["T1"][1], "O000002", TipOutcome.risk_found, local(LAST_OF_MARCH, 23, 59))
    verify(tips["T2"][1], "O000002", TipOutcome.risk_found, local(FIRST_OF_APRIL, 0, 0))

    run_propose(MARCH)
    run_propose(APRIL)
    for period, follow_up, (tip_id, code) in ((MARCH, in_march, tips["T1"]), (APRIL, in_april, tips["T2"])):
        assert cited(officer(engine, "O000001", period)) == {"follow_up_on_time": [follow_up.id]}, period
        assert cited(officer(engine, "O000002", period)) == {"tip_verified": [tip_id]}, period
        rewards = [who for kind, who in lines(engine, period) if kind == "tip_reward"]
        assert rewards == [f"tip:{code}"], period
    run_propose("2026-02")
    assert lines(engine, "2026-02") == {}


# --- tip rewards -----------------------------------------------------------------------------------


def test_a_useful_tip_earns_its_tipster_the_reward_of_its_outcome(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = four_tips(tmp_path)
    verify(tips["T4"][1], "O000002", TipOutcome.case_solved, local(BASE))

    run_propose()
    rewards = {who: e for (kind, who), e in lines(engine).items() if kind == "tip_reward"}
    assert {who: e.amount_cny for who, e in rewards.items()} == {
        f"tip:{tips['T1'][1]}": TIERS[TipOutcome.risk_found],
        f"tip:{tips['T2'][1]}": TIERS[TipOutcome.case_solved],
    }  # not the unfounded tip, nor the tipster who wants no reward
    found = rewards[f"tip:{tips['T1'][1]}"]
    assert (found.station_code, found.points, found.status) == ("61030301", 0, "proposed")
    [source] = found.sources
    assert (source["entity"], source["ids"], source["outcome"]) == ("tip", [tips["T1"][0]], "risk_found")


def test_of_two_useful_tips_on_one_risk_only_the_first_received_earns_the_reward(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = take_tips(
        tmp_path,
        {"tip_id": "T1", "received_at": "2026-03-01 10:00"},
        {"tip_id": "T2", "received_at": "2026-03-01 11:00"},
    )
    with Session(engine) as s:
        risks = s.execute(select(Signal.risk_id).where(Signal.channel == "tip")).scalars().all()
    assert len(risks) == 2 and risks[0] == risks[1] is not None  # merged onto one risk
    verify(tips["T2"][1], "O000002", TipOutcome.case_solved, local(BASE))  # the later tip, verified first
    verify(tips["T1"][1], "O000001", TipOutcome.risk_found, local(BASE, 11))

    run_propose()
    rewards = {who: e.amount_cny for (kind, who), e in lines(engine).items() if kind == "tip_reward"}
    assert rewards == {f"tip:{tips['T1'][1]}": TIERS[TipOutcome.risk_found]}


def test_when_an_earlier_tip_on_the_risk_is_verified_later_the_later_tips_proposal_is_withdrawn(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = take_tips(
        tmp_path,
        {"tip_id": "T1", "received_at": "2026-03-01 10:00"},
        {"tip_id": "T2", "received_at": "2026-03-01 11:00"},
    )
    verify(tips["T2"][1], "O000002", TipOutcome.risk_found, local(BASE))
    run_propose()
    verify(tips["T1"][1], "O000001", TipOutcome.risk_found, local(BASE + days(1)))
    run_propose()
    rewards = [who for kind, who in lines(engine) if kind == "tip_reward"]
    assert rewards == [f"tip:{tips['T1'][1]}"]  # one reward per risk: approve_all would pay both


# --- the ledger: propose ---------------------------------------------------------------------------


def test_proposing_a_month_twice_gives_the_same_ledger(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tip_month(tmp_path)
    assert run_propose() == {"proposed": 4, "already_decided": 0, "withdrawn": 0}
    first = snapshot(engine)
    assert run_propose() == {"proposed": 4, "already_decided": 0, "withdrawn": 0}
    assert snapshot(engine) == first
    assert {e["status"] for e in first} == {"proposed"}


def test_an_undecided_proposal_is_refreshed_when_the_records_change(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = tip_month(tmp_path)
    run_propose()
    before = officer(engine, "O000001")
    verify(tips["T3"][1], "O000001", TipOutcome.risk_found, local(BASE + days(1)))
    run_propose()
    after = officer(engine, "O000001")
    assert after.id == before.id and after.status == "proposed"
    assert (before.points, after.points) == (POINTS.tip_verified, 2 * POINTS.tip_verified)
    assert cited(after) == {"tip_verified": [tips["T1"][0], tips["T3"][0]]}
    assert len(lines(engine)) == 5  # T3's reward joins


def test_a_decided_line_is_never_touched_by_a_later_proposal(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        decide(s, MARCH, "王所长", Decision.each, approve=[ids["O1"]])
    decided = officer(engine, "O000001").model_dump()
    verify(tips["T3"][1], "O000001", TipOutcome.risk_found, local(BASE + days(1)))
    assert run_propose() == {
        "proposed": 4,
        "already_decided": 1,
        "withdrawn": 0,
    }  # O000002, T1, T2 and T3's reward
    assert officer(engine, "O000001").model_dump() == decided
    assert decided["points"] == POINTS.tip_verified and decided["status"] == "approved"


def test_a_rejected_line_stays_rejected_when_the_month_is_proposed_again(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        decide(
            s, MARCH, "王所长", Decision.each, reject=[ids["T2"]], reason="duplicate of a case already paid"
        )
    run_propose()
    run_propose()
    assert statuses(engine) == {ids["O1"]: "proposed", ids["O2"]: "proposed", ids["T1"]: "proposed",
                                ids["T2"]: "rejected"}  # fmt: skip
    with Session(engine) as s:
        rejected = s.get(RewardEntry, ids["T2"])
        assert rejected is not None
        assert (rejected.decided_by, rejected.decision_reason) == (
            "王所长",
            "duplicate of a case already paid",
        )


# --- the ledger: decide and pay --------------------------------------------------------------------


def test_deciding_each_approves_and_rejects_exactly_the_named_lines(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        counts = decide(s, MARCH, "王所长", Decision.each, approve=[ids["O1"], ids["T1"]], reject=[ids["T2"]])
    assert counts == {"approved": 2, "rejected": 1, "undecided": 1}
    assert statuses(engine) == {ids["O1"]: "approved", ids["T1"]: "approved", ids["T2"]: "rejected",
                                ids["O2"]: "proposed"}  # fmt: skip
    with Session(engine) as s:
        assert tip_status(s, tips["T1"][1]) == "rewarded"
        assert tip_status(s, tips["T2"][1]) == "verified"  # a rejected reward leaves the tip as it was
        undecided = s.get(RewardEntry, ids["O2"])
        assert undecided is not None and (undecided.decided_by, undecided.decided_at) == (None, None)
    # what is left is decided on a later day
    with session_scope() as s:
        assert decide(s, MARCH, "王所长", Decision.each, approve=[ids["O2"]]) == {
            "approved": 1,
            "rejected": 0,
            "undecided": 0,
        }


@pytest.mark.parametrize(
    ("decision", "status", "tip"),
    [("approve_all", "approved", "rewarded"), ("reject_all", "rejected", "verified")],
)
def test_approve_all_and_reject_all_decide_every_undecided_line(
    engine: Engine, jurisdiction: Path, tmp_path: Path, decision: str, status: str, tip: str
) -> None:
    tips = tip_month(tmp_path)
    run_propose()
    with session_scope() as s:
        counts = decide(s, MARCH, "王所长", Decision(decision))
    assert counts == {"approved": 0, "rejected": 0, "undecided": 0, status: 4}
    assert set(statuses(engine).values()) == {status}
    with Session(engine) as s:
        assert {tip_status(s, tips[t][1]) for t in ("T1", "T2")} == {tip}
        assert tip_status(s, tips["T3"][1]) == "received"
    with session_scope() as s:  # nothing is left to decide
        assert decide(s, MARCH, "王所长", Decision(decision)) == {
            "approved": 0,
            "rejected": 0,
            "undecided": 0,
        }


def test_unknown_or_decided_ids_and_a_missing_approver_are_refused(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        decide(s, MARCH, "王所长", Decision.each, reject=[ids["T2"]])
    before = snapshot(engine)
    refused = [
        ("王所长", {"approve": [ids["O1"], 99999]}, r"not undecided proposals of 2026-03: \[99999\]"),
        ("王所长", {"approve": [ids["T2"]]}, "not undecided proposals"),  # already rejected
        ("王所长", {"approve": [ids["O1"]], "reject": [ids["O1"]]}, "both approved and rejected"),
        ("", {"approve": [ids["O1"]]}, "approver's name is required"),
        ("   ", {"approve": [ids["O1"]]}, "approver's name is required"),
    ]
    for approver, named, message in refused:
        with pytest.raises(ValueError, match=message), session_scope() as s:
            decide(s, MARCH, approver, Decision.each, **named)
    with pytest.raises(ValueError, match="approver's name is required"), session_scope() as s:
        decide(s, MARCH, " ", Decision.approve_all)
    assert snapshot(engine) == before
    with Session(engine) as s:
        assert s.execute(select(AuditLog).where(AuditLog.action == "approve")).first() is None


def test_paying_marks_the_approved_tip_rewards_and_their_tips_paid(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        decide(s, MARCH, "王所长", Decision.each, approve=[ids["T1"], ids["O1"]], reject=[ids["T2"]])
    with session_scope() as s:
        assert pay(s, MARCH, by="财务李") == 1
    assert statuses(engine) == {ids["T1"]: "paid", ids["O1"]: "approved", ids["T2"]: "rejected",
                                ids["O2"]: "proposed"}  # fmt: skip
    with Session(engine) as s:
        paid = s.get(RewardEntry, ids["T1"])
        assert paid is not None and paid.paid_at is not None
        assert [tip_status(s, tips[t][1]) for t in ("T1", "T2", "T3")] == ["paid", "verified", "received"]
        (row,) = s.execute(select(AuditLog).where(AuditLog.action == "pay")).scalars()
    assert (row.actor, row.entity, row.entity_id, row.after) == (
        "person:财务李",
        "reward_entry",
        str(ids["T1"]),
        {"status": "paid"},
    )
    with session_scope() as s:  # paid once
        assert pay(s, MARCH, by="财务李") == 0


def test_the_audit_trail_of_decisions_names_the_approver_and_never_the_tipster(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        decide(s, MARCH, " 王所长 ", Decision.each, approve=[ids["T1"], ids["O1"]], reject=[ids["T2"]])
    with session_scope() as s:
        pay(s, MARCH, by="财务李")
    with Session(engine) as s:
        rows = list(s.execute(select(AuditLog).where(AuditLog.entity == "reward_entry")).scalars())
        everything = "\n".join(str(r.model_dump()) for r in s.execute(select(AuditLog)).scalars())
    decisions = sorted((r.action, r.entity_id, r.actor) for r in rows if r.action in ("approve", "reject"))
    assert decisions == sorted(
        [
            ("approve", str(ids["T1"]), "person:王所长"),
            ("approve", str(ids["O1"]), "person:王所长"),
            ("reject", str(ids["T2"]), "person:王所长"),
        ]
    )
    approved_tip = next(r for r in rows if r.action == "approve" and r.entity_id == str(ids["T1"]))
    assert approved_tip.after == {
        "status": "approved",
        "by": "王所长",
        "points": 0,
        "amount_cny": TIERS[TipOutcome.risk_found],
    }
    assert PHONE not in everything and "contact" not in everything


def test_payouts_and_the_proposals_show_the_tip_code_and_amount_never_the_contact(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = tip_month(tmp_path)
    run_propose()
    with Session(engine) as s:
        paid = payouts(s, MARCH)
        markdown = proposals_markdown(s, MARCH)
    assert sorted((p["tip"], p["amount_cny"], p["outcome"], p["status"]) for p in paid) == sorted(
        [
            (tips["T1"][1], TIERS[TipOutcome.risk_found], "risk_found", "proposed"),
            (tips["T2"][1], TIERS[TipOutcome.case_solved], "case_solved", "proposed"),
        ]
    )
    rows = {line.split(" | ")[2]: line for line in markdown.splitlines() if line.startswith("| ")}
    for tip_id, outcome in (("T1", TipOutcome.risk_found), ("T2", TipOutcome.case_solved)):
        line = rows[f"tip:{tips[tip_id][1]}"]
        assert f"| {TIERS[outcome]} |" in line
    assert "孙宪河 (O000001)" in rows
    for shown in (str(paid), markdown):
        assert PHONE not in shown


def test_the_audit_trail_never_carries_the_tip_code(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """As verify_tip keys its audit row by the tip's id in its file: whoever reads the audit trail must
    not be able to claim the reward."""
    tips = tip_month(tmp_path)
    run_propose()
    ids = ids_by(engine)
    with session_scope() as s:
        decide(s, MARCH, "王所长", Decision.approve_all)
    with session_scope() as s:
        pay(s, MARCH, by="财务李")
    with Session(engine) as s:
        assert {e.status for e in ledger(s, MARCH) if e.id in (ids["T1"], ids["T2"])} == {"paid"}
        everything = "\n".join(str(r.model_dump()) for r in s.execute(select(AuditLog)).scalars())
    for name in ("T1", "T2"):
        assert tips[name][1] not in everything


def test_the_per_station_log_line_sums_points_and_counts_accountability_items() -> None:
    board = [
        {"station": "陈仓派出所", "points": 5},
        {"station": "陈仓派出所", "points": 3},
        {"station": "麦禾营派出所", "points": 2},
    ]
    lists = [{"station": "麦禾营派出所"}, {"station": "虢镇派出所"}]
    assert per_station(board, lists) == (
        "虢镇派出所 0 officers 0 points, 1 accountability items; "
        "陈仓派出所 2 officers 8 points, 0 accountability items; "
        "麦禾营派出所 1 officers 2 points, 1 accountability items"
    )
    assert per_station([], []) == "no station"
