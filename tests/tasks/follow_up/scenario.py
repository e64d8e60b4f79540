"""The follow-up city played day by day, shared by the follow-up, hotspot and register tests: calls and
visits written as the brief's files and ingested as intake does, each day swept as the daily sweep does.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from bridgehead.db import get_engine
from models.audit import AuditLog
from models.common import LOCAL_TZ
from models.follow_up import FollowUp
from models.risk import Risk, RiskLevelChange
from models.signal import Signal
from tests.factories import ingest, sweep_stages, write_rows

BASE = date(2026, 3, 2)  # the first swept day; the risks open the day before
SIGNALS = {  # a call the default grading gives each colour
    "red": {"category": "family_neighbor", "summary": "邻居持刀威胁"},
    "orange": {"category": "violence", "summary": "两人互殴"},
    "yellow": {"category": "family_neighbor", "summary": "邻里因噪音争吵"},
    "blue": {"category": "public_order", "summary": "深夜聚众喧哗"},
}


def days(n: int) -> timedelta:
    return timedelta(days=n)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time on `day`."""
    return datetime.combine(day, time(hour, minute), LOCAL_TZ)


def add_calls(tmp_path: Path, *rows: dict[str, Any]) -> None:
    ingest(write_rows(tmp_path / f"calls-{rows[0]['call_id']}" / "calls.csv", *rows))


def call(call_id: str, when: datetime, colour: str = "yellow", **fields: Any) -> dict[str, Any]:
    return {"call_id": call_id, "received_at": when.isoformat(), **SIGNALS[colour], **fields}


def open_risk(
    tmp_path: Path, colour: str, *, call_id: str = "C1", when: datetime | None = None, **fields: Any
) -> int:
    """A risk of `colour`, opened by one call (the day before BASE unless `when` says otherwise)."""
    add_calls(tmp_path, call(call_id, when or at(BASE - days(1)), colour, **fields))
    with Session(get_engine()) as s:
        rid = s.execute(select(Signal.risk_id).where(Signal.source_id == call_id)).scalar_one()
        assert s.get(Risk, rid).level == colour  # type: ignore[union-attr]
    return rid


def add_visit(
    tmp_path: Path, visit_id: str, when: datetime, risk_id: int, concern: str = "none", **fields: Any
) -> None:
    """An officer's visit record naming the risk; its category is the risk's own."""
    with Session(get_engine()) as s:
        category = s.get(Risk, risk_id).category  # type: ignore[union-attr]
    row = {
        "visit_id": visit_id,
        "visited_at": when.isoformat(),
        "category": category,
        "summary": "回访，了解近况",
        "concern": concern,
        "risk_id": risk_id,
        **fields,
    }
    ingest(write_rows(tmp_path / f"visits-{visit_id}" / "visits.csv", row), "visit")


sweep = sweep_stages


def risk(engine: Engine, risk_id: int) -> Risk:
    with Session(engine) as s:
        found = s.get(Risk, risk_id)
        assert found is not None
        return found


def follow_ups(engine: Engine, risk_id: int) -> list[FollowUp]:
    with Session(engine) as s:
        return list(
            s.execute(select(FollowUp).where(FollowUp.risk_id == risk_id).order_by(FollowUp.id)).scalars()
        )


def pending(engine: Engine, risk_id: int) -> FollowUp | None:
    open_ = [f for f in follow_ups(engine, risk_id) if f.status == "pending"]
    assert len(open_) <= 1, "a risk owes one visit at a time"
    return open_[0] if open_ else None


def level_history(engine: Engine, risk_id: int, cause: str | None = None) -> list[RiskLevelChange]:
    with Session(engine) as s:
        stmt = select(RiskLevelChange).where(RiskLevelChange.risk_id == risk_id)
        if cause:
            stmt = stmt.where(RiskLevelChange.cause == cause)
        return list(s.execute(stmt.order_by(RiskLevelChange.id)).scalars())


def trail(engine: Engine, entity: str, entity_id: int | str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(
            s.execute(
                select(AuditLog)
                .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
                .order_by(AuditLog.seq)
            ).scalars()
        )
