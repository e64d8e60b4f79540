"""Risks opened long before the first sweep, so their first follow-up falls due on that sweep's day and
runs late from there, and visits to them; shared by the supervision and rewards tests."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bridgehead.db import get_engine
from models.signal import Signal
from tests.factories import ingest, write_rows
from tests.tasks.follow_up.scenario import at

LONG_AGO = date(2026, 2, 1)
CALM_CALL = {"category": "family_neighbor", "summary": "邻里因噪音争吵"}  # yellow


def open_risk(tmp_path: Path, call_id: str = "C1", when: datetime | None = None, **fields: Any) -> int:
    """A yellow risk (unless `fields` say otherwise) opened by one call, long before the first sweep."""
    row = {"call_id": call_id, "received_at": (when or at(LONG_AGO)).isoformat(), **CALM_CALL, **fields}
    ingest(write_rows(tmp_path / f"calls-{call_id}" / "calls.csv", row))
    with Session(get_engine()) as s:
        return s.execute(select(Signal.risk_id).where(Signal.source_id == call_id)).scalar_one()


def add_visit(
    tmp_path: Path, visit_id: str, when: datetime, risk_id: int, concern: str, **fields: Any
) -> None:
    row = {
        "visit_id": visit_id,
        "visited_at": when.isoformat(),
        "category": "family_neighbor",
        "summary": "回访",
        "concern": concern,
        "risk_id": risk_id,
        **fields,
    }
    ingest(write_rows(tmp_path / f"visits-{visit_id}" / "visits.csv", row), "visit")
