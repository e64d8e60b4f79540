"""Dispatch (派警): the nearest free patrol units, claimed so two incidents never share one.

Units are claimed under a lock on their rows, taken before anything else in the transaction and
always in unit-code order (a row lock on PostgreSQL; on SQLite the first write takes the database's
one write lock). A unit is only ever moved from free by a guarded update, so even a path that
forgot the lock could not give one unit to two incidents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import frame_of
from bridgehead.rules import QuickResponseRules
from models.incident import Dispatch, Incident, UnitStatusEvent
from models.jurisdiction import Community, PatrolUnit, Station, UnitStatus

EARTH_KM = 6371.0088


def distance_km(lat: float, lon: float, lats: Any, lons: Any) -> np.ndarray:
    """Great-circle distance from one point to many (haversine)."""
    p1, p2 = np.radians(lat), np.radians(np.asarray(lats, dtype=float))
    dp, dl = p2 - p1, np.radians(np.asarray(lons, dtype=float) - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(a))


def nearest_free(units: pd.DataFrame, lat: float, lon: float, wanted: int | None) -> pd.DataFrame:
    """Free units by distance (ties by code); `wanted=None` takes them all (a search)."""
    free = units[units["status"] == UnitStatus.free.value].copy()
    free["distance_km"] = distance_km(lat, lon, free["lat"], free["lon"])
    free = free.sort_values(["distance_km", "unit_code"])
    return free if wanted is None else free.head(wanted)


def lock_units(session: Session, where: ColumnElement[bool]) -> None:
    """Serialise everyone who claims these units; call it first in the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(col(PatrolUnit.unit_code))
            .where(where)
            .order_by(col(PatrolUnit.unit_code))
            .with_for_update()
        ).all()
    else:
        session.execute(update(PatrolUnit).where(where).values(status=PatrolUnit.status))


def station_units(session: Session, where: ColumnElement[bool]) -> pd.DataFrame:
    rows = session.execute(
        select(
            col(PatrolUnit.unit_code),
            col(PatrolUnit.station_code),
            col(PatrolUnit.status),
            col(PatrolUnit.lat),
            col(PatrolUnit.lon),
        )
        .where(where)
        .order_by(col(PatrolUnit.unit_code))
    ).all()
    return frame_of(rows, columns=["unit_code", "station_code", "status", "lat", "lon"])


class ClaimedUnit(TypedDict):
    """A unit sent to an incident (its row in a flow's result and the run's artifact)."""

    unit_code: str
    station_code: str
    distance_km: float


@dataclass
class DispatchResult:
    incident_code: str
    station_code: str
    units: list[ClaimedUnit] = field(default_factory=list)
    free_before: int = 0
    already_dispatched: bool = False
    closed: bool = False


def place_of(session: Session, incident: Incident) -> tuple[float, float]:
    """Where to send units: the incident's community (calls carry an address, not coordinates)."""
    row = session.execute(
        select(col(Community.lat), col(Community.lon)).where(
            col(Community.community_code) == incident.community_code
        )
    ).one()
    return float(row.lat), float(row.lon)


