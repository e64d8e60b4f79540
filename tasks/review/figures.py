"""The counts a review (复盘问效) is made of, per community and window, each from one SQL query.

Every count is grouped by community in the database, so a province's year is a few hundred rows per
query, and the scope's total and the ranking of the level below it come from the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Integer, and_, cast, func, literal, select
from sqlmodel import Session, col

from models.case import CriminalCase
from models.common import LOCAL_TZ
from models.follow_up import AccountabilityEntry, CapacityNotice, FollowUp, SupervisionNotice
from models.incident import Dispatch, Incident
from models.jurisdiction import Community, Officer
from models.reward import RewardEntry
from models.risk import Risk
from models.signal import Signal
from models.tip import Tip
from tasks.review.colours import colours_found
from tasks.review.period import Period, Scope, Window

WINDOWS = ("current", "previous", "last_year")


def in_scope(scope: Scope | None, column: Any) -> Any:
    """Everything for the city (or no scope at all), else the scope's communities."""
    return literal(True) if scope is None or scope.kind == "city" else column.in_(scope.communities)


def _between(column: Any, window: Window, dates: bool) -> Any:
    if dates:
        return and_(column >= window.first, column <= window.last)
    return and_(column >= window.start, column < window.end)


def on_record(session: Session, period: Period) -> dict[str, bool]:
    """Whether the register holds anything in each window — a signal, or a case filed. A zero in a window
    with data is a zero; in a window before the data begins (a 20-day export's last year) it is unknown,
    and nothing is compared with it."""
    out = {}
    for name, window in period.windows.items():
        signal = select(col(Signal.id)).where(_between(Signal.occurred_at, window, False)).limit(1)
        filed = select(col(CriminalCase.id)).where(_between(CriminalCase.filed_at, window, False)).limit(1)
        out[name] = session.execute(signal).first() is not None or session.execute(filed).first() is not None
    return out


NO_RECORD = (
    "该时段登记库中无任何数据（数据源起始于此后）：不作比较",
    "nothing on record for this window (the data begins later): not compared",
)


def per_community(
    session: Session,
    period: Period,
    scope: Scope,
    base: Callable[[], Any],
    community: Any,
    when: Any,
    dates: bool = False,
) -> pd.DataFrame:
    """A count per community (rows) and window (columns), from `base()` (a select of FROM and WHERE)."""
    counts = {}
    for name, window in period.windows.items():
        stmt = (
            base()
            .add_columns(community.label("community_code"), func.count().label("n"))
            .where(_between(when, window, dates), in_scope(scope, community))
            .group_by(community)
        )
        counts[name] = dict(session.execute(stmt).all())
    frame = pd.DataFrame(counts, columns=list(WINDOWS)).fillna(0).astype(int)
    frame.index.name = "community_code"
    return frame


def _from(*entities: Any) -> Callable[[], Any]:
    """A select with nothing in its column list yet, from `entities` (joined by their foreign keys)."""

    def build() -> Any:
        stmt = select().select_from(entities[0])
        for entity in entities[1:]:
            stmt = stmt.join(entity)
        return stmt

    return build


def counts(session: Session, period: Period, scope: Scope) -> dict[str, pd.DataFrame]:
    """Every plain count of the review, per community and window."""

    def signals(channel: str) -> pd.DataFrame:
        return per_community(
            session,
            period,
            scope,
            lambda: select().where(col(Signal.channel) == channel),
            Signal.community_code,
            Signal.occurred_at,
        )

    def cases(*where: Any, when: Any = CriminalCase.filed_at) -> pd.DataFrame:
        return per_community(
            session, period, scope, lambda: select().where(*where), CriminalCase.community_code, when
        )

    fraud = CriminalCase.offence == "telecom_fraud"
    out = {
        "calls": signals("call"),
        "cases_filed": cases(),
        "telecom_fraud_filed": cases(fraud),
        "telecom_fraud_solved": cases(fraud, when=CriminalCase.solved_at),
        "risks_found": per_community(
            session, period, scope, lambda: select(), Risk.community_code, Risk.first_signal_at
        ),
        "risks_resolved": per_community(
            session, period, scope, lambda: select(), Risk.community_code, Risk.resolved_at
        ),
        "tips_received": signals("tip"),
        "tips_verified": per_community(
            session, period, scope, _from(Tip, Signal), Signal.community_code, Tip.verified_at
        ),
        "tips_rewarded": per_community(
            session,
            period,
            scope,
            lambda: (
                select()
                .select_from(RewardEntry)
                .join(Tip, col(RewardEntry.beneficiary) == "tip:" + Tip.tip_code)
                .join(Signal, col(Signal.id) == Tip.signal_id)
                .where(
                    col(RewardEntry.kind) == "tip_reward", col(RewardEntry.status).in_(("approved", "paid"))
                )
            ),
            Signal.community_code,
            RewardEntry.decided_at,
        ),
    }
    return out


