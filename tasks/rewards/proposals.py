"""Rewards and accountability (奖励激励): proposals from the month's records, decided by a person.

Points and money follow from what the records show — follow-ups on time, risks resolved, responses
closed on target, tips verified, accountability entries — each proposal citing the records it comes
from. Nothing is approved by the system: proposals wait in the ledger as `proposed` until a person
approves or rejects them, and a decided line never changes, so a rerun of a month never pays twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NotRequired, TypedDict

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import dialect_insert, frame_of, table_of
from bridgehead.rules import Rules
from models.clock import local_date
from models.common import utcnow
from models.follow_up import AccountabilityEntry, FollowUp
from models.incident import Incident
from models.jurisdiction import Community, Officer
from models.reward import RewardEntry
from models.risk import Risk
from models.signal import Signal
from models.tip import Tip
from tasks.review.build import on_target
from tasks.review.period import Window, between, parse_period
from tasks.review.response import incidents
from tasks.rewards.ledger import ACCOUNTABILITY_LIST, OFFICER_POINTS, TIP_REWARD, decided_keys, ledger


def month(period: str) -> Window:
    """`2026-11` → its days; anything else is refused with the form expected."""
    text = period.strip()
    try:
        parsed = parse_period(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.text != text or len(text) != 7:
        raise ValueError(f"period {period!r}: rewards are monthly, give a month like 2026-11")
    return parsed.current


@dataclass
class Earned:
    """One officer's points for the month, kind by kind, with the records behind each."""

    officer_code: str
    station_code: str | None
    points: int = 0
    sources: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, ids: list[int], each: int) -> None:
        self.sources[kind] += ids
        self.points += each * len(ids)


class Proposed(TypedDict):
    """What proposing a month did: lines written or refreshed, lines a person had already decided (left
    alone), and undecided lines the records no longer support (withdrawn)."""

    proposed: int
    already_decided: int
    withdrawn: int


class Proposal(TypedDict):
    """A line the month's records support, before it is written to the ledger as a proposal."""

    beneficiary: str  # officer:CODE, tip:CODE or station:CODE
    station_code: str | None
    points: NotRequired[int]
    amount_cny: NotRequired[int]
    sources: list[dict[str, Any]]  # what supports it, as the ledger keeps it (kind, entity, ids, ...)


def officer_points(session: Session, rules: Rules, window: Window) -> list[Earned]:
    """Every officer's points for the month from the records, by the rules' points table."""
    table = rules.rewards.points
    officers = dict(session.execute(select(col(Officer.officer_code), col(Officer.station_code))).all())
    earned: dict[str, Earned] = {}

    def credit(kind: str, rows: Any, each: int) -> None:
        for officer, ids in _group(rows).items():
            if officer in officers:
                earned.setdefault(officer, Earned(officer, officers[officer])).add(kind, ids, each)

    done: Sequence[tuple[str | None, int, datetime, date]] = session.execute(
        select(
            col(FollowUp.officer_code), col(FollowUp.id), col(FollowUp.done_at), col(FollowUp.due_on)
        ).where(col(FollowUp.status) == "done", between(FollowUp.done_at, window))
    ).all()
    on_time = [(o, i) for o, i, at, due in done if local_date(at) <= due]
    credit("follow_up_on_time", on_time, table.follow_up_on_time)
    resolved = session.execute(
        select(col(Risk.officer_code), col(Risk.id)).where(
            col(Risk.status) == "resolved", between(Risk.resolved_at, window)
        )
    ).all()
    credit("risk_resolved", resolved, table.risk_resolved)
    closed = incidents(session, window, None, utcnow(), by=Incident.closed_at)
    if not closed.empty:
        met, _ = on_target(closed)
        credit(
            "response_on_target",
            zip(closed["closed_by"][met], closed["id"][met], strict=True),
            table.response_on_target,
        )
    useful = [o.value for o in rules.rewards.useful_outcomes]
    verified = session.execute(
        select(col(Tip.verified_by), col(Tip.id)).where(
            col(Tip.outcome).in_(useful), between(Tip.verified_at, window)
        )
    ).all()
    credit("tip_verified", verified, table.tip_verified)
    entries = session.execute(
        select(col(AccountabilityEntry.officer_code), col(AccountabilityEntry.id)).where(
            col(AccountabilityEntry.recorded_on) >= window.first,
            col(AccountabilityEntry.recorded_on) <= window.last,
        )
    ).all()
    credit("accountability", entries, table.accountability)
    return sorted(earned.values(), key=lambda e: (-e.points, e.officer_code))


