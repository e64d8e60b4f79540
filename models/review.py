"""Review (复盘问效): a frozen copy of the figures a review produced, for later comparison."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import JSON, Field, SQLModel

from models.common import utcnow


class ReviewSnapshot(SQLModel, table=True):
    __tablename__ = "review_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(index=True, description="city | district:CODE | station:CODE | community:CODE")
    period: str = Field(index=True, description="2026-W47 | 2026-11 | 28d:DATE | ytd:DATE")
    period_start: datetime
    period_end: datetime
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str
    rules_version: str | None = None
    figures: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    findings: list[str] = Field(default_factory=list, sa_type=JSON)
