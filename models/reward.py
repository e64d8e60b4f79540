"""Rewards and accountability (奖励激励): the ledger of proposed, approved and paid entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import JSON, Field, SQLModel, UniqueConstraint

from models.common import utcnow


class RewardEntry(SQLModel, table=True):
    """One line of the ledger; its natural key stops a period being paid twice."""

    __tablename__ = "reward_entry"
    __table_args__ = (UniqueConstraint("period", "beneficiary", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(index=True, description="2026-11")
    beneficiary: str = Field(description="officer:O123456, tip:<anonymous code> or station:<code>")
    station_code: str | None = Field(default=None, foreign_key="station.station_code", index=True)
    kind: str = Field(description="officer_points | tip_reward | accountability_list")
    points: int = 0
    amount_cny: int = 0
    status: str = Field(default="proposed", index=True, description="proposed|approved|rejected|paid")
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    paid_at: datetime | None = None