def risks_found_by(session: Session, period: Period, scope: Scope) -> dict[str, dict[str, int]]:
    """Risks found in each window by the channel of their first signal, and by colour at the window's end."""
    out: dict[str, dict[str, int]] = {}
    for name, window in period.windows.items():
        found = and_(_between(Risk.first_signal_at, window, False), in_scope(scope, Risk.community_code))
        found_ids = select(col(Risk.id)).where(found)
        first = (
            select(col(Signal.risk_id), func.min(Signal.channel).label("channel"))
            .join(Risk, col(Risk.id) == Signal.risk_id)
            .where(col(Signal.risk_id).in_(found_ids), col(Signal.occurred_at) == Risk.first_signal_at)
            .group_by(col(Signal.risk_id))
            .subquery()
        )
        by_channel: Sequence[tuple[str, int]] = session.execute(
            select(first.c.channel, func.count()).group_by(first.c.channel)
        ).all()
        by_colour = colours_found(session, found, window).items()
        out[name] = {f"channel.{c}": n for c, n in by_channel} | {f"colour.{c}": n for c, n in by_colour}
    return out


def incidents(
    session: Session, window: Window, scope: Scope | None, by: Any = Incident.opened_at
) -> pd.DataFrame:
    """Incidents opened (or `by` another time) in the window, with first dispatch and arrival (units'
    reports, else the call's) and who closed them."""
    units = (
        select(
            col(Dispatch.incident_id),
            func.min(Dispatch.dispatched_at).label("dispatched"),
            func.min(Dispatch.on_scene_at).label("on_scene"),
        )
        .group_by(col(Dispatch.incident_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Incident.id),
            col(Incident.community_code),
            col(Incident.opened_at),
            col(Incident.dispatch_target_at),
            col(Incident.arrival_target_at),
            col(Incident.closed_at),
            col(Incident.closed_by),
            func.coalesce(units.c.dispatched, Signal.dispatched_at),
            func.coalesce(units.c.on_scene, Signal.arrived_at),
        )
        .outerjoin(units, units.c.incident_id == Incident.id)
        .outerjoin(Signal, col(Signal.id) == Incident.signal_id)
        .where(_between(by, window, False), in_scope(scope, Incident.community_code))
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            "community_code",
            "opened_at",
            "dispatch_due",
            "arrival_due",
            "closed_at",
            "closed_by",
            "dispatched_at",
            "arrived_at",
        ],
    )
    for column in ("opened_at", "dispatch_due", "arrival_due", "closed_at", "dispatched_at", "arrived_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def follow_ups(session: Session, window: Window, scope: Scope) -> pd.DataFrame:
    """Follow-ups due in the window (not cancelled), with whether each was done on time, and whose."""
    rows = session.execute(
        select(
            col(FollowUp.id),
            col(FollowUp.due_on),
            col(FollowUp.status),
            col(FollowUp.done_at),
            col(FollowUp.officer_code),
            col(Risk.community_code),
            col(Community.station_code),
        )
        .join(Risk, col(Risk.id) == FollowUp.risk_id)
        .join(Community, col(Community.community_code) == Risk.community_code)
        .where(
            col(FollowUp.status) != "cancelled",
            _between(FollowUp.due_on, window, True),
            in_scope(scope, Risk.community_code),
        )
    ).all()
    frame = pd.DataFrame(
        rows, columns=["id", "due_on", "status", "done_at", "officer_code", "community_code", "station_code"]
    )
    done_at = pd.to_datetime(frame["done_at"], utc=True).dt.tz_convert(LOCAL_TZ)
    frame["on_time"] = (frame["status"] == "done") & (done_at.dt.date <= frame["due_on"])
    return frame


def supervision(session: Session, period: Period, scope: Scope) -> dict[str, dict[str, int]]:
    """Supervision and capacity notices and accountability entries per window: by station, or a
    community's officers (a capacity notice is about the officer whose day overflowed)."""
    stations = sorted(set(scope_stations(session, scope)))
    officers = (
        select(col(Officer.officer_code)).where(col(Officer.community_code) == scope.code)
        if scope.kind == "community"
        else None
    )

    def where(station: Any, officer: Any) -> Any:
        if scope.kind == "city":
            return literal(True)
        if officers is not None:
            return officer.in_(officers)
        return station.in_(stations)

    out: dict[str, dict[str, int]] = {}
    for name, window in period.windows.items():
        notices = select(func.count()).where(
            _between(SupervisionNotice.issued_on, window, True),
            where(SupervisionNotice.station_code, SupervisionNotice.recipient_officer_code),
        )
        entries = select(func.count()).where(
            _between(AccountabilityEntry.recorded_on, window, True),
            where(AccountabilityEntry.station_code, AccountabilityEntry.officer_code),
        )
        capacity = select(func.count()).where(
            _between(CapacityNotice.issued_on, window, True),
            where(CapacityNotice.station_code, CapacityNotice.officer_code),
        )
        out[name] = {
            "supervision_notices": session.execute(notices).scalar_one(),
            "capacity_notices": session.execute(capacity).scalar_one(),
            "accountability_entries": session.execute(entries).scalar_one(),
        }
    return out


def scope_stations(session: Session, scope: Scope) -> list[str]:
    stmt = select(col(Community.station_code)).distinct().where(in_scope(scope, Community.community_code))
    return list(session.execute(stmt).scalars())


def open_by_colour(session: Session, scope: Scope) -> pd.DataFrame:
    """Open risks now, per community and colour (the red and orange communities, the colour chart's
    'open now')."""
    rows = session.execute(
        select(col(Risk.community_code), col(Risk.level), func.count())
        .where(col(Risk.status) == "open", in_scope(scope, Risk.community_code))
        .group_by(col(Risk.community_code), col(Risk.level))
    ).all()
    return pd.DataFrame(rows, columns=["community_code", "level", "n"])


def weekly(session: Session, year: int, through: datetime, scope: Scope) -> dict[str, list[int]]:
    """Calls and criminal cases per ISO week of `year` up to `through`, and of the whole year before."""
    out: dict[str, list[int]] = {}
    for label, model, when, extra in (
        ("calls", Signal, col(Signal.occurred_at), col(Signal.channel) == "call"),
        ("cases", CriminalCase, col(CriminalCase.filed_at), literal(True)),
    ):
        for which, y in (("this_year", year), ("last_year", year - 1)):
            monday = datetime.combine(date.fromisocalendar(y, 1, 1), time(), LOCAL_TZ)
            weeks = date(y, 12, 28).isocalendar().week
            end = monday + timedelta(weeks=weeks)
            week = _weeks_since(session, when, monday)
            rows: Sequence[tuple[int, int]] = session.execute(
                select(week, func.count())
                .select_from(model)
                .where(
                    extra,
                    when >= monday,
                    when < (min(end, through) if which == "this_year" else end),
                    in_scope(scope, model.community_code),
                )
                .group_by(week)
            ).all()
            series = [0] * weeks
            for w, n in rows:
                series[int(w)] += n
            out[f"{label}.{which}"] = series
    return out


def _weeks_since(session: Session, column: Any, monday: datetime) -> Any:
    """Whole weeks from `monday` to `column`, in SQL, in whole seconds (a Monday 00:00 is that week's)."""
    anchor = int(monday.timestamp())
    if session.get_bind().dialect.name == "sqlite":  # UTC text: strftime('%s') is exact, julianday is not
        seconds = cast(func.strftime("%s", column), Integer) - anchor
        return cast(seconds / WEEK_S, Integer)  # integers, never negative here: the floor
    return func.floor((func.extract("epoch", column) - anchor) / WEEK_S)


WEEK_S = 7 * 86400
