"""Colours as of a past moment, in event time (the four colours at a window's end).

The level history is stamped when Bridgehead acted: a grading carries the time intake ran, so a
month of history taken in at once has every rule change a month late, and graded with signals from
after the moment asked about. A risk's colour at T is rebuilt from what had happened by T: the last
change made by an event of its own time before T (a visit's evidence, an end, a person's raise), raised
by what the rules make of the signals between that change and T (grading only raises); with no such
change, what the rules make of its signals before T (blue when no rule matches, as intake grades).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from bridgehead.db import frame_in
from bridgehead.rules import get_rules
from models.common import Colour
from models.risk import Risk, RiskLevelChange
from models.signal import Signal
from tasks.intake.grading import colour_of, grade
from tasks.intake.grading_stage import signals_to_grade
from tasks.intake.hotspots import VOLUME_CODES

EVENT_TIMED = ("evidence", "end", "person")  # causes whose `at` is the event's own time


def colours_at(session: Session, risk_ids: list[int], at: datetime) -> pd.Series:
    """Each risk's colour at `at` (index risk_id); a risk with no signal before `at` is left out."""
    if not risk_ids:
        return pd.Series(dtype=object)
    changes = frame_in(
        session,
        select(
            col(RiskLevelChange.risk_id),
            col(RiskLevelChange.at),
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
    graded = grade(signals_after, get_rules())
    places = set(
        frame_in(
            session, select(col(Risk.id)).where(col(Risk.place_kind).is_not(None)), Risk.id, risk_ids, ["id"]
        )["id"]
    )
    out = {}
    for rid in sorted(set(signals["risk_id"]) | set(base.index)):
        reasons = list(graded.loc[rid, "reasons"]) if rid in graded.index else []
        if rid in places:  # a place is graded without the volume rules (tasks.intake.hotspots)
            reasons = [r for r in reasons if not r.startswith(VOLUME_CODES)]
        found = [colour_of(reasons[0])] if reasons else []
        if rid in base.index:
            found.append(Colour(base.loc[rid, "level"]))
        out[rid] = max(found, key=lambda c: c.rank).value if found else Colour.blue.value
    return pd.Series(out, dtype=object)
