"""Follow-up and supervision (跟进督促): visits owed on open risks, and what happens when they are late."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import JSON, Field, Index, SQLModel, UniqueConstraint

from models.common import utcnow


class FollowUp(SQLModel, table=True):
    """One visit owed on a risk by its community officer; one per risk per due date."""

    __tablename__ = "follow_up"
    # a risk's pending visits by (risk, status): with `status` indexed alone, SQLite's planner (no
    # statistics) scanned every pending follow-up for each risk a chief reassigned
    __table_args__ = (
        UniqueConstraint("risk_id", "due_on"),
        Index("ix_follow_up_risk_id_status", "risk_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id")
    officer_code: str | None = Field(default=None, foreign_key="officer.officer_code", index=True)
    due_on: date = Field(index=True)
    basis_at: datetime = Field(description="the visit (or the opening) the due date counts from")
    why: str = Field(
        default="cadence",
        description="cadence | new_signal (the shorter first-visit window) | return_visit | referral_check "
        "| recheck",
    )
    status: str = Field(default="pending", index=True, description="pending | done | cancelled")
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    recorded_on: date | None = Field(default=None, index=True, description="the sweep day that saw the visit")
    visit_signal_id: int | None = Field(default=None, foreign_key="signal.id")
    calm: bool | None = None
    planned_on: date | None = Field(
        default=None,
        index=True,
        description="the first day it was on its officer's list: lateness counts from it",
    )


class SupervisionNotice(SQLModel, table=True):
    """督促: a reminder about a late follow-up (to the officer, then the chief) or a missed target."""

    __tablename__ = "supervision_notice"
    __table_args__ = (UniqueConstraint("follow_up_id", "level"), UniqueConstraint("breach_id", "level"))

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int | None = Field(default=None, foreign_key="follow_up.id", index=True)
    breach_id: int | None = Field(default=None, foreign_key="response_breach.id", index=True)
    station_code: str = Field(foreign_key="station.station_code", index=True)
    recipient_officer_code: str | None = Field(default=None, foreign_key="officer.officer_code")
    level: str = Field(description="officer | chief")
    days_late: int | None = Field(default=None, description="for a late follow-up")
    issued_on: date = Field(index=True)


class CapacityNotice(SQLModel, table=True):
    """More visits owed than one officer can make in a day: the overload is the chief's to solve."""

    __tablename__ = "capacity_notice"
    __table_args__ = (UniqueConstraint("officer_code", "issued_on"),)

    id: int | None = Field(default=None, primary_key=True)
    station_code: str = Field(foreign_key="station.station_code", index=True)
    officer_code: str = Field(foreign_key="officer.officer_code", index=True)
    recipient_officer_code: str | None = Field(default=None, foreign_key="officer.officer_code")
    issued_on: date = Field(index=True)
    owed: int = Field(description="follow-ups due by the day")
    capacity: int
    overflow: int = Field(description="due follow-ups that did not fit the day, never planned yet")


class AccountabilityEntry(SQLModel, table=True):
    """问责: a recorded failure, citing the record it comes from."""

    __tablename__ = "accountability_entry"
    __table_args__ = (UniqueConstraint("kind", "source_entity", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    station_code: str = Field(foreign_key="station.station_code", index=True)
    officer_code: str | None = Field(default=None, foreign_key="officer.officer_code", index=True)
    kind: str = Field(description="late_follow_up | repeated_notices | missed_response_target")
    source_entity: str
    source_id: str
    recorded_on: date = Field(index=True)
    reason: str


class SweepStage(SQLModel, table=True):
    """A stage of a day's sweep that has committed, written in the stage's own transaction.

    A sweep killed between two stages resumes after the last one here: rerunning an earlier stage
    would see what the later ones wrote (follow-ups assigned that morning, notices issued) and act
    on it, which an uninterrupted day never does."""

    __tablename__ = "sweep_stage"

    day: date = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    finished_at: datetime = Field(default_factory=utcnow)


class SweepDay(SQLModel, table=True):
    """A day the follow-up sweep has finished: what lets a missed day be caught up exactly once."""

    __tablename__ = "sweep_day"

    day: date = Field(primary_key=True)
    finished_at: datetime = Field(default_factory=utcnow)
    actor: str
    summary: dict = Field(default_factory=dict, sa_type=JSON)
