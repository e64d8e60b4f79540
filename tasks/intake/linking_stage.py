"""The link stage of intake: attach every pending signal to its risk, in one transaction.

It works from database state, not from what one run loaded: a signal is pending until linked, so a
run that died half-way is finished by the next one. The decisions come from `tasks.intake.linking`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, insert, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.bulk import insert_frame, insert_in_order, update_by_id, update_frame
from bridgehead.db import (
    chunks,
    frame_in,
    refresh_statistics,
    refreshes_before,
    stored_time,
    table_of,
    tuples_of,
)
from bridgehead.locks import hold_register
from bridgehead.rules import Rules
from models.common import Colour, utcnow
from models.follow_up import FollowUp
from models.jurisdiction import CARRIER_ROLES, Officer
from models.risk import CALM_CONCERN, Risk, RiskLinkKey, RiskStatus
from models.signal import Signal
from tasks.intake.grading import opens_risk
from tasks.intake.linking import KnownRisk, LinkPlan, address_key, pair_keys, plan_links
from tasks.quick_response.incidents import queue_urgent_calls


@dataclass
class LinkSummary:
    signals: int = 0
    linked: int = 0
    unlinked: int = 0
    new_risks: int = 0
    reopened: int = 0


def _epoch(ts: Any) -> int:
    return int(pd.Timestamp(ts).timestamp())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


LINK_PART = 50_000  # pending signals planned and written at a time


def _pending_parts(session: Session) -> Iterator[list[int]]:
    """The pending signals' ids in time order, a part at a time: a later part meets the risks and keys
    an earlier one made, as one pass over them all would, and memory holds one part."""
    ids: list[int] = list(
        session.execute(
            select(col(Signal.id))
            .where(col(Signal.linked_at).is_(None))
            .order_by(col(Signal.occurred_at), col(Signal.id))
        ).scalars()
    )
    yield from chunks(ids, LINK_PART)


PENDING_COLUMNS = (
    "id", "occurred_at", "community_code", "address_norm", "category", "summary", "party_keys",
    "named_risk_id", "channel", "concern", "priority",
)  # fmt: skip


def _pending_signals(session: Session, ids: list[int]) -> pd.DataFrame:
    columns, signal = list(PENDING_COLUMNS), table_of(Signal)
    wanted = [stored_time(signal.c[c]) if c == "occurred_at" else signal.c[c] for c in columns]
    frame = frame_in(session, select(*wanted), Signal.id, ids, columns)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)  # the column at once
    frame["wakes"] = ~((frame["channel"] == "visit") & frame["concern"].isin(CALM_CONCERN))
    seconds = (frame["occurred_at"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    frame["t"] = seconds.astype("int64")
    frame["parties"] = [
        k.split(";") if isinstance(k, str) and k else [] for k in frame["party_keys"].tolist()
    ]
    return frame


def _known(session: Session, frame: pd.DataFrame) -> tuple[dict, dict]:
    wanted: dict[str, set[str]] = {"address": set(), "pair": set()}
    for community, addr, category, parties in tuples_of(
        frame, ["community_code", "address_norm", "category", "parties"]
    ):
        wanted["address"].add(address_key(community, addr, category))
        wanted["pair"].update(pair_keys(parties))
    keys: dict[tuple[str, str], tuple[int, int]] = {}
    for kind, of_kind in wanted.items():  # by kind and key: the primary key's order, not a scan
        for part in chunks(sorted(of_kind)):
            for key, rid, seen in session.execute(
                select(col(RiskLinkKey.key), col(RiskLinkKey.risk_id), col(RiskLinkKey.last_seen_at)).where(
                    col(RiskLinkKey.kind) == kind, col(RiskLinkKey.key).in_(part)
                )
            ).tuples():
                keys[(kind, key)] = (rid, _epoch(seen))
    ids = {rid for rid, _ in keys.values()} | {int(n) for n in frame["named_risk_id"].dropna()}
    risks: dict[int, KnownRisk] = {}
    for part in chunks(sorted(ids)):
        for rid, status, last, resolved, place in session.execute(
            select(
                col(Risk.id),
                col(Risk.status),
                col(Risk.last_signal_at),
                col(Risk.resolved_at),
                col(Risk.place_kind),
            ).where(col(Risk.id).in_(part))
        ).tuples():
            active = max(_epoch(last), _epoch(resolved) if resolved else 0)
            risks[rid] = KnownRisk(status, active, place=place is not None)
    return keys, risks


def link_pending(session: Session, rules: Rules) -> LinkSummary:
    """Attach every pending signal to its risk (new, existing or reopened), in one transaction."""
    hold_register(session)  # two linkers reading the same pending signals would each open a risk
    summary = LinkSummary()
    for number, ids in enumerate(_pending_parts(session)):
        if refreshes_before(number):  # the risks, keys and links the earlier parts made
            refresh_statistics(session, "signal", "risk", "risk_link_key")
        part = _link_part(session, _pending_signals(session, ids), rules)
        for name, value in vars(part).items():
            setattr(summary, name, getattr(summary, name) + value)
    return summary


def _link_part(session: Session, frame: pd.DataFrame, rules: Rules) -> LinkSummary:
    summary = LinkSummary(signals=len(frame))
    frame["opens"] = opens_risk(frame, rules)
    keys, risks = _known(session, frame)
    plan = plan_links(frame, keys, risks, rules.linking.window_days * 86_400)
    ids = _create_risks(session, plan, frame)
    now = utcnow()

    def resolve(ref: int) -> int:  # a new risk's ref (negative) -> its id; a risk's id as it is
        return ids.get(ref, ref)

    risk_of = {sid: resolve(ref) for sid, ref in plan.risk_of.items()}
    unlinked = [int(s) for s in frame["id"] if int(s) not in risk_of]
    _assign(session, risk_of, unlinked, now)
    _save_keys(session, plan, resolve)
    queue_urgent_calls(session, frame, rules.quick_response)  # the open-incidents stage's work
    news = {int(i) for i, wakes in tuples_of(frame, ["id", "wakes"]) if wakes}
    changes = _touch_risks(session, risk_of, plan, ids, news)
    audit.append(session, changes)
    summary.linked, summary.unlinked = len(risk_of), len(unlinked)
    summary.new_risks, summary.reopened = len(plan.new_risks), len(plan.reopened)
    return summary


def _assign(session: Session, risk_of: dict[int, int], unlinked: list[int], now: datetime) -> None:
    """Set each signal's risk (none for those that open none) and its link time, in one statement."""
    pairs = [*risk_of.items(), *((sid, None) for sid in unlinked)]
    frame = pd.DataFrame(pairs, columns=["id", "risk_id"]).assign(linked_at=now)
    update_frame(session, table_of(Signal), frame)