def _group(rows: Any) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for officer, record_id in rows:
        if isinstance(officer, str):
            out[officer].append(int(record_id))
    return out


SOURCE_ENTITY = {
    "follow_up_on_time": "follow_up",
    "risk_resolved": "risk",
    "response_on_target": "incident",
    "tip_verified": "tip",
    "accountability": "accountability_entry",
}


def tip_rewards(session: Session, rules: Rules, window: Window) -> list[Proposal]:
    """Tips verified useful this month that were the first useful tip on their risk, and want a reward."""
    useful = [o.value for o in rules.rewards.useful_outcomes]
    rows = session.execute(
        select(
            col(Tip.id),
            col(Tip.tip_code),
            col(Tip.outcome),
            col(Tip.wants_reward),
            col(Tip.verified_at),
            col(Signal.id),
            col(Signal.risk_id),
            col(Signal.occurred_at),
            col(Community.station_code),
        )
        .join(Signal, col(Signal.id) == Tip.signal_id)
        .join(Community, col(Community.community_code) == Signal.community_code)
        .where(col(Tip.outcome).in_(useful))
    ).all()
    frame = frame_of(
        rows,
        columns=[
            "tip_id",
            "code",
            "outcome",
            "wants",
            "verified_at",
            "signal_id",
            "risk_id",
            "at",
            "station",
        ],
    )
    if frame.empty:
        return []
    frame["key"] = [  # tips merged onto one risk compete; a tip on no risk stands alone
        f"risk{int(r)}" if pd.notna(r) else f"tip{t}"
        for r, t in zip(frame["risk_id"], frame["tip_id"], strict=True)
    ]
    first = frame.sort_values(["at", "tip_id"]).drop_duplicates("key")  # the first useful tip on each risk
    first = first[~first["key"].isin(_rewarded_risks(session))]  # a risk's reward is paid once, ever
    verified = pd.to_datetime(first["verified_at"], utc=True)
    first = first[(verified >= window.start) & (verified < window.end) & first["wants"].astype(bool)]
    tiers = {k.value: v for k, v in rules.rewards.tip_reward_cny.items()}
    return [
        {
            "beneficiary": f"tip:{r.code}",
            "station_code": r.station,
            "amount_cny": tiers[r.outcome],
            "sources": [
                {
                    "kind": "tip_verified",
                    "entity": "tip",
                    "ids": [int(r.tip_id)],
                    "risk": None if pd.isna(r.risk_id) else int(r.risk_id),
                    "outcome": r.outcome,
                }
            ],
        }
        for r in first.itertuples()
        if tiers[r.outcome] > 0
    ]


def _rewarded_risks(session: Session) -> set[str]:
    """The risks whose tip reward was already approved or paid, in any month."""
    sources: Iterable[list[dict[str, Any]]] = session.scalars(
        select(col(RewardEntry.sources)).where(
            col(RewardEntry.kind) == TIP_REWARD, col(RewardEntry.status).in_(("approved", "paid"))
        )
    )
    return {f"risk{s[0]['risk']}" for s in sources if s and s[0].get("risk") is not None}


