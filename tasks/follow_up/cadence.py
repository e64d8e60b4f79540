"""Follow-up (跟进督促): when each open risk must next be visited, and what the visits showed.

The sweep for a day D judges everything as of the start of D (Asia/Shanghai): signals and visits
before then count, nothing after. Each stage is one set-based pass in its own transaction and is
idempotent — completed follow-ups are not completed again, assignments are keyed by (risk, due
date) — so a sweep run twice, or killed and run again, ends in the same state.

Cadence, from the brief: visit at least every N days after the last visit (red 1, orange 3,
yellow 7, blue 30), and within a shorter window after a new signal (24 h, 24 h, 72 h, 7 days).
An assignment made today for a visit that was due earlier is due today: lateness counts from the
day an officer could see the assignment, never retroactively.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import and_, exists, insert, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.bulk import update_by_id
from bridgehead.db import chunks, dialect_insert, frame_in, frame_of, table_of
from bridgehead.locks import hold_register
from bridgehead.rules import FollowUpRules, Rules
from models.clock import day_start, local_date
from models.common import Colour
from models.follow_up import FollowUp
from models.risk import CALM_CONCERN, Risk, RiskLevelChange, RiskStatus
from models.signal import Signal
from tasks.follow_up.capacity import plan_day
from tasks.follow_up.ends import Ends, EndSummary, apply_outcomes, opening_outcomes, resolve_dormant
from tasks.follow_up.sweep import ColourChange
from tasks.intake.grading_stage import cool_places

LOWER = {Colour.red: Colour.orange, Colour.orange: Colour.yellow, Colour.yellow: Colour.blue}


def next_due(
    rules: FollowUpRules, level: str, basis_at: datetime, new_signal_at: datetime | None
) -> tuple[date, str]:
    """When the next visit is due: the cadence after the basis, or sooner after a new signal."""
    cadence = rules.for_colour(level)
    due, why = local_date(basis_at) + timedelta(days=cadence.every_days), "cadence"
    if new_signal_at is not None and new_signal_at >= basis_at:  # the opening signal counts as new
        first = local_date(new_signal_at + timedelta(hours=cadence.first_within_hours))
        if first < due:
            due, why = first, "new_signal"
    return due, why


@dataclass
class VisitSummary:
    completed: int = 0
    calm: int = 0
    lowered: list[ColourChange] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    ends: EndSummary = field(default_factory=EndSummary)
    places_cooled: int = 0  # places whose colour came down as what made it went out of the window


def _frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    return frame_of(rows, columns)


def record_visits(session: Session, rules: Rules, day: date) -> VisitSummary:
    """Complete each pending follow-up by the first visit on its risk since its basis, then the evidence rule.

    A visit is calm when it reports `none` or `low` concern and no other signal came in on the risk
    between the basis and the visit. Two calm follow-ups in a row lower the colour one step; a blue
    risk with two calm follow-ups is resolved. The visits' outcomes then settle, refer, resolve or
    reopen risks, and risks quiet long enough end as dormant (`tasks.follow_up.ends`, 化解).
    """
    hold_register(session)  # the evidence rule must not lower a colour that intake is raising
    as_of, summary = day_start(day), VisitSummary()
    ends = Ends(session, rules, as_of)
    changes = _complete(session, rules, as_of, day, summary, ends)
    opening_outcomes(ends)
    resolve_dormant(ends)
    changes += ends.write()
    summary.ends = ends.summary
    audit.append(session, changes)
    summary.places_cooled = cool_places(session, rules, as_of).lowered
    return summary


def _complete(
    session: Session, rules: Rules, as_of: datetime, day: date, summary: VisitSummary, ends: Ends
) -> list[audit.Change]:
    visits = _frame(
        session.execute(
            select(
                col(FollowUp.id),
                col(FollowUp.risk_id),
                col(FollowUp.why),
                col(Signal.id),
                col(Signal.occurred_at),
                col(Signal.concern),
                col(Signal.outcome),
            )
            .join(
                Signal,
                and_(col(Signal.risk_id) == FollowUp.risk_id, col(Signal.occurred_at) > FollowUp.basis_at),
            )
            # basis before as_of is implied, and said: it lets the planner start from the few follow-ups
            # that can be complete (a re-check's basis is months ahead), not from every visit on record
            .where(
                col(FollowUp.status) == "pending",
                col(FollowUp.basis_at) < as_of,
                col(Signal.channel) == "visit",
                col(Signal.occurred_at) < as_of,
            )
        ),
        ["follow_up_id", "risk_id", "why", "signal_id", "at", "concern", "outcome"],
    )
    if visits.empty:
        return []
    first = visits.sort_values(["at", "signal_id"]).drop_duplicates("follow_up_id")
    others = _frame(
        session.execute(
            select(col(FollowUp.id), col(Signal.occurred_at))
            .join(
                Signal,
                and_(col(Signal.risk_id) == FollowUp.risk_id, col(Signal.occurred_at) > FollowUp.basis_at),
            )
            .where(
                col(FollowUp.id).in_(first["follow_up_id"].tolist()),
                col(Signal.channel) != "visit",
                col(Signal.occurred_at) < as_of,
            )
        ),
        ["follow_up_id", "at"],
    )
    earliest_other = others.groupby("follow_up_id")["at"].min()
    first["interrupted"] = [
        fid in earliest_other.index and earliest_other[fid] < at
        for fid, at in zip(first["follow_up_id"], first["at"], strict=True)
    ]
    first["calm"] = first["concern"].isin(CALM_CONCERN) & ~first["interrupted"]
    update_by_id(
        session,
        FollowUp,
        [
            {
                "id": int(r.follow_up_id),
                "status": "done",
                "done_at": r.at,
                "recorded_on": day,
                "visit_signal_id": int(r.signal_id),
                "calm": bool(r.calm),
            }
            for r in first.itertuples()
        ],
    )
    summary.completed, summary.calm = len(first), int(first["calm"].sum())
    changes = [
        audit.Change(
            "complete",
            "follow_up",
            str(r.follow_up_id),
            {"status": "pending"},
            {"status": "done", "visit": int(r.signal_id), "calm": bool(r.calm)},
            f"visit with {r.concern or 'no'} concern" + (" after a new signal" if r.interrupted else ""),
        )
        for r in first.itertuples()
    ]
    risks = {
        cast(int, r.id): r
        for part in chunks(first["risk_id"].astype(int).tolist())
        for r in session.scalars(select(Risk).where(col(Risk.id).in_(part)))
    }
    apply_outcomes(ends, first, risks)
    return changes + _evidence(session, rules, first, summary, risks, ends)


def _evidence(
    session: Session,
    rules: Rules,
    done: pd.DataFrame,
    summary: VisitSummary,
    risks: dict[int, Risk],
    ends: Ends,
) -> list[audit.Change]:
    """The evidence rule: the only way a colour goes down, always by one step and with its reason."""
    need, actor = rules.follow_up.calm_to_lower, audit.current_actor()
    changes, history = [], []
    for row in done.sort_values("at").itertuples():
        risk = risks[int(row.risk_id)]
        risk.calm_streak = risk.calm_streak + 1 if row.calm else 0
        if risk.calm_streak >= need and risk.status == RiskStatus.open.value:
            before = Colour(risk.level)
            reason = f"evidence.calm_{need}"
            risk.calm_streak = 0
            if before is Colour.blue:
                risk.status, risk.resolved_at = RiskStatus.resolved.value, row.at
                summary.resolved.append(risk.id)  # type: ignore[arg-type]
                ends.recheck(risk, row.at)
                after = {"status": "resolved", "level": before.value}
                note = f"{need} calm follow-ups in a row on a blue risk: resolved"
            else:
                risk.level, risk.level_since, risk.reasons = LOWER[before].value, row.at, [reason]
                stored = cast(int, risk.id)
                summary.lowered.append({"risk_id": stored, "from": before.value, "to": risk.level})
                after = {"level": risk.level}
                note = f"{need} calm follow-ups in a row: one step down"
            history.append(
                {
                    "risk_id": risk.id,
                    "at": row.at,
                    "from_level": before.value,
                    "to_level": risk.level,
                    "cause": "evidence",
                    "reasons": [reason, *(["evidence.resolved"] if risk.status == "resolved" else [])],
                    "rules_version": rules.version,
                    "actor": actor,
                    "note": note,
                }
            )
            changes.append(
                audit.Change(
                    "evidence", "risk", str(risk.id), {"level": before.value, "status": "open"}, after, note
                )
            )
        session.add(risk)
    if history:
        session.execute(insert(RiskLevelChange), history)
    session.flush()
    return changes


def _free_date(due: date, taken: set[date]) -> date:
    while due in taken:
        due += timedelta(days=1)
    return due


def _candidates(session: Session, as_of: datetime) -> list[int]:
    """Open risks that need a plan: none pending, or a signal since the pending one was planned."""
    is_open = and_(  # a household's risk: a place (hotspot) is patrolled, not visited on a cadence
        col(Risk.status) == RiskStatus.open.value,
        col(Risk.first_signal_at) < as_of,
        col(Risk.place_kind).is_(None),
    )
    pending = select(col(FollowUp.risk_id)).where(col(FollowUp.status) == "pending")
    # one hash, not a scan per risk
    unplanned = select(col(Risk.id)).where(is_open, col(Risk.id).not_in(pending))
    newer = exists().where(
        col(Signal.risk_id) == FollowUp.risk_id,
        col(Signal.channel) != "visit",
        col(Signal.occurred_at) >= FollowUp.created_at,  # came in after the plan was made
        col(Signal.occurred_at) < as_of,
    )
    hurried = (
        select(col(Risk.id))
        .join(FollowUp, col(FollowUp.risk_id) == Risk.id)
        .where(is_open, col(FollowUp.status) == "pending", newer)
    )
    return sorted(set(session.execute(unplanned).scalars()) | set(session.execute(hurried).scalars()))


def schedule(session: Session, rules: Rules, day: date) -> int:
    """Give every open risk without a pending follow-up its next one; bring one forward after a new signal.

    Only the risks that need it are read (new, just visited, or with a new signal), so a day's cost
    follows the day's activity, not the size of the register. Then each officer's day is planned up
    to capacity (`tasks.follow_up.capacity`).
    """
    as_of = day_start(day)
    ids = _candidates(session, as_of)
    # in parts, so a first sweep over a whole province's backlog holds one part in memory at a time
    assigned = sum(_plan(session, rules, day, as_of, part) for part in chunks(ids, PLAN_PART))
    plan_day(session, rules, day)
    return assigned


PLAN_PART = 50_000


def _plan(session: Session, rules: Rules, day: date, as_of: datetime, ids: list[int]) -> int:
    frame = frame_in(
        session,
        select(col(Risk.id), col(Risk.level), col(Risk.level_since), col(Risk.officer_code)),
        Risk.id,
        ids,
        ["risk_id", "level", "level_since", "officer_code"],
    )
    signals = frame_in(
        session,
        select(col(Signal.risk_id), col(Signal.channel) == "visit", col(Signal.occurred_at)).where(
            col(Signal.occurred_at) < as_of
        ),
        Signal.risk_id,
        ids,
        ["risk_id", "visit", "at"],
    )
    follow_ups = frame_in(
        session,
        select(col(FollowUp.risk_id), col(FollowUp.id), col(FollowUp.due_on), col(FollowUp.status)),
        FollowUp.risk_id,
        ids,
        ["risk_id", "follow_up_id", "due_on", "status"],
    )
    last_visit = signals[signals["visit"].astype(bool)].groupby("risk_id")["at"].max().rename("last_visit")
    pending = follow_ups[follow_ups["status"] == "pending"].drop(columns="status")
    taken = follow_ups[follow_ups["status"] == "done"].groupby("risk_id")["due_on"].agg(set).rename("taken")
    frame = frame.merge(last_visit, on="risk_id", how="left").merge(pending, on="risk_id", how="left")
    frame = frame.merge(taken, on="risk_id", how="left")
    frame["basis_at"] = [
        max(since, visit) if isinstance(visit, datetime) else since
        for since, visit in zip(frame["level_since"], frame["last_visit"], strict=True)
    ]
    others = signals[~signals["visit"].astype(bool)].merge(frame[["risk_id", "basis_at"]], on="risk_id")
    first_new = others[others["at"] >= others["basis_at"]].groupby("risk_id")["at"].min().rename("first_new")
    frame = frame.merge(first_new, on="risk_id", how="left")
    plans = [
        next_due(rules.follow_up, level, basis, new if isinstance(new, datetime) else None)
        for level, basis, new in zip(frame["level"], frame["basis_at"], frame["first_new"], strict=True)
    ]
    frame["new_due"] = [
        _free_date(max(due, day), dates if isinstance(dates, set) else set())
        for (due, _), dates in zip(plans, frame["taken"], strict=True)
    ]  # never due before today, never on the date of a follow-up already done (a cancelled one is revived)
    frame["why"] = [why for _, why in plans]
    has = frame["follow_up_id"].notna()
    sooner = has & (frame["new_due"] < frame["due_on"].where(has, frame["new_due"]))
    make = frame[~has | sooner].sort_values("risk_id")  # ids given in risk order, on any database
    cancel = frame.loc[sooner, "follow_up_id"].astype(int).tolist()
    if cancel:
        session.execute(update(FollowUp).where(col(FollowUp.id).in_(cancel)).values(status="cancelled"))
    if make.empty:
        return 0
    records = [
        {
            "risk_id": int(r.risk_id),
            "officer_code": r.officer_code if isinstance(r.officer_code, str) else None,
            "due_on": r.new_due,
            "basis_at": r.basis_at,
            "why": r.why,
            "status": "pending",
            "created_at": as_of,
        }
        for r in make.itertuples()
    ]
    follow_up = table_of(FollowUp)
    upsert = dialect_insert(session, follow_up)
    session.connection().execute(
        upsert.on_conflict_do_update(
            index_elements=["risk_id", "due_on"],
            set_={k: upsert.excluded[k] for k in ("officer_code", "basis_at", "why", "status", "created_at")},
            where=follow_up.c.status == "cancelled",
        ),
        records,
    )
    made = frame_in(
        session,
        select(
            col(FollowUp.id),
            col(FollowUp.risk_id),
            col(FollowUp.officer_code),
            col(FollowUp.due_on),
            col(FollowUp.why),
        ).where(col(FollowUp.status) == "pending", col(FollowUp.created_at) == as_of),
        FollowUp.risk_id,
        [int(r) for r in make["risk_id"]],
        ["id", "risk_id", "officer_code", "due_on", "why"],
    ).itertuples(index=False)
    audit.append(session, assign_changes(made, cancel))
    return len(records)


def assign_changes(made: Iterable[tuple[Any, ...]], cancelled: list[int]) -> list[audit.Change]:
    """The audit rows of follow-ups assigned (rows of id, risk, officer, due day, why) and cancelled."""
    return [
        audit.Change(
            "assign",
            "follow_up",
            str(fid),
            None,
            {
                "risk": int(rid),
                "officer": officer if isinstance(officer, str) else None,
                "due_on": due,
                "why": why,
            },
            "a new signal: first visit sooner" if why == "new_signal" else "visit cadence",
        )
        for fid, rid, officer, due, why in made
    ] + [
        audit.Change(
            "cancel", "follow_up", str(fid), {"status": "pending"}, {"status": "cancelled"}, "due sooner"
        )
        for fid in cancelled
    ]
