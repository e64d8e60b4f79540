"""The counts a review (复盘问效) is made of, per community and window, each from one SQL query.

Every count is grouped by community in the database, so a province's year is a few hundred rows per
query, and the scope's total and the ranking of the level below it come from the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Date, Integer, and_, case, cast, column, func, literal, select, values
from sqlmodel import Session, col

from bridgehead.db import frame_of, table_of
from models.case import CriminalCase
from models.clock import day_start
from models.common import LOCAL_TZ
from models.follow_up import AccountabilityEntry, CapacityNotice, FollowUp, SupervisionNotice, SweepDay
from models.jurisdiction import Community, Officer
from models.reward import RewardEntry
from models.risk import Risk
from models.signal import Signal
from models.tip import Tip
from tasks.review.colours import found_by
from tasks.review.period import Period, Scope, Window, between

WINDOWS = ("current", "previous", "last_year")


def in_scope(scope: Scope | None, column: Any) -> Any:
    """Everything for the city (or no scope at all), else the scope's communities."""
    return literal(True) if scope is None or scope.kind == "city" else column.in_(scope.communities)


def on_record(session: Session, period: Period) -> dict[str, bool]:
    """Whether the register holds anything in each window — a signal, or a case filed. A zero in a window
    with data is a zero; in a window before the data begins (a 20-day export's last year) it is unknown,
    and nothing is compared with it."""
    out = {}
    for name, window in period.windows.items():
        signal = select(col(Signal.id)).where(between(Signal.occurred_at, window, False)).limit(1)
        filed = select(col(CriminalCase.id)).where(between(CriminalCase.filed_at, window, False)).limit(1)
        out[name] = session.execute(signal).first() is not None or session.execute(filed).first() is not None
    return out


NO_RECORD = (
    "该时段登记库中无任何数据（数据源起始于此后）：不作比较",
    "nothing on record for this window (the data begins later): not compared",
)

#: The figures only the follow-up cycle writes (跟进督促, 化解): visits owed and made, notices, ends.
CYCLE_FIGURES = frozenset(
    {
        "risks_resolved",
        "settlement_rate_pct",
        "risks_back",
        "open_risks_per_officer",
        "follow_ups_due",
        "follow_ups_on_time",
        "follow_up_on_time_pct",
        "supervision_notices",
        "capacity_notices",
        "accountability_entries",
    }
)
NO_CYCLE = (
    "该时段尚无跟进督促记录（始于此后）：风险在案，但走访与化解未记录，不作比较",
    "the follow-up cycle was not yet recorded in this window (its records begin later): the risks are on "
    "record, their visits and ends are not; not compared",
)


def cycle_on_record(session: Session, period: Period) -> dict[str, bool]:
    """Whether the follow-up cycle had begun by each window's end: its first swept day, or the first visit
    it planned. (Not its first end: an end is dated by the visit it rests on, and the first sweep ends
    what an imported visit settled on the spot years before.) A register taken in from an older export
    holds that time's risks but not their visits and ends: a 0% 化解率 there would describe the import,
    not the stations."""
    first_day: date | None = session.scalar(select(func.min(SweepDay.day)))
    first_plan: datetime | None = session.scalar(select(func.min(FollowUp.created_at)))
    began = [t for t in (day_start(first_day) if first_day else None, first_plan) if t is not None]
    return {name: bool(began) and min(began) < window.end for name, window in period.windows.items()}


