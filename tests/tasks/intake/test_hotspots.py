"""Places that are not households, from the brief: a hotspot by places.csv, by crossing, by unrelated
parties; the volume rules do not raise it, the rules about people do; a pair of people seen there keep
their own risk; no household visit cadence; ranked for patrol by calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session
from typer.testing import CliRunner

from bridgehead.addresses import is_crossing
from bridgehead.db import session_scope
from deployments.cli import app
from models.follow_up import FollowUp
from models.risk import Risk
from models.signal import Signal
from tasks.intake.hotspots import many_parties, ranking
from tasks.jurisdiction import load_jurisdiction
from tests.factories import write_csv
from tests.tasks.follow_up.scenario import BASE, add_calls, at, days, level_history, sweep

NOISE = {"category": "public_order", "summary": "有人吵闹"}


def calls_at(tmp_path: Path, address: str, n: int, prefix: str = "C", **fields: object) -> None:
    """n calls on n successive days before BASE at one address: five in 30 days is red for a household."""
    add_calls(
        tmp_path,
        *[
            {"call_id": f"{prefix}{i}", "received_at": _at(n - i), "address": address, **NOISE, **fields}
            for i in range(n)
        ],
    )  # fmt: skip


def _at(days_before: int) -> str:
    return at(BASE - days(days_before), 9).isoformat()


def list_place(jurisdiction: Path, address: str, kind: str) -> None:
    """The test jurisdiction reloaded with one place in 盛世广场社区's places.csv."""
    write_csv(
        jurisdiction / "places.csv", ("address", "community_code", "kind"), [(address, "61030301001", kind)]
    )
    with session_scope() as s:
        load_jurisdiction(s, jurisdiction, actor="person:test")


def risk_at(engine: Engine, address: str) -> Risk:
    with Session(engine) as s:
        at_address = select(Signal.risk_id).where(Signal.address == address)
        (risk,) = s.execute(select(Risk).where(Risk.id.in_(at_address))).scalars()
        return risk


@pytest.mark.parametrize(
    ("address", "crossing"),
    [
        ("建设路 & 幸福路", True),
        ("PERRY AVE / 47TH ST", True),
        ("经二路与纬三路交叉口", True),
        ("1511 1/2 G ST", False),
        ("幸福路1号", False),
    ],
)
def test_what_an_intersection_looks_like(address: str, crossing: bool) -> None:
    assert is_crossing(address) is crossing


def test_a_household_at_a_busy_address_is_red_by_volume(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "幸福路1号", 5, party_keys="H1")  # the same man, again and again
    risk = risk_at(engine, "幸福路1号")
    assert (risk.place_kind, risk.level) == (None, "red")  # the brief's household rule, for contrast


def test_four_unnamed_calls_are_four_callers_but_unnamed_disputes_are_the_household(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "幸福路6号", 4, prefix="U")  # a CAD export's calls: nobody named, public order
    assert (risk_at(engine, "幸福路6号").place_kind) == "many_parties"
    calls_at(tmp_path, "幸福路7号", 5, prefix="N", category="family_neighbor", summary="邻居吵架")
    risk = risk_at(engine, "幸福路7号")
    assert (risk.place_kind, risk.level) == (None, "red")  # one household's quarrel, called in five times


