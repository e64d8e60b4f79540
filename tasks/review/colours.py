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
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bridgehead.db import frame_in, read, stored_time
from bridgehead.rules import get_rules
from models.common import Colour
from models.risk import Risk, RiskLevelChange, event_timed
from models.signal import Signal
from tasks.intake.grading import colour_of
from tasks.intake.grading_stage import rule_reasons, signals_to_grade
from tasks.review.period import Period, Window, between


def colours_at(session: Session, asked: list[tuple[list[int], datetime]]) -> list[pd.Series]:
    """Each risk's colour at a moment (index risk_id), for each list of risks and its moment; a risk with
    no signal before its moment is left out. The lists' level history and signals are read once, up to
    the latest moment (a period's windows ask after overlapping risks)."""
    everyone = sorted({rid for risk_ids, _ in asked for rid in risk_ids})
    if not everyone:
        return [pd.Series(dtype=object) for _ in asked]
    latest = max(at for _, at in asked)
    changes = frame_in(
        session,
        select(
            col(RiskLevelChange.risk_id),
            stored_time(RiskLevelChange.at),
            col(RiskLevelChange.to_level),
            col(RiskLevelChange.id),
        ).where(event_timed(), col(RiskLevelChange.at) < latest),
        RiskLevelChange.risk_id,
        everyone,
        ["risk_id", "at", "level", "id"],
    )
    changes["at"] = pd.to_datetime(changes["at"], utc=True)
    changes = changes.sort_values(["at", "id"])
    signals = signals_to_grade(session, everyone, Signal.occurred_at < latest)
    # the places are few (the place index answers): read them all, not each list of risks (PostgreSQL
    # read the whole risk table for each list of 5,000: 0.41 s a review at scale 1)
    places = set(everyone).intersection(
        session.scalars(select(col(Risk.id)).where(col(Risk.place_kind).is_not(None))).all()
    )
    return [_colours(changes, signals, places, set(risk_ids), at) for risk_ids, at in asked]


def _colours(
    changes: pd.DataFrame, signals: pd.DataFrame, places: set[int], risk_ids: set[int], at: datetime
) -> pd.Series:
    """`colours_at` for one list of risks and its moment, from the history and signals read for all."""
    mine = changes[changes["risk_id"].isin(risk_ids) & (changes["at"] < at)]
    base = mine.drop_duplicates("risk_id", keep="last").set_index("risk_id")
    signals = signals[signals["risk_id"].isin(risk_ids) & (signals["occurred_at"] < at)]
    if signals.empty and base.empty:
        return pd.Series(dtype=object)
    if base.empty:
        signals_after = signals
    else:
        floor = signals["risk_id"].map(base["at"].to_dict())
        signals_after = signals[floor.isna().to_numpy() | (signals["occurred_at"] >= floor).to_numpy()]
    by_risk = rule_reasons(signals_after, places & risk_ids, get_rules(), at)  # a place on its window at `at`
    held = base["level"].to_dict()
    out = {}
    for rid in sorted(set(signals["risk_id"]) | held.keys()):
        reasons = by_risk.get(rid)
        found = [colour_of(reasons[0])] if reasons else []
        if rid in held:
            found.append(Colour(held[rid]))
        out[rid] = max(found, key=lambda c: c.rank).value if found else Colour.blue.value
    return pd.Series(out, dtype=object)


