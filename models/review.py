"""Review (复盘问效): the request a person fills in, and a frozen copy of the figures it produced."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel import JSON, Field, SQLModel, UniqueConstraint

from models.common import utcnow


class Lang(StrEnum):
    zh = "zh"
    en = "en"


class ReviewRequest(BaseModel):
    """What a review is asked for: checked before anything is read (the flow's parameters)."""

    scope: str = PydanticField(
        "city", description="city | district:CODE (610302 or 渭滨区) | station:CODE | community:CODE"
    )
    period: str | None = PydanticField(
        None, description="2026-W47 | 2026-11 | 28d:2026-11-29 | ytd:2026-11-29; blank: last full week"
    )
    lang: Lang = Lang.zh


class ReviewSnapshot(SQLModel, table=True):
    """The latest figures of one scope and period; a rerun replaces them (late data changes figures)."""

    __tablename__ = "review_snapshot"
    __table_args__ = (UniqueConstraint("scope", "period", name="uq_review_snapshot_scope_period"),)

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
