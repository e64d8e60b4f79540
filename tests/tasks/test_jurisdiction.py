"""Loading the jurisdiction: idempotent, audited, quarantining bad rows, reporting gaps."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bridgehead import audit
from models import AuditLog, Community, Officer, PatrolUnit, QuarantinedRow, Station
from tasks.jurisdiction import coverage, load_jurisdiction
from tests.factories import COMMUNITIES, OFFICERS, STATIONS, write_jurisdiction


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Station, Community, Officer, PatrolUnit, AuditLog, QuarantinedRow)
        }


def _load(engine: Engine, folder: Path, actor: str = "person:tester"):
    with Session(engine) as s:
        results = load_jurisdiction(s, folder, actor=actor)
        s.commit()
    return results


def test_load_creates_everything_and_audits_each_record(engine: Engine, tmp_path: Path) -> None:
    results = _load(engine, write_jurisdiction(tmp_path / "j"))
    assert [r.created for r in results] == [2, 4, 7, 3]
    counts = _counts(engine)
    assert counts["audit_log"] == 16
    with Session(engine) as s:
        row = s.execute(select(AuditLog).where(AuditLog.entity_id == "61030301")).scalar_one()
        assert (row.action, row.entity, row.actor) == ("create", "station", "person:tester")
        assert row.after["name"] == "陈仓派出所"
        assert audit.verify(s).ok


def test_loading_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    folder = write_jurisdiction(tmp_path / "j")
    _load(engine, folder)
    before = _counts(engine)
    results = _load(engine, folder)
    assert _counts(engine) == before
    assert all(r.created == r.updated == 0 for r in results)
    assert sum(r.unchanged for r in results) == 16


def test_a_changed_row_is_updated_with_before_and_after(engine: Engine, tmp_path: Path) -> None:
    _load(engine, write_jurisdiction(tmp_path / "a"))
    renamed = [(*STATIONS[0][:1], "陈仓路派出所", *STATIONS[0][2:]), STATIONS[1]]
    results = _load(engine, write_jurisdiction(tmp_path / "b", stations=renamed))
    assert results[0].updated == 1 and results[0].unchanged == 1
    with Session(engine) as s:
        assert s.get(Station, "61030301").name == "陈仓路派出所"
        last = s.execute(select(AuditLog).order_by(AuditLog.seq.desc()).limit(1)).scalar_one()
        assert (last.action, last.before, last.after) == (
            "update",
            {"name": "陈仓派出所"},
            {"name": "陈仓路派出所"},
        )


def test_the_seed_city_shape_is_covered(engine: Engine, tmp_path: Path) -> None:
    _load(engine, write_jurisdiction(tmp_path / "j"))
    with Session(engine) as s:
        cov = coverage(s)
    assert (cov.stations, cov.communities, cov.villages, cov.units) == (2, 2, 2, 3)
    assert cov.covered


def test_a_village_without_officer_is_a_gap(engine: Engine, tmp_path: Path) -> None:
    officers = [o for o in OFFICERS if o[4] != "61032301002"]
    _load(engine, write_jurisdiction(tmp_path / "j", officers=officers))
    with Session(engine) as s:
        cov = coverage(s)
    assert cov.villages_without_officer == [("61032301002", "北营村")]
    assert not cov.covered


def test_a_community_without_office_is_a_gap(engine: Engine, tmp_path: Path) -> None:
    communities = [(*COMMUNITIES[0][:4], "false", *COMMUNITIES[0][5:]), *COMMUNITIES[1:]]
    _load(engine, write_jurisdiction(tmp_path / "j", communities=communities))
    with Session(engine) as s:
        assert coverage(s).communities_without_office == [("61030301001", "盛世广场社区")]


def test_bad_rows_are_quarantined_and_good_rows_load(engine: Engine, tmp_path: Path) -> None:
    communities = [
        *COMMUNITIES,
        ("61099999001", "无主社区", "community", "69999999", "true", "false", 100, 34.0, 107.0),
        ("61030301003", "坏人口社区", "community", "61030301", "true", "false", -5, 34.0, 107.0),
    ]
    officers = [*OFFICERS, ("O000009", "无村民警", "assistant", "61032301", "")]
    results = _load(engine, write_jurisdiction(tmp_path / "j", communities=communities, officers=officers))
    reasons = {(r.line, r.reason) for res in results for r in res.rejects}
    assert (6, "station_code: '69999999' is not in stations.csv nor already loaded") in reasons
    assert any(line == 7 and "population" in why for line, why in reasons)
    assert (9, "community_code: required for a assistant officer") in reasons
    counts = _counts(engine)
    assert counts["community"] == 4 and counts["quarantined_row"] == 3
    # the same bad file again quarantines nothing new
    _load(engine, tmp_path / "j")
    assert _counts(engine) == counts
