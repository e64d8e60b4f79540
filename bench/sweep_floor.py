"""The floor of a day's sweep: the least work that reaches the product's end state for one new day.

One transaction; Core statements on plain rows; the few risks a day touches held as dictionaries; each
list asked once by the condition that defines it. The rules are the product's pure ones (`decide`,
`calm_end`, `next_due`, `rule_reasons`, the brief's order of a day's list in `ranked`), so the ratio
prices the product's machinery, not another reading of the brief: four transactions a killed sweep
resumes after, the ORM's identity map, lists read in parts so that a province's first morning fits in
memory, rungs checked against what is already recorded. `bench/sweep_day.py` runs both on copies of one
swept city and checks them equal. The bench's day lowers no colour (no risk has two calm follow-ups
in a row yet): the evidence rule is written here, but not exercised there.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import String, and_, bindparam, case, cast, exists, func, insert, or_, select, update
from sqlmodel import Session

from bridgehead import audit
from bridgehead.db import chunks, dialect_insert, table_of
from bridgehead.rules import Rules, get_rules
from models.clock import day_start, local_date
from models.common import DISPUTE_CATEGORIES, Colour
from models.follow_up import (
    AccountabilityEntry,
    CapacityNotice,
    FollowUp,
    SupervisionNotice,
    SweepDay,
    SweepStage,
)
from models.jurisdiction import Community, Officer
from models.risk import CALM_CONCERN, LIVE_STATUSES, Risk, RiskLevelChange
from models.signal import Signal, is_news
from tasks.follow_up.cadence import assign_changes, next_due
from tasks.follow_up.capacity import ranked
from tasks.follow_up.ends import calm_end, decide
from tasks.follow_up.supervision import accountability_changes, notice_changes
from tasks.follow_up.sweep import COLUMNS
from tasks.intake.grading_stage import regraded, rule_reasons

T = SimpleNamespace(
    follow_up=table_of(FollowUp),
    signal=table_of(Signal),
    risk=table_of(Risk),
    history=table_of(RiskLevelChange),
    notice=table_of(SupervisionNotice),
    entry=table_of(AccountabilityEntry),
    capacity=table_of(CapacityNotice),
    community=table_of(Community),
    officer=table_of(Officer),
    day=table_of(SweepDay),
    stage=table_of(SweepStage),
)
RISK = (
    "id",
    "status",
    "level",
    "category",
    "place_kind",
    "officer_code",
    "calm_streak",
    "level_since",
    "reasons",
    "settled_at",
    "resolved_at",
    "last_signal_at",
)
SAVED = ("status", "level", "calm_streak", "level_since", "reasons", "settled_at", "resolved_at")
LOWER = {"red": "orange", "orange": "yellow", "yellow": "blue"}


def sweep_day(session: Session, day: date) -> dict[str, float]:
    """Sweep `day`, a day not swept yet, in the session's one transaction; seconds per phase."""
    if session.execute(select(T.stage.c.day).where(T.stage.c.day == day)).first() is not None:
        raise SystemExit(f"the floor sweeps a day not swept yet: {day} was")
    rules, as_of = get_rules(), day_start(day)
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    for phase, work in (
        ("record visits", lambda: _Visits(session, rules, day, as_of).run()),
        ("assign", lambda: (_assign(session, rules, day, as_of), _plan(session, rules, day))),
        ("supervise", lambda: _supervise(session, rules, day)),
        ("finish", lambda: _finish(session, day, as_of)),
    ):
        work()
        phases[phase], clock = round(time.perf_counter() - clock, 3), time.perf_counter()
    return phases


