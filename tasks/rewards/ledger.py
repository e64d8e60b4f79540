"""The rewards ledger (奖惩台账): each line proposed, then approved or rejected by a person, then paid.

A decided line never changes: a rerun of the month proposes afresh only what is still undecided,
so nothing is paid twice. Tip rewards name the tip by its code only, the tipster's credential.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import TypedDict, cast

from sqlalchemy import select, update
from sqlmodel import Session, col

from bridgehead import audit
from models.common import utcnow
from models.reward import RewardEntry
from models.tip import Tip

OFFICER_POINTS, TIP_REWARD, ACCOUNTABILITY_LIST = "officer_points", "tip_reward", "accountability_list"


def decided_keys(session: Session, period: str) -> set[tuple[str, str]]:
    rows: Sequence[tuple[str, str]] = session.execute(
        select(col(RewardEntry.beneficiary), col(RewardEntry.kind)).where(
            col(RewardEntry.period) == period, col(RewardEntry.status) != "proposed"
        )
    ).all()
    return {(b, k) for b, k in rows}


def ledger(
    session: Session, period: str, station: str | None = None, status: str | None = None
) -> list[RewardEntry]:
    stmt = select(RewardEntry).where(col(RewardEntry.period) == period)
    if station:
        stmt = stmt.where(col(RewardEntry.station_code) == station)
    if status:
        stmt = stmt.where(col(RewardEntry.status) == status)
    return list(session.execute(stmt.order_by(col(RewardEntry.kind), col(RewardEntry.id))).scalars())


class Decision(StrEnum):
    approve_all = "approve_all"
    reject_all = "reject_all"
    each = "each"


class Decided(TypedDict):
    """What a person's decision did to the month's undecided proposals."""

    approved: int
    rejected: int
    undecided: int  # not named in the decision: still proposed


def decide(
    session: Session,
    period: str,
    approver: str,
    decision: Decision,
    approve: list[int] | None = None,
    reject: list[int] | None = None,
    reason: str = "",
) -> Decided:
    """Record a person's decision on the month's undecided proposals; what is not named stays proposed."""
    if not approver.strip():
        raise ValueError("the approver's name is required")
    pending = {cast(int, e.id): e for e in ledger(session, period, status="proposed")}  # stored: has its id
    named = set(approve or []) | set(reject or [])
    unknown = sorted(named - set(pending))
    if decision is Decision.each and unknown:
        raise ValueError(f"not undecided proposals of {period}: {unknown}")
    if set(approve or []) & set(reject or []):
        raise ValueError("a proposal cannot be both approved and rejected")
    verdicts = {
        Decision.approve_all: dict.fromkeys(pending, "approved"),
        Decision.reject_all: dict.fromkeys(pending, "rejected"),
        Decision.each: {
            **dict.fromkeys(approve or [], "approved"),
            **dict.fromkeys(reject or [], "rejected"),
        },
    }[decision]
    now, actor = utcnow(), audit.current_actor(approver.strip())
    changes = []
    for entry_id, status in sorted(verdicts.items()):
        entry = pending[entry_id]
        entry.status, entry.decided_by, entry.decided_at = status, approver.strip(), now
        entry.decision_reason = reason or None
        session.add(entry)
        changes.append(
            audit.Change(
                "approve" if status == "approved" else "reject",
                "reward_entry",
                str(entry_id),
                {"status": "proposed"},
                {
                    "status": status,
                    "by": approver.strip(),
                    "points": entry.points,
                    "amount_cny": entry.amount_cny,
                },
                reason or f"{status} by {approver.strip()}",
            )
        )
        if entry.kind == TIP_REWARD and status == "approved":
            _tip_status(session, entry.beneficiary, "rewarded")
    audit.append(session, changes, actor=actor)
    counts = Counter(verdicts.values())
    return {
        "approved": counts["approved"],
        "rejected": counts["rejected"],
        "undecided": len(pending) - len(verdicts),
    }


def pay(session: Session, period: str, by: str) -> int:
    """Mark the month's approved tip rewards as paid (the cash went out against the code)."""
    if not by.strip():
        raise ValueError("who paid out is required")
    approved = [e for e in ledger(session, period, status="approved") if e.kind == TIP_REWARD]
    now = utcnow()
    for entry in approved:
        entry.status, entry.paid_at = "paid", now
        session.add(entry)
        _tip_status(session, entry.beneficiary, "paid")
    audit.append(
        session,
        [
            audit.Change("pay", "reward_entry", str(e.id), {"status": "approved"}, {"status": "paid"}, "paid")
            for e in approved
        ],
        actor=audit.current_actor(by),
    )
    return len(approved)


def _tip_status(session: Session, beneficiary: str, status: str) -> None:
    code = beneficiary.removeprefix("tip:")
    session.execute(update(Tip).where(col(Tip.tip_code) == code).values(status=status))