def _create_risks(session: Session, plan: LinkPlan, frame: pd.DataFrame) -> dict[int, int]:
    """Insert the plan's new risks, their first and last signal times already those of their signals (all
    in this part), so that they need no second write."""
    if not plan.new_risks:
        return {}
    signals = frame.assign(ref=frame["id"].map(plan.risk_of))
    times = signals.groupby("ref")["occurred_at"]
    first, last = times.min().to_dict(), times.max().to_dict()
    # how each was found: its first signal's channel, of two at once the first by name
    found_by = signals.sort_values(["occurred_at", "channel"]).groupby("ref")["channel"].first().to_dict()
    officers: dict[str, str] = dict(
        session.execute(
            select(col(Officer.community_code), func.min(Officer.officer_code))
            .where(col(Officer.role).in_(CARRIER_ROLES))
            .group_by(col(Officer.community_code))
        ).all()
    )
    refs = list(plan.new_risks)
    rows: list[dict[str, Any]] = [
        {
            "community_code": r.community_code,
            "category": r.category,
            "address_norm": r.address_norm,
            "party_pair": r.party_pair,
            "officer_code": officers.get(r.community_code),
            "level": Colour.blue.value,
            "status": RiskStatus.open.value,
            "reasons": [],
            "opened_at": _at(r.first_at),
            "first_signal_at": first[r.ref],
            "first_channel": found_by[r.ref],
            "last_signal_at": last[r.ref],
            "level_since": _at(r.first_at),
        }
        for r in (plan.new_risks[ref] for ref in refs)
    ]
    return _insert_risks(session, refs, rows)


NEW_RISK_KEY = ("community_code", "category", "address_norm", "party_pair", "opened_at")


