"""How risks end, in a review (化解): the settlement rate, risks back after resolution, open risks per
officer, and the hotspots (places) by calls.

All of it in event time, from the level history and the signals, never from when a stage ran: a
risk is resolved at the time its level-history row says (the evidence rule's `evidence.resolved`, or
an end by `ends.return_visit` or `ends.dormant`), and it comes back at the first signal after that
resolution that would reopen it (any signal but a calm visit: what linking reopens on). The audit
trail records the same reopening as 'reopen' from 'resolved', but at the time linking ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, distinct, exists, func, or_, select
from sqlmodel import Session, col

from models.common import DISPUTE_CATEGORIES
from models.jurisdiction import Community, Officer, OfficerRole, Place
from models.risk import Risk, RiskLevelChange, event_timed
from models.signal import Signal, is_news
from tasks.review.document import Hotspot, Parts, Value
from tasks.review.figures import WINDOWS, epoch, in_scope, scope_stations
from tasks.review.period import Period, Scope
from tasks.review.stats import change_pct, significant

SETTLE_DAYS = 30
RESOLVING_ENDS = ("ends.return_visit", "ends.dormant")  # the end rules that resolve (the others settle)
DISPUTES = sorted(str(c.value) for c in DISPUTE_CATEGORIES)
REASONS = {
    "settlement_rate_pct": (
        "本期到期（开立已满30天）的矛盾纠纷风险为0：无可计算的化解率",
        "no dispute risk opened 30+ days before the window's end (none whose 30 days ran out in the window)",
    ),
    "open_risks_per_officer": (
        "本范围无社区民警或警务助理",
        "no community officer or assistant in the scope",
    ),
}


def _resolving() -> Any:
    """A level-history row that resolves its risk."""
    reasons = cast(RiskLevelChange.reasons, String)
    return and_(
        event_timed(),  # a few percent of the rows, by the partial index
        or_(
            and_(col(RiskLevelChange.cause) == "evidence", reasons.like('%"evidence.resolved"%')),
            and_(
                col(RiskLevelChange.cause) == "end", or_(*(reasons.like(f'%"{r}"%') for r in RESOLVING_ENDS))
            ),
        ),
    )


def settlement(session: Session, period: Period, scope: Scope) -> dict[str, Parts]:
    """化解率's parts per window: the dispute risks whose 30 days ran out in the window (opened in the
    window moved back 30 days, so each has had its full 30 days by the window's end), and those of them
    whose first resolution came within 30 days of opening."""
    first = (
        select(col(RiskLevelChange.risk_id), func.min(RiskLevelChange.at).label("at"))
        .where(_resolving())
        .group_by(col(RiskLevelChange.risk_id))
        .subquery()
    )
    in_time = and_(
        first.c.at.is_not(None),
        epoch(session, first.c.at) - epoch(session, Risk.opened_at) <= SETTLE_DAYS * 86400,
    )
    shift = timedelta(days=SETTLE_DAYS)
    due = {  # per window, one query for all: the risks' 30 days ran out in it
        name: and_(col(Risk.opened_at) >= w.start - shift, col(Risk.opened_at) < w.end - shift)
        for name, w in period.windows.items()
    }
    sums = [func.sum(case((when, 1), else_=0)) for when in due.values()]
    sums += [func.sum(case((and_(when, in_time), 1), else_=0)) for when in due.values()]
    row = session.execute(
        select(*sums)
        .select_from(Risk)
        .outerjoin(first, first.c.risk_id == Risk.id)
        .where(
            col(Risk.category).in_(DISPUTES),
            col(Risk.opened_at) >= min(w.start for w in period.windows.values()) - shift,
            col(Risk.opened_at) < max(w.end for w in period.windows.values()) - shift,
            in_scope(scope, Risk.community_code),
        )
    ).one()
    n = len(due)
    return {
        name: {"numerator": int(row[n + i] or 0), "denominator": int(row[i] or 0)}
        for i, name in enumerate(due)
    }


def live_at_end(session: Session, period: Period, scope: Scope) -> dict[str, int]:
    """Risks live (open, settled or referred) at each window's end: opened before it, and not resolved
    then: no resolution before the end without a signal that reopened it between the two. Those opened
    are counted in one pass; those resolved then are asked of the few risks ever resolved, not of each."""
    ends = {name: w.end for name, w in period.windows.items()}
    in_scope_ = in_scope(scope, Risk.community_code)
    opened = session.execute(
        select(*(func.sum(case((col(Risk.opened_at) < end, 1), else_=0)) for end in ends.values())).where(
            in_scope_
        )
    ).one()
    resolution = RiskLevelChange

    def resolved_then(end: Any) -> Any:
        reopened = exists().where(
            col(Signal.risk_id) == resolution.risk_id,
            col(Signal.occurred_at) > resolution.at,
            col(Signal.occurred_at) < end,
            is_news(),
        )
        return exists().where(
            col(resolution.risk_id) == Risk.id, _resolving(), col(resolution.at) < end, ~reopened
        )

    ever_resolved = select(col(resolution.risk_id)).where(_resolving())
    resolved = session.execute(
        select(
            *(
                func.sum(case((and_(col(Risk.opened_at) < end, resolved_then(end)), 1), else_=0))
                for end in ends.values()
            )
        ).where(col(Risk.id).in_(ever_resolved), in_scope_)
    ).one()
    return {name: int(opened[i] or 0) - int(resolved[i] or 0) for i, name in enumerate(ends)}


def officers(session: Session, scope: Scope) -> int:
    """The scope's community officers and assistants (by station; for a community, its own)."""
    where = (
        col(Officer.community_code) == scope.code
        if scope.kind == "community"
        else col(Officer.station_code).in_(scope_stations(session, scope))
    )
    roles = (OfficerRole.community.value, OfficerRole.assistant.value)
    stmt = select(func.count()).select_from(Officer).where(col(Officer.role).in_(roles), where)
    return int(session.execute(stmt).scalar_one())


