"""Quick response in a review (快反): each incident's times to dispatch and arrival, and the 1-3-5
verdicts, read per window for the response figures and the officers' rewards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session, col

from bridgehead.db import frame_of, read
from models.incident import Dispatch, Incident
from models.signal import Signal
from tasks.review.figures import epoch, in_scope
from tasks.review.period import Scope, Window, between


def incidents(
    session: Session, window: Window, scope: Scope | None, as_of: datetime, by: Any = Incident.opened_at
) -> pd.DataFrame:
    """Incidents opened (or `by` another time) in the window: seconds to the first dispatch and arrival
    (units' reports, else the call's), whether each 1-3-5 target was met (1, 0, or null with no time
    recorded), whether it was due before `as_of`, whether the incident came in closed from the source's
    history (closed by no one here), and who closed it."""
    return incidents_by_window(session, {"window": window}, scope, as_of, by)["window"]


def incidents_by_window(
    session: Session,
    windows: dict[str, Window],
    scope: Scope | None,
    as_of: datetime,
    by: Any = Incident.opened_at,
) -> dict[str, pd.DataFrame]:
    """`incidents` of each window, read in one statement: a period's windows overlap (the previous
    period and last year's), and each incident is read once. Times are compared and subtracted in the
    database: a year of incidents is numbers to read, not timestamps to parse."""

    def first(column: Any) -> Any:
        return select(func.min(column)).where(col(Dispatch.incident_id) == Incident.id).scalar_subquery()

    times = (  # materialized: each time is looked up once, then compared and subtracted
        select(
            col(Incident.id).label("id"),
            col(Incident.community_code).label("community_code"),
            col(Incident.closed_by).label("closed_by"),
            col(Incident.closed_at).label("closed_at"),
            col(Incident.opened_at).label("opened_at"),
            col(Incident.dispatch_target_at).label("dispatch_due"),
            col(Incident.arrival_target_at).label("arrival_due"),
            func.coalesce(first(Dispatch.dispatched_at), Signal.dispatched_at).label("dispatched"),
            func.coalesce(first(Dispatch.on_scene_at), Signal.arrived_at).label("arrived"),
            *(
                case((between(by, w, False), 1), else_=0).label(f"in_{i}")
                for i, w in enumerate(windows.values())
            ),
        )
        .outerjoin(Signal, col(Signal.id) == Incident.signal_id)
        .where(
            or_(*(between(by, w, False) for w in windows.values())), in_scope(scope, Incident.community_code)
        )
        .cte("incident_times")
        .prefix_with("MATERIALIZED")
    )
    t = times.c

    def step(done: Any, due: Any) -> list[Any]:
        return [
            epoch(session, done) - epoch(session, t.opened_at),
            case((done <= due, 1), (done > due, 0)),
            case((due < as_of, 1), else_=0),
        ]

    history = case((and_(t.closed_at.is_not(None), t.closed_by.is_(None)), 1), else_=0)
    flags = [f"in_{i}" for i in range(len(windows))]
    rows = read(
        session,
        select(
            t.id,
            t.community_code,
            t.closed_by,
            history,
            *step(t.dispatched, t.dispatch_due),
            *step(t.arrived, t.arrival_due),
            *(t[f] for f in flags),
        ).order_by(t.id),
    ).all()
    frame = frame_of(rows, columns=INCIDENT_COLUMNS + flags)
    types = {f"{step}_{part}": kind for step in ("dispatch", "arrival") for part, kind in STEP_TYPES.items()}
    frame = frame.astype({"history": bool} | types)
    return {
        name: frame[frame[flag] == 1].drop(columns=flags).reset_index(drop=True)
        for name, flag in zip(windows, flags, strict=True)
    }


STEP_TYPES = {"s": "float", "met": "Int8", "overdue": "bool"}
INCIDENT_COLUMNS = [
    "id",
    "community_code",
    "closed_by",
    "history",
    *(f"{step}_{part}" for step in ("dispatch", "arrival") for part in STEP_TYPES),
]
