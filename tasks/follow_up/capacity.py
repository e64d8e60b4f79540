"""A day each officer can do (工作量): the day's list up to capacity, the overflow to the station chief.

From the brief: each role has a daily visit capacity (community officer 8, assistant 6; an officer's
own `daily_capacity` overrides it). Each morning every officer's follow-ups due by the day are put in
the brief's order — red, first visits, most days late, then orange, yellow, blue — and the first ones
up to capacity are the day's list. What does not fit goes to the station chief as one capacity notice
per officer and day: overload is the chief's to solve (reassign, ask for help), not the officer's
lateness. Lateness, and so the supervision ladder, counts from the first day a follow-up was on its
officer's list: accountability falls on planned visits that were missed, and on nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, or_, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import chunks, dialect_insert, frame_in, frame_of, table_of
from bridgehead.rules import Rules
from models.follow_up import CapacityNotice, FollowUp
from models.jurisdiction import Community, Officer
from models.risk import Risk
from models.signal import Signal
from tasks.jurisdiction import station_chiefs

COLOUR_RANK = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}


@dataclass
class DayPlan:
    listed: int = 0  # follow-ups on the day's lists
    first_listed: int = 0  # of those, on a list for the first time
    overflow: int = 0  # due, never listed, and no room today
    notices: int = 0  # capacity notices to chiefs


def in_order(owed: pd.DataFrame, day: date) -> pd.DataFrame:
    """The brief's order of a day's work: red; first visits; most days late; then orange, yellow, blue.

    `owed` columns: follow_up_id, officer_code, due_on, why, level.
    """
    pairs = zip(owed["level"], owed["why"], strict=True)
    owed = owed.assign(
        tier=[0 if level == "red" else 1 if why == "new_signal" else 2 for level, why in pairs],
        late=[(day - due).days for due in owed["due_on"]],
        colour=owed["level"].map(COLOUR_RANK),
    )
    return owed.sort_values(
        ["officer_code", "tier", "late", "colour", "follow_up_id"], ascending=[True, True, False, True, True]
    )


def capacities(session: Session, rules: Rules) -> dict[str, int | None]:
    """Each officer's visits a day: their own figure, else their role's; None where the role is not capped."""
    defaults = {role.value: n for role, n in rules.capacity.daily_visits.items()}
    return {
        code: own or defaults.get(role)
        for code, role, own in session.execute(
            select(col(Officer.officer_code), col(Officer.role), col(Officer.daily_capacity))
        ).tuples()
    }


def ranked(rules: Rules, day: date) -> Any:
    """Every due visit with its place in its officer's day (the brief's order, by the database's
    window function) and its officer's capacity (NULL: not capped)."""
    tier = case((col(Risk.level) == "red", 0), (col(FollowUp.why) == "new_signal", 1), else_=2)
    colour = case(*((col(Risk.level) == c, r) for c, r in COLOUR_RANK.items()), else_=9)
    defaults = {role.value: n for role, n in rules.capacity.daily_visits.items()}
    role_cap = case(*((col(Officer.role) == role, n) for role, n in defaults.items()), else_=None)
    place = func.row_number().over(
        partition_by=col(FollowUp.officer_code),
        order_by=[tier, col(FollowUp.due_on), colour, col(FollowUp.id)],
    )
    return (
        select(
            col(FollowUp.id).label("id"),
            col(FollowUp.officer_code).label("officer_code"),
            col(FollowUp.planned_on).label("planned_on"),
            col(FollowUp.risk_id).label("risk_id"),
            col(FollowUp.why).label("why"),
            col(Risk.level).label("level"),
            col(Risk.category).label("category"),
            col(Risk.community_code).label("community_code"),
            col(Community.station_code).label("station_code"),
            place.label("place"),
            func.coalesce(Officer.daily_capacity, role_cap).label("cap"),
        )
        .join(Risk, col(Risk.id) == FollowUp.risk_id)
        .join(Community, col(Community.community_code) == Risk.community_code)
        .outerjoin(Officer, col(Officer.officer_code) == FollowUp.officer_code)
        .where(col(FollowUp.status) == "pending", col(FollowUp.due_on) <= day)
        .subquery()
    )