def per_community(
    session: Session,
    period: Period,
    scope: Scope,
    base: Callable[[], Any],
    community: Any,
    when: Any,
    dates: bool = False,
    parts: dict[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """Counts per community (rows) and window (columns) from `base()` (a select of FROM and WHERE), one
    query per window: one count per part (a name and a condition on the row; by default one, `n`)."""
    parts = parts or {"n": literal(True)}
    counts: dict[str, dict[str, dict[str, int]]] = {key: {} for key in parts}
    for name, window in period.windows.items():
        stmt = (
            base()
            .add_columns(community, *(func.sum(case((where, 1), else_=0)) for where in parts.values()))
            .where(between(when, window, dates), in_scope(scope, community))
            .group_by(community)
        )
        rows: Sequence[Any] = session.execute(stmt).all()
        for code, *ns in rows:
            for key, n in zip(parts, ns, strict=True):
                counts[key].setdefault(name, {})[code] = int(n)
    return {key: _by_community(by_window) for key, by_window in counts.items()}


def _by_community(by_window: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Counts by window and community as a frame: communities as rows, every window a column, 0 where none."""
    frame = pd.DataFrame(by_window, columns=list(WINDOWS)).fillna(0).astype(int)
    frame.index.name = "community_code"
    return frame


def per_signal_community(
    session: Session, period: Period, scope: Scope, signal_ids: Callable[[Window], Any]
) -> pd.DataFrame:
    """Signals per community (rows) and window (columns): those `signal_ids(window)` selects (tips by
    their verification or reward), looked up by id rather than joined (SQLite, without statistics, read
    every signal in community order to find a few thousand tips)."""
    counts = {}
    for name, window in period.windows.items():
        stmt = (
            select(col(Signal.community_code), func.count())
            .where(col(Signal.id).in_(signal_ids(window)), in_scope(scope, Signal.community_code))
            .group_by(col(Signal.community_code))
        )
        counts[name] = dict(session.execute(stmt).tuples().all())
    return _by_community(counts)


def counts(session: Session, period: Period, scope: Scope) -> dict[str, pd.DataFrame]:
    """Every plain count of the review, per community and window."""

    channel = col(Signal.channel)
    signals = per_community(
        session,
        period,
        scope,
        lambda: select().where(channel.in_(("call", "tip"))),
        Signal.community_code,
        Signal.occurred_at,
        parts={"calls": channel == "call", "tips_received": channel == "tip"},
    )
    fraud = col(CriminalCase.offence) == "telecom_fraud"
    cases = per_community(
        session,
        period,
        scope,
        lambda: select(),
        CriminalCase.community_code,
        CriminalCase.filed_at,
        parts={"cases_filed": literal(True), "telecom_fraud_filed": fraud},
    )
    solved = per_community(
        session,
        period,
        scope,
        lambda: select().where(fraud),
        CriminalCase.community_code,
        CriminalCase.solved_at,
    )

    def risks(when: Any) -> pd.DataFrame:
        return per_community(session, period, scope, lambda: select(), Risk.community_code, when)["n"]

    def verified(window: Window) -> Any:
        return select(col(Tip.signal_id)).where(between(Tip.verified_at, window, False))

    def rewarded(window: Window) -> Any:
        return (
            select(col(Tip.signal_id))
            .join(RewardEntry, col(RewardEntry.beneficiary) == "tip:" + Tip.tip_code)
            .where(
                col(RewardEntry.kind) == "tip_reward",
                col(RewardEntry.status).in_(("approved", "paid")),
                between(RewardEntry.decided_at, window, False),
            )
        )

    return {
        "calls": signals["calls"],
        **cases,
        "telecom_fraud_solved": solved["n"],
        "risks_found": risks(Risk.first_signal_at),
        "risks_resolved": risks(Risk.resolved_at),
        "tips_received": signals["tips_received"],
        "tips_verified": per_signal_community(session, period, scope, verified),
        "tips_rewarded": per_signal_community(session, period, scope, rewarded),
    }


def risks_found_by(session: Session, period: Period, scope: Scope) -> dict[str, dict[str, int]]:
    """Risks found in each window by how they were found (their first signal's channel, kept on the risk),
    and by colour at the window's end (`tasks.review.colours.found_by`)."""
    return found_by(session, in_scope(scope, Risk.community_code), period)


def epoch(session: Session, column: Any) -> Any:
    """Seconds since 1970 of a stored (UTC) time, in SQL."""
    if session.get_bind().dialect.name == "sqlite":  # UTC text: strftime('%s') is exact
        return cast(func.strftime("%s", column), Integer)
    return func.extract("epoch", column)


def follow_ups(
    session: Session, window: Window, scope: Scope, today: date, station_of: dict[str, str]
) -> pd.DataFrame:
    """Follow-ups due in the window (not cancelled), per officer and station: how many fell due (`due`),
    were done by the end of their due day in the jurisdiction's time zone (`on_time`), and were missed
    with their day past `today` (`missed`). The day's end is the local midnight after it, as UTC, from a
    small table of the window's days: the database needs no time zone of its own."""
    days = [window.first + timedelta(days=i) for i in range(window.days)]
    ends = (
        values(column("day", Date), column("ends", table_of(FollowUp).c.done_at.type), name="day_ends")
        .data([(d, day_start(d + timedelta(days=1))) for d in days])
        .cte()
    )
    on_time = and_(col(FollowUp.status) == "done", col(FollowUp.done_at) < ends.c.ends)
    missed = and_(~on_time, col(FollowUp.due_on) < today)
    rows = session.execute(
        select(
            col(FollowUp.officer_code),
            col(Risk.community_code),
            func.count(),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((missed, 1), else_=0)),
        )
        .select_from(FollowUp)
        .join(ends, ends.c.day == FollowUp.due_on)
        .join(Risk, col(Risk.id) == FollowUp.risk_id)
        .where(
            # the window's days also as a range: PostgreSQL otherwise hashed every follow-up against them
            between(FollowUp.due_on, window, True),
            col(FollowUp.status) != "cancelled",
            in_scope(scope, Risk.community_code),
        )
        .group_by(col(FollowUp.officer_code), col(Risk.community_code))
    ).all()
    # the station by community (`station_of`) here, not joined for each of a year's follow-ups (SQLite:
    # 0.24 -> 0.17 s)
    frame = frame_of(rows, columns=["officer_code", "community_code", "due", "on_time", "missed"])
    frame["station_code"] = frame["community_code"].map(station_of)
    by = ["officer_code", "station_code"]
    frame = frame.groupby(by, as_index=False, dropna=False)[["due", "on_time", "missed"]].sum()
    frame[by] = frame[by].astype(object).where(frame[by].notna(), None)  # no officer: None, as read
    return frame.astype({"due": int, "on_time": int, "missed": int})


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
            between(SupervisionNotice.issued_on, window, True),
            where(SupervisionNotice.station_code, SupervisionNotice.recipient_officer_code),
        )
        entries = select(func.count()).where(
            between(AccountabilityEntry.recorded_on, window, True),
            where(AccountabilityEntry.station_code, AccountabilityEntry.officer_code),
        )
        capacity = select(func.count()).where(
            between(CapacityNotice.issued_on, window, True),
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
    return frame_of(rows, columns=["community_code", "level", "n"])


def weekly(session: Session, year: int, through: datetime, scope: Scope) -> dict[str, list[int]]:
    """Calls and criminal cases per ISO week of `year` up to `through`, and of the whole year before:
    each week counted by its own range of the time index (a small table of the weeks' bounds), not by a
    week number worked out for every row."""
    out: dict[str, list[int]] = {}
    stamp = table_of(CriminalCase).c.filed_at.type
    for label, model, when, extra in (
        ("calls", Signal, col(Signal.occurred_at), col(Signal.channel) == "call"),
        ("cases", CriminalCase, col(CriminalCase.filed_at), literal(True)),
    ):
        for which, y in (("this_year", year), ("last_year", year - 1)):
            monday = datetime.combine(date.fromisocalendar(y, 1, 1), time(), LOCAL_TZ)
            weeks = date(y, 12, 28).isocalendar().week
            end = monday + timedelta(weeks=weeks)
            last = min(end, through) if which == "this_year" else end
            starts = [monday + timedelta(weeks=i) for i in range(weeks)]
            bounds = (
                values(column("week", Integer), column("start", stamp), column("end", stamp), name="weeks")
                .data([(i, s, min(s + timedelta(weeks=1), last)) for i, s in enumerate(starts) if s < last])
                .cte()
            )
            rows: Sequence[tuple[int, int]] = session.execute(
                select(bounds.c.week, func.count())
                .select_from(bounds)
                .join(model, and_(when >= bounds.c.start, when < bounds.c.end))
                .where(extra, in_scope(scope, model.community_code))
                .group_by(bounds.c.week)
            ).all()
            series = [0] * weeks
            for w, n in rows:
                series[int(w)] += n
            out[f"{label}.{which}"] = series
    return out