def accountability_lists(session: Session, window: Window) -> list[Proposal]:
    """Each station's accountability list (问责清单) for the month: its entries, officer by officer."""
    rows: Sequence[tuple[str, int, str | None, str]] = session.execute(
        select(
            col(AccountabilityEntry.station_code),
            col(AccountabilityEntry.id),
            col(AccountabilityEntry.officer_code),
            col(AccountabilityEntry.kind),
        ).where(
            col(AccountabilityEntry.recorded_on) >= window.first,
            col(AccountabilityEntry.recorded_on) <= window.last,
        )
    ).all()
    by_station: dict[str, list[tuple[int, str | None, str]]] = defaultdict(list)
    for station, entry_id, officer, kind in rows:
        by_station[station].append((entry_id, officer, kind))
    return [
        {
            "beneficiary": f"station:{station}",
            "station_code": station,
            "points": len(entries),
            "sources": [
                {"kind": kind, "entity": "accountability_entry", "ids": [i], "officer": officer}
                for i, officer, kind in sorted(entries)
            ],
        }
        for station, entries in sorted(by_station.items())
    ]


def propose(session: Session, rules: Rules, period: str) -> Proposed:
    """Write the month's proposals to the ledger; refresh the undecided ones; never touch a decided one."""
    period = period.strip()
    window = month(period)
    proposals: list[dict[str, Any]] = [
        {
            "beneficiary": f"officer:{e.officer_code}",
            "station_code": e.station_code,
            "kind": OFFICER_POINTS,
            "points": e.points,
            "sources": [
                {"kind": kind, "entity": SOURCE_ENTITY[kind], "ids": sorted(ids)}
                for kind, ids in e.sources.items()
            ],
        }
        for e in officer_points(session, rules, window)
    ]
    proposals += [{**dict(p), "kind": TIP_REWARD} for p in tip_rewards(session, rules, window)]
    proposals += [{**dict(p), "kind": ACCOUNTABILITY_LIST} for p in accountability_lists(session, window)]
    now = utcnow()
    records: list[dict[str, Any]] = [
        {"points": 0, "amount_cny": 0, **p, "period": period, "status": "proposed", "proposed_at": now}
        for p in proposals
    ]
    decided = decided_keys(session, period)
    fresh = [r for r in records if (r["beneficiary"], r["kind"]) not in decided]
    withdrawn = _withdraw_stale(session, period, {(r["beneficiary"], r["kind"]) for r in fresh})
    if fresh:
        reward_entry = table_of(RewardEntry)
        upsert = dialect_insert(session, reward_entry)
        session.connection().execute(
            upsert.on_conflict_do_update(
                index_elements=["period", "beneficiary", "kind"],
                set_={k: upsert.excluded[k] for k in ("points", "amount_cny", "sources", "proposed_at")},
                where=reward_entry.c.status == "proposed",
            ),
            fresh,
        )
    audit.append(
        session,
        [
            audit.Change(
                "propose",
                "reward_entry",
                f"{period}/{r['kind']}/{_audit_name(r)}",
                None,
                {"points": r["points"], "amount_cny": r["amount_cny"]},
                "proposed from the month's records; waits for a person's decision",
            )
            for r in fresh
        ],
    )
    return {"proposed": len(fresh), "already_decided": len(records) - len(fresh), "withdrawn": withdrawn}


def _withdraw_stale(session: Session, period: str, current: set[tuple[str, str]]) -> int:
    """Undecided lines the records no longer support (an earlier tip on the risk was verified since)."""
    stale = [e for e in ledger(session, period, status="proposed") if (e.beneficiary, e.kind) not in current]
    for entry in stale:
        session.delete(entry)
    audit.append(
        session,
        [
            audit.Change(
                "withdraw",
                "reward_entry",
                str(e.id),
                {"status": "proposed", "points": e.points, "amount_cny": e.amount_cny},
                None,
                "no longer supported by the month's records",
            )
            for e in stale
        ],
    )
    session.flush()
    return len(stale)


def _audit_name(record: dict[str, Any]) -> str:
    """Who a proposal is for, as the audit trail may name them: a tip by its record id, never its code
    (the code is the tipster's credential)."""
    if record["kind"] == TIP_REWARD:
        return f"tip#{record['sources'][0]['ids'][0]}"
    return str(record["beneficiary"])
