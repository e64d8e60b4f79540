"""The quick-response board (快反) as the command line reads it: incidents with their response times and
1-3-5 verdicts, and one incident's whole record (units, state changes, breaches, notices).

Read-only queries; the command formats what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from models.follow_up import SupervisionNotice
from models.incident import Dispatch, Incident, ResponseBreach, UnitStatusEvent
from tasks.quick_response.incidents import ResponseTimes, get_incident, response_times
from tasks.quick_response.response_watch import Verdict, verdicts


@dataclass
class BoardLine:
    """An incident with its response times (None: no unit sent yet) and its two targets judged."""

    incident: Incident
    times: ResponseTimes | None
    judged: dict[str, Verdict]


@dataclass
class Board:
    total: int  # incidents that match, of which `lines` are the newest
    lines: list[BoardLine]


def board(
    session: Session, as_of: datetime, status: str | None = None, station: str | None = None, limit: int = 50
) -> Board:
    """Incidents newest first, optionally of one status and one station."""
    stmt = select(Incident).order_by(col(Incident.opened_at).desc(), col(Incident.id).desc())
    if status is not None:
        stmt = stmt.where(col(Incident.status) == status)
    if station:
        stmt = stmt.where(col(Incident.station_code) == station)
    total: int = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    incidents = list(session.scalars(stmt.limit(limit)))
    times = response_times(session, [i.id for i in incidents if i.id is not None])
    lines = []
    for i in incidents:
        t = times.get(i.id or 0)
        lines.append(BoardLine(i, t, verdicts(i, t, as_of)))
    return Board(total, lines)


@dataclass
class IncidentRecord:
    """One incident and everything that happened to it, in order."""

    incident: Incident
    times: ResponseTimes | None
    judged: dict[str, Verdict]
    dispatches: list[Dispatch]
    events: list[UnitStatusEvent]
    breaches: list[ResponseBreach]
    notices: list[SupervisionNotice]


def incident_record(session: Session, code: str, as_of: datetime) -> IncidentRecord:
    """The incident `code` (LookupError if there is none) with its units, states, breaches and notices."""
    i = get_incident(session, code)
    assert i.id is not None
    t = response_times(session, [i.id]).get(i.id)
    dispatches = session.scalars(
        select(Dispatch)
        .where(col(Dispatch.incident_id) == i.id)
        .order_by(col(Dispatch.dispatched_at), col(Dispatch.unit_code))
    )
    events = session.scalars(
        select(UnitStatusEvent)
        .where(col(UnitStatusEvent.incident_id) == i.id)
        .order_by(col(UnitStatusEvent.at), col(UnitStatusEvent.id))
    )
    breaches = list(session.scalars(select(ResponseBreach).where(col(ResponseBreach.incident_id) == i.id)))
    notices = session.scalars(
        select(SupervisionNotice).where(col(SupervisionNotice.breach_id).in_([b.id for b in breaches]))
    )
    judged = verdicts(i, t, as_of)
    return IncidentRecord(i, t, judged, list(dispatches), list(events), breaches, list(notices))
