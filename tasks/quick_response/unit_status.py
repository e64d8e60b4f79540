"""The unit status feed (警力状态): units report dispatched, en route, on scene, cleared.

Each line is kept as received (its natural key makes a reloaded feed a no-op); the dispatch
record of a unit on an incident then holds the first time each state was reported, and a unit's
current status follows its latest report, so a late, out-of-order line never puts a cleared unit
back on an old job. Lines naming an unknown unit or incident are quarantined with their reason.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.bulk import update_by_id
from bridgehead.db import chunks
from models.common import local_text
from models.incident import Dispatch, Incident, UnitStatusEvent, UnitStatusIn
from models.jurisdiction import PatrolUnit, UnitStatus
from tasks.intake.checks import check_file
from tasks.intake.files import Checked, Reject
from tasks.intake.quarantine import quarantine
from tasks.quick_response.dispatch import lock_units

STATES = ("dispatched", "en_route", "on_scene", "cleared")
FIELD = {state: f"{state}_at" for state in STATES}


@dataclass
class FeedResult:
    file: str
    rows: int
    applied: int = 0
    duplicates: int = 0
    quarantined: int = 0
    dispatches: int = 0
    units: int = 0


def _incidents(session: Session, codes: set[str]) -> dict[str, tuple[int, datetime, str]]:
    found: dict[str, tuple[int, datetime, str]] = {}
    for part in chunks(sorted(codes)):
        rows = session.execute(
            select(col(Incident.incident_code), col(Incident.id), col(Incident.opened_at)).where(
                col(Incident.incident_code).in_(part)
            )
        ).tuples()
        found |= {code: (iid, opened, code) for code, iid, opened in rows}
    return found


def validate_feed(session: Session, path: Path) -> tuple[list[dict[str, Any]], Checked[UnitStatusIn]]:
    """The feed's good lines as event rows; the others quarantined with file, line and reason."""
    checked = check_file(path, UnitStatusIn)
    incidents = _incidents(session, {m.incident_id for _, m in checked.rows})
    units = set(session.scalars(select(col(PatrolUnit.unit_code))))
    good = []
    for line, row in checked.rows:
        found = incidents.get(row.incident_id)
        problem = None
        if found is None:
            problem = f"incident_id: there is no incident {row.incident_id!r}"
        elif row.unit_code not in units:
            problem = f"unit_code: {row.unit_code!r} is not a known patrol unit"
        elif row.at < found[1]:
            problem = f"at: {local_text(row.at)} is before the incident opened ({local_text(found[1])})"
        if problem:
            checked.rejects.append(Reject(checked.file, line, problem, row.model_dump(mode="json")))
            continue
        assert found is not None  # no problem: the incident was found
        good.append(
            {
                "unit_code": row.unit_code,
                "incident_id": found[0],
                "code": found[2],
                "status": row.status,
                "at": row.at,
            }
        )
    checked.rejects.sort(key=lambda r: r.line)
    quarantine(session, "unit_status", checked)
    return good, checked


def apply_feed(session: Session, path: Path) -> FeedResult:
    """Apply one feed file in the caller's transaction; a second application changes nothing."""
    events, checked = validate_feed(session, path)
    result = FeedResult(str(path), len(events) + len(checked.rejects), quarantined=len(checked.rejects))
    if not events:
        return result
    unit_codes = sorted({e["unit_code"] for e in events})
    lock_units(session, col(PatrolUnit.unit_code).in_(unit_codes))
    incident_ids = sorted({e["incident_id"] for e in events})
    known = _known_events(session, incident_ids)
    key = lambda e: (e["unit_code"], e["incident_id"], e["status"], e["at"])  # noqa: E731
    new = list({key(e): e for e in events if key(e) not in known}.values())
    result.duplicates, result.applied = len(events) - len(new), len(new)
    if not new:
        return result
    session.execute(
        insert(UnitStatusEvent),
        [{k: e[k] for k in ("unit_code", "incident_id", "status", "at")} for e in new],
    )
    codes = {e["incident_id"]: e["code"] for e in events}
    changes = _update_dispatches(session, known | {key(e) for e in new}, codes, path.name)
    changes += _update_units(session, new, codes)
    changes += _mark_dispatched(session, incident_ids, codes)
    result.dispatches = sum(1 for c in changes if c.entity == "dispatch")
    result.units = sum(1 for c in changes if c.entity == "patrol_unit")
    audit.append(session, changes)
    return result