class _Visits:
    """The visits recorded, then the evidence rule and the ends of risks, as the product's first stage."""

    def __init__(self, session: Session, rules: Rules, day: date, as_of: datetime) -> None:
        self.session, self.conn, self.rules = session, session.connection(), rules
        self.day, self.as_of, self.actor = day, as_of, audit.current_actor()
        self.risks: dict[int, dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self.visits: list[dict[str, Any]] = []
        self.changes: list[audit.Change] = []
        self.off: set[int] = set()  # risks whose pending visits give way to the ends' new ones

    def run(self) -> None:
        self._complete()
        self._save()
        self._openings()
        self._save()
        self._dormant()
        self._save()
        f = T.follow_up
        for part in chunks(sorted(self.off)):
            self.conn.execute(
                f.update().where(f.c.risk_id.in_(part), f.c.status == "pending").values(status="cancelled")
            )
        if self.history:
            self.conn.execute(insert(T.history), self.history)
        if self.visits:
            self._insert_visits()
        audit.append(self.session, self.changes, actor=self.actor)
        _cool_places(self.session, self.rules, self.as_of)

    def _load(self, ids: Any) -> None:
        r = T.risk
        for part in chunks(sorted(set(ids) - self.risks.keys())):
            rows = self.conn.execute(select(*(r.c[k] for k in RISK)).where(r.c.id.in_(part)))
            self.risks |= {row[0]: dict(zip(RISK, row, strict=True)) for row in rows}

    def _save(self) -> None:
        """The risks touched so far written back: the next lists are asked of the database."""
        r = T.risk
        if self.risks:
            self.conn.execute(
                update(r).where(r.c.id == bindparam("rid")).values({k: bindparam(k) for k in SAVED}),
                [{"rid": rid, **{k: risk[k] for k in SAVED}} for rid, risk in self.risks.items()],
            )

    def _complete(self) -> None:
        """Each pending follow-up completed by the first visit since its basis (calm: no news between)."""
        f, s, o = T.follow_up, T.signal, T.signal.alias("o")
        pairs = (
            select(
                f.c.id.label("fid"),
                f.c.risk_id,
                f.c.why,
                f.c.basis_at,
                s.c.id.label("sid"),
                s.c.occurred_at.label("at"),
                s.c.concern,
                s.c.outcome,
            )
            .join(s, and_(s.c.risk_id == f.c.risk_id, s.c.occurred_at > f.c.basis_at))
            .where(f.c.status == "pending", f.c.basis_at < self.as_of)
            .where(s.c.channel == "visit", s.c.occurred_at < self.as_of)
            .subquery()
        )
        between = exists().where(
            o.c.risk_id == pairs.c.risk_id,
            o.c.channel != "visit",
            o.c.occurred_at > pairs.c.basis_at,
            o.c.occurred_at < pairs.c.at,
        )
        rows = self.conn.execute(select(*pairs.c, between.label("interrupted"))).all()
        done: dict[int, Any] = {}
        for row in sorted(rows, key=lambda x: (x.at, x.sid)):
            done.setdefault(row.fid, row)
        visits = list(done.values())
        calm = [v.concern in CALM_CONCERN and not v.interrupted for v in visits]
        if visits:
            self.conn.execute(
                update(f)
                .where(f.c.id == bindparam("fid"))
                .values(
                    status="done",
                    done_at=bindparam("at"),
                    recorded_on=self.day,
                    visit_signal_id=bindparam("sid"),
                    calm=bindparam("calm"),
                ),
                [
                    {"fid": v.fid, "at": v.at, "sid": v.sid, "calm": c}
                    for v, c in zip(visits, calm, strict=True)
                ],
            )
        self.changes += [
            audit.Change(
                "complete",
                "follow_up",
                str(v.fid),
                {"status": "pending"},
                {"status": "done", "visit": v.sid, "calm": c},
                f"visit with {v.concern or 'no'} concern" + (" after a new signal" if v.interrupted else ""),
            )
            for v, c in zip(visits, calm, strict=True)
        ]
        self._load(v.risk_id for v in visits)
        self._outcomes(
            [(v.risk_id, v.sid, v.at, v.concern, v.outcome, v.why, bool(v.interrupted)) for v in visits]
        )
        self._evidence([(v.risk_id, v.at, c) for v, c in zip(visits, calm, strict=True)])

    def _outcomes(self, rows: list[tuple[Any, ...]]) -> None:
        """What each visit does to its risk's life (`decide`), in time order."""
        ends = self.rules.ends
        for rid, sid, at, concern, outcome, why, interrupted in rows:
            risk, evidence = self.risks[rid], {"visit": sid}
            step = decide(
                risk["status"], risk["level"], why, outcome, calm_end(concern, outcome, interrupted)
            )
            if step == "settle":
                days = ends.return_visit_days[Colour(risk["level"])]
                note = f"settled at a visit: a return visit in {days} days"
                self._end(
                    risk, at, "ends.settled", note, evidence, status="settled", settled_at=at, calm_streak=0
                )
                self._visit(risk, "return_visit", local_date(at) + timedelta(days=days), at)
            elif step == "refer":
                days = ends.referral_check_days
                note = f"referred to another body: one check in {days} days"
                self._end(risk, at, "ends.referred", note, evidence, status="referred", settled_at=at)
                self._visit(risk, "referral_check", local_date(at) + timedelta(days=days), at)
            elif step == "resolve":
                note = "a calm return visit after the risk was settled: resolved"
                self._resolve(risk, at, evidence, "ends.return_visit", note)
            elif step == "reopen":
                note = f"the visit found it not settled ({outcome or 'ongoing'})"
                self._end(risk, at, "ends.not_settled", note, evidence, status="open", settled_at=None)
                self.off.add(rid)
            elif step == "again":
                self._visit(risk, why, local_date(at) + timedelta(days=ends.visit_window_days), at)
            elif step == "recheck_calm":
                self.changes.append(
                    audit.Change("recheck", "risk", str(rid), None, evidence, "re-check: still calm")
                )

    def _evidence(self, rows: list[tuple[int, datetime, bool]]) -> None:
        """Two calm follow-ups in a row: one colour down, or a blue risk resolved."""
        need = self.rules.follow_up.calm_to_lower
        for rid, at, calm in rows:
            risk = self.risks[rid]
            risk["calm_streak"] = risk["calm_streak"] + 1 if calm else 0
            if risk["calm_streak"] < need or risk["status"] != "open":
                continue
            before, reason = risk["level"], f"evidence.calm_{need}"
            risk["calm_streak"] = 0
            if before == "blue":
                risk.update(status="resolved", resolved_at=at)
                self._recheck(risk, at)
                after, note = (
                    {"status": "resolved", "level": before},
                    f"{need} calm follow-ups in a row on a blue risk: resolved",
                )
                reasons = [reason, "evidence.resolved"]
            else:
                risk.update(level=LOWER[before], level_since=at, reasons=[reason])
                after, note = {"level": risk["level"]}, f"{need} calm follow-ups in a row: one step down"
                reasons = [reason]
            self.history.append(self._step(rid, at, before, risk["level"], "evidence", reasons, note))
            self.changes.append(
                audit.Change("evidence", "risk", str(rid), {"level": before, "status": "open"}, after, note)
            )

    def _step(
        self, rid: int, at: datetime, before: str, after: str, cause: str, reasons: list[str], note: str
    ) -> dict[str, Any]:
        return {
            "risk_id": rid,
            "at": at,
            "from_level": before,
            "to_level": after,
            "cause": cause,
            "reasons": reasons,
            "rules_version": self.rules.version,
            "actor": self.actor,
            "note": note,
        }

    def _end(
        self, risk: dict[str, Any], at: datetime, rule: str, note: str, evidence: Any, **after: Any
    ) -> None:
        before = {"status": risk["status"], "level": risk["level"]}
        risk.update(after)
        self.history.append(self._step(risk["id"], at, before["level"], risk["level"], "end", [rule], note))
        state = {"status": risk["status"], "level": risk["level"], "rule": rule, "evidence": evidence}
        self.changes.append(audit.Change("end", "risk", str(risk["id"]), before, state, note))

    def _resolve(self, risk: dict[str, Any], at: datetime, evidence: Any, rule: str, note: str) -> None:
        self._end(
            risk, at, rule, note, evidence, status="resolved", resolved_at=at, settled_at=None, calm_streak=0
        )
        self.off.add(risk["id"])
        self._recheck(risk, at)

    def _recheck(self, risk: dict[str, Any], at: datetime) -> None:
        if risk["category"] in DISPUTE_CATEGORIES and risk["place_kind"] is None:
            self._visit(
                risk, "recheck", local_date(at) + timedelta(days=self.rules.ends.recheck_after_days), at
            )

    def _visit(self, risk: dict[str, Any], why: str, due: date, after: datetime) -> None:
        basis = max(after, day_start(due) - timedelta(days=self.rules.ends.visit_window_days))
        self.off.add(risk["id"])
        self.visits.append(
            {
                "risk_id": risk["id"],
                "officer_code": risk["officer_code"],
                "due_on": due,
                "basis_at": basis,
                "why": why,
                "status": "pending",
                "created_at": self.as_of,
            }
        )

    def _openings(self) -> None:
        """A visit that opened its risk and settled or referred it on the spot, on a risk never ended."""
        r, s, h = T.risk, T.signal, T.history
        rows = self.conn.execute(
            select(r.c.id, s.c.id, s.c.occurred_at, s.c.concern, s.c.outcome)
            .join(s, s.c.risk_id == r.c.id)
            .where(
                s.c.channel == "visit", s.c.named_risk_id.is_(None), s.c.outcome.in_(["settled", "referred"])
            )
            .where(s.c.occurred_at == r.c.first_signal_at, s.c.occurred_at < self.as_of, r.c.status == "open")
            .where(~exists().where(h.c.risk_id == r.c.id, h.c.cause == "end"))
        ).all()
        first: dict[int, Any] = {}
        for row in rows:
            first.setdefault(row[0], row)
        self._load(first)
        self._outcomes(sorted(((*row, "opening", False) for row in first.values()), key=lambda x: x[2]))

    def _dormant(self) -> None:
        """Places quiet for the dormant period; quiet yellow or blue households whose last visit was calm."""
        r, s, f, days = T.risk, T.signal, T.follow_up, self.rules.ends.dormant_days
        cutoff = self.as_of - timedelta(days=days - 1)
        quiet = ~exists().where(s.c.risk_id == r.c.id, s.c.occurred_at >= cutoff, is_news())
        places = (
            self.conn.execute(
                select(r.c.id).where(
                    r.c.status.in_(LIVE_STATUSES),
                    r.c.place_kind.is_not(None),
                    r.c.first_signal_at < cutoff,
                    quiet,
                )
            )
            .scalars()
            .all()
        )
        households = select(r.c.id).where(
            r.c.status == "open",
            r.c.level.in_([c.value for c in self.rules.ends.dormant_levels]),
            r.c.first_signal_at < cutoff,
            r.c.place_kind.is_(None),
            quiet,
        )
        if self.conn.execute(select(T.day.c.day).where(T.day.c.day < self.day).limit(1)).first() is not None:
            # after the first swept day, only the risks whose last news turned old today, or seen today
            aged = select(s.c.risk_id).where(
                s.c.occurred_at >= cutoff - timedelta(days=1),
                s.c.occurred_at < cutoff,
                s.c.risk_id.is_not(None),
                is_news(),
            )
            households = households.where(
                r.c.id.in_(aged.union(select(f.c.risk_id).where(f.c.recorded_on == self.day)))
            )
        dormant = self.conn.execute(households).scalars().all()
        self._load([*places, *dormant])
        note = f"a place with no signal for {days} days: off the patrol ranking"
        for rid in places:
            quiet_since = {"quiet_since": self.risks[rid]["last_signal_at"].isoformat()}
            self._resolve(self.risks[rid], self.as_of, quiet_since, "ends.place_quiet", note)
        last: dict[int, tuple[Any, Any]] = {}
        for part in chunks(sorted(dormant)):
            for rid, calm, sid in self.conn.execute(
                select(f.c.risk_id, f.c.calm, f.c.visit_signal_id)
                .where(f.c.risk_id.in_(part), f.c.status == "done", f.c.done_at < self.as_of)
                .order_by(f.c.risk_id, f.c.done_at)
            ):
                last[rid] = (calm, sid)
        note = f"no signal for {days} days and the last follow-up calm: dormant"
        for rid in dormant:
            calm, sid = last.get(rid, (None, None))
            if calm:
                self._resolve(self.risks[rid], self.as_of, {"visit": sid}, "ends.dormant", note)

    def _insert_visits(self) -> None:
        """The ends' visits, each on a day its risk has no follow-up on yet."""
        f, taken = T.follow_up, defaultdict(set)
        for rid, due in self.conn.execute(
            select(f.c.risk_id, f.c.due_on).where(f.c.risk_id.in_({v["risk_id"] for v in self.visits}))
        ):
            taken[rid].add(due)
        for visit in self.visits:
            while visit["due_on"] in taken[visit["risk_id"]]:
                visit["due_on"] += timedelta(days=1)
            taken[visit["risk_id"]].add(visit["due_on"])
        ids = self.conn.execute(
            insert(f).returning(f.c.id, sort_by_parameter_order=True), self.visits
        ).scalars()
        self.changes += [
            audit.Change(
                "assign",
                "follow_up",
                str(fid),
                None,
                {"risk": v["risk_id"], "due_on": v["due_on"], "why": v["why"]},
                v["why"].replace("_", " "),
            )
            for fid, v in zip(ids, self.visits, strict=True)
        ]


def _cool_places(session: Session, rules: Rules, as_of: datetime) -> None:
    """The places above blue graded again on their window as of the day."""
    r, s, conn = T.risk, T.signal, session.connection()
    live = (r.c.place_kind.is_not(None), r.c.level != "blue", r.c.status.in_(LIVE_STATUSES))
    places = conn.execute(select(r.c.id, r.c.level, r.c.rules_version, r.c.place_kind).where(*live)).all()
    if not places:
        return
    columns = ("risk_id", "occurred_at", "channel", "category", "summary", "party_keys", "score",
               "named_risk_id", "concern", "outcome")  # fmt: skip
    signals = pd.DataFrame(
        conn.execute(
            select(*(s.c[k] for k in columns))
            .join(r, r.c.id == s.c.risk_id)
            .where(*live, is_news(), s.c.occurred_at >= r.c.level_since)
        ).all(),
        columns=list(columns),
    )
    signals["occurred_at"] = pd.to_datetime(signals["occurred_at"], utc=True)
    signals["party_count"] = [
        len(k.split(";")) if isinstance(k, str) and k else 0 for k in signals["party_keys"]
    ]
    alarm = (signals["concern"] == "high") | (signals["outcome"] == "escalated")
    signals["counted"] = ~((signals["channel"] == "visit") & signals["named_risk_id"].notna()) | alarm
    ids = {p.id for p in places}
    changes: list[audit.Change] = []
    updates, history, _ = regraded(places, rule_reasons(signals, ids, rules, as_of), ids, {}, rules, changes)
    keys = ("level", "reasons", "rules_version", "graded_at")
    at_id = update(r).where(r.c.id == bindparam("rid")).values({k: bindparam(k) for k in keys})
    conn.execute(at_id, [{"rid": u["id"], **{k: u[k] for k in keys}} for u in updates])
    if history:
        conn.execute(insert(T.history), history)
    audit.append(session, changes)


def _assign(session: Session, rules: Rules, day: date, as_of: datetime) -> None:
    """A next visit for each open household risk with none pending, or a sooner one after a new signal."""
    r, s, f, conn = T.risk, T.signal, T.follow_up, session.connection()
    is_open = and_(r.c.status == "open", r.c.first_signal_at < as_of, r.c.place_kind.is_(None))
    news = and_(
        s.c.risk_id == f.c.risk_id,
        s.c.channel != "visit",
        s.c.occurred_at >= f.c.created_at,
        s.c.occurred_at < as_of,
    )
    hurried = select(f.c.risk_id).join(s, news).where(f.c.status == "pending")
    unplanned = r.c.id.not_in(select(f.c.risk_id).where(f.c.status == "pending"))
    wanted = sorted(
        {
            *conn.execute(select(r.c.id).where(is_open, unplanned)).scalars(),
            *conn.execute(select(r.c.id).where(is_open, r.c.id.in_(hurried))).scalars(),
        }
    )
    visit = select(func.max(s.c.occurred_at)).where(
        s.c.risk_id == r.c.id, s.c.channel == "visit", s.c.occurred_at < as_of
    )
    last_visit = visit.scalar_subquery()
    base = (
        select(
            r.c.id,
            r.c.level,
            r.c.officer_code,
            f.c.id.label("fid"),
            f.c.due_on,
            case((last_visit > r.c.level_since, last_visit), else_=r.c.level_since).label("basis"),
        )
        .outerjoin(f, and_(f.c.risk_id == r.c.id, f.c.status == "pending"))
        .subquery()
    )
    first_new = select(func.min(s.c.occurred_at)).where(
        s.c.risk_id == base.c.id,
        s.c.channel != "visit",
        s.c.occurred_at >= base.c.basis,
        s.c.occurred_at < as_of,
    )
    rows, taken = [], defaultdict(set)
    for part in chunks(wanted):
        rows += conn.execute(select(*base.c, first_new.scalar_subquery()).where(base.c.id.in_(part))).all()
        done = select(f.c.risk_id, f.c.due_on).where(f.c.status == "done", f.c.risk_id.in_(part))
        for rid, due in conn.execute(done):
            taken[rid].add(due)
    make, cancel = [], []
    rows.sort(key=lambda row: row[0])  # ids given in risk order, as the product gives them
    for rid, level, officer, fid, due_on, basis, new in rows:
        due, why = next_due(rules.follow_up, level, basis, new)
        due = max(due, day)
        while due in taken[rid]:
            due += timedelta(days=1)
        if fid is not None and due >= due_on:
            continue
        if fid is not None:
            cancel.append(fid)
        make.append(
            {
                "risk_id": rid,
                "officer_code": officer,
                "due_on": due,
                "basis_at": basis,
                "why": why,
                "status": "pending",
                "created_at": as_of,
            }
        )
    if cancel:
        conn.execute(f.update().where(f.c.id.in_(cancel)).values(status="cancelled"))
    if not make:
        return
    upsert = dialect_insert(session, f)
    revive = {k: upsert.excluded[k] for k in ("officer_code", "basis_at", "why", "status", "created_at")}
    ids = conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["risk_id", "due_on"], set_=revive, where=f.c.status == "cancelled"
        ).returning(f.c.id, sort_by_parameter_order=True),
        make,
    ).scalars()
    made = (
        (fid, m["risk_id"], m["officer_code"], m["due_on"], m["why"])
        for fid, m in zip(ids, make, strict=True)
    )
    audit.append(session, assign_changes(made, cancel))


