from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from models.follow_up import FollowUp
from models.risk import Risk, RiskLevelChange
from tasks.follow_up import record_visits, schedule
from tasks.supervision import supervise
from tests.factories import ingest, write_rows

RULES = get_rules()


def sweep(day):
    with session_scope() as s:
        v = record_visits(s, RULES, day)
    with session_scope() as s:
        n = schedule(s, RULES, day)
    with session_scope() as s:
        sup = supervise(s, RULES, day)
    return v, n, sup


def dump(engine, label):
    with Session(engine) as s:
        print("==", label)
        for r in s.execute(select(Risk)).scalars():
            print(" risk", r.id, r.level, r.status, r.reasons, r.level_since, r.calm_streak)
        for f in s.execute(select(FollowUp).order_by(FollowUp.id)).scalars():
            print(" fu", f.id, f.due_on, f.basis_at, f.why, f.status, f.calm, f.done_at)
        for c in s.execute(select(RiskLevelChange).order_by(RiskLevelChange.id)).scalars():
            print(" chg", c.from_level, c.to_level, c.cause, c.reasons, c.at)


def test_explore(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    ingest(write_rows(tmp_path / "a" / "calls.csv", {"call_id": "C1", "received_at": "2026-03-01T10:00:00+08:00", "category": "violence", "summary": "两人互殴"}))
    print(sweep(date(2026, 3, 2)))
    dump(engine, "03-02")
    with Session(engine) as s:
        rid = s.execute(select(Risk.id)).scalar_one()
    ingest(write_rows(tmp_path / "b" / "visits.csv", {"visit_id": "V1", "visited_at": "2026-03-04T09:00:00+08:00", "category": "violence", "summary": "回访", "concern": "none", "risk_id": rid}), "visit")
    dump(engine, "after V1 ingest")
    for d in range(3, 7):
        print(sweep(date(2026, 3, d)))
    dump(engine, "03-06")
    assert False
