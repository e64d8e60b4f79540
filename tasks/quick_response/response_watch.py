"""The response watch (快反督导): missed 1-3-5 targets found from the records, and escalated.

A target is judged by the times in the records against an "as of" time, never by when the watch
happened to run, so a replay of last night gives last night's verdicts. Each missed target is
recorded once (a breach), tells the station chief (a supervision notice) and, while the thing it
waited for has still not happened, pulls the nearest free unit of the nearest other station.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import dialect_insert, table_of
from models.clock import local_date
from models.follow_up import SupervisionNotice
from models.incident import Incident, ResponseBreach
from models.jurisdiction import PatrolUnit
from tasks.jurisdiction import station_chiefs
from tasks.quick_response.dispatch import escalate, lock_units
from tasks.quick_response.incidents import ResponseTimes, response_times

TARGETS = ("dispatch", "arrival")


class Verdict(StrEnum):
    met = "met"
    missed = "missed"
    pending = "pending"


def judge(due_at: datetime | None, done_at: datetime | None, as_of: datetime) -> Verdict:
    """Met if done by the due time; missed if done late or still not done after it; else pending."""
    if due_at is None:
        return Verdict.pending
    if done_at is not None:
        return Verdict.met if done_at <= due_at else Verdict.missed
    return Verdict.missed if as_of > due_at else Verdict.pending


def verdicts(incident: Incident, times: ResponseTimes | None, as_of: datetime) -> dict[str, Verdict]:
    """Both targets of an incident; a closed incident is judged as of its closing."""
    when = min(as_of, incident.closed_at) if incident.closed_at else as_of
    first_dispatch = times.first_dispatch_at if times else None
    first_on_scene = times.first_on_scene_at if times else None
    return {
        "dispatch": judge(incident.dispatch_target_at, first_dispatch, when),
        "arrival": judge(incident.arrival_target_at, first_on_scene, when),
    }


@dataclass
class WatchSummary:
    as_of: datetime
    watched: int = 0
    breaches: list[dict[str, str]] = field(default_factory=list)
    escalated: int = 0
    notices: int = 0


def watch_targets(session: Session, as_of: datetime) -> WatchSummary:
    """Record each newly missed target of the open incidents, tell the chief, pull help."""
    summary = WatchSummary(as_of)
    overdue = select(Incident).where(
        col(Incident.status) != "closed",
        or_(col(Incident.dispatch_target_at) < as_of, col(Incident.arrival_target_at) < as_of),
    )
    if session.execute(overdue.with_only_columns(col(Incident.id)).limit(1)).first() is None:
        return summary
    lock_units(session, col(PatrolUnit.unit_code).is_not(None))  # escalation may claim any station's unit
    incidents = list(session.scalars(overdue))  # read again under the lock
    summary.watched = len(incidents)
    times = response_times(session, [i.id for i in incidents if i.id is not None])
    recorded = {
        (iid, target)
        for iid, target in session.execute(
            select(col(ResponseBreach.incident_id), col(ResponseBreach.target)).where(
                col(ResponseBreach.incident_id).in_([i.id for i in incidents])
            )
        )
    }
    missed = [
        (incident, target)
        for incident in incidents
        for target, verdict in verdicts(incident, times.get(incident.id or 0), as_of).items()
        if verdict is Verdict.missed and (incident.id, target) not in recorded
    ]
    for incident, target in missed:
        _breach(session, summary, incident, target, times.get(incident.id or 0), as_of)
    return summary


def _breach(
    session: Session,
    summary: WatchSummary,
    incident: Incident,
    target: str,
    times: ResponseTimes | None,
    as_of: datetime,
) -> None:
    due_at = incident.dispatch_target_at if target == "dispatch" else incident.arrival_target_at
    assert due_at is not None
    breach_id = session.execute(
        dialect_insert(session, table_of(ResponseBreach))
        .on_conflict_do_nothing(index_elements=["incident_id", "target"])
        .values(incident_id=incident.id, target=target, due_at=due_at, detected_at=as_of)
        .returning(col(ResponseBreach.id))
    ).scalar_one_or_none()
    if breach_id is None:  # another watch recorded it first
        return
    breach = session.get_one(ResponseBreach, breach_id)
    still_waiting = (
        (times is None or times.first_dispatch_at is None)
        if target == "dispatch"
        else (times is None or times.first_on_scene_at is None)
    )
    what = "no unit dispatched" if target == "dispatch" else "no unit on scene"
    late_s = int((as_of - due_at).total_seconds())
    reason = f"{incident.incident_code}: {target} target missed ({what} {late_s} s after the target)"
    unit = escalate(session, incident, as_of, reason) if still_waiting else None
    if unit:
        breach.escalated_unit_code = unit["unit_code"]
        session.add(breach)
        summary.escalated += 1
    chief = station_chiefs(session).get(incident.station_code)
    session.add(
        SupervisionNotice(
            breach_id=breach.id,
            station_code=incident.station_code,
            recipient_officer_code=chief,
            level="chief",
            issued_on=local_date(as_of),
        )
    )
    summary.notices += 1
    summary.breaches.append(
        {
            "incident_code": incident.incident_code,
            "target": target,
            "escalated_unit": unit and unit["unit_code"],
        }
    )
    audit.append(
        session,
        [
            audit.Change(
                "breach",
                "incident",
                incident.incident_code,
                None,
                {"target": target, "due_at": due_at, "detected_at": as_of},
                reason,
            ),
            audit.Change(
                "notice",
                "officer",
                chief or f"chief of {incident.station_code}",
                None,
                {"incident": incident.incident_code, "target": target, "level": "chief"},
                "supervision notice to the station chief (督办)",
            ),
        ],
    )
    session.flush()
