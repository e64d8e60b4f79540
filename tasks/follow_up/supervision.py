"""Supervision (督促问责): the ladder for a late follow-up, climbed once per rung.

Late by 1 day: a notice to the responsible officer. Late by 3 days: the notice goes to the station
chief. Late by 7 days, or a third officer notice within 30 days: an accountability entry. Lateness
counts from the first day the follow-up was on its officer's list (`tasks.follow_up.capacity`): a visit that
did not fit an officer's day is the chief's capacity problem, not the officer's lateness. Each rung
is keyed (a notice by follow-up and level, an entry by its kind and source), so the ladder is
climbed exactly once however often the sweep runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import String, cast, exists, select
from sqlmodel import Session, SQLModel, col

from bridgehead import audit
from bridgehead.db import chunks, dialect_insert, frame_of, table_of
from bridgehead.rules import Rules, SupervisionRules
from models.follow_up import AccountabilityEntry, FollowUp, SupervisionNotice
from models.jurisdiction import Community
from models.risk import Risk
from tasks.jurisdiction import station_chiefs


@dataclass
class SupervisionSummary:
    officer_notices: int = 0
    chief_notices: int = 0
    accountability: int = 0


def ladder_of(ladder: SupervisionRules) -> list[tuple[str, int]]:
    """The rungs in order, each with the days late that reach it."""
    return [
        ("officer", ladder.officer_after_days_late),
        ("chief", ladder.chief_after_days_late),
        ("accountability", ladder.accountability_after_days_late),
    ]


def rungs(ladder: SupervisionRules, days_late: int) -> list[str]:
    """Which rungs a follow-up this many days late has reached: officer, chief, accountability."""
    return [rung for rung, days in ladder_of(ladder) if days_late >= days]


PAGE = 50_000  # late follow-ups held in memory at once: a province's first sweep climbs in pages


def supervise(session: Session, rules: Rules, day: date) -> SupervisionSummary:
    """Issue the notices and accountability entries that the late follow-ups have reached by `day`."""
    ladder, summary = rules.supervision, SupervisionSummary()
    chiefs = station_chiefs(session)
    for rung, days in ladder_of(ladder):
        after = 0
        while not (page := _reached(session, rung, day - timedelta(days=days), after)).empty:
            after = int(page["follow_up_id"].max())
            if rung == "accountability":
                summary.accountability += _account(session, [_late_entry(r, day) for r in page.itertuples()])
                continue
            notices = [
                {
                    "follow_up_id": int(r.follow_up_id),
                    "station_code": r.station_code,
                    "recipient_officer_code": r.officer_code
                    if rung == "officer"
                    else chiefs.get(r.station_code),
                    "level": rung,
                    "days_late": (day - r.planned_on).days,
                    "issued_on": day,
                }
                for r in page.itertuples()
            ]
            new_notices = _insert_new(session, SupervisionNotice, notices, ["level", "follow_up_id"])
            if rung == "officer":
                summary.officer_notices += len(new_notices)
            else:
                summary.chief_notices += len(new_notices)
            audit.append(session, notice_changes(new_notices))
    summary.accountability += _account(session, _repeated_notices(session, ladder, day))
    return summary


def _late_entry(r: Any, day: date) -> dict[str, Any]:
    return {
        "station_code": r.station_code,
        "officer_code": r.officer_code,
        "kind": "late_follow_up",
        "source_entity": "follow_up",
        "source_id": str(r.follow_up_id),
        "recorded_on": day,
        "reason": f"follow-up on the list since {r.planned_on} is {(day - r.planned_on).days} days late",
    }


def _account(session: Session, entries: list[dict[str, Any]]) -> int:
    """Record the accountability entries not recorded yet, audited; how many were new."""
    new_entries = _insert_new(session, AccountabilityEntry, entries, ["kind", "source_entity", "source_id"])
    audit.append(session, accountability_changes(new_entries))
    return len(new_entries)


def notice_changes(notices: list[dict[str, Any]]) -> list[audit.Change]:
    """The audit rows of supervision notices (rows of `supervision_notice`)."""
    return [
        audit.Change(
            "notice",
            "follow_up",
            str(n["follow_up_id"]),
            None,
            {"to": n["recipient_officer_code"], "level": n["level"], "days_late": n["days_late"]},
            f"follow-up {n['days_late']} day(s) late: notice to the {n['level']}",
        )
        for n in notices
    ]


def accountability_changes(entries: list[dict[str, Any]]) -> list[audit.Change]:
    """The audit rows of accountability entries (rows of `accountability_entry`)."""
    return [
        audit.Change(
            "accountability",
            e["source_entity"],
            e["source_id"],
            None,
            {"officer": e["officer_code"], "kind": e["kind"]},
            e["reason"],
        )
        for e in entries
    ]


def _reached(session: Session, rung: str, due_by: date, after: int) -> pd.DataFrame:
    """The next page of pending follow-ups listed by `due_by` without this rung yet, by id after `after`."""
    if rung == "accountability":
        done = exists().where(
            col(AccountabilityEntry.kind) == "late_follow_up",
            col(AccountabilityEntry.source_entity) == "follow_up",
            col(AccountabilityEntry.source_id) == cast(FollowUp.id, String),
        )
    else:
        done = exists().where(
            col(SupervisionNotice.follow_up_id) == FollowUp.id, col(SupervisionNotice.level) == rung
        )
    rows = session.execute(
        select(
            col(FollowUp.id),
            col(FollowUp.officer_code),
            col(FollowUp.planned_on),
            col(Community.station_code),
        )
        .join(Risk, col(Risk.id) == FollowUp.risk_id)
        .join(Community, col(Community.community_code) == Risk.community_code)
        .where(
            col(FollowUp.status) == "pending",
            col(FollowUp.planned_on) <= due_by,
            col(FollowUp.id) > after,
            ~done,
        )
        .order_by(col(FollowUp.id))
        .limit(PAGE)
    ).all()
    return frame_of(rows, columns=["follow_up_id", "officer_code", "planned_on", "station_code"])


def _insert_new(session: Session, model: type[SQLModel], rows: list[dict], key: list[str]) -> list[dict]:
    """Insert the rows whose key is not taken yet; return those (a rung is climbed once).

    The key's last column is the selective one: existing keys are read only for the rows at hand.
    """
    if not rows:
        return []
    table = table_of(model)
    columns = [table.c[k] for k in key]
    taken: set[tuple] = set()
    for part in chunks(sorted({r[key[-1]] for r in rows})):
        taken |= {tuple(t) for t in session.execute(select(*columns).where(columns[-1].in_(part)))}
    fresh = [r for r in rows if tuple(r[k] for k in key) not in taken]
    if fresh:
        session.connection().execute(
            dialect_insert(session, table).on_conflict_do_nothing(index_elements=key), fresh
        )
    return fresh


def _repeated_notices(session: Session, ladder: SupervisionRules, day: date) -> list[dict]:
    """The third officer notice within the window: one entry, keyed by the notice that made three."""
    since = day - timedelta(days=ladder.notices_window_days)  # within D days: latest - earliest <= D
    rows = frame_of(
        session.execute(
            select(
                col(SupervisionNotice.id),
                col(SupervisionNotice.recipient_officer_code),
                col(SupervisionNotice.station_code),
                col(SupervisionNotice.issued_on),
            ).where(
                col(SupervisionNotice.level) == "officer",
                col(SupervisionNotice.follow_up_id).is_not(None),
                col(SupervisionNotice.issued_on) >= since,
                col(SupervisionNotice.issued_on) <= day,
            )
        ).all(),
        columns=["notice_id", "officer_code", "station_code", "issued_on"],
    )
    if rows.empty:
        return []
    rows = rows.sort_values(["officer_code", "issued_on", "notice_id"])
    rows["nth"] = rows.groupby("officer_code").cumcount() + 1
    third = rows[(rows["nth"] == ladder.accountability_after_notices) & (rows["issued_on"] == day)]
    return [
        {
            "station_code": r.station_code,
            "officer_code": r.officer_code,
            "kind": "repeated_notices",
            "source_entity": "supervision_notice",
            "source_id": str(r.notice_id),
            "recorded_on": day,
            "reason": f"notice no. {ladder.accountability_after_notices} "
            f"within {ladder.notices_window_days} days",
        }
        for r in third.itertuples()
    ]