def test_a_place_is_an_address_so_its_other_risks_become_places_too(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    add_calls(tmp_path, {"call_id": "V1", "received_at": _at(40), "address": "幸福路8号",
                         "category": "violence", "summary": "有人打架"})  # fmt: skip
    assert risk_at(engine, "幸福路8号").place_kind is None
    calls_at(tmp_path, "幸福路8号", 4, prefix="T")  # later, four callers about thefts there
    with Session(engine) as s:
        kinds = set(s.execute(select(Risk.category, Risk.place_kind)).all())
    assert kinds == {("violence", "many_parties"), ("public_order", "many_parties")}


def test_a_crossing_is_a_hotspot_and_volume_does_not_make_it_red(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "建设路 & 幸福路", 5)
    risk = risk_at(engine, "建设路 & 幸福路")
    assert (risk.place_kind, risk.level) == ("crossing", "blue")
    assert not any(r.startswith(("red.signals", "orange.signals")) for r in risk.reasons)


def test_a_corner_written_in_either_order_is_one_crossing(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """Sacramento writes 870 of its corners both ways round: "A / B" and "B / A" are one place."""
    calls_at(tmp_path, "10TH ST / K ST", 2, prefix="A")
    calls_at(tmp_path, "K STREET & 10TH STREET", 2, prefix="B")
    with Session(engine) as s:
        risks = s.execute(select(Risk.id, Risk.address_norm, Risk.place_kind)).all()
        assert [(a, k) for _, a, k in risks] == [("10thst&kst", "crossing")]
        linked = s.execute(select(Signal.risk_id)).scalars().all()
    assert linked == [risks[0][0]] * 4


def test_a_place_in_places_csv_is_a_hotspot(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    list_place(jurisdiction, "幸福路 1 号", "shop")
    calls_at(tmp_path, "幸福路1号", 5)  # written without the spaces: the same normalised address
    risk = risk_at(engine, "幸福路1号")
    assert (risk.place_kind, risk.level) == ("shop", "blue")


def test_a_red_household_found_to_be_a_place_comes_down_once_with_its_reason(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "幸福路1号", 5, party_keys="H1")
    assert risk_at(engine, "幸福路1号").level == "red"
    list_place(jurisdiction, "幸福路1号", "hospital")
    calls_at(tmp_path, "幸福路1号", 1, prefix="D", party_keys="H1")
    risk = risk_at(engine, "幸福路1号")
    assert (risk.place_kind, risk.level) == ("hospital", "blue")
    (change,) = level_history(engine, risk.id, cause="place")
    assert (change.from_level, change.to_level, change.reasons[0]) == ("red", "blue", "place.hospital")


def test_four_unrelated_parties_within_30_days_make_a_place_and_one_family_does_not(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "幸福路2号", 4, prefix="P")  # four callers, four people
    family = {"call_id": "F1", "received_at": _at(1), "address": "幸福路3号", "party_keys": "K1;K2;K3;K4"}
    add_calls(tmp_path, {**family, **NOISE})
    with session_scope() as s:
        for i in range(4):
            s.execute(Signal.__table__.update().where(Signal.source_id == f"P{i}").values(party_keys=f"Q{i}"))
    import pandas as pd

    with Session(engine) as s:
        columns = [Signal.community_code, Signal.address_norm, Signal.occurred_at, Signal.id, Signal.channel,
                   Signal.category, Signal.party_keys]  # fmt: skip
        frame = pd.DataFrame(s.execute(select(*columns)).all(), columns=[c.key for c in columns])
    assert many_parties(frame) == {("61030301001", "幸福路2号")}
    assert many_parties(frame.assign(party_keys="Q0")) == set()  # one person four times is a household


def test_a_weapon_at_a_hotspot_is_still_red(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    calls_at(tmp_path, "建设路 & 幸福路", 2)
    calls_at(tmp_path, "建设路 & 幸福路", 1, prefix="W", summary="有人持刀威胁路人")
    risk = risk_at(engine, "建设路 & 幸福路")
    assert (risk.place_kind, risk.level) == ("crossing", "red")
    assert "red.weapon" in risk.reasons


WEAPON = {**NOISE, "summary": "有人持刀威胁路人"}


def test_a_place_comes_down_when_what_made_it_red_is_older_than_its_window(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """A knife called in at a crossing 45 days before its latest calls no longer keeps it red: a place is
    graded on its last 30 days, the rules about people included; the level history says why."""
    add_calls(tmp_path, {"call_id": "W1", "received_at": _at(45), "address": "建设路 & 幸福路", **WEAPON})
    assert risk_at(engine, "建设路 & 幸福路").level == "red"
    calls_at(tmp_path, "建设路 & 幸福路", 2)
    risk = risk_at(engine, "建设路 & 幸福路")
    assert (risk.level, risk.reasons[0]) == ("blue", "place.window")
    assert level_history(engine, risk.id, "place")[-1].to_level == "blue"


def test_the_morning_sweep_cools_a_red_place_that_no_call_keeps_red(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """No calm visit can lower a place (it is patrolled, not visited): each morning the places above
    blue are graded again as of the day, so a knife a week ago stops making the crossing red."""
    add_calls(tmp_path, {"call_id": "W1", "received_at": _at(1), "address": "建设路 & 幸福路", **WEAPON})
    rid = risk_at(engine, "建设路 & 幸福路").id
    sweep(BASE + days(5))
    assert risk_at(engine, "建设路 & 幸福路").level == "red"  # the knife is 6 days old: still red
    sweep(BASE + days(8))
    risk = risk_at(engine, "建设路 & 幸福路")
    assert (risk.level, risk.reasons[0]) == ("blue", "place.window")
    assert [c.to_level for c in level_history(engine, rid, "place")] == ["blue"]


def test_a_place_is_red_for_a_week_and_keeps_the_rest_of_its_window(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """A knife fight at a crossing makes it red (the quick response answers it); a week on, the crossing is
    orange for the violence still inside its 30 days, not red for a month: the people carry their own risk."""
    fight = {"category": "violence", "summary": "有人持刀打架"}
    add_calls(tmp_path, {"call_id": "F1", "received_at": _at(1), "address": "建设路 & 幸福路", **fight})
    risk = risk_at(engine, "建设路 & 幸福路")
    assert (risk.place_kind, risk.level, risk.reasons[0]) == ("crossing", "red", "red.weapon")
    sweep(BASE + days(10))
    risk = risk_at(engine, "建设路 & 幸福路")
    assert (risk.level, risk.reasons) == ("orange", ["place.window", "orange.violence"])


def test_a_pair_seen_at_a_hotspot_keeps_their_own_risk(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "建设路 & 幸福路", 3)
    fight = {"category": "violence", "party_keys": "M1;M2"}
    add_calls(
        tmp_path,
        {"call_id": "H1", "received_at": _at(10), "address": "幸福路5号", "summary": "两人互殴", **fight},
    )
    add_calls(
        tmp_path,
        {
            "call_id": "H2",
            "received_at": _at(1),
            "address": "建设路 & 幸福路",
            "summary": "又在路口打架",
            **fight,
        },
    )
    with Session(engine) as s:
        theirs = {
            s.execute(select(Signal.risk_id).where(Signal.source_id == c)).scalar_one() for c in ("H1", "H2")
        }
    assert len(theirs) == 1  # the second fight joined the pair's risk, not the crossing's
    with Session(engine) as s:
        pair = s.get(Risk, theirs.pop())
    assert pair is not None and pair.place_kind is None
    assert (pair.level, "red.violence_repeat" in pair.reasons) == ("red", True)


def test_a_hotspot_has_no_household_visits_and_is_ranked_by_calls(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls_at(tmp_path, "建设路 & 幸福路", 6)
    calls_at(tmp_path, "和平街 & 解放路", 2, prefix="B")
    calls_at(tmp_path, "幸福路9号", 1, prefix="H")
    sweep(BASE)
    with Session(engine) as s:
        owed = (
            s.execute(select(Risk.address_norm).join(FollowUp).where(FollowUp.status == "pending"))
            .scalars()
            .all()
        )
    assert owed == ["幸福路9号"]
    with session_scope() as s:
        spots = ranking(s, at(BASE, 0))
    assert [(h.address, h.calls) for h in spots] == [("幸福路&建设路", 6), ("和平街&解放路", 2)]
    listed = CliRunner().invoke(app, ["hotspots", "list", "--date", str(BASE), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [r["calls"] for r in json.loads(listed.output)] == [6, 2]


def test_people_named_together_are_one_party_however_many() -> None:
    from tasks.intake.hotspots import unrelated

    assert unrelated([{"K1", "K2", "K3", "K4"}]) == 1  # a family in one call
    assert unrelated([{"L1", "C1"}, {"L2", "C1"}, {"L3", "C2"}, {"C2", "L1"}]) == 1  # a feud: both families
    assert unrelated([{"A"}, {"B"}, {"C"}, {"D", "E"}]) == 4  # four callers, one with a companion