def risks_back(session: Session, period: Period, scope: Scope) -> dict[str, int]:
    """Risks back after resolution: those whose first reopening signal after a resolution is in the window."""
    back = (
        select(col(RiskLevelChange.risk_id), func.min(Signal.occurred_at).label("at"))
        .join(Signal, col(Signal.risk_id) == RiskLevelChange.risk_id)
        .where(_resolving(), col(Signal.occurred_at) > RiskLevelChange.at, is_news())
        .group_by(col(RiskLevelChange.id), col(RiskLevelChange.risk_id))
        .subquery()
    )
    out: dict[str, int] = {}
    for name, window in period.windows.items():
        out[name] = session.execute(
            select(func.count(distinct(back.c.risk_id)))
            .join(Risk, col(Risk.id) == back.c.risk_id)
            .where(back.c.at >= window.start, back.c.at < window.end, in_scope(scope, Risk.community_code))
        ).scalar_one()
    return out


@dataclass(frozen=True)
class Measured:
    """One figure of how risks end, by window: its values, and a ratio's parts (numerator, denominator)."""

    values: dict[str, Value]
    parts: dict[str, Parts] | None = None  # a ratio's; None for a count


def lifecycle(session: Session, period: Period, scope: Scope) -> dict[str, Measured]:
    """The figures' values and a ratio's parts (numerator and denominator), by figure."""
    settled = settlement(session, period, scope)
    staff = officers(session, scope)
    live = live_at_end(session, period, scope)
    parts: dict[str, dict[str, Parts]] = {
        "settlement_rate_pct": settled,
        "open_risks_per_officer": {w: {"numerator": live[w], "denominator": staff} for w in WINDOWS},
    }
    out = {
        key: Measured({w: _ratio(p, key) for w, p in by_window.items()}, by_window)
        for key, by_window in parts.items()
    }
    out["risks_back"] = Measured(dict(risks_back(session, period, scope)))
    return out


def _ratio(parts: Parts, key: str) -> float | None:
    """numerator / denominator (× 100 for a percentage); unknown (None) over nothing, never 0."""
    if not parts["denominator"]:
        return None
    return parts["numerator"] / parts["denominator"] * (100 if key.endswith("_pct") else 1)


def unknown_reason(key: str, lang: str) -> str:
    zh, en = REASONS[key]
    return zh if lang == "zh" else en


def hotspots(
    session: Session, period: Period, scope: Scope, names: dict[str, dict[str, str]], top: int = 10
) -> list[Hotspot]:
    """The top places (risks with a place kind) by 110 calls in the period, against the previous period."""
    calls: dict[str, dict[int, int]] = {}
    places = select(col(Risk.id)).where(
        col(Risk.place_kind).is_not(None), in_scope(scope, Risk.community_code)
    )
    for name in ("current", "previous"):
        window = period.windows[name]
        rows: Sequence[tuple[int, int]] = session.execute(
            select(col(Signal.risk_id), func.count())
            .where(
                col(Signal.risk_id).in_(places),  # not joined: SQLite looked up the risk of every call
                # by the places' own signals (risk, time, channel), not every call in the window: `|| ''`
                # keeps SQLite off the channel index (0.067 s a window at scale 1; 0.017 s so)
                (col(Signal.channel) + "") == "call",
                col(Signal.occurred_at) >= window.start,
                col(Signal.occurred_at) < window.end,
            )
            .group_by(col(Signal.risk_id))
        ).all()
        calls[name] = dict(rows)
    now = calls["current"]
    before = {rid: calls["previous"].get(rid, 0) for rid in now}
    ranked = sorted(now, key=lambda r: (-now[r], -before[r], r))[:top]
    if not ranked:
        return []
    place = select(col(Place.address)).where(
        col(Place.community_code) == Risk.community_code, col(Place.address_norm) == Risk.address_norm
    )
    details = {
        r.id: r
        for r in session.execute(
            select(
                col(Risk.id),
                col(Risk.place_kind),
                col(Risk.community_code),
                func.coalesce(place.scalar_subquery(), Risk.address_norm).label("address"),
                col(Community.station_code),
            )
            .join(Community, col(Community.community_code) == Risk.community_code)
            .where(col(Risk.id).in_(ranked))
        )
    }
    days = (period.current.days, period.previous.days)
    out: list[Hotspot] = []
    for rid in ranked:
        d, n, b = details[rid], now[rid], before[rid]
        flag, p = significant(n, b, *days)
        out.append(
            {
                "risk_id": rid,
                "place": d.address,
                "kind": d.place_kind,
                "community": names["community"].get(d.community_code, d.community_code),
                "station": names["station"].get(d.station_code, d.station_code),
                "calls_current": n,
                "calls_previous": b,
                "change": n - b,
                "change_vs_previous_pct": change_pct(n, b),
                "significant": flag,
                "p": p,
            }
        )
    return out
