"""Incidents (快反警情): what opens one, its 1-3-5 targets, and its response times.

An urgent 110 call that is still open, or a risk that has just turned red on a fresh signal, opens
an incident; an urgent call that arrives already closed is history and opens a closed incident, so
reviews see its response times. Incident codes come from the records (``INC-<call_id>``,
``INC-R<level change id>``), so opening is idempotent: a rerun finds the codes taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypedDict

import pandas as pd
from sqlalchemy import and_, delete, exists, func, or_, select, text
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import chunks, dialect_insert, frame_of, table_of
from bridgehead.locks import hold_register
from bridgehead.rules import QuickResponseRules, Rules
from models.common import Colour, utcnow
from models.incident import Dispatch, Incident, IncidentDue, IncidentOutcome
from models.jurisdiction import Community
from models.risk import Risk, RiskLevelChange, RiskStatus
from models.signal import Signal
from tasks.quick_response.dispatch import DispatchResult, respond

OUTCOMES = {o.value for o in IncidentOutcome}


class LiveIncident(TypedDict):
    """An incident opened live, as it is announced (the quick-response deployment's trigger reads it)."""

    incident_code: str
    station_code: str
    community_code: str
    category: str
    opened_at: datetime
    risk_id: int | None  # the risk it is on (an urgent call's may have none)


@dataclass
class OpenedIncidents:
    """Live incidents need a response now (they are announced); history ones are closed records."""

    live: list[LiveIncident] = field(default_factory=list)
    history: int = 0
    dispatched: list[DispatchResult] = field(default_factory=list)  # live calls answered in the same step


def arrival_target_s(targets: QuickResponseRules, kind: str, smart_security: bool) -> int:
    """On scene within 3 minutes in a smart-security estate, 5 in an urban community, 15 in a village."""
    arrive = targets.arrive_within_s
    if kind == "village":
        return arrive.village
    return arrive.smart_security if smart_security else arrive.community


def incident_code_for_call(call_id: str) -> str:
    return f"INC-{call_id}"


def _targets(frame: pd.DataFrame, rules: QuickResponseRules) -> pd.DataFrame:
    frame["dispatch_target_at"] = frame["opened_at"] + pd.Timedelta(seconds=rules.dispatch_within_s)
    seconds = [
        arrival_target_s(rules, kind, bool(smart))
        for kind, smart in zip(frame["kind"], frame["smart_security"], strict=True)
    ]
    frame["arrival_target_at"] = frame["opened_at"] + pd.to_timedelta(seconds, unit="s")
    return frame


def is_urgent_call(frame: pd.DataFrame, rules: QuickResponseRules) -> pd.Series:
    """Which rows (columns channel, priority, category) are urgent 110 calls: they open an incident."""
    priority = pd.to_numeric(frame["priority"], errors="coerce")  # a raw file's blank is no priority
    urgent = (priority <= rules.urgent_priority) | frame["category"].isin(rules.urgent_categories)
    return (frame["channel"] == "call") & urgent.fillna(False).astype(bool)


def queue_urgent_calls(session: Session, frame: pd.DataFrame, rules: QuickResponseRules) -> int:
    """Put the urgent calls among these linked signals (id, channel, priority, category) in the queue the
    open-incidents stage reads (`IncidentDue`), in the link's own transaction."""
    ids = [{"signal_id": int(i)} for i in frame.loc[is_urgent_call(frame, rules), "id"]]
    if ids:
        session.execute(
            dialect_insert(session, IncidentDue).on_conflict_do_nothing(index_elements=["signal_id"]), ids
        )
    return len(ids)


def _urgent_calls(session: Session) -> tuple[pd.DataFrame, list[int]]:
    """The queued urgent calls without an incident yet, and every queued id (to take off the queue)."""
    queued: list[int] = list(session.execute(select(col(IncidentDue.signal_id))).scalars())
    if not queued:
        return pd.DataFrame(), []
    has_incident = exists().where(col(Incident.signal_id) == Signal.id)
    rows = session.execute(
        select(
            col(Signal.id).label("signal_id"),
            col(Signal.source_id),
            col(Signal.risk_id),
            col(Signal.community_code),
            col(Signal.category),
            col(Signal.priority),
            col(Signal.occurred_at).label("opened_at"),
            col(Signal.closed_at),
            col(Signal.disposition),
            col(Community.station_code),
            col(Community.kind),
            col(Community.smart_security),
        )
        .join(IncidentDue, col(IncidentDue.signal_id) == Signal.id)
        .join(Community, col(Community.community_code) == Signal.community_code)
        .where(~has_incident)
    ).all()
    return frame_of(rows, columns=list(rows[0]._fields) if rows else []), queued


def _newly_red(session: Session, rules: QuickResponseRules, now: datetime) -> pd.DataFrame:
    """Open red risks whose latest turn to red was on a fresh signal (or by a person just now).

    Only what is fresh can qualify, so the candidates are read by time (a red risk's latest signal, a
    person's raise), never by walking the level history of the register."""
    fresh = now - timedelta(minutes=rules.red_risk_fresh_within_min)
    candidates: list[int] = sorted(
        set(
            session.execute(
                select(col(Risk.id)).where(  # ix_risk_status_level_last_signal_at
                    col(Risk.status) == RiskStatus.open.value,
                    col(Risk.level) == Colour.red.value,
                    col(Risk.last_signal_at) >= fresh,
                )
            ).scalars()
        )
        | set(
            session.execute(
                select(col(RiskLevelChange.risk_id)).where(  # ix_risk_level_change_person_at
                    text("risk_level_change.cause = 'person'"),  # a literal: a partial index needs one
                    col(RiskLevelChange.at) >= fresh,
                )
            ).scalars()
        )
    )
    if not candidates:
        return pd.DataFrame()
    # Covered: an incident is still open on the risk, or one was opened since this turn to red (the
    # urgent call that turned it red, even if that call came in already closed).
    covered = exists().where(
        col(Incident.risk_id) == Risk.id,
        or_(col(Incident.status) != "closed", col(Incident.created_at) >= RiskLevelChange.at),
    )
    rows: list[Any] = []
    for part in chunks(candidates):
        latest = (
            select(col(RiskLevelChange.risk_id), func.max(RiskLevelChange.id).label("change_id"))
            .where(col(RiskLevelChange.to_level) == Colour.red.value, col(RiskLevelChange.risk_id).in_(part))
            .group_by(col(RiskLevelChange.risk_id))
            .subquery()
        )
        rows += session.execute(
            select(
                latest.c.change_id,
                col(Risk.id).label("risk_id"),
                col(Risk.community_code),
                col(Risk.category),
                col(RiskLevelChange.cause),
                col(RiskLevelChange.at),
                col(Risk.last_signal_at),
                col(Community.station_code),
                col(Community.kind),
                col(Community.smart_security),
            )
            .join(Risk, col(Risk.id) == latest.c.risk_id)
            .join(RiskLevelChange, col(RiskLevelChange.id) == latest.c.change_id)
            .join(Community, col(Community.community_code) == Risk.community_code)
            .where(
                col(Risk.level) == Colour.red.value,
                col(Risk.status) == RiskStatus.open.value,
                or_(
                    and_(col(RiskLevelChange.cause) == "person", col(RiskLevelChange.at) >= fresh),
                    and_(col(RiskLevelChange.cause) != "person", col(Risk.last_signal_at) >= fresh),
                ),
                ~covered,
            )
        ).all()
    frame = frame_of(rows, columns=list(rows[0]._fields) if rows else [])
    if frame.empty:
        return frame
    frame["incident_code"] = "INC-R" + frame["change_id"].astype(str)
    taken = _existing_codes(session, frame["incident_code"].tolist())
    frame = frame[~frame["incident_code"].isin(taken)].copy()
    person = frame["cause"] == "person"
    frame["opened_at"] = frame["at"].where(person, frame["last_signal_at"])
    return frame


def _existing_codes(session: Session, codes: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(codes):
        found |= set(
            session.execute(
                select(col(Incident.incident_code)).where(col(Incident.incident_code).in_(part))
            ).scalars()
        )
    return found


INCIDENT_COLUMNS = [
    "incident_code", "signal_id", "risk_id", "station_code", "community_code", "category", "priority",
    "status", "opened_at", "dispatch_target_at", "arrival_target_at", "closed_at", "outcome",
]  # fmt: skip


def open_incidents(session: Session, rules: Rules, now: datetime | None = None) -> OpenedIncidents:
    """Open an incident for every urgent call and every newly red risk that has none yet, and dispatch
    the live calls among them at once (`dispatch_live_calls`)."""
    hold_register(session)  # two intakes at once must not open the same incident twice
    qr, now = rules.quick_response, now or utcnow()
    result = OpenedIncidents()
    frames = []
    calls, queued = _urgent_calls(session)
    for part in chunks(queued):  # taken off the queue with the incidents opened below: both or neither
        session.execute(delete(IncidentDue).where(col(IncidentDue.signal_id).in_(part)))
    if not calls.empty:
        calls["incident_code"] = calls["source_id"].map(incident_code_for_call)
        history = calls["closed_at"].notna()
        calls["status"] = ["closed" if h else "open" for h in history]
        calls["outcome"] = [
            d if h and d in OUTCOMES else None for d, h in zip(calls["disposition"], history, strict=True)
        ]
        result.history = int(history.sum())
        frames.append(calls)
    risks = _newly_red(session, qr, now)
    if not calls.empty:  # the urgent call that turned its risk red is already the incident
        risks = risks[~risks["risk_id"].isin(calls["risk_id"].dropna())] if not risks.empty else risks
    if not risks.empty:
        risks = risks.assign(signal_id=None, priority=None, status="open", closed_at=None, outcome=None)
        frames.append(risks)
    if not frames:
        return result
    frame = _targets(pd.concat(frames, ignore_index=True), qr)
    frame = frame[INCIDENT_COLUMNS].astype(object).where(frame[INCIDENT_COLUMNS].notna(), None)
    created = utcnow()  # when Bridgehead opened them, whatever time the rules judged freshness by
    records = [{**r, "created_at": created} for r in frame.to_dict("records")]
    session.connection().execute(
        dialect_insert(session, table_of(Incident)).on_conflict_do_nothing(index_elements=["incident_code"]),
        records,
    )
    result.live = [
        LiveIncident(
            incident_code=r["incident_code"],
            station_code=r["station_code"],
            community_code=r["community_code"],
            category=r["category"],
            opened_at=r["opened_at"],
            risk_id=None if r["risk_id"] is None else int(r["risk_id"]),
        )
        for r in records
        if r["status"] == "open"
    ]
    audit.append(
        session,
        [
            audit.Change(
                "open",
                "incident",
                r["incident_code"],
                None,
                {k: r[k] for k in ("status", "station_code", "category", "opened_at", "risk_id")},
                _why(r),
            )
            for r in records
        ],
    )
    result.dispatched = dispatch_live_calls(session, qr, records, now)
    return result


def dispatch_live_calls(
    session: Session, rules: QuickResponseRules, opened: list[dict[str, Any]], now: datetime
) -> list[DispatchResult]:
    """Units for the urgent calls just opened that are still live (received within
    `live_call_within_min`), committed with their incidents: no flow run, event or poll stands between
    a call and its units. The triggered quick response then finds them sent and changes nothing. An
    older call (a late export, a replayed night) keeps the quick-response run, which takes its time."""
    fresh = now - timedelta(minutes=rules.live_call_within_min)
    return [
        respond(session, get_incident(session, r["incident_code"]), rules, now)
        for r in opened
        if r["status"] == "open" and r["signal_id"] is not None and r["opened_at"] >= fresh
    ]


def _why(record: dict[str, Any]) -> str:
    if record["signal_id"] is None:
        return "the risk turned red"
    if record["status"] == "closed":
        return "urgent call taken in already closed: kept as history"
    return "urgent call"


@dataclass(frozen=True)
class ResponseTimes:
    """The first dispatch and the first unit on scene: what the 1 and the 3-5 are measured by."""

    first_dispatch_at: datetime | None
    first_on_scene_at: datetime | None
    units: int


def response_times(session: Session, incident_ids: list[int]) -> dict[int, ResponseTimes]:
    out: dict[int, ResponseTimes] = {}
    for part in chunks(incident_ids):
        rows = session.execute(
            select(
                col(Dispatch.incident_id),
                func.min(Dispatch.dispatched_at),
                func.min(Dispatch.on_scene_at),
                func.count(),
            )
            .where(col(Dispatch.incident_id).in_(part))
            .group_by(col(Dispatch.incident_id))
        ).tuples()
        out |= {iid: ResponseTimes(d, s, n) for iid, d, s, n in rows}
    return out


def get_incident(session: Session, code: str) -> Incident:
    incident = session.execute(
        select(Incident).where(col(Incident.incident_code) == code)
    ).scalar_one_or_none()
    if incident is None:
        raise LookupError(f"there is no incident {code}")
    return incident
