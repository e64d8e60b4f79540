"""Quick response (快反处置): incidents, the units dispatched to them, and missed targets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.common import Text, UtcTime, utcnow


class IncidentOutcome(StrEnum):
    resolved_on_scene = "resolved_on_scene"
    mediated = "mediated"
    person_found = "person_found"
    referred = "referred"
    case_filed = "case_filed"
    false_alarm = "false_alarm"


class Incident(SQLModel, table=True):
    """An urgent call or a newly red risk that needs units on the way now."""

    id: int | None = Field(default=None, primary_key=True)
    incident_code: str = Field(unique=True, description="INC-…, also the flow run's name")
    signal_id: int | None = Field(default=None, foreign_key="signal.id", unique=True)
    risk_id: int | None = Field(default=None, foreign_key="risk.id", index=True)
    station_code: str = Field(foreign_key="station.station_code", index=True)
    community_code: str = Field(foreign_key="community.community_code", index=True)
    category: str
    priority: int | None = None
    status: str = Field(default="open", index=True, description="open | dispatched | closed")
    opened_at: datetime = Field(index=True)
    dispatch_target_at: datetime | None = None
    arrival_target_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    outcome_note: str | None = None
    closed_by: str | None = Field(default=None, description="the officer who closed it (a person's act)")
    created_at: datetime = Field(default_factory=utcnow, description="when Bridgehead opened it")


class IncidentDue(SQLModel, table=True):
    """An urgent call linked and not yet given its incident: the open-incidents stage's queue.

    The link stage writes it in the transaction that links the call; opening the incident deletes it in
    the transaction that opens it. So the stage reads what intake brought, not every call ever taken, and
    a run that died between the two leaves the call here for the next one.
    """

    __tablename__ = "incident_due"

    signal_id: int = Field(foreign_key="signal.id", primary_key=True)


class Dispatch(SQLModel, table=True):
    """A unit sent to an incident, with the times of each state it reached."""

    __table_args__ = (UniqueConstraint("incident_id", "unit_code"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    unit_code: str = Field(foreign_key="patrol_unit.unit_code", index=True)
    escalation: bool = Field(default=False, description="sent from another station after a miss")
    distance_km: float | None = None
    dispatched_at: datetime
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None
    cleared_at: datetime | None = None


class UnitStatusEvent(SQLModel, table=True):
    """A line of the unit status feed, kept as received (its natural key makes reloads no-ops)."""

    __tablename__ = "unit_status_event"
    __table_args__ = (UniqueConstraint("unit_code", "incident_id", "status", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="patrol_unit.unit_code")
    incident_id: int = Field(foreign_key="incident.id", index=True)
    status: str
    at: datetime
    received_at: datetime = Field(default_factory=utcnow)


class UnitStatusIn(SQLModel):
    """A row of a unit status feed."""

    unit_code: Text
    incident_id: Text
    status: Literal["dispatched", "en_route", "on_scene", "cleared"]
    at: UtcTime


class ResponseBreach(SQLModel, table=True):
    """A missed 1-3-5 target: which target, when it was due, and what was done about it."""

    __tablename__ = "response_breach"
    __table_args__ = (UniqueConstraint("incident_id", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    target: str = Field(description="dispatch | arrival")
    due_at: datetime
    detected_at: datetime
    escalated_unit_code: str | None = Field(default=None, foreign_key="patrol_unit.unit_code")