def _chiefs(session: Session) -> dict[str, str]:
    o = T.officer
    chief = (
        select(o.c.station_code, func.min(o.c.officer_code))
        .where(o.c.role == "chief")
        .group_by(o.c.station_code)
    )
    return {station: officer for station, officer in session.connection().execute(chief)}


def _plan(session: Session, rules: Rules, day: date) -> None:
    """The day's lists up to capacity (the first day on a list), a capacity notice per overloaded officer."""
    conn, owed = session.connection(), ranked(rules, day)
    fits = or_(owed.c.cap.is_(None), owed.c.place <= owed.c.cap)
    officer = (owed.c.officer_code, owed.c.station_code)
    over = func.sum(case((and_(~fits, owed.c.planned_on.is_(None)), 1), else_=0)).over(partition_by=officer)
    counted = select(
        owed.c.id,
        *officer,
        owed.c.cap,
        owed.c.planned_on.is_(None).label("new"),
        fits.label("fits"),
        owed.c.place,
        func.count().over(partition_by=officer).label("owed"),
        over.label("over"),
    ).subquery()
    first, loads = [], {}
    for row in conn.execute(
        select(*counted.c).where(and_(counted.c.fits, counted.c.new) | (counted.c.place == 1))
    ):
        if row.fits and row.new:
            first.append(row.id)
        if row.cap is not None and row.over:
            loads[row.officer_code] = row
    for part in chunks(first):
        conn.execute(T.follow_up.update().where(T.follow_up.c.id.in_(part)).values(planned_on=day))
    if not loads:
        return
    chiefs = _chiefs(session)
    notices = [
        {
            "station_code": x.station_code,
            "officer_code": x.officer_code,
            "issued_on": day,
            "recipient_officer_code": chiefs.get(x.station_code),
            "owed": x.owed,
            "capacity": x.cap,
            "overflow": x.over,
        }
        for x in loads.values()
    ]
    conn.execute(insert(T.capacity), notices)
    audit.append(
        session,
        [
            audit.Change(
                "capacity_notice",
                "officer",
                n["officer_code"],
                None,
                {k: n[k] for k in ("recipient_officer_code", "owed", "capacity", "overflow")},
                f"{n['owed']} visits owed, {n['capacity']} a day: {n['overflow']} did not fit "
                "and go to the station chief",
            )
            for n in notices
        ],
    )


