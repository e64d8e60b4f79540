"""The cycle's health in one line, as a station commander reads it: are follow-ups done on time, can an
officer carry the open risks, is red rare enough to mean something, are disputes settled (化解率), and
do officers earn points rather than lose them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TypedDict, cast

from sqlalchemy import func, select
from sqlmodel import Session, col

from bridgehead.rules import Rules
from models.jurisdiction import CARRIER_ROLES, Officer
from models.risk import LIVE_STATUSES, Risk, RiskStatus
from tasks.review.build import build_review
from tasks.review.period import parse_period, parse_scope
from tasks.rewards.proposals import month, officer_points

WEEKS = 8


class Health(TypedDict):
    """The cycle's health, as `health.json` keeps it (a JSON document); `in_one_line` words it."""

    last_day: str
    on_time_pct: float | None  # follow-ups due in the last 8 weeks, done by their due date
    settlement_rate_pct: float | None  # 化解率 of the disputes whose 30 days ran out in those weeks
    open_household_per_officer: float | None  # live household risks per community officer or assistant
    red_share_pct: float | None  # of open risks (settled ones wait only for their return visit)
    conversions: int  # 民转刑 in the last 8 weeks
    month: str
    officers_above_zero_pct: float | None  # of the month's leaderboard (officers with points either way)


def in_one_line(found: Health) -> str:
    """The health as the README and the simulator print it: one line."""

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f}%"

    per = found["open_household_per_officer"]
    shown = "—" if per is None else f"{per:.1f}"
    return (
        f"Cycle health to {found['last_day']}: follow-ups on time {pct(found['on_time_pct'])} "
        f"(last {WEEKS} weeks), "
        f"化解率 {pct(found['settlement_rate_pct'])}, open household risks per community officer {shown}, "
        f"red {pct(found['red_share_pct'])} of open risks, {found['conversions']} conversions (民转刑) in "
        f"{WEEKS} weeks; {found['month']}'s leaderboard: {pct(found['officers_above_zero_pct'])} above zero"
    )


def health(session: Session, rules: Rules, last_day: date) -> Health:
    """The health of the cycle up to `last_day` (inclusive), in event time."""
    review = build_review(
        session, parse_scope(session, "city"), parse_period(f"{7 * WEEKS}d:{last_day}"), "en"
    )
    figures = review["figures"]
    live: Sequence[tuple[str, bool, str, int]] = session.execute(
        select(col(Risk.level), col(Risk.place_kind).is_(None), col(Risk.status), func.count())
        .where(col(Risk.status).in_(LIVE_STATUSES))
        .group_by(col(Risk.level), col(Risk.place_kind).is_(None), col(Risk.status))
    ).all()
    households = sum(n for _, household, _status, n in live if household)
    total = sum(n for *_, status, n in live if status == RiskStatus.open)
    red = sum(n for level, _, status, n in live if level == "red" and status == RiskStatus.open)
    carriers = {
        code
        for (code,) in session.execute(
            select(col(Officer.officer_code)).where(col(Officer.role).in_(CARRIER_ROLES))
        )
    }
    first_of_month = last_day.replace(day=1)
    full = first_of_month - timedelta(days=1) if last_day != _month_end(last_day) else last_day
    period = f"{full:%Y-%m}"
    board = officer_points(session, rules, month(period))
    above = sum(e.points > 0 for e in board)
    return Health(
        last_day=str(last_day),
        on_time_pct=figures["follow_up_on_time_pct"]["current"],
        settlement_rate_pct=figures["settlement_rate_pct"]["current"],
        open_household_per_officer=households / len(carriers) if carriers else None,
        red_share_pct=100 * red / total if total else None,
        conversions=int(cast(int, figures["conversions"]["current"])),  # a count: never None
        month=period,
        officers_above_zero_pct=100 * above / len(board) if board else None,
    )


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
