"""Colours as of a past moment, in event time (the four colours at a window's end).

The level history is stamped when Bridgehead acted: a grading carries the time intake ran, so a
month of history taken in at once has every rule change a month late, and graded with signals from
after the moment asked about. A risk's colour at T is rebuilt from what had happened by T: the last
change made by an event of its own time before T (a visit's evidence, an end, a person's raise), raised
by what the rules make of the signals between that change and T (grading only raises); with no such
change, what the rules make of its signals before T (blue when no rule matches, as intake grades).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, exists, func, select
from sqlmodel import Session, col

from bridgehead.db import frame_in, stored_time
from bridgehead.rules import get_rules
from models.common import Colour
from models.risk import Risk, RiskLevelChange
from models.signal import Signal
from tasks.intake.grading import colour_of
from tasks.intake.grading_stage import rule_reasons, signals_to_grade
from tasks.review.period import Window

EVENT_TIMED = ("evidence", "end", "person")  # causes whose `at` is the event's own time


def colours_at(session: Session, risk_ids: list[int], at: datetime) -> pd.Series:
    """Each risk's colour at `at` (index risk_id); a risk with no signal before `at` is left out."""
    if not risk_ids:
        return pd.Series(dtype=object)
    changes = frame_in(
        session,
        select(
            col(RiskLevelChange.risk_id),
            stored_time(RiskLevelChange.at),
            col(RiskLevelChange.to_level),
            col(RiskLevelChange.id),
        ).where(col(RiskLevelChange.cause).in_(EVENT_TIMED), col(RiskLevelChange.at) < at),
        RiskLevelChange.risk_id,
        risk_ids,
        ["risk_id", "at", "level", "id"],
    )
    changes["at"] = pd.to_datetime(changes["at"], utc=True)
    base = changes.sort_values(["at", "id"]).drop_duplicates("risk_id", keep="last").set_index("risk_id")
    signals = signals_to_grade(session, risk_ids, Signal.occurred_at < at)
    if signals.empty and base.empty:
        return pd.Series(dtype=object)
    if base.empty:
        signals_after = signals
    else:
        floor = signals["risk_id"].map(base["at"].to_dict())
        signals_after = signals[floor.isna().to_numpy() | (signals["occurred_at"] >= floor).to_numpy()]
    places = set(
        frame_in(
            session, select(col(Risk.id)).where(col(Risk.place_kind).is_not(None)), Risk.id, risk_ids, ["id"]
        )["id"]
    )
    by_risk = rule_reasons(signals_after, places, get_rules(), at)  # a place on its window before `at`
    held = base["level"].to_dict()
    out = {}
    for rid in sorted(set(signals["risk_id"]) | held.keys()):
        reasons = by_risk.get(rid)
        found = [colour_of(reasons[0])] if reasons else []
        if rid in held:
            found.append(Colour(held[rid]))
        out[rid] = max(found, key=lambda c: c.rank).value if found else Colour.blue.value
    return pd.Series(out, dtype=object)


def colours_found(session: Session, found: Any, window: Window) -> dict[str, int]:
    """How many of the risks found in the window (`found`: a condition on Risk) had each colour at its
    end, in event time.

    A risk graded last before the end, or graded later from nothing later (no signal since the end, no
    event of its own since — a visit's evidence, an end, a raise — and a household, since a place's
    window moves with the moment), has the colour the rules gave it: its level history's last change
    before the end, or its colour now; those are counted in the database. The rest were graded after
    the end with news from after it (a month of history taken in at once, or news after the window):
    their colour at the end is rebuilt from their signals and event-timed changes before it
    (`tasks.review.colours`). Checked on the bench city: 90,000 risks of the first kind over three
    windows, rebuilt, none differ from their colour now."""
    event_since = exists().where(
        col(RiskLevelChange.risk_id) == Risk.id,
        col(RiskLevelChange.cause).in_(EVENT_TIMED),
        col(RiskLevelChange.at) >= window.end,
    )
    # a household, asked so that no index can answer it: SQLite, without statistics, read every household
    # through the place index (0.55 s at scale 1) instead of the window's risks by their first signal
    household = func.coalesce(Risk.place_kind, "") == ""
    unchanged = and_(col(Risk.last_signal_at) < window.end, household, ~event_since)
    counted: dict[str, int] = dict(
        session.execute(
            select(col(Risk.level), func.count()).where(found, unchanged).group_by(col(Risk.level))
        ).all()
    )
    rest = select(col(Risk.id)).where(found, ~unchanged)
    before_end = case((col(RiskLevelChange.at) < window.end, RiskLevelChange.id))
    graded_after = and_(
        col(RiskLevelChange.cause).in_(["rule", "place"]), col(RiskLevelChange.at) >= window.end
    )
    last_change = (  # and whether the rules graded it again after the end
        select(
            col(RiskLevelChange.risk_id),
            func.coalesce(func.max(before_end), func.min(RiskLevelChange.id)).label("id"),
            func.max(case((graded_after, 1), else_=0)).label("later"),
        )
        .where(col(RiskLevelChange.risk_id).in_(rest))
        .group_by(col(RiskLevelChange.risk_id))
        .subquery()
    )
    rows: Sequence[tuple[int, str, int]] = session.execute(
        select(last_change.c.risk_id, col(RiskLevelChange.to_level), last_change.c.later).join(
            RiskLevelChange, col(RiskLevelChange.id) == last_change.c.id
        )
    ).all()
    colours = pd.Series({risk_id: level for risk_id, level, _ in rows}, dtype=object)
    later = sorted(risk_id for risk_id, _, graded in rows if graded)
    if later:
        rebuilt = colours_at(session, later, window.end)
        colours.loc[rebuilt.index] = rebuilt
    for colour, n in colours.value_counts().items():
        counted[str(colour)] = counted.get(str(colour), 0) + int(n)
    return {c: n for c, n in sorted(counted.items(), key=lambda kv: -kv[1]) if n}