def claim(
    session: Session,
    incident: Incident,
    chosen: pd.DataFrame,
    at: datetime,
    *,
    escalation: bool = False,
    reason: str,
) -> list[ClaimedUnit]:
    """Move the chosen units from free to dispatched, record the dispatches, and audit each."""
    claimed: list[ClaimedUnit] = []
    for unit in chosen.itertuples():
        moved = session.execute(
            update(PatrolUnit)
            .where(
                col(PatrolUnit.unit_code) == unit.unit_code, col(PatrolUnit.status) == UnitStatus.free.value
            )
            .values(status=UnitStatus.dispatched.value, status_since=at, incident_id=incident.id)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(
                {
                    "unit_code": unit.unit_code,
                    "station_code": unit.station_code,
                    "distance_km": unit.distance_km,
                }
            )
    if not claimed:
        return claimed
    session.add_all(
        [
            Dispatch(
                incident_id=incident.id,  # type: ignore[arg-type]
                unit_code=u["unit_code"],
                escalation=escalation,
                distance_km=round(float(u["distance_km"]), 3),
                dispatched_at=at,
            )
            for u in claimed
        ]
    )
    session.add_all(
        [
            UnitStatusEvent(unit_code=u["unit_code"], incident_id=incident.id, status="dispatched", at=at)  # type: ignore[arg-type]
            for u in claimed
        ]
    )
    before = incident.status
    if incident.status == "open":
        incident.status = "dispatched"
        session.add(incident)
    audit.append(
        session,
        [
            audit.Change(
                "escalate" if escalation else "dispatch",
                "incident",
                incident.incident_code,
                {"status": before},
                {"status": incident.status, "units": [u["unit_code"] for u in claimed], "at": at},
                reason,
            )
        ]
        + [
            audit.Change(
                "status",
                "patrol_unit",
                u["unit_code"],
                {"status": UnitStatus.free.value},
                {"status": UnitStatus.dispatched.value, "incident": incident.incident_code, "at": at},
                f"dispatched to {incident.incident_code}, {u['distance_km']:.1f} km away",
            )
            for u in claimed
        ],
    )
    session.flush()
    return claimed


def dispatch_incident(
    session: Session, incident: Incident, wanted: int | None, at: datetime
) -> DispatchResult:
    """Send the nearest free units of the incident's own station (all of them for a search)."""
    result = DispatchResult(incident.incident_code, incident.station_code)
    if incident.status == "closed":
        result.closed = True
        return result
    lock_units(session, col(PatrolUnit.station_code) == incident.station_code)
    session.refresh(incident)
    has = session.execute(
        select(col(Dispatch.id))
        .where(col(Dispatch.incident_id) == incident.id, col(Dispatch.escalation).is_(False))
        .limit(1)
    ).first()
    if has:  # a replayed trigger or a second run: the first one already sent units
        result.already_dispatched = True
        return result
    units = station_units(session, col(PatrolUnit.station_code) == incident.station_code)
    result.free_before = int((units["status"] == UnitStatus.free.value).sum())
    lat, lon = place_of(session, incident)
    chosen = nearest_free(units, lat, lon, wanted)
    how = "every free unit" if wanted is None else f"the nearest {wanted} free unit(s)"
    result.units = claim(session, incident, chosen, at, reason=f"{incident.category}: {how} of the station")
    return result


def respond(session: Session, incident: Incident, rules: QuickResponseRules, at: datetime) -> DispatchResult:
    """The nearest free units of the incident's station or, when it has none, one from the nearest
    station that has (跨所增援)."""
    result = dispatch_incident(session, incident, rules.units_for(incident.category), at)
    if not result.units and not (result.already_dispatched or result.closed):
        unit = escalate(
            session, incident, at, f"{incident.incident_code}: no free unit at {incident.station_code}"
        )
        result.units = [unit] if unit else []
    return result


def escalate(session: Session, incident: Incident, at: datetime, reason: str) -> ClaimedUnit | None:
    """Pull the nearest free unit of the nearest other station that has one (跨所增援)."""
    lock_units(session, col(PatrolUnit.station_code) != incident.station_code)
    lat, lon = place_of(session, incident)
    stations = session.execute(
        select(col(Station.station_code), col(Station.lat), col(Station.lon)).where(
            col(Station.station_code) != incident.station_code
        )
    ).all()
    if not stations:
        return None
    frame = pd.DataFrame(stations, columns=["station_code", "lat", "lon"])
    frame["distance_km"] = distance_km(lat, lon, frame["lat"], frame["lon"])
    units = station_units(session, col(PatrolUnit.station_code) != incident.station_code)
    for station in frame.sort_values(["distance_km", "station_code"])["station_code"]:
        chosen = nearest_free(units[units["station_code"] == station], lat, lon, 1)
        if not chosen.empty:
            claimed = claim(session, incident, chosen, at, escalation=True, reason=reason)
            if claimed:
                return claimed[0]
    return None
