"""The follow-up sweep of one day (每日跟进督促): its record and its summary per station.

The summary is read back from what the day's stages wrote (follow-ups recorded and assigned that
day, notices and entries of that day, evidence changes of the follow-ups recorded), never from the
memory of one run, so a sweep killed half-way and finished by a rerun reports what an uninterrupted
one would. Each stage marks itself done in its own transaction (`sweep_stage`), so a killed day
resumes after the last stage that committed; a finished day is recorded (`sweep_day`), and sweeping
it again changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, NotRequired, TypedDict, cast

from sqlalchemy import ColumnElement, and_, func, select
from sqlmodel import Session, col

from bridgehead import audit
from models.clock import day_start
from models.follow_up import (
    AccountabilityEntry,
    CapacityNotice,
    FollowUp,
    SupervisionNotice,
    SweepDay,
    SweepStage,
)
from models.jurisdiction import Community
from models.risk import Risk, RiskLevelChange


class DayCounts(TypedDict):
    """A day's counts, for one station or the whole city."""

    due_today: int
    late: int
    assigned: int
    visits_recorded: int
    calm: int
    notices: int
    capacity_notices: int
    accountability: int
    colour_changes: int


class StationDay(DayCounts):
    station: str


#: A colour the day's visits changed (`to` is "resolved" when a blue risk's visit ended it).
ColourChange = TypedDict("ColourChange", {"risk_id": int, "from": str, "to": str})


class DaySummary(TypedDict):
    """What a swept day did, as `sweep_day.summary` keeps it (a JSON document)."""

    day: str
    stations: list[StationDay]
    totals: DayCounts
    changes: list[ColourChange]
    already_swept: NotRequired[bool]  # read back from an earlier sweep of the day


COLUMNS = tuple(DayCounts.__annotations__)  # the summary's columns, in the table's order


def finished(session: Session, day: date) -> SweepDay | None:
    return session.get(SweepDay, day)


def stages_done(session: Session, day: date) -> set[str]:
    """The stages of `day` that have committed (a killed sweep resumes after them)."""
    return set(session.execute(select(col(SweepStage.stage)).where(col(SweepStage.day) == day)).scalars())


def mark_stage(session: Session, day: date, stage: str) -> None:
    """Record `stage` of `day` as done, in the stage's own transaction (its key refuses a second)."""
    session.add(SweepStage(day=day, stage=stage))


def last_finished(session: Session) -> date | None:
    return session.execute(select(func.max(SweepDay.day))).scalar()


def evidence_changes(session: Session, day: date) -> list[ColourChange]:
    """The colour changes made by the visits recorded on `day` (the evidence rule)."""
    rows: Sequence[tuple[int, str, str, str]] = session.execute(
        select(
            col(RiskLevelChange.risk_id),
            col(RiskLevelChange.from_level),
            col(RiskLevelChange.to_level),
            col(Risk.status),
        )
        .join(
            FollowUp,
            and_(
                col(FollowUp.risk_id) == RiskLevelChange.risk_id,
                col(FollowUp.done_at) == RiskLevelChange.at,
                col(FollowUp.recorded_on) == day,
            ),
        )
        .join(Risk, col(Risk.id) == RiskLevelChange.risk_id)
        .where(col(RiskLevelChange.cause) == "evidence")
        .order_by(col(RiskLevelChange.risk_id))
    ).all()
    return [
        {"risk_id": rid, "from": old, "to": "resolved" if old == new == "blue" else new}
        for rid, old, new, _status in rows
    ]


def station_summary(session: Session, day: date) -> list[StationDay]:
    """Per station: due today, late, assigned, visits recorded and calm, notices, entries, colour changes."""
    station = select(col(Risk.id), col(Community.station_code)).join(Community).subquery()

    def by_station(*where: ColumnElement[bool]) -> Counter[str]:
        stmt = (
            select(station.c.station_code, func.count())
            .join(FollowUp, col(FollowUp.risk_id) == station.c.id)
            .where(*where)
            .group_by(station.c.station_code)
        )
        return Counter(dict(session.execute(stmt).all()))

    counts = {
        "due_today": by_station(col(FollowUp.status) == "pending", col(FollowUp.due_on) == day),
        "late": by_station(col(FollowUp.status) == "pending", col(FollowUp.planned_on) < day),
        "capacity_notices": _by(session, CapacityNotice.station_code, col(CapacityNotice.issued_on) == day),
        "assigned": by_station(col(FollowUp.created_at) == day_start(day)),
        "visits_recorded": by_station(col(FollowUp.recorded_on) == day),
        "calm": by_station(col(FollowUp.recorded_on) == day, col(FollowUp.calm).is_(True)),
        "notices": _by(
            session,
            SupervisionNotice.station_code,
            col(SupervisionNotice.issued_on) == day,
            col(SupervisionNotice.follow_up_id).is_not(None),
        ),
        "accountability": _by(
            session, AccountabilityEntry.station_code, col(AccountabilityEntry.recorded_on) == day
        ),
    }
    changed = [c["risk_id"] for c in evidence_changes(session, day)]
    counts["colour_changes"] = Counter(
        session.execute(select(station.c.station_code).where(station.c.id.in_(changed))).scalars()
    )
    stations = sorted(set().union(*counts.values()))
    return [cast(StationDay, {"station": s, **{k: counts[k][s] for k in COLUMNS}}) for s in stations]


def _by(session: Session, station: Any, *where: ColumnElement[bool]) -> Counter[str]:
    """Rows that carry their station, counted per station."""
    return Counter(dict(session.execute(select(station, func.count()).where(*where).group_by(station)).all()))


def finish(session: Session, day: date) -> DaySummary:
    """Record the day as swept, with its summary; audited."""
    stations = station_summary(session, day)
    counted: Sequence[Mapping[str, Any]] = stations  # each count by its name, for every column
    totals = cast(DayCounts, {k: sum(r[k] for r in counted) for k in COLUMNS})
    summary = DaySummary(
        day=day.isoformat(), stations=stations, totals=totals, changes=evidence_changes(session, day)
    )
    session.add(SweepDay(day=day, actor=audit.current_actor(), summary=dict(summary)))
    audit.append(
        session, [audit.Change("sweep", "sweep_day", day.isoformat(), None, totals, "daily sweep finished")]
    )
    return summary
