"""How a risk ends (化解): settled at a visit and confirmed by a return visit, referred, dormant, re-checked.

From the brief. A visit's outcome drives the life of a risk: `settled` puts it in the settled state
with a return visit (回访) due after 7 days (yellow, blue) or 14 (orange), and a calm return visit
resolves it; a red risk is settled only on the station chief's sign-off. `referred` takes it off the
visit cadence with one check after 30 days. A yellow or blue risk whose last follow-up was calm and
that has had no signal for 60 days is resolved as dormant. Every resolved dispute risk gets one
re-check (复查) after 180 days. A new signal before the return visit sends the risk back to open:
that is linking's to do, when the signal arrives.

Every end names its evidence (the visit's signal id) and a rule code (`ends.…`), in the level history
and the audit trail. Nothing here lowers a colour: that stays the evidence rule's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import exists, insert, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import chunks, frame_in
from bridgehead.rules import Rules
from models.clock import day_start, local_date
from models.common import DISPUTE_CATEGORIES, Colour
from models.follow_up import FollowUp, SweepDay
from models.risk import CALM_CONCERN, Risk, RiskLevelChange, RiskStatus
from models.signal import Signal, is_news


@dataclass
class EndSummary:
    settled: list[int] = field(default_factory=list)
    referred: list[int] = field(default_factory=list)
    resolved: dict[str, list[int]] = field(default_factory=dict)  # rule code -> risk ids
    reopened: list[int] = field(default_factory=list)
    awaiting_chief: list[int] = field(default_factory=list)  # red risks a visit settled: the chief signs off
    rechecked_calm: list[int] = field(default_factory=list)


def calm_end(concern: Any, outcome: Any, interrupted: bool) -> bool:
    """Calm enough to end on: no or low concern (or none stated on a visit that settled it), no news since."""
    stated = concern if isinstance(concern, str) else None
    return not interrupted and (stated in CALM_CONCERN or (stated is None and outcome == "settled"))


def decide(status: str, level: str, why: str, outcome: str | None, calm: bool) -> str:
    """What one completed visit does to its risk's life: settle, await_chief, refer, resolve, reopen,
    again (nobody met: the same visit once more), recheck_calm, or nothing ('')."""
    outcome = outcome or "ongoing"
    if status == RiskStatus.resolved:
        return "recheck_calm" if why == "recheck" and calm else ""
    if outcome == "referred":
        return "refer"
    waiting = status in (RiskStatus.settled, RiskStatus.referred)
    if outcome in ("escalated", "unreachable"):
        return ("reopen" if outcome == "escalated" else "again") if waiting else ""
    if status == RiskStatus.settled:
        return "resolve" if calm else "reopen"
    if outcome == "settled":
        return "await_chief" if level == Colour.red else "settle"
    return "reopen" if status == RiskStatus.referred else ""


class Ends:
    """The ends of one pass, written together: status changes, history, new visits, audit rows."""

    def __init__(self, session: Session, rules: Rules, as_of: datetime) -> None:
        self.session, self.rules, self.as_of = session, rules, as_of
        self.summary = EndSummary()
        self.changes: list[audit.Change] = []
        self.history: list[dict[str, Any]] = []
        self.visits: list[dict[str, Any]] = []
        self.off_cadence: set[int] = set()  # risks whose pending visits give way to the new ones

    def _record(
        self, risk: Risk, at: datetime, rule: str, before: dict[str, Any], note: str, evidence: Any
    ) -> None:
        self.history.append(
            {
                "risk_id": risk.id,
                "at": at,
                "from_level": before.get("level", risk.level),
                "to_level": risk.level,
                "cause": "end",
                "reasons": [rule],
                "rules_version": self.rules.version,
                "actor": audit.current_actor(),
                "note": note,
            }
        )
        after = {"status": risk.status, "level": risk.level, "rule": rule, "evidence": evidence}
        self.changes.append(audit.Change("end", "risk", str(risk.id), before, after, note))
        self.session.add(risk)

    def plan_visit(self, risk: Risk, why: str, due: date, after: datetime) -> None:
        """A visit due on `due` that any visit after `after`, within the window before `due`, completes."""
        window = timedelta(days=self.rules.ends.visit_window_days)
        basis = max(after, day_start(due) - window)
        self.off_cadence.add(risk.id)  # type: ignore[arg-type]
        self.visits.append(
            {
                "risk_id": risk.id,
                "officer_code": risk.officer_code,
                "due_on": due,
                "basis_at": basis,
                "why": why,
                "status": "pending",
                "created_at": self.as_of,
            }
        )

    def settle(self, risk: Risk, at: datetime, evidence: Any, rule: str = "ends.settled") -> None:
        before = {"status": risk.status, "level": risk.level}
        risk.status, risk.settled_at, risk.calm_streak = RiskStatus.settled.value, at, 0
        days = self.rules.ends.return_visit_days[Colour(risk.level)]
        self.plan_visit(risk, "return_visit", local_date(at) + timedelta(days=days), at)
        self.summary.settled.append(risk.id)  # type: ignore[arg-type]
        self._record(risk, at, rule, before, f"settled at a visit: a return visit in {days} days", evidence)

    def refer(self, risk: Risk, at: datetime, evidence: Any) -> None:
        before = {"status": risk.status, "level": risk.level}
        risk.status, risk.settled_at = RiskStatus.referred.value, at
        days = self.rules.ends.referral_check_days
        self.plan_visit(risk, "referral_check", local_date(at) + timedelta(days=days), at)
        self.summary.referred.append(risk.id)  # type: ignore[arg-type]
        self._record(
            risk, at, "ends.referred", before, f"referred to another body: one check in {days} days", evidence
        )

    def resolve(self, risk: Risk, at: datetime, evidence: Any, rule: str, note: str) -> None:
        before = {"status": risk.status, "level": risk.level}
        risk.status, risk.resolved_at, risk.settled_at, risk.calm_streak = (
            RiskStatus.resolved.value,
            at,
            None,
            0,
        )
        self.off_cadence.add(risk.id)  # type: ignore[arg-type]
        self.recheck(risk, at)
        self.summary.resolved.setdefault(rule, []).append(risk.id)  # type: ignore[arg-type]
        self._record(risk, at, rule, before, note, evidence)

    def recheck(self, risk: Risk, at: datetime) -> None:
        """A resolved dispute risk gets one re-check visit (复查) half a year on (a place is patrolled)."""
        if risk.category in DISPUTE_CATEGORIES and risk.place_kind is None:
            due = local_date(at) + timedelta(days=self.rules.ends.recheck_after_days)
            self.plan_visit(risk, "recheck", due, at)

    def reopen(self, risk: Risk, at: datetime, evidence: Any, rule: str, note: str) -> None:
        before = {"status": risk.status, "level": risk.level}
        risk.status, risk.settled_at = RiskStatus.open.value, None
        self.off_cadence.add(risk.id)  # type: ignore[arg-type]
        self.summary.reopened.append(risk.id)  # type: ignore[arg-type]
        self._record(risk, at, rule, before, note, evidence)

    def write(self) -> list[audit.Change]:
        """Cancel the visits the new ones replace, plan the new ones, keep the history."""
        session = self.session
        session.flush()
        for part in chunks(sorted(self.off_cadence)):
            session.execute(
                update(FollowUp)
                .where(col(FollowUp.risk_id).in_(part), col(FollowUp.status) == "pending")
                .values(status="cancelled")
            )
        if self.history:
            session.execute(insert(RiskLevelChange), self.history)
        if self.visits:
            self._insert_visits()
        return self.changes

    def _insert_visits(self) -> None:
        taken = (
            frame_in(
                self.session,
                select(col(FollowUp.risk_id), col(FollowUp.due_on)),
                FollowUp.risk_id,
                sorted({v["risk_id"] for v in self.visits}),
                ["risk_id", "due_on"],
            )
            .groupby("risk_id")["due_on"]
            .agg(set)
        )
        for visit in self.visits:  # (risk, due day) is unique: a day already used moves the visit on
            used = taken.get(visit["risk_id"], set())
            while visit["due_on"] in used:
                visit["due_on"] += timedelta(days=1)
            used.add(visit["due_on"])
        ids: Sequence[int] = (
            self.session.execute(insert(FollowUp).returning(col(FollowUp.id)), self.visits).scalars().all()
        )
        self.changes += [
            audit.Change("assign", "follow_up", str(fid), None, _assigned(v), v["why"].replace("_", " "))
            for fid, v in zip(ids, self.visits, strict=True)
        ]


def _assigned(visit: dict[str, Any]) -> dict[str, Any]:
    return {"risk": visit["risk_id"], "due_on": visit["due_on"], "why": visit["why"]}


def apply_outcomes(ends: Ends, done: pd.DataFrame, risks: dict[int, Risk]) -> None:
    """Each completed visit's outcome, in time order: settle, refer, resolve on a calm return visit, reopen.

    `done` columns: risk_id, signal_id, at, concern, outcome, why, interrupted.
    """
    for row in done.sort_values("at").itertuples():
        risk = risks[int(row.risk_id)]
        outcome = row.outcome if isinstance(row.outcome, str) else None
        calm = calm_end(row.concern, outcome, bool(row.interrupted))
        step = decide(risk.status, risk.level, row.why, outcome, calm)
        evidence = {"visit": int(row.signal_id)}
        if step == "settle":
            ends.settle(risk, row.at, evidence)
        elif step == "refer":
            ends.refer(risk, row.at, evidence)
        elif step == "resolve":
            note = "a calm return visit after the risk was settled: resolved"
            ends.resolve(risk, row.at, evidence, "ends.return_visit", note)
        elif step == "reopen":
            ends.reopen(
                risk,
                row.at,
                evidence,
                "ends.not_settled",
                f"the visit found it not settled ({outcome or 'ongoing'})",
            )
        elif step == "again":
            due = local_date(row.at) + timedelta(days=ends.rules.ends.visit_window_days)
            ends.plan_visit(risk, row.why, due, row.at)
        elif step == "await_chief":
            ends.summary.awaiting_chief.append(risk.id)  # type: ignore[arg-type]
        elif step == "recheck_calm":
            ends.summary.rechecked_calm.append(risk.id)  # type: ignore[arg-type]
            ends.changes.append(
                audit.Change("recheck", "risk", str(risk.id), None, evidence, "re-check: still calm")
            )


def opening_outcomes(ends: Ends) -> None:
    """A visit that found a new risk and settled or referred it on the spot (the melon field: "mediated
    on the spot and settled") ends it as a follow-up visit would: settled with its return visit, or
    referred with its check. Only while the risk is still open and has never ended, so a rerun of the
    day, or a later reopening, never applies it twice."""
    session = ends.session
    ended = exists().where(col(RiskLevelChange.risk_id) == Risk.id, col(RiskLevelChange.cause) == "end")
    rows: Sequence[tuple[Risk, int, datetime, str | None, str | None]] = session.execute(
        select(Risk, col(Signal.id), col(Signal.occurred_at), col(Signal.concern), col(Signal.outcome))
        .join(Signal, col(Signal.risk_id) == Risk.id)
        .where(
            col(Signal.channel) == "visit",
            col(Signal.named_risk_id).is_(None),  # a visit naming its risk came for it: it opened nothing
            col(Signal.outcome).in_(["settled", "referred"]),
            col(Signal.occurred_at) == Risk.first_signal_at,
            col(Signal.occurred_at) < ends.as_of,
            col(Risk.status) == RiskStatus.open.value,
            ~ended,
        )
    ).all()
    if not rows:
        return
    done = pd.DataFrame(
        [(r.id, sid, at, concern, outcome, "opening", False) for r, sid, at, concern, outcome in rows],
        columns=["risk_id", "signal_id", "at", "concern", "outcome", "why", "interrupted"],
    ).drop_duplicates("risk_id")
    apply_outcomes(ends, done, {cast(int, r.id): r for r, *_ in rows})


def _may_have_become_dormant(ends: Ends, cutoff: datetime) -> list[int] | None:
    """The only risks that can turn dormant today: their last news is just 60 days old, or a follow-up
    was recorded today. None (look at all) on a register's first swept day, for what went quiet before."""
    session, day = ends.session, local_date(ends.as_of)
    if session.execute(select(col(SweepDay.day)).where(col(SweepDay.day) < day).limit(1)).first() is None:
        return None
    aged = select(col(Signal.risk_id)).where(
        col(Signal.occurred_at) >= cutoff - timedelta(days=1),
        col(Signal.occurred_at) < cutoff,
        col(Signal.risk_id).is_not(None),
        is_news(),
    )
    seen = select(col(FollowUp.risk_id)).where(col(FollowUp.recorded_on) == day)
    return sorted(set(session.execute(aged).scalars()) | set(session.execute(seen).scalars()))


def _among(session: Session, stmt: Any, candidates: list[int] | None) -> list[int]:
    """The risk ids `stmt` selects, among `candidates` (None: all)."""
    if candidates is None:
        return list(session.scalars(stmt))
    return [r for part in chunks(candidates) for r in session.scalars(stmt.where(col(Risk.id).in_(part)))]


def _places_quiet(cutoff: datetime, news: Any) -> Any:
    return select(col(Risk.id)).where(
        col(Risk.status).in_([RiskStatus.open.value, RiskStatus.settled.value, RiskStatus.referred.value]),
        col(Risk.place_kind).is_not(None),
        col(Risk.first_signal_at) < cutoff,
        ~news,
    )


def _quiet_places(ends: Ends, ids: list[int]) -> None:
    """A place (hotspot) no call has named for the dormant period leaves the patrol ranking: resolved.

    A place is patrolled, not visited, so no follow-up can be its evidence: the quiet is."""
    days = ends.rules.ends.dormant_days
    for part in chunks(ids):
        for risk in ends.session.scalars(select(Risk).where(col(Risk.id).in_(part))):
            evidence = {"quiet_since": risk.last_signal_at.isoformat()}
            note = f"a place with no signal for {days} days: off the patrol ranking"
            ends.resolve(risk, ends.as_of, evidence, "ends.place_quiet", note)


def resolve_dormant(ends: Ends) -> None:
    """Yellow and blue risks quiet for the dormant period whose last follow-up was calm: resolved; and
    places (hotspots) of any colour quiet as long."""
    rules, session = ends.rules.ends, ends.session
    # in calendar days: a signal on day D leaves the risk dormant on day D + 60, judged at its start
    cutoff = ends.as_of - timedelta(days=rules.dormant_days - 1)
    news = exists().where(col(Signal.risk_id) == Risk.id, col(Signal.occurred_at) >= cutoff, is_news())
    quiet_now = select(col(Risk.id)).where(
        col(Risk.status) == RiskStatus.open.value,
        col(Risk.level).in_([c.value for c in rules.dormant_levels]),
        col(Risk.first_signal_at) < cutoff,
        col(Risk.place_kind).is_(None),
        ~news,
    )
    candidates = _may_have_become_dormant(ends, cutoff)
    quiet = _among(session, quiet_now, candidates)
    _quiet_places(ends, list(session.execute(_places_quiet(cutoff, news)).scalars()))  # places are few
    last = (
        frame_in(
            session,
            select(
                col(FollowUp.risk_id),
                col(FollowUp.done_at),
                col(FollowUp.calm),
                col(FollowUp.visit_signal_id),
            ).where(col(FollowUp.status) == "done", col(FollowUp.done_at) < ends.as_of),
            FollowUp.risk_id,
            list(quiet),
            ["risk_id", "done_at", "calm", "visit_signal_id"],
        )
        .sort_values(["risk_id", "done_at"])
        .drop_duplicates("risk_id", keep="last")
    )
    calm = last[last["calm"].fillna(False).astype(bool)]
    for part in chunks(calm["risk_id"].astype(int).tolist()):
        for risk in session.scalars(select(Risk).where(col(Risk.id).in_(part))):
            visit = int(calm.loc[calm["risk_id"] == risk.id, "visit_signal_id"].iloc[0])
            note = f"no signal for {rules.dormant_days} days and the last follow-up calm: dormant"
            ends.resolve(risk, ends.as_of, {"visit": visit}, "ends.dormant", note)
