"""Risks (风险隐患) and their level history.

A risk is what signals attach to: one community, a normalised address and category, or a pair
of parties. Its colour only ever changes through a rule, a named person, or the evidence rule,
and each change is a row of level history with its reasons and the rules version.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import JSON, Field, Index, SQLModel, col

from models.common import Colour, utcnow


class RiskStatus(StrEnum):
    """Where a risk is in its life (化解): open on the visit cadence; settled at a visit and waiting for
    the return visit (回访) that resolves it; referred to another body with one check due; resolved."""

    open = "open"
    settled = "settled"
    referred = "referred"
    resolved = "resolved"


LIVE_STATUSES = (RiskStatus.open.value, RiskStatus.settled.value, RiskStatus.referred.value)
# A visit reporting no or low concern is evidence of calm (the evidence rule, a return visit), not news.
CALM_CONCERN = ("none", "low")


class RiskBase(SQLModel):
    community_code: str = Field(foreign_key="community.community_code", index=True)
    category: str = Field(index=True)
    address_norm: str | None = Field(default=None, index=True)
    party_pair: str | None = Field(default=None, index=True, description="'a;b', sorted")
    place_kind: str | None = Field(
        default=None,
        description="a hotspot (a place, not a household): places.csv's kind, 'crossing' or 'many_parties'",
    )


class Risk(RiskBase, table=True):
    # Composite indexes where SQLite, which has no statistics, would otherwise read a column of a few
    # values: the household risks at an address (place kind NULL), the open red risks by latest signal.
    __table_args__ = (
        Index("ix_risk_place_kind_address_norm", "place_kind", "address_norm"),
        Index("ix_risk_status_level_last_signal_at", "status", "level", "last_signal_at"),
        # the risks by status, and the open ones per community and colour from the index alone (the
        # review's red and orange communities: 0.11 s -> 0.015 s at scale 1 on SQLite)
        Index("ix_risk_status_community_code_level", "status", "community_code", "level"),
        # the review's risks found and resolved in a window, per community, read from the index alone
        Index("ix_risk_first_signal_at_community_code", "first_signal_at", "community_code"),
        Index("ix_risk_resolved_at_community_code", "resolved_at", "community_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    level: str = Field(default=Colour.blue, index=True)
    status: str = Field(default=RiskStatus.open)
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    rules_version: str | None = None
    officer_code: str | None = Field(default=None, foreign_key="officer.officer_code", index=True)
    opened_at: datetime
    first_signal_at: datetime
    first_channel: str | None = Field(
        default=None,
        description="how it was found: its first signal's channel (of two at once, the first by name)",
    )
    last_signal_at: datetime = Field(index=True)
    level_since: datetime
    calm_streak: int = 0
    settled_at: datetime | None = Field(default=None, description="the visit that settled or referred it")
    resolved_at: datetime | None = None
    reopened_count: int = 0
    graded_at: datetime | None = Field(default=None, index=True, description="NULL: grade again")


class RiskLinkKey(SQLModel, table=True):
    """What new signals are matched on: an address key or a party-pair key, and the risk that holds it.

    `kind` is 'address' (community|normalised address|category) or 'pair' (two person keys).
    A key belongs to the newest risk that used it; `last_seen_at` bounds the 12-month window.
    """

    __tablename__ = "risk_link_key"

    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    risk_id: int = Field(foreign_key="risk.id", index=True)
    last_seen_at: datetime


# Causes whose `at` is the event's own time (a visit's evidence, an end, a person's raise); the rules'
# changes carry the time grading ran.
EVENT_TIMED = ("evidence", "end", "person")
_EVENT_TIMED_SQL = "cause IN (" + ", ".join(f"'{c}'" for c in EVENT_TIMED) + ")"


class RiskLevelChange(SQLModel, table=True):
    """One step of a risk's level history: who or what moved it, and why."""

    __tablename__ = "risk_level_change"
    # A person's recent raises (a quick response is due), found without the rules' history. Partial: an
    # index led by `cause` made SQLite answer "this risk's resolutions before T" by every resolution
    # before T, once per risk (the review's live risks at a window's end).
    __table_args__ = (
        Index(
            "ix_risk_level_change_person_at",
            "at",
            sqlite_where=text("cause = 'person'"),
            postgresql_where=text("cause = 'person'"),
        ),
        # a risk's events of their own time (the review's "an event since the window's end"): a few
        # percent of the history, so partial, and bulk grading's rule changes never touch it
        Index(
            "ix_risk_level_change_event",
            "risk_id",
            "at",
            sqlite_where=text(_EVENT_TIMED_SQL),
            postgresql_where=text(_EVENT_TIMED_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    from_level: str | None = None
    to_level: str
    cause: str = Field(description="rule | person | evidence | reopen")
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    rules_version: str | None = None
    actor: str
    note: str | None = None


def event_timed(change: Any = RiskLevelChange) -> Any:
    """`change` is a row timed by its event, in the words of `ix_risk_level_change_event`: the causes are
    written into the SQL, not bound, because SQLite uses a partial index only where the query states the
    index's condition in literals (a bound parameter could be any cause). Bound, each risk's last event
    read the whole level history (0.21 s at scale 1); stated, the index (6 ms)."""
    return col(change.cause).in_(bindparam(None, list(EVENT_TIMED), expanding=True, literal_execute=True))