def plan_day(session: Session, rules: Rules, day: date) -> DayPlan:
    """Put each officer's due follow-ups on the day's list up to capacity; notify chiefs of the rest.

    The order is the database's window function, read once; the first day on the list is one UPDATE
    of the visits newly listed, and the overflow one count per officer.
    """
    owed = ranked(rules, day)
    fits = or_(owed.c.cap.is_(None), owed.c.place <= owed.c.cap)
    over = and_(~fits, owed.c.planned_on.is_(None))
    officer = [owed.c.officer_code, owed.c.station_code]
    counted = select(  # the day's lists, and beside them their officer's owed and overflow
        owed.c.id,
        *officer,
        owed.c.planned_on,
        owed.c.cap,
        fits.label("fits"),
        owed.c.place,
        func.count().over(partition_by=officer).label("owed"),
        func.sum(case((over, 1), else_=0)).over(partition_by=officer).label("over"),
    ).subquery()
    rows = session.execute(  # the lists (and each officer's first): a backlog is counted where it lies
        select(*counted.c).where(counted.c.fits | (counted.c.place == 1))
    ).tuples()
    plan = DayPlan()
    first: list[int] = []
    per_officer: dict[tuple[str, str], tuple[int, int, int]] = {}  # (officer, station) -> (cap, owed, over)
    for fid, officer_code, station, planned_on, cap, listed, _, n, overflow in rows:
        if listed:
            plan.listed += 1
            if planned_on is None:
                first.append(fid)
        if cap is not None and overflow:
            per_officer[(officer_code, station)] = (cap, n, overflow)
    for part in chunks(first):
        session.execute(update(FollowUp).where(col(FollowUp.id).in_(part)).values(planned_on=day))
    plan.first_listed = len(first)
    overloaded = [(o, s, cap, n, over) for (o, s), (cap, n, over) in per_officer.items()]
    plan.overflow = sum(over for *_, over in overloaded)
    plan.notices = _notify(session, overloaded, day)
    return plan


def _notify(session: Session, per_officer: list[Any], day: date) -> int:
    """One capacity notice per overloaded officer and day, to the chief of the officer's station."""
    if not per_officer:
        return 0
    chiefs = station_chiefs(session)
    notices = [
        {
            "station_code": station,
            "officer_code": officer,
            "recipient_officer_code": chiefs.get(station),
            "issued_on": day,
            "owed": int(owed),
            "capacity": int(cap),
            "overflow": int(over),
        }
        for officer, station, cap, owed, over in per_officer
    ]
    taken = set(
        session.scalars(select(col(CapacityNotice.officer_code)).where(col(CapacityNotice.issued_on) == day))
    )
    fresh = [n for n in notices if n["officer_code"] not in taken]
    if fresh:
        session.connection().execute(
            dialect_insert(session, table_of(CapacityNotice)).on_conflict_do_nothing(
                index_elements=["officer_code", "issued_on"]
            ),
            fresh,
        )
        audit.append(session, [_audited(n) for n in fresh])
    return len(fresh)


def _audited(notice: dict[str, Any]) -> audit.Change:
    return audit.Change(
        "capacity_notice",
        "officer",
        notice["officer_code"],
        None,
        {k: notice[k] for k in ("recipient_officer_code", "owed", "capacity", "overflow")},
        f"{notice['owed']} visits owed, {notice['capacity']} a day: {notice['overflow']} did not fit "
        "and go to the station chief",
    )


def day_lists(session: Session, rules: Rules, day: date) -> pd.DataFrame:
    """Every officer's list for the day, in order, up to capacity, with where to go: the address and
    people of the risk's latest signal. Columns: officer_code, place, follow_up_id, risk_id, why,
    level, community_code, category, address, party_keys. Read after the day's sweep planned it."""
    owed = ranked(rules, day)
    rows = session.execute(
        select(
            owed.c.officer_code,
            owed.c.place,
            owed.c.id,
            owed.c.risk_id,
            owed.c.why,
            owed.c.level,
            owed.c.community_code,
            owed.c.category,
        )
        .where(owed.c.officer_code.is_not(None), (owed.c.cap.is_(None)) | (owed.c.place <= owed.c.cap))
        .order_by(owed.c.officer_code, owed.c.place)
    ).all()
    lists = frame_of(
        rows,
        columns=[
            "officer_code",
            "place",
            "follow_up_id",
            "risk_id",
            "why",
            "level",
            "community_code",
            "category",
        ],
    )
    latest = risk_signals(session, lists["risk_id"].tolist()).drop_duplicates("risk_id", keep="last")
    return lists.merge(latest[["risk_id", "address", "party_keys"]], on="risk_id", how="left")


def risk_signals(session: Session, risk_ids: list[int]) -> pd.DataFrame:
    """The signals of these risks in time order: risk_id, channel, source_id, occurred_at, address,
    party_keys."""
    return frame_in(
        session,
        select(
            col(Signal.risk_id),
            col(Signal.channel),
            col(Signal.source_id),
            col(Signal.occurred_at),
            col(Signal.address),
            col(Signal.party_keys),
        ).order_by(col(Signal.risk_id), col(Signal.occurred_at), col(Signal.id)),
        Signal.risk_id,
        sorted(set(risk_ids)),
        ["risk_id", "channel", "source_id", "occurred_at", "address", "party_keys"],
    )
