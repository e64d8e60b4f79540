"""The grade stage of intake, and raising a colour by hand.

Every risk the link stage touched is marked for grading; this stage grades them all with the rules
(`tasks.intake.grading`) and writes each change of colour to the level history and the audit trail. Visits
reporting no or low concern are left out: they are the follow-up's evidence of calm, not signals. A
household's colour only goes up here: the evidence rule of follow-up is the one thing that lowers it. A
place's follows its signals of the last `grading.place_window_days`, up or down (`cool_places`), and it is
red only for `grading.place_red_days` after what made it so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.bulk import insert_rows, update_by_id
from bridgehead.db import chunks, frame_in, frame_of, read, refresh_statistics, stored_time, table_of
from bridgehead.locks import hold_register
from bridgehead.rules import Rules
from models.common import Colour, utcnow
from models.risk import LIVE_STATUSES, Risk, RiskLevelChange
from models.signal import Signal, is_news
from tasks.intake.grading import SIGNAL_COLUMNS, colour_of, grade
from tasks.intake.hotspots import VOLUME_CODES, classify, mark_places


@dataclass
class GradeSummary:
    graded: int = 0
    raised: dict[str, int] = field(default_factory=dict)
    new_red: list[int] = field(default_factory=list)
    lowered: int = 0  # places come down as their window empties (a household's colour never does here)

    def add(self, part: GradeSummary) -> None:
        self.graded += part.graded
        for colour, n in part.raised.items():
            self.raised[colour] = self.raised.get(colour, 0) + n
        self.new_red += part.new_red
        self.lowered += part.lowered


# A follow-up visit that finds things calm is evidence for the evidence rule, not a risk signal:
# counting it would let the visits that lower a colour raise it again ("3 signals within 30 days").
# One that finds the trouble ongoing is graded for what it says (a weapon, violence), not counted
# (`grading.counted`); one that finds danger (high concern, escalated) is news like a call.
def _signals_since_floor(session: Session, risk_ids: list[int]) -> pd.DataFrame:
    return signals_to_grade(session, risk_ids, Signal.occurred_at >= Risk.level_since)


def signals_to_grade(session: Session, risk_ids: list[int], *where: Any) -> pd.DataFrame:
    """The graded signals of `risk_ids` (news only), with the columns the rules read; `where` bounds them."""
    rows: list[Any] = []
    for part in chunks(risk_ids):
        rows += read(
            session,
            select(
                col(Signal.risk_id),
                stored_time(Signal.occurred_at),
                col(Signal.channel),
                col(Signal.category),
                col(Signal.summary),
                col(Signal.party_keys),
                col(Signal.score),
                col(Signal.named_risk_id),
                col(Signal.concern),
                col(Signal.outcome),
            )
            .join(Risk, col(Risk.id) == Signal.risk_id)
            # the list on both sides: PostgreSQL otherwise merges with the whole risk table (0.43 s a
            # list of 5,000 at a million calls; 0.08 s so)
            .where(col(Signal.risk_id).in_(part), col(Risk.id).in_(part), is_news(), *where),
        ).all()
    frame = frame_of(
        rows,
        columns=[
            "risk_id",
            "occurred_at",
            "channel",
            "category",
            "summary",
            "party_keys",
            "score",
            "named",
            "concern",
            "outcome",
        ],
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["party_count"] = [
        len(k.split(";")) if isinstance(k, str) and k else 0 for k in frame["party_keys"].tolist()
    ]
    follow_up = (frame["channel"] == "visit") & frame["named"].notna()
    alarm = (frame["concern"] == "high") | (frame["outcome"] == "escalated")  # the officer found danger
    frame["counted"] = ~follow_up | alarm
    return frame[SIGNAL_COLUMNS]


def grade_pending(session: Session, rules: Rules) -> GradeSummary:
    """Grade every risk marked for grading; a household's colour only goes up here (the evidence rule lowers).

    First the risks that have become places are marked (`tasks.intake.hotspots`): a place is graded without
    the volume rules, and once, as it becomes one, its colour may come down to what the rules about
    people give it — the volume that made a crossing red was never about a household.
    """
    hold_register(session)
    rows = session.execute(
        select(
            col(Risk.id),
            col(Risk.level),
            col(Risk.rules_version),
            col(Risk.place_kind),
            col(Risk.community_code),
            col(Risk.address_norm),
        )
        .where(col(Risk.graded_at).is_(None))
        .order_by(col(Risk.community_code), col(Risk.address_norm), col(Risk.id))
    ).tuples()
    pending = rows.all()
    if len(pending) > GRADE_PART:  # a bulk intake: the signals and risks it linked, not yet analysed
        refresh_statistics(session, "signal", "risk", "place")
    summary = GradeSummary()
    part: list[Pending] = []
    households: list[tuple[int, str, str | None]] = []  # the part's risks to classify, with their address
    address = None
    for rid, level, version, kind, community, address_norm in pending:
        if len(part) >= GRADE_PART and (community, address_norm) != address:
            summary.add(_grade_part(session, rules, part, households))
            part, households = [], []
        part.append(Pending(rid, level, version, kind))
        if kind is None:
            households.append((rid, community, address_norm))
        address = (community, address_norm)
    if part:
        summary.add(_grade_part(session, rules, part, households))
    return summary


GRADE_PART = 20_000  # risks graded at a time; an address's risks stay in one part (a place is an address)


class Pending(NamedTuple):
    id: int
    level: str
    rules_version: str | None
    place_kind: str | None


def _grade_part(
    session: Session, rules: Rules, pending: list[Any], households: list[tuple[int, str, str | None]]
) -> GradeSummary:
    asked = pd.DataFrame(households, columns=["risk_id", "community_code", "address_norm"])
    became = classify(session, asked)
    changes = mark_places(session, became)
    seen = {r.id for r in pending}
    if beyond := sorted(set(became) - seen):  # the address's other risks become places with it
        pending += frame_in(
            session,
            select(col(Risk.id), col(Risk.level), col(Risk.rules_version), col(Risk.place_kind)),
            Risk.id,
            beyond,
            ["id", "level", "rules_version", "place_kind"],
        ).itertuples(index=False)
    places = {r.id for r in pending if r.place_kind is not None} | set(became)
    return _regrade(session, rules, pending, places, became, changes)


def cool_places(session: Session, rules: Rules, as_of: datetime) -> GradeSummary:
    """Each morning, the places above blue graded again as of the day (the sweep calls it).

    A place's colour follows its signals of the last `grading.place_window_days`: a weapon called in at
    a square two months ago no longer keeps the square red. A household comes down only by calm visits;
    a place is patrolled, not visited, so its quiet is the evidence — as it is for its end (60 days).
    """
    rows: list[Any] = list(
        session.execute(
            select(col(Risk.id), col(Risk.level), col(Risk.rules_version), col(Risk.place_kind)).where(
                col(Risk.place_kind).is_not(None),
                col(Risk.level) != Colour.blue.value,
                col(Risk.status).in_(LIVE_STATUSES),
            )
        )
    )
    if not rows:
        return GradeSummary()
    return _regrade(session, rules, rows, {r.id for r in rows}, {}, [], as_of)


def _recent_at_places(
    signals: pd.DataFrame, places: set[int], days: int, as_of: datetime | None
) -> pd.DataFrame:
    """A place's signals of the `days` before `as_of` (None: before its latest signal, as intake grades
    it); a household's all (its floor is the day its colour last changed)."""
    if not places or signals.empty:
        return signals
    anchor = (
        signals.groupby("risk_id")["occurred_at"].transform("max") if as_of is None else pd.Timestamp(as_of)
    )
    recent = signals["occurred_at"] > anchor - pd.Timedelta(days=days)
    return signals[~signals["risk_id"].isin(places) | recent]


