"""Linking signals to risks (the brief's linking and reopen rules), then the database stages.

The first half tests the pure planner `plan_links`; the second half loads small call and visit
files through validate, load, link and grade, as the intake flow does, on every configured database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from bridgehead.addresses import normalise_address
from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models import AuditLog, Risk, RiskLevelChange, Signal
from models.common import Colour
from models.contracts import FILE_COLUMNS
from tasks.intake.grading_stage import raise_level
from tasks.intake.linking import KnownRisk, LinkPlan, address_key, pair_keys, plan_links
from tests.factories import ingest, write_csv

RULES = get_rules()
DAY_S = 86_400
WINDOW_S = 365 * DAY_S
T0 = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp())
HOME = "61030301001"
VILLAGE = "61032301001"

# --- the pure planner --------------------------------------------------------------------------


def sig(
    sid: int,
    day: float,
    *,
    community: str = HOME,
    address: str = "幸福路1号",
    category: str = "family_neighbor",
    parties: Sequence[str] = (),
    named: int | None = None,
    opens: bool = True,
) -> dict[str, Any]:
    return {
        "id": sid,
        "t": T0 + int(day * DAY_S),
        "community_code": community,
        "address_norm": normalise_address(address),
        "category": category,
        "parties": list(parties),
        "named_risk_id": named,
        "opens": opens,
    }


def plan(
    *signals: dict[str, Any],
    known_keys: dict[tuple[str, str], tuple[int, int]] | None = None,
    known_risks: dict[int, KnownRisk] | None = None,
) -> LinkPlan:
    frame = pd.DataFrame(list(signals))
    return plan_links(frame, known_keys or {}, known_risks or {}, WINDOW_S)


def known_at(
    risk_id: int, day: float, *, status: str = "open", **signal: Any
) -> tuple[dict[tuple[str, str], tuple[int, int]], dict[int, KnownRisk]]:
    """An existing risk whose keys (those of `signal`) were last seen `day` days after T0."""
    s = sig(0, day, **signal)
    t = s["t"]
    keys = {("address", address_key(s["community_code"], s["address_norm"], s["category"])): (risk_id, t)}
    keys |= {("pair", k): (risk_id, t) for k in pair_keys(s["parties"])}
    return keys, {risk_id: KnownRisk(status, t)}


def test_same_community_address_and_category_link_within_twelve_months() -> None:
    p = plan(sig(1, 0), sig(2, 200), sig(3, 565))  # each within 365 days of the one before
    assert len(p.new_risks) == 1
    assert set(p.risk_of.values()) == {-1}


def test_the_same_place_and_kind_a_year_and_a_day_later_is_a_new_risk() -> None:
    p = plan(sig(1, 0), sig(2, 366))
    assert len(p.new_risks) == 2
    assert p.risk_of[1] != p.risk_of[2]


def test_a_known_risk_is_joined_within_365_days_and_not_after() -> None:
    keys, risks = known_at(7, 0)
    inside = plan(sig(1, 365), known_keys=keys, known_risks=risks)
    assert inside.risk_of == {1: 7} and not inside.new_risks
    outside = plan(sig(1, 366), known_keys=keys, known_risks=risks)
    assert outside.risk_of == {1: -1} and len(outside.new_risks) == 1
    assert outside.new_risks[-1].first_at == T0 + 366 * DAY_S


def test_addresses_written_differently_still_meet() -> None:
    p = plan(
        sig(1, 0, address="幸福路 1 号"), sig(2, 1, address="幸福路１号"), sig(3, 2, address="幸福路1号。")
    )
    assert len(p.new_risks) == 1


def test_the_same_address_in_another_community_is_another_risk() -> None:
    p = plan(sig(1, 0), sig(2, 1, community=VILLAGE))
    assert len(p.new_risks) == 2


def test_a_different_category_at_the_same_address_is_a_different_risk() -> None:
    p = plan(sig(1, 0, category="family_neighbor"), sig(2, 1, category="labor_debt"))
    assert len(p.new_risks) == 2
    assert {r.category for r in p.new_risks.values()} == {"family_neighbor", "labor_debt"}


def test_the_same_pair_of_parties_links_even_at_different_addresses() -> None:
    p = plan(
        sig(1, 0, address="幸福路1号", parties=["PK_A", "PK_B"]),
        sig(2, 3, address="和平街9号", community=VILLAGE, parties=["PK_B", "PK_C", "PK_A"]),
    )
    assert len(p.new_risks) == 1
    assert p.risk_of == {1: -1, 2: -1}
    assert p.new_risks[-1].party_pair == "PK_A;PK_B"


def test_a_known_risk_is_joined_by_its_pair_of_parties() -> None:
    keys, risks = known_at(7, 0, parties=["PK_A", "PK_B"])
    p = plan(
        sig(1, 100, address="别处", category="labor_debt", parties=["PK_A", "PK_B"]),
        known_keys=keys,
        known_risks=risks,
    )
    assert p.risk_of == {1: 7}


def test_one_shared_person_is_not_a_shared_pair() -> None:
    p = plan(
        sig(1, 0, address="甲", parties=["PK_A", "PK_B"]), sig(2, 1, address="乙", parties=["PK_A", "PK_C"])
    )
    assert len(p.new_risks) == 2


def test_a_visit_naming_a_risk_id_attaches_to_it() -> None:
    keys, risks = known_at(42, 0)
    p = plan(
        sig(1, 10, address="完全不同的地址", category="land_property", named=42),
        known_keys=keys,
        known_risks=risks,
    )
    assert p.risk_of == {1: 42}
    assert not p.new_risks


def test_signals_of_one_batch_that_share_a_key_meet_on_one_new_risk() -> None:
    p = plan(
        sig(3, 5, address="甲"),  # out of order on purpose: the plan takes them in time order
        sig(1, 0, address="甲"),
        sig(2, 2, address="乙", parties=["PK_A", "PK_B"]),
        sig(4, 6, address="丙", parties=["PK_B", "PK_A"]),
    )
    assert p.risk_of == {1: -1, 3: -1, 2: -2, 4: -2}
    assert sorted(p.new_risks) == [-2, -1]
    assert (p.new_risks[-1].first_at, p.new_risks[-2].first_at) == (T0, T0 + 2 * DAY_S)


def test_a_resolved_risk_with_a_new_signal_inside_twelve_months_is_reopened_not_duplicated() -> None:
    keys, risks = known_at(9, 0, status="resolved")
    p = plan(sig(1, 60), sig(2, 61), known_keys=keys, known_risks=risks)
    assert p.risk_of == {1: 9, 2: 9}
    assert p.reopened == {9: T0 + 60 * DAY_S}
    assert not p.new_risks


def test_a_resolved_risk_with_a_new_signal_after_twelve_months_stays_closed_and_a_new_risk_opens() -> None:
    keys, risks = known_at(9, 0, status="resolved")
    p = plan(sig(1, 366), known_keys=keys, known_risks=risks)
    assert p.risk_of == {1: -1}
    assert not p.reopened
    assert len(p.new_risks) == 1


def test_an_open_known_risk_is_joined_not_reopened() -> None:
    keys, risks = known_at(9, 0)
    p = plan(sig(1, 30), known_keys=keys, known_risks=risks)
    assert p.risk_of == {1: 9} and not p.reopened


def test_a_traffic_signal_with_no_match_opens_nothing() -> None:
    p = plan(sig(1, 0, category="traffic", opens=False))
    assert p.risk_of == {} and not p.new_risks and not p.keys


def test_a_traffic_signal_that_matches_a_risk_is_kept_on_it() -> None:
    keys, risks = known_at(5, 0, parties=["PK_A", "PK_B"])
    p = plan(
        sig(1, 3, category="traffic", parties=["PK_A", "PK_B"], opens=False),
        known_keys=keys,
        known_risks=risks,
    )
    assert p.risk_of == {1: 5}


def test_the_plan_records_the_keys_it_used_with_their_last_time() -> None:
    p = plan(sig(1, 0, parties=["PK_A", "PK_B"]), sig(2, 4))
    key = address_key(HOME, normalise_address("幸福路1号"), "family_neighbor")
    assert p.keys[("address", key)] == (-1, T0 + 4 * DAY_S)
    assert p.keys[("pair", "PK_A;PK_B")] == (-1, T0)


# --- through the database ----------------------------------------------------------------------

CALLS = FILE_COLUMNS["calls.csv"]
VISITS = FILE_COLUMNS["visits.csv"]
ADDRESS = "幸福路1号"


def call(
    call_id: str,
    at: str,
    *,
    category: str = "family_neighbor",
    summary: str = "邻里纠纷",
    address: str = ADDRESS,
    community: str = HOME,
    parties: str = "",
) -> list[object]:
    row = {"call_id": call_id, "received_at": at, "community_code": community, "address": address}
    row |= {"category": category, "priority": 3, "summary": summary, "party_keys": parties}
    return [row.get(c, "") for c in CALLS]


def visit(
    visit_id: str, at: str, *, risk_id: int | str = "", address: str = "别的地方", concern: str = "low"
) -> list[object]:
    row = {"visit_id": visit_id, "visited_at": at, "officer_code": "O000001", "community_code": HOME}
    row |= {"address": address, "category": "family_neighbor", "summary": "走访", "concern": concern}
    row |= {"risk_id": risk_id}
    return [row.get(c, "") for c in VISITS]


def calls_file(tmp_path: Path, name: str, *rows: list[object]) -> Path:
    return write_csv(tmp_path / name, CALLS, rows)


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def counts(engine: Engine) -> dict[str, int]:
    return {m.__name__: count(engine, m) for m in (Signal, Risk, RiskLevelChange, AuditLog)}


def risks(engine: Engine) -> list[Risk]:
    with Session(engine) as s:
        return list(s.execute(select(Risk).order_by(Risk.id)).scalars())


def history(engine: Engine, risk_id: int) -> list[RiskLevelChange]:
    with Session(engine) as s:
        rows = s.execute(
            select(RiskLevelChange).where(RiskLevelChange.risk_id == risk_id).order_by(RiskLevelChange.id)
        )
        return list(rows.scalars())


def risk_audit(engine: Engine, risk_id: int) -> list[AuditLog]:
    with Session(engine) as s:
        rows = s.execute(
            select(AuditLog)
            .where(AuditLog.entity == "risk", AuditLog.entity_id == str(risk_id))
            .order_by(AuditLog.seq)
        )
        return list(rows.scalars())


def test_each_level_change_is_a_history_row_with_reasons_and_rules_version_and_is_audited(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    (risk,) = risks(engine)
    assert (risk.level, risk.reasons, risk.rules_version) == ("yellow", ["yellow.dispute"], RULES.version)

    ingest(calls_file(tmp_path, "b.csv", call("C2", "2026-03-05 10:00", summary="男子扬言要杀了邻居")))
    (risk,) = risks(engine)
    assert risk.level == "red"
    steps = history(engine, risk.id)
    assert [(h.from_level, h.to_level, h.cause) for h in steps] == [
        (None, "yellow", "rule"),
        ("yellow", "red", "rule"),
    ]
    assert steps[0].reasons == ["yellow.dispute"]
    assert steps[1].reasons[0] == "red.threat_to_kill" and "yellow.dispute" in steps[1].reasons
    assert {h.rules_version for h in steps} == {RULES.version}

    trail = risk_audit(engine, risk.id)
    assert [a.action for a in trail] == ["create", "level", "link", "level"]
    assert trail[1].after["level"] == "yellow" and trail[3].after["level"] == "red"
    assert trail[3].before == {"level": "yellow"}
    assert trail[3].after["rules_version"] == RULES.version
    assert "red.threat_to_kill" in trail[3].reason


def test_a_regrade_that_keeps_the_colour_adds_no_history(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    ingest(calls_file(tmp_path, "b.csv", call("C2", "2026-03-02 10:00")))
    (risk,) = risks(engine)
    assert risk.level == "yellow"
    assert len(history(engine, risk.id)) == 1


def test_loading_the_same_file_again_adds_nothing(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    path = calls_file(
        tmp_path,
        "calls.csv",
        call("C1", "2026-03-01 10:00"),
        call("C2", "2026-03-02 10:00", category="violence", summary="两人互殴", address="和平街2号"),
        call("C3", "2026-03-03 10:00"),
    )
    ingest(path)
    before = counts(engine)
    assert before["Signal"] == 3 and before["Risk"] == 2
    again = ingest(path)
    assert again["loaded"].skipped_file and again["loaded"].loaded == 0
    assert again["linked"].signals == 0 and again["graded"].graded == 0
    assert counts(engine) == before


def test_an_overlapping_file_adds_only_its_new_rows(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00"), call("C2", "2026-03-02 10:00")))
    before = counts(engine)
    result = ingest(
        calls_file(
            tmp_path,
            "b.csv",
            call("C2", "2026-03-02 10:00"),
            call("C3", "2026-03-03 10:00"),
            call("C4", "2026-03-04 10:00", address="和平街2号", category="labor_debt"),
        )
    )
    assert (result["loaded"].loaded, result["loaded"].duplicates) == (2, 1)
    assert result["linked"].signals == 2
    after = counts(engine)
    assert after["Signal"] == before["Signal"] + 2
    assert after["Risk"] == before["Risk"] + 1  # C3 joins the first risk, C4 opens one
    first = risks(engine)[0]
    assert first.level == "orange"  # three signals within 30 days
    with Session(engine) as s:
        on_first = s.execute(select(func.count()).where(Signal.risk_id == first.id)).scalar_one()
    assert on_first == 3


def resolve(risk_id: int, at: datetime) -> None:
    """What the evidence rule will do to a calm blue risk (issue 5), done by hand for the test."""
    with session_scope() as s:
        s.execute(update(Risk).where(Risk.id == risk_id).values(status="resolved", resolved_at=at))


def test_a_resolved_risk_with_a_new_signal_two_months_later_is_reopened_not_duplicated(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-01-10 10:00")))
    (risk,) = risks(engine)
    resolve(risk.id, datetime(2026, 1, 20, tzinfo=UTC))
    result = ingest(calls_file(tmp_path, "b.csv", call("C2", "2026-03-20 10:00")))
    assert (result["linked"].new_risks, result["linked"].reopened) == (0, 1)
    (again,) = risks(engine)
    assert again.id == risk.id
    assert (again.status, again.resolved_at, again.reopened_count) == ("open", None, 1)
    reopen = [a for a in risk_audit(engine, risk.id) if a.action == "reopen"]
    assert len(reopen) == 1
    assert reopen[0].before == {"status": "resolved"} and reopen[0].after["status"] == "open"


def test_a_resolved_risk_with_a_new_signal_after_twelve_months_stays_resolved(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2025-01-10 10:00")))
    (risk,) = risks(engine)
    resolve(risk.id, datetime(2025, 1, 20, tzinfo=UTC))
    ingest(calls_file(tmp_path, "b.csv", call("C2", "2026-03-20 10:00")))
    old, new = risks(engine)
    assert (old.status, old.reopened_count) == ("resolved", 0)
    assert (new.status, new.level) == ("open", "yellow")


def test_a_visit_naming_a_risk_attaches_to_it_and_only_danger_found_makes_two_channels(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    (risk,) = risks(engine)
    visits = [visit("V1", "2026-03-03 09:00", risk_id=risk.id, concern="medium")]
    ingest(write_csv(tmp_path / "v.csv", VISITS, visits), "visit")
    (after,) = risks(engine)
    assert after.level == "yellow"  # the follow-up found it not yet settled: no new report, no new channel
    with Session(engine) as s:
        assert s.execute(select(Signal.risk_id).where(Signal.source_id == "V1")).scalar_one() == risk.id
    danger = [visit("V2", "2026-03-04 09:00", risk_id=risk.id, concern="high")]
    ingest(write_csv(tmp_path / "v2.csv", VISITS, danger), "visit")
    (after,) = risks(engine)
    assert after.level == "orange"
    assert "orange.channels_2_in_90d" in after.reasons


def test_a_calm_follow_up_visit_attaches_but_is_no_signal_for_the_colour(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    (risk,) = risks(engine)
    calm = [visit(f"V{i}", f"2026-03-0{2 + i} 09:00", risk_id=risk.id, concern="none") for i in range(3)]
    ingest(write_csv(tmp_path / "v.csv", VISITS, calm), "visit")
    (after,) = risks(engine)
    assert after.level == risk.level == "yellow"  # neither two channels nor three signals: calm is evidence
    with Session(engine) as s:
        attached = s.execute(select(func.count()).where(Signal.risk_id == risk.id)).scalar_one()
    assert attached == 4


def test_a_traffic_call_without_a_red_rule_is_kept_but_opens_no_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(
        calls_file(
            tmp_path,
            "a.csv",
            call("C1", "2026-03-01 10:00", category="traffic", summary="两车剐蹭"),
            call("C2", "2026-03-01 11:00", category="交通", summary="司机持刀威胁", address="和平街2号"),
        )
    )
    (risk,) = risks(engine)
    assert (risk.category, risk.level) == ("traffic", "red")
    with Session(engine) as s:
        rows = dict(s.execute(select(Signal.source_id, Signal.risk_id)).all())
        pending = s.execute(select(func.count()).where(Signal.linked_at.is_(None))).scalar_one()
    assert rows == {"C1": None, "C2": risk.id}
    assert pending == 0  # looked at once, not again on every run


def test_a_person_raises_a_level_with_an_audit_row_naming_them(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    (risk,) = risks(engine)
    with session_scope() as s:
        raise_level(s, risk.id, Colour.orange, by="王志英", reason="当事人情绪激动")
    (after,) = risks(engine)
    assert after.level == "orange"
    last = history(engine, risk.id)[-1]
    assert (last.from_level, last.to_level, last.cause) == ("yellow", "orange", "person")
    assert last.actor == "person:王志英" and last.note == "当事人情绪激动"
    row = risk_audit(engine, risk.id)[-1]
    assert (row.action, row.actor, row.reason) == ("level", "person:王志英", "当事人情绪激动")
    assert (row.before, row.after) == ({"level": "yellow"}, {"level": "orange"})


@pytest.mark.parametrize("to", [Colour.blue, Colour.yellow])
def test_a_person_cannot_lower_a_level_or_set_the_same_one(
    engine: Engine, jurisdiction: Path, tmp_path: Path, to: Colour
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    (risk,) = risks(engine)
    before = counts(engine)
    with pytest.raises(ValueError, match="only raise"), session_scope() as s:
        raise_level(s, risk.id, to, by="王志英", reason="觉得没事了")
    assert risks(engine)[0].level == "yellow"
    assert counts(engine) == before


def test_a_level_a_person_raised_to_red_stays_red_when_the_rules_say_orange(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-01 10:00")))
    (risk,) = risks(engine)
    with session_scope() as s:
        raise_level(s, risk.id, Colour.red, by="赵所长", reason="掌握到其他情况")
    ingest(calls_file(tmp_path, "b.csv", call("C2", "2026-03-02 10:00"), call("C3", "2026-03-03 10:00")))
    (after,) = risks(engine)
    assert after.level == "red"
    assert after.reasons[0] == "held.above_rules"
    assert "orange.signals_3_in_30d" in after.reasons
    assert [h.cause for h in history(engine, risk.id)] == ["rule", "person"]  # no step down


def test_a_signal_from_a_file_that_arrives_late_still_counts_for_the_colour(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-10 10:00", category="violence", summary="推搡")))
    (risk,) = risks(engine)
    assert risk.level == "orange"
    ingest(calls_file(tmp_path, "b.csv", call("C0", "2026-03-05 10:00", category="violence", summary="争吵")))
    (after,) = risks(engine)
    assert after.first_signal_at.date().isoformat() == "2026-03-05"
    assert after.level == "red"


def test_how_a_risk_was_found_follows_its_earliest_signal_even_from_a_late_file(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(calls_file(tmp_path, "a.csv", call("C1", "2026-03-10 10:00")))
    assert risks(engine)[0].first_channel == "call"
    earlier = [visit("V0", "2026-03-05 09:00", address=ADDRESS, concern="medium")]
    ingest(write_csv(tmp_path / "v.csv", VISITS, earlier), "visit")
    (after,) = risks(engine)
    assert after.first_signal_at.date().isoformat() == "2026-03-05"
    assert after.first_channel == "visit"  # the review counts it among the risks visits found


def test_grading_a_reopened_risk_with_only_a_traffic_signal_beside_another_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(
        calls_file(
            tmp_path,
            "a.csv",
            call("C1", "2026-01-10 10:00", category="traffic", summary="司机持刀威胁", parties="PK_A;PK_B"),
        )
    )
    (risk,) = risks(engine)
    resolve(risk.id, datetime(2026, 1, 20, tzinfo=UTC))
    ingest(
        calls_file(
            tmp_path,
            "b.csv",
            call(
                "C2",
                "2026-03-01 10:00",
                category="traffic",
                summary="剐蹭",
                address="和平街2号",
                parties="PK_A;PK_B",
            ),
            call("C3", "2026-03-01 11:00", address="建设路3号"),
        )
    )
    reopened, new = risks(engine)
    assert (reopened.status, reopened.level) == ("open", "red")
    assert new.level == "yellow"


def test_new_risks_get_their_own_ids_read_back_by_key(engine: Engine, jurisdiction: Path) -> None:
    """New risks are inserted without RETURNING and found again by key; a key repeated in one batch
    (linking makes none) takes the RETURNING way. Either way each new risk gets the id of its own row."""
    from tasks.intake.linking_stage import _insert_risks

    at = datetime(2025, 3, 1, tzinfo=UTC)

    def row(address: str, pair: str | None) -> dict[str, Any]:
        return {
            "community_code": "61030301001", "category": "family_neighbor", "address_norm": address,
            "party_pair": pair, "officer_code": None, "level": "blue", "status": "open", "reasons": [],
            "opened_at": at, "first_signal_at": at, "last_signal_at": at, "level_since": at,
        }  # fmt: skip

    batches = [
        [row("a1", None), row("a2", None), row("a1", "P1;P2")],  # distinct keys: read back
        [row("b1", None), row("b1", None), row("b2", None)],  # a repeated key: RETURNING
    ]
    for rows in batches:
        with session_scope() as s:
            ids = _insert_risks(s, [-1, -2, -3], rows)
            got = {i: s.get(Risk, i) for i in ids.values()}
            assert len(set(ids.values())) == 3
            for ref, r in zip([-1, -2, -3], rows, strict=True):
                risk = got[ids[ref]]
                assert risk is not None
                assert (risk.address_norm, risk.party_pair) == (r["address_norm"], r["party_pair"])
