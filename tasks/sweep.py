"""The follow-up sweep of one day (每日跟进督促), stage by stage, and its summary per station.

Each stage commits on its own, so a sweep killed half-way and run again ends where an uninterrupted
one would; a day whose sweep finished is recorded (`sweep_day`) and a second sweep of it changes
nothing and returns the recorded summary.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bridgehead import audit
from bridgehead.rules import Rules
from models.follow_up import AccountabilityEntry, FollowUp, SupervisionNotice, SweepDay
from models.jurisdiction import Community
from models.risk import Risk
from tasks.follow_up import VisitSummary


def finished(session: Session, day: date) -> SweepDay | None:
    return session.get(SweepDay, day)


def last_finished(session: Session) -> date | None:
    return session.execute(select(func.max(SweepDay.day))).scalar()


def station_summary(session: Session, day: date, visits: VisitSummary) -> list[dict[str, Any]]:
    """Per station: due today, late, notices issued, accountability entries, colour changes."""
    station = select(Risk.id, Community.station_code).join(Community).subquery()

    def counts(stmt: Any) -> Counter[str]:
        return Counter(dict(session.execute(stmt).all()))

    due = counts(
        select(station.c.station_code, func.count())
        .join(FollowUp, FollowUp.risk_id == station.c.id)
        .where(FollowUp.status == "pending", FollowUp.due_on == day)
        .group_by(station.c.station_code)
    )
    late = counts(
        select(station.c.station_code, func.count())
        .join(FollowUp, FollowUp.risk_id == station.c.id)
        .where(FollowUp.status == "pending", FollowUp.due_on < day)
        .group_by(station.c.station_code)
    )
    notices = counts(
        select(SupervisionNotice.station_code, func.count())
        .where(SupervisionNotice.issued_on == day, SupervisionNotice.follow_up_id.is_not(None))
        .group_by(SupervisionNotice.station_code)
    )
    entries = counts(
        select(AccountabilityEntry.station_code, func.count())
        .where(AccountabilityEntry.recorded_on == day)
        .group_by(AccountabilityEntry.station_code)
    )
    changed_ids = [c["risk_id"] for c in visits.lowered] + visits.resolved
    changed = Counter(
        session.execute(select(station.c.station_code).where(station.c.id.in_(changed_ids))).scalars()
    )
    stations = sorted(set(due) | set(late) | set(notices) | set(entries) | set(changed))
    return [
        {
            "station": s,
            "due_today": due[s],
            "late": late[s],
            "notices": notices[s],
            "accountability": entries[s],
            "colour_changes": changed[s],
        }
        for s in stations
    ]


def mark_finished(session: Session, day: date, summary: dict[str, Any]) -> SweepDay:
    record = SweepDay(day=day, actor=audit.current_actor(), summary=summary)
    session.add(record)
    audit.append(
        session,
        [
            audit.Change(
                "sweep", "sweep_day", day.isoformat(), None, summary["totals"], "daily sweep finished"
            )
        ],
    )
    return record


def totals(rows: list[dict[str, Any]], visits: VisitSummary, scheduled: int) -> dict[str, int]:
    out = {
        k: sum(r[k] for r in rows)
        for k in ("due_today", "late", "notices", "accountability", "colour_changes")
    }
    return out | {
        "visits_recorded": visits.completed,
        "calm": visits.calm,
        "assigned": scheduled,
        "resolved": len(visits.resolved),
    }


__all__ = ["Rules", "finished", "last_finished", "mark_finished", "station_summary", "totals"]