def found_by(session: Session, scoped: Any, period: Period) -> dict[str, dict[str, int]]:
    """The risks found in each window (and `scoped`: the scope, a condition on Risk), by how they were
    found (`channel.<first signal's channel>`) and by the colour each had at the window's end, in event
    time (`colour.<colour>`); both read in the same pass over the risks found.

    A risk graded last before the end, or graded later from nothing later (no signal since the end, no
    event of its own since — a visit's evidence, an end, a raise — and a household, since a place's
    window moves with the moment), has the colour the rules gave it: its level history's last change
    before the end, or its colour now; those are counted in the database. The rest were graded after
    the end with news from after it (a month of history taken in at once, or news after the window):
    their colour at the end is rebuilt from their signals and event-timed changes before it
    (`tasks.review.colours`). Checked on the bench city: 90,000 risks of the first kind over three
    windows, rebuilt, none differ from their colour now. Every window is asked in the same two
    statements: one pass over the risks found, one over the rest's level history."""
    windows = list(period.windows.items())
    events = (  # each risk's last event of its own time: "an event since the end" is one comparison
        select(col(RiskLevelChange.risk_id), func.max(RiskLevelChange.at).label("at"))
        .where(event_timed())
        .group_by(col(RiskLevelChange.risk_id))
        .subquery()
    )
    # a household, asked so that no index can answer it: SQLite, without statistics, read every household
    # through the place index (0.55 s at scale 1) instead of the window's risks by their first signal
    household = func.coalesce(Risk.place_kind, "") == ""

    def in_window(window: Window) -> Any:
        return between(Risk.first_signal_at, window)

    def unchanged(window: Window) -> Any:
        quiet = or_(events.c.at.is_(None), events.c.at < window.end)
        return and_(col(Risk.last_signal_at) < window.end, household, quiet)

    def found_risks(*columns: Any) -> Any:
        return (
            select(*columns)
            .select_from(Risk)
            .outerjoin(events, events.c.risk_id == Risk.id)
            .where(scoped, or_(*(in_window(w) for _, w in windows)))
        )

    counted: dict[str, dict[str, int]] = {name: {} for name, _ in windows}
    channels: dict[str, dict[str, int]] = {name: {} for name, _ in windows}
    sums = [func.sum(case((and_(in_window(w), unchanged(w)), 1), else_=0)) for _, w in windows]
    sums += [func.sum(case((in_window(w), 1), else_=0)) for _, w in windows]
    by_level: Sequence[Any] = session.execute(
        found_risks(col(Risk.level), col(Risk.first_channel), *sums).group_by(
            col(Risk.level), col(Risk.first_channel)
        )
    ).all()
    for level, channel, *ns in by_level:
        for i, (name, _) in enumerate(windows):
            counted[name][str(level)] = counted[name].get(str(level), 0) + int(ns[i])
            if channel is not None:
                found = channels[name].get(channel, 0) + int(ns[len(windows) + i])
                channels[name][channel] = found
    rest_in = [and_(in_window(w), ~unchanged(w)) for _, w in windows]
    rest = (
        found_risks(
            col(Risk.id).label("id"),
            *(case((r, 1), else_=0).label(f"rest{i}") for i, r in enumerate(rest_in)),
        )
        .where(or_(*rest_in))
        .subquery()
    )
    change = RiskLevelChange
    per_window = []
    for i, (_, window) in enumerate(windows):
        before_end = case((col(change.at) < window.end, change.id))
        graded_after = and_(col(change.cause).in_(["rule", "place"]), col(change.at) >= window.end)
        per_window += [  # the last change before the end (else its first), and whether graded after it
            func.coalesce(func.max(before_end), func.min(change.id)).label(f"change{i}"),
            func.max(case((graded_after, 1), else_=0)).label(f"later{i}"),
            func.max(rest.c[f"rest{i}"]).label(f"rest{i}"),
        ]
    last = (
        select(rest.c.id, *per_window)
        .join(change, col(change.risk_id) == rest.c.id)
        .group_by(rest.c.id)
        .subquery()
    )
    level = aliased(RiskLevelChange)

    def level_of(i: int) -> Any:
        at_end = select(col(level.to_level)).where(col(level.id) == last.c[f"change{i}"])
        return at_end.scalar_subquery().label(f"level{i}")

    rows = read(session, select(last, *(level_of(i) for i in range(len(windows))))).mappings().all()
    mine = [
        [(r["id"], r[f"level{i}"], r[f"later{i}"]) for r in rows if r[f"rest{i}"]]
        for i in range(len(windows))
    ]
    later = [sorted(rid for rid, _, graded in m if graded) for m in mine]
    rebuilt = colours_at(
        session, [(ids, window.end) for ids, (_, window) in zip(later, windows, strict=True)]
    )
    out: dict[str, dict[str, int]] = {}
    for i, (name, _) in enumerate(windows):
        colours = pd.Series({risk_id: lvl for risk_id, lvl, _ in mine[i]}, dtype=object)
        if not rebuilt[i].empty:
            colours.loc[rebuilt[i].index] = rebuilt[i]
        for colour, n in colours.value_counts().items():
            counted[name][str(colour)] = counted[name].get(str(colour), 0) + int(n)
        by_channel = {f"channel.{c}": n for c, n in channels[name].items() if n}
        out[name] = by_channel | {
            f"colour.{c}": n for c, n in sorted(counted[name].items(), key=lambda kv: -kv[1]) if n
        }
    return out