def _insert_risks(session: Session, refs: list[int], rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert new risks and match their ids to the plan's refs by key (place, kind, pair and opening time:
    one risk per key at a time).

    On PostgreSQL the one INSERT ... SELECT from COPY returns what it wrote (SQLAlchemy's RETURNING in
    parameter order costs four times as much: an INSERT ... SELECT with a sort column per batch of rows).
    On SQLite one executemany, and the rows above the highest id before it: the register is held
    (`hold_register`). Keys that repeat in a batch, which linking does not make, go SQLAlchemy's way.
    """
    table = table_of(Risk)
    keys = [tuple(r[k] for k in NEW_RISK_KEY) for r in rows]
    conn = session.connection()
    if len(set(keys)) < len(keys):
        returned = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return dict(zip(refs, returned.scalars().all(), strict=True))
    if conn.dialect.name == "postgresql":  # the rows written, from the INSERT itself
        written = insert_frame(session, table, pd.DataFrame(rows), returning=["id", *NEW_RISK_KEY])
    else:  # by rowid: SQLite writes one transaction at a time
        before, ids = insert_in_order(session, table, pd.DataFrame(rows))
        if ids is not None:  # no key was taken: they are all there, in order
            return dict(zip(refs, ids, strict=True))
        written = [
            tuple(row)
            for row in conn.execute(
                select(table.c.id, *(table.c[k] for k in NEW_RISK_KEY)).where(table.c.id > before)
            )
        ]
    found = {tuple(row[1:]): row[0] for row in written}
    return {ref: found[key] for ref, key in zip(refs, keys, strict=True)}


def _save_keys(session: Session, plan: LinkPlan, resolve: Any) -> None:
    rows = [(kind, key, resolve(ref), _at(seen)) for (kind, key), (ref, seen) in plan.keys.items()]
    insert_frame(
        session,
        table_of(RiskLinkKey),
        pd.DataFrame(rows, columns=["kind", "key", "risk_id", "last_seen_at"]),
        skip_taken=["kind", "key"],
        update=["risk_id", "last_seen_at"],
    )


def _refresh_signal_times(session: Session, risk_ids: list[int]) -> None:
    """First and last signal times (and the first's channel) from the signals themselves: files may
    arrive out of order."""
    for part in chunks(risk_ids):
        times = (
            select(
                col(Signal.risk_id),
                func.min(Signal.occurred_at).label("first"),
                func.max(Signal.occurred_at).label("last"),
            )
            .where(col(Signal.risk_id).in_(part))
            .group_by(col(Signal.risk_id))
            .subquery()
        )
        earlier = times.c.first < Risk.opened_at
        found_by = select(func.min(Signal.channel)).where(
            col(Signal.risk_id) == Risk.id, col(Signal.occurred_at) == times.c.first
        )
        session.execute(
            update(Risk)
            .where(col(Risk.id) == times.c.risk_id)
            .values(
                first_signal_at=times.c.first,
                first_channel=found_by.scalar_subquery(),
                last_signal_at=times.c.last,
                # a late file with older signals moves the opening back, and with it the grading
                # floor unless reopening or the evidence rule has moved that on since
                level_since=case(
                    (and_(earlier, col(Risk.level_since) == Risk.opened_at), times.c.first),
                    else_=Risk.level_since,
                ),
                opened_at=case((earlier, times.c.first), else_=Risk.opened_at),
            ),
            execution_options={"synchronize_session": False},
        )


def _touch_risks(
    session: Session, risk_of: dict[int, int], plan: LinkPlan, ids: dict[int, int], news: set[int]
) -> list[audit.Change]:
    """Move each touched risk's last signal time on, reopen the resolved, mark for grading those with
    news (a calm visit is the evidence rule's, not grading's: a risk it alone touched keeps its grade)."""
    counts = pd.Series(list(risk_of.values())).value_counts()
    regrade = {rid for sid, rid in risk_of.items() if sid in news} | set(ids.values())
    ref_of = {i: ref for ref, i in ids.items()}
    reopened = {ids.get(ref, ref): t for ref, t in plan.reopened.items()}
    woken = {ids.get(ref, ref): t for ref, t in plan.woken.items()}
    updates, changes = [], []
    for rid, count in counts.items():
        row: dict[str, Any] = {"id": int(rid), "graded_at": None}
        if rid not in regrade:
            row.pop("graded_at")
        if rid in ref_of:  # made whole by `_create_risks`: not graded yet, its times its signals'
            new = plan.new_risks[ref_of[rid]]
            after = {
                "community_code": new.community_code,
                "category": new.category,
                "address_norm": new.address_norm,
                "party_pair": new.party_pair,
                "signals": int(count),
            }
            changes.append(audit.Change("create", "risk", str(rid), None, after, "new signal"))
            continue
        if rid in woken:
            row |= {"status": RiskStatus.open.value, "settled_at": None}
            changes.append(
                audit.Change(
                    "reopen",
                    "risk",
                    str(rid),
                    {"status": "settled or referred"},
                    {"status": "open", "signals": int(count)},
                    "ends.signal_before_return_visit: a new signal before the return visit or check",
                )
            )
        elif rid in reopened:
            row |= {"status": RiskStatus.open.value, "resolved_at": None, "level_since": _at(reopened[rid])}
            changes.append(
                audit.Change(
                    "reopen",
                    "risk",
                    str(rid),
                    {"status": "resolved"},
                    {"status": "open", "signals": int(count)},
                    "a new signal within the linking window",
                )
            )
        else:
            changes.append(
                audit.Change("link", "risk", str(rid), None, {"signals_added": int(count)}, "new signal")
            )
        updates.append(row)
    update_by_id(session, Risk, updates)
    for part in chunks(sorted([*woken, *reopened])):  # back on the cadence: the schedule plans anew
        session.execute(
            update(FollowUp)
            .where(col(FollowUp.risk_id).in_(part), col(FollowUp.status) == "pending")
            .values(status="cancelled")
        )
    _refresh_signal_times(session, [int(r) for r in counts.index if r not in ref_of])
    if reopened:
        session.execute(
            update(Risk)
            .where(col(Risk.id).in_(list(reopened)))
            .values(reopened_count=Risk.reopened_count + 1)
        )
    return changes