def _supervise(session: Session, rules: Rules, day: date) -> None:
    """The ladder's rungs the late follow-ups reach today, then the third officer notice in the window."""
    f, n, a, conn, ladder = T.follow_up, T.notice, T.entry, session.connection(), rules.supervision
    chiefs, changes, entries = _chiefs(session), [], []
    for rung, days in (
        ("officer", ladder.officer_after_days_late),
        ("chief", ladder.chief_after_days_late),
        ("accountability", ladder.accountability_after_days_late),
    ):
        if rung == "accountability":
            on = (
                a.c.kind == "late_follow_up",
                a.c.source_entity == "follow_up",
                a.c.source_id == cast(f.c.id, String),
            )
        else:
            on = (n.c.follow_up_id == f.c.id, n.c.level == rung)
        late = conn.execute(
            select(f.c.id, f.c.officer_code, f.c.planned_on, T.community.c.station_code)
            .join(T.risk, T.risk.c.id == f.c.risk_id)
            .join(T.community, T.community.c.community_code == T.risk.c.community_code)
            .where(
                f.c.status == "pending", f.c.planned_on <= day - timedelta(days=days), ~exists().where(*on)
            )
            .order_by(f.c.id)  # notices numbered in the follow-ups' order: which one is an officer's third
        ).all()
        if rung == "accountability":
            entries += [
                {
                    "station_code": st,
                    "officer_code": o,
                    "kind": "late_follow_up",
                    "source_entity": "follow_up",
                    "source_id": str(fid),
                    "recorded_on": day,
                    "reason": f"follow-up on the list since {p} is {(day - p).days} days late",
                }
                for fid, o, p, st in late
            ]
            continue
        notices = [
            {
                "follow_up_id": fid,
                "station_code": st,
                "level": rung,
                "days_late": (day - p).days,
                "recipient_officer_code": o if rung == "officer" else chiefs.get(st),
                "issued_on": day,
            }
            for fid, o, p, st in late
        ]
        if notices:
            conn.execute(insert(n), notices)
        changes += notice_changes(notices)
    nth = func.row_number().over(partition_by=n.c.recipient_officer_code, order_by=(n.c.issued_on, n.c.id))
    window = (
        select(n.c.id, n.c.recipient_officer_code, n.c.station_code, n.c.issued_on, nth.label("nth"))
        .where(n.c.level == "officer", n.c.follow_up_id.is_not(None), n.c.recipient_officer_code.is_not(None))
        .where(n.c.issued_on >= day - timedelta(days=ladder.notices_window_days), n.c.issued_on <= day)
        .subquery()
    )
    third = select(window.c.id, window.c.recipient_officer_code, window.c.station_code).where(
        window.c.nth == ladder.accountability_after_notices, window.c.issued_on == day
    )
    reason = f"notice no. {ladder.accountability_after_notices} within {ladder.notices_window_days} days"
    entries += [
        {
            "station_code": st,
            "officer_code": o,
            "kind": "repeated_notices",
            "source_entity": "supervision_notice",
            "source_id": str(nid),
            "recorded_on": day,
            "reason": reason,
        }
        for nid, o, st in conn.execute(third)
    ]
    if entries:
        conn.execute(insert(a), entries)
    audit.append(session, changes + accountability_changes(entries))


