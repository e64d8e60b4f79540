"""A 110 call row as the quick-response tests write it, and three communities of different kinds (a
smart-security estate, a plain estate, a village); shared by the incident and intake report tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

SMART, URBAN, VILLAGE = "61030301001", "61030301002", "61032301001"


def call(call_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A 110 call received at `at`; an urgent violence call in the smart-security estate unless told."""
    row: dict[str, Any] = {
        "call_id": call_id,
        "received_at": at.isoformat(),
        "community_code": SMART,
        "category": "violence",
        "priority": 2,
        "summary": "两人打架",
    }
    row.update(fields)
    for key in ("closed_at", "dispatched_at", "arrived_at"):
        if isinstance(row.get(key), datetime):
            row[key] = row[key].isoformat()
    return row
