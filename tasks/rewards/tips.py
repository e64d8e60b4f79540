"""Citizen tips (线索举报): what the tipster may learn by the code, and the officer's verdict.

The tip code is the tipster's only credential, so looking one up must not tell a guesser anything:
an unknown, a malformed and a nearly right code all take the same single indexed query and give
the same answer. The verdict is a person's act, audited under the officer's name and never with
the tipster's contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import select
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.rules import TipOutcome
from models.common import local_text, utcnow
from models.jurisdiction import Officer
from models.signal import Signal
from models.tip import Tip

NO_SUCH_TIP = "No tip has this code. Check the code and try again."
# What the tipster is told, in the words a station uses (受理 → 核实 → 奖励 → 兑付).
STATUS_WORDS = {"received": "已受理", "verified": "已核实", "rewarded": "已奖励", "paid": "已兑付"}


def _probe(code: str) -> str:
    """The code as the query compares it: a NUL (which PostgreSQL refuses in text) becomes a
    character no code has, so every input takes the same query rather than an error path."""
    return code.replace("\x00", "\ufffd")


def _local(at: datetime | None) -> str:
    """A stored UTC time as the station reads it (local time, to the minute)."""
    return "?" if at is None else local_text(at, minutes=True)


def tip_status(session: Session, code: str) -> str | None:
    """The tipster-facing status of a tip (received, verified, rewarded, paid), None if no tip has
    this code. Nothing else about the tip leaves here."""
    return session.execute(
        select(col(Tip.status)).where(col(Tip.tip_code) == _probe(code))
    ).scalar_one_or_none()


class TipVerdict(TypedDict):
    """An officer's verdict on a tip, as the command shows it and the audit keeps it (no code, no contact)."""

    tip_id: str  # the tip's id in its file
    signal_id: int | None
    status: str
    outcome: str
    verified_by: str
    verified_at: datetime
    risk_id: int | None
    wants_reward: bool


def verify_tip(
    session: Session, code: str, by: str, outcome: TipOutcome, *, at: datetime | None = None
) -> TipVerdict:
    """Record an officer's verdict on a tip, once; audited with the officer as the actor."""
    at = at or utcnow()
    outcome = TipOutcome(outcome)
    row: tuple[Tip, Signal] | None = session.execute(
        select(Tip, Signal)
        .join(Signal, col(Signal.id) == Tip.signal_id)
        .where(col(Tip.tip_code) == _probe(code))
        .with_for_update(of=Tip)  # two officers verifying at once: the second waits, then sees the first
    ).one_or_none()
    if row is None:
        raise LookupError(NO_SUCH_TIP)
    tip, signal = row
    if session.get(Officer, by) is None:
        raise ValueError(f"{by!r} is not a known officer code")
    if tip.status != "received":
        raise ValueError(
            f"tip {signal.source_id} was already verified on {_local(tip.verified_at)} by "
            f"{tip.verified_by or '?'} (outcome {tip.outcome or '?'}, now {tip.status}); "
            "a verdict is recorded once"
        )
    if at < signal.occurred_at:
        received = _local(signal.occurred_at)
        raise ValueError(f"tip {signal.source_id} was received at {received}: it cannot be verified before")
    tip.status, tip.verified_by, tip.verified_at, tip.outcome = "verified", by, at, outcome.value
    session.add(tip)
    verdict = TipVerdict(
        tip_id=signal.source_id,
        signal_id=signal.id,
        status="verified",
        outcome=outcome.value,
        verified_by=by,
        verified_at=at,
        risk_id=signal.risk_id,
        wants_reward=tip.wants_reward,
    )
    after = {k: v for k, v in verdict.items() if k not in ("tip_id", "signal_id")}
    # Keyed by the tip's id in its file, never by the code: the code is the tipster's claim to a reward.
    audit.append(
        session,
        [
            audit.Change(
                "verify",
                "tip",
                signal.source_id,
                {"status": "received"},
                after,
                f"verified by {by}: {outcome.value}",
            )
        ],
        actor=audit.current_actor(by),
    )
    return verdict