def _known_events(session: Session, incident_ids: list[int]) -> set[tuple[str, int, str, datetime]]:
    known: set[tuple[str, int, str, datetime]] = set()
    for part in chunks(incident_ids):
        rows = session.execute(
            select(
                col(UnitStatusEvent.unit_code),
                col(UnitStatusEvent.incident_id),
                col(UnitStatusEvent.status),
                col(UnitStatusEvent.at),
            ).where(col(UnitStatusEvent.incident_id).in_(part))
        ).tuples()
        known |= {(unit, iid, status, at) for unit, iid, status, at in rows}
    return known


def _update_dispatches(
    session: Session, events: set[tuple[str, int, str, datetime]], codes: dict[int, str], source: str
) -> list[audit.Change]:
    """Each affected dispatch holds the first report of each state; a unit that reports in unsent is added."""
    first: dict[tuple[int, str], dict[str, datetime]] = defaultdict(dict)
    for unit, iid, status, at in events:
        if iid in codes:
            times = first[(iid, unit)]
            times[FIELD[status]] = min(at, times.get(FIELD[status], at))
    existing = {
        (d.incident_id, d.unit_code): d
        for part in chunks(sorted(codes))
        for d in session.scalars(select(Dispatch).where(col(Dispatch.incident_id).in_(part)))
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    changes: list[audit.Change] = []
    for (iid, unit), times in first.items():
        d = existing.get((iid, unit))
        before = {f: getattr(d, f) for f in FIELD.values()} if d else dict.fromkeys(FIELD.values())
        after = {f: _earliest(before[f], times.get(f)) for f in FIELD.values()}
        after["dispatched_at"] = after["dispatched_at"] or min(times.values())
        if after == before:
            continue
        if d is None:
            inserts.append({"incident_id": iid, "unit_code": unit, **after})
        else:
            updates.append({"id": d.id, **after})
        old, new = audit.changed_fields(before, after, list(FIELD.values()))
        changes.append(
            audit.Change("status", "dispatch", f"{codes[iid]}/{unit}", old, new, f"unit status feed {source}")
        )
    if inserts:
        session.execute(insert(Dispatch), inserts)
    if updates:
        update_by_id(session, Dispatch, updates)
    return changes


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b


def _update_units(session: Session, new: list[dict[str, Any]], codes: dict[int, str]) -> list[audit.Change]:
    """A unit's status follows its latest report; older lines arriving late change nothing."""
    latest: dict[str, dict[str, Any]] = {}
    for e in sorted(new, key=lambda e: (e["at"], STATES.index(e["status"]))):
        latest[e["unit_code"]] = e
    units = {
        u.unit_code: u
        for u in session.scalars(select(PatrolUnit).where(col(PatrolUnit.unit_code).in_(sorted(latest))))
    }
    changes = []
    for code, e in latest.items():
        unit = units[code]
        if unit.status_since is not None and e["at"] < unit.status_since:
            continue
        status = UnitStatus.free.value if e["status"] == "cleared" else e["status"]
        incident_id = None if e["status"] == "cleared" else e["incident_id"]
        if (unit.status, unit.incident_id, unit.status_since) == (status, incident_id, e["at"]):
            continue
        before = {"status": unit.status, "incident": codes.get(unit.incident_id or 0)}
        unit.status, unit.incident_id, unit.status_since = status, incident_id, e["at"]
        session.add(unit)
        changes.append(
            audit.Change(
                "status",
                "patrol_unit",
                code,
                before,
                {"status": status, "incident": e["code"], "at": e["at"]},
                f"reported {e['status']}",
            )
        )
    session.flush()
    return changes


def _mark_dispatched(session: Session, incident_ids: list[int], codes: dict[int, str]) -> list[audit.Change]:
    """An open incident that a unit reports on is under way, whoever sent the unit."""
    moved: list[int] = []
    for part in chunks(incident_ids):
        moved += session.execute(
            select(col(Incident.id)).where(
                col(Incident.id).in_(part),
                col(Incident.status) == "open",
                col(Incident.id).in_(select(col(Dispatch.incident_id))),
            )
        ).scalars()
    if moved:
        session.execute(update(Incident).where(col(Incident.id).in_(moved)).values(status="dispatched"))
    return [
        audit.Change(
            "status", "incident", codes[i], {"status": "open"}, {"status": "dispatched"}, "a unit reported in"
        )
        for i in moved
    ]
