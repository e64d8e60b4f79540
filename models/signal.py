"""Signals (线索): one report from any of the four channels, and its input contracts.

All four channels share one table so linking and review work on one set; the few
channel-specific columns are nullable. Phone numbers are stored encrypted, never in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator
from sqlalchemy import text
from sqlmodel import AutoString, Field, Index, SQLModel, UniqueConstraint

from models.common import (
    CategoryCode,
    Number,
    OptionalText,
    OptionalTextBool,
    OptionalUtcTime,
    PartyKeys,
    Text,
    UtcTime,
    WholeNumber,
    not_before,
    utcnow,
)

Concern = Annotated[
    Literal["none", "low", "medium", "high"] | None,
    BeforeValidator(lambda v: (v.strip().lower() or None) if isinstance(v, str) else v),
]

# What a visit achieved (化解), as codes or the labels officers write; blank means still ongoing.
OUTCOME_LABELS = {
    "已化解": "settled",
    "跟进中": "ongoing",
    "已移交": "referred",
    "已升级": "escalated",
    "未见到": "unreachable",
}
Outcome = Annotated[
    Literal["settled", "ongoing", "referred", "escalated", "unreachable"],
    BeforeValidator(
        lambda v: (
            (OUTCOME_LABELS.get(v.strip(), v.strip().lower()) or "ongoing")
            if isinstance(v, str)
            else ("ongoing" if v is None else v)
        )
    ),
]


class SignalBase(SQLModel):
    community_code: Text = Field(foreign_key="community.community_code", index=True)
    address: Text
    category: CategoryCode = Field(index=True, sa_type=AutoString)
    summary: OptionalText = None


class Signal(SignalBase, table=True):
    __table_args__ = (
        UniqueConstraint("channel", "source_id"),
        # a channel's signals in a window by community (the review's calls and tips), from the index
        # alone: with `channel` alone, SQLite read every call ever taken to count a month's
        Index("ix_signal_channel_occurred_at_community_code", "channel", "occurred_at", "community_code"),
        # the signals of a kind at an address (the review's conversions: the dispute signals at a case's
        # address; by address alone SQLite read every call there, 135,000 rows for 11,000)
        Index("ix_signal_address_norm_category", "address_norm", "category"),
        # a risk's news since a moment, and the channel of its first signal, from the index alone
        Index("ix_signal_risk_id_occurred_at_channel", "risk_id", "occurred_at", "channel"),
        # linking's queue: only the signals not yet linked, in the order it takes them (migration 0016)
        Index(
            "ix_signal_pending",
            "occurred_at",
            "id",
            sqlite_where=text("linked_at IS NULL"),
            postgresql_where=text("linked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    source_id: str = Field(description="The natural key of the row in its channel's file.")
    occurred_at: datetime = Field(index=True)
    address_norm: str
    party_keys: str | None = None
    risk_id: int | None = Field(default=None, foreign_key="risk.id")
    source_file_id: int | None = Field(default=None, foreign_key="source_file.id", index=True)
    loaded_at: datetime = Field(default_factory=utcnow)
    linked_at: datetime | None = Field(default=None, description="NULL: not yet linked")
    # call (110 警情)
    priority: int | None = None
    phone_enc: bytes | None = None
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None
    closed_at: datetime | None = None
    disposition: str | None = None
    # visit (走访)
    officer_code: str | None = Field(default=None, foreign_key="officer.officer_code", index=True)
    concern: str | None = None
    outcome: str | None = Field(
        default=None, description="settled | ongoing | referred | escalated | unreachable"
    )
    named_risk_id: int | None = None
    # analysis (数据研判)
    source: str | None = None
    score: float | None = None


class SignalParty(SQLModel, table=True):
    """Who a signal names, one row per person key, so linking by party pair is a join."""

    __tablename__ = "signal_party"

    signal_id: int = Field(foreign_key="signal.id", primary_key=True)
    party_key: str = Field(primary_key=True, index=True)


class CallIn(SignalBase):
    """A row of a 110 call file."""

    call_id: Text
    received_at: UtcTime
    priority: WholeNumber = Field(default=None, ge=1, le=4)
    party_keys: PartyKeys = []
    phone: OptionalText = None
    dispatched_at: OptionalUtcTime = None
    arrived_at: OptionalUtcTime = None
    closed_at: OptionalUtcTime = None
    disposition: OptionalText = None

    @model_validator(mode="after")
    def _in_order(self) -> CallIn:
        not_before(self.received_at, dispatched_at=self.dispatched_at, arrived_at=self.arrived_at,
                   closed_at=self.closed_at)  # fmt: skip
        not_before(self.dispatched_at, arrived_at=self.arrived_at)
        return self


class VisitIn(SignalBase):
    """A row of a visit record file."""

    visit_id: Text
    visited_at: UtcTime
    officer_code: Text
    party_keys: PartyKeys = []
    concern: Concern = None
    risk_id: WholeNumber = None
    outcome: Outcome = "ongoing"


class AnalysisIn(SignalBase):
    """A row of a data-analysis file."""

    signal_id: Text
    produced_at: UtcTime
    source: OptionalText = None
    score: Number = Field(default=None, ge=0, le=1)
    party_keys: PartyKeys = []


class TipIn(SignalBase):
    """A row of a citizen-tip file; the contact is encrypted before it is stored."""

    tip_id: Text
    received_at: UtcTime
    contact: OptionalText = None
    wants_reward: OptionalTextBool = None


def is_news() -> Any:
    """SQL: a signal that is news for its risk — anything but a visit finding things calm (no or low
    concern), which is evidence for the evidence rule and the ends of a risk, not a new signal."""
    from sqlalchemy import or_
    from sqlmodel import col

    from models.risk import CALM_CONCERN

    concern = col(Signal.concern)
    return or_(col(Signal.channel) != "visit", concern.is_(None), concern.not_in(CALM_CONCERN))