def rule_reasons(
    signals: pd.DataFrame, places: set[int], rules: Rules, as_of: datetime | None = None
) -> dict[int, list[str]]:
    """Per risk, the reason codes the rules give it (red first): a household on every signal given, a
    place on those of its window and never for its volume (`_place_reasons`). `as_of` anchors a place's
    window (None: its latest signal, as intake grades it). Intake, the morning's cooling and the
    review's colours at a past moment all grade with this one function."""
    g = rules.grading
    graded = grade(_recent_at_places(signals, places, g.place_window_days, as_of), rules)
    out = {int(rid): list(reasons) for rid, reasons in zip(graded.index, graded["reasons"], strict=True)}
    if places & out.keys():
        at_places = signals[signals["risk_id"].isin(places)]
        red = grade(_recent_at_places(at_places, places, g.place_red_days, as_of), rules)
        recent = dict(zip(red.index, red["reasons"], strict=True))
        for rid in places & out.keys():
            out[rid] = _place_reasons(out[rid], list(recent.get(rid, [])))
    return out


def _place_reasons(window: list[str], recent: list[str]) -> list[str]:
    """A place's reasons, never its volume: red from the rules about people within `place_red_days` (the
    quick response has answered the call, and the people, once named, carry their own risk), the rest
    from its window."""
    red = [r for r in recent if r.startswith("red.") and not r.startswith(VOLUME_CODES)]
    return red + [r for r in window if not r.startswith(("red.", *VOLUME_CODES))]