def _finish(session: Session, day: date, as_of: datetime) -> None:
    """The day's summary per station, one statement per table; the day and its stages recorded."""
    f, r, com, h, conn = T.follow_up, T.risk, T.community, T.history, session.connection()

    def count(*where: Any) -> Any:
        return func.sum(case((and_(*where), 1), else_=0))

    pending, counts = f.c.status == "pending", defaultdict(Counter)
    per_station = (
        select(
            com.c.station_code,
            count(pending, f.c.due_on == day),
            count(pending, f.c.planned_on < day),
            count(f.c.created_at == as_of),
            count(f.c.recorded_on == day),
            count(f.c.recorded_on == day, f.c.calm.is_(True)),
        )
        .join(r, r.c.id == f.c.risk_id)
        .join(com, com.c.community_code == r.c.community_code)
        .where(
            or_(
                and_(pending, or_(f.c.due_on == day, f.c.planned_on < day)),
                f.c.created_at == as_of,
                f.c.recorded_on == day,
            )
        )
        .group_by(com.c.station_code)
    )
    for station, *values in conn.execute(per_station):
        for name, value in zip(
            ("due_today", "late", "assigned", "visits_recorded", "calm"), values, strict=True
        ):
            if value:
                counts[name][station] = int(value)
    for name, table, when, *more in (
        ("capacity_notices", T.capacity, T.capacity.c.issued_on),
        ("notices", T.notice, T.notice.c.issued_on, T.notice.c.follow_up_id.is_not(None)),
        ("accountability", T.entry, T.entry.c.recorded_on),
    ):
        stmt = (
            select(table.c.station_code, func.count())
            .where(when == day, *more)
            .group_by(table.c.station_code)
        )
        counts[name] = Counter({station: k for station, k in conn.execute(stmt)})
    evidence = (
        select(h.c.risk_id, h.c.from_level, h.c.to_level)
        .join(f, and_(f.c.risk_id == h.c.risk_id, f.c.done_at == h.c.at, f.c.recorded_on == day))
        .where(h.c.cause == "evidence")
        .order_by(h.c.risk_id)
    )
    changes = [
        {"risk_id": rid, "from": old, "to": "resolved" if old == new == "blue" else new}
        for rid, old, new in conn.execute(evidence)
    ]
    changed = sorted({c["risk_id"] for c in changes})
    counts["colour_changes"] = Counter(
        conn.execute(
            select(com.c.station_code)
            .join(r, r.c.community_code == com.c.community_code)
            .where(r.c.id.in_(changed))
        ).scalars()
    )
    stations = [
        {"station": s, **{k: counts[k][s] for k in COLUMNS}} for s in sorted(set().union(*counts.values()))
    ]
    totals = {k: sum(x[k] for x in stations) for k in COLUMNS}
    summary = {"day": day.isoformat(), "stations": stations, "totals": totals, "changes": changes}
    now, actor = datetime.now(UTC), audit.current_actor()
    stages = ("record-visits", "assign-follow-ups", "supervise")
    conn.execute(insert(T.stage), [{"day": day, "stage": s, "finished_at": now} for s in stages])
    conn.execute(insert(T.day), [{"day": day, "actor": actor, "summary": summary, "finished_at": now}])
    audit.append(
        session, [audit.Change("sweep", "sweep_day", day.isoformat(), None, totals, "daily sweep finished")]
    )