def _regrade(
    session: Session,
    rules: Rules,
    pending: list[Any],
    places: set[int],
    became: dict[int, str],
    changes: list[audit.Change],
    as_of: datetime | None = None,
) -> GradeSummary:
    """Grade `pending` (rows of id, level, rules version, place kind) and write what changed."""
    signals = _signals_since_floor(session, [r.id for r in pending])
    by_risk = rule_reasons(signals, places, rules, as_of)
    updates, history, summary = regraded(pending, by_risk, places, became, rules, changes)
    update_by_id(session, Risk, updates)
    insert_rows(session, table_of(RiskLevelChange), history)
    audit.append(session, changes)
    return summary


def regraded(
    pending: list[Any],
    by_risk: dict[int, list[str]],
    places: set[int],
    became: dict[int, str],
    rules: Rules,
    changes: list[audit.Change],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], GradeSummary]:
    """What grading `pending` by these reasons changes: each risk's update, the level history of those
    whose colour moved, and their audit rows (appended to `changes`). A household's colour only goes up
    here; a place's may come down to what its window gives it."""
    summary = GradeSummary(graded=len(pending), raised={}, new_red=[])
    now, actor = utcnow(), audit.current_actor()
    updates, history = [], []
    for rid, level, version, _kind in pending:
        reasons = by_risk.get(rid, [])
        new_level = colour_of(reasons[0]) if reasons else Colour.blue
        before = None if version is None else Colour(level)
        if rid in became and before is not None and before.rank > new_level.rank:
            reasons = [f"place.{became[rid]}", *reasons]
        elif rid in places and before is not None and before.rank > new_level.rank:
            reasons = ["place.window", *reasons]  # what made the place red is older than the window
        elif before is not None and before.rank > new_level.rank:
            new_level, reasons = before, ["held.above_rules", *reasons]
        updates.append(
            {
                "id": rid,
                "level": new_level.value,
                "reasons": reasons,
                "rules_version": rules.version,
                "graded_at": now,
            }
        )
        if before != new_level:
            history.append(
                {
                    "risk_id": rid,
                    "at": now,
                    "from_level": before and before.value,
                    "to_level": new_level.value,
                    "cause": "place" if reasons and reasons[0].startswith("place.") else "rule",
                    "reasons": reasons,
                    "rules_version": rules.version,
                    "actor": actor,
                }
            )
            changes.append(
                audit.Change(
                    "level",
                    "risk",
                    str(rid),
                    {"level": before and before.value},
                    {"level": new_level.value, "reasons": reasons, "rules_version": rules.version},
                    "rule: " + ", ".join(reasons),
                )
            )
            if before is None or new_level.rank > before.rank:
                summary.raised[new_level.value] = summary.raised.get(new_level.value, 0) + 1
            else:
                summary.lowered += 1
            if new_level is Colour.red:
                summary.new_red.append(rid)
    return updates, history, summary


def raise_level(session: Session, risk_id: int, to: Colour, by: str, reason: str) -> RiskLevelChange:
    """A named person raises a risk's colour; lowering is the evidence rule's alone."""
    hold_register(session)
    risk = session.get(Risk, risk_id)
    if risk is None:
        raise LookupError(f"there is no risk {risk_id}")
    current = Colour(risk.level)
    if to.rank <= current.rank:
        raise ValueError(
            f"risk {risk_id} is {current.value}: a person can only raise a level; it goes down only "
            "after two calm follow-ups in a row (the evidence rule)"
        )
    now = utcnow()
    actor = audit.current_actor(by)
    change = RiskLevelChange(
        risk_id=risk_id,
        at=now,
        from_level=current.value,
        to_level=to.value,
        cause="person",
        reasons=["person.raise"],
        actor=actor,
        note=reason,
    )
    risk.level = to.value
    session.add_all([risk, change])
    audit.append(
        session,
        [audit.Change("level", "risk", str(risk_id), {"level": current.value}, {"level": to.value}, reason)],
        actor=actor,
    )
    return change
