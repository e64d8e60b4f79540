"""What the rewards flow shows (光荣榜 and 问责清单): read from the ledger, never from memory.

The payout list carries tip codes and amounts only: a tipster is known to the ledger by the code
they keep, and nothing here can lead back to them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, cast

from sqlalchemy import select
from sqlmodel import Session, col

from models.follow_up import AccountabilityEntry
from models.jurisdiction import Officer, Station
from models.reward import RewardEntry
from tasks.rewards.ledger import ACCOUNTABILITY_LIST, OFFICER_POINTS, TIP_REWARD, ledger

#: An officer's points in the month (光荣榜), ranked within the station; `from` is what earned them.
LeaderboardRow = TypedDict(
    "LeaderboardRow",
    {
        "station": str,
        "rank": int,
        "officer": str,
        "officer_code": str,
        "points": int,
        "from": str,
        "status": str,
        "id": int,
    },
)


class AccountabilityRow(TypedDict):
    """A line of a station's accountability list (问责清单)."""

    station: str
    officer: str
    officer_code: str | None
    kind: str
    reason: str
    list_status: str
    list_id: int


class PayoutRow(TypedDict):
    """A tip reward, by the tip's code: no contact, no tipster."""

    tip: str
    amount_cny: int
    outcome: str | None
    status: str
    id: int


def _names(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    officers = dict(session.execute(select(col(Officer.officer_code), col(Officer.name))).all())
    stations = dict(session.execute(select(col(Station.station_code), col(Station.name))).all())
    return officers, stations


def _breakdown(sources: list[dict[str, Any]]) -> str:
    return ", ".join(f"{s['kind']} ×{len(s['ids'])}" for s in sources)


def leaderboard(session: Session, period: str, station: str | None = None) -> list[LeaderboardRow]:
    """Officers ranked by points within each station, with what earned them and the decision."""
    officers, stations = _names(session)
    entries = [e for e in ledger(session, period, station) if e.kind == OFFICER_POINTS]
    by_station: dict[str, list[RewardEntry]] = defaultdict(list)
    for e in entries:
        by_station[e.station_code or ""].append(e)
    rows: list[LeaderboardRow] = []
    for code in sorted(by_station):
        ranked = sorted(by_station[code], key=lambda e: (-e.points, e.beneficiary))
        for rank, e in enumerate(ranked, start=1):
            officer = e.beneficiary.removeprefix("officer:")
            rows.append(
                {
                    "station": stations.get(code, code),
                    "rank": rank,
                    "officer": officers.get(officer, ""),
                    "officer_code": officer,
                    "points": e.points,
                    "from": _breakdown(e.sources),
                    "status": e.status,
                    "id": cast(int, e.id),  # a stored entry's
                }
            )
    return rows


def station_lists(session: Session, period: str, station: str | None = None) -> list[AccountabilityRow]:
    """Each station's accountability list: one line per entry, with the officer and the reason."""
    officers, stations = _names(session)
    rows: list[AccountabilityRow] = []
    for e in ledger(session, period, station):
        if e.kind != ACCOUNTABILITY_LIST:
            continue
        ids = [i for s in e.sources for i in s["ids"]]
        reasons = dict(
            session.execute(
                select(col(AccountabilityEntry.id), col(AccountabilityEntry.reason)).where(
                    col(AccountabilityEntry.id).in_(ids)
                )
            ).all()
        )
        for s in e.sources:
            for entry_id in s["ids"]:
                rows.append(
                    {
                        "station": stations.get(e.station_code or "", e.station_code or ""),
                        "officer": officers.get(s.get("officer") or "", ""),
                        "officer_code": s.get("officer"),
                        "kind": s["kind"],
                        "reason": reasons.get(entry_id, ""),
                        "list_status": e.status,
                        "list_id": cast(int, e.id),
                    }
                )
    return rows


def payouts(session: Session, period: str, station: str | None = None) -> list[PayoutRow]:
    """Tip rewards by code and amount, with their status; no contact, no tipster."""
    return [
        {
            "tip": e.beneficiary.removeprefix("tip:"),
            "amount_cny": e.amount_cny,
            "outcome": e.sources[0].get("outcome") if e.sources else None,
            "status": e.status,
            "id": cast(int, e.id),
        }
        for e in ledger(session, period, station)
        if e.kind == TIP_REWARD
    ]


def proposals_markdown(session: Session, period: str, limit: int = 40) -> str:
    """The undecided proposals, each with the id a person approves or rejects it by.

    Kept short (the totals, then the first `limit` lines): it is also the approval form's text, and a
    month of a whole city is in the leaderboard, accountability and payout tables, ids included.
    """
    officers, stations = _names(session)
    pending = ledger(session, period, status="proposed")
    lines = [f"# Rewards and accountability (奖励激励), {period}", ""]
    if not pending:
        return "\n".join([*lines, "Nothing waits for a decision."])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for e in pending:
        totals[e.kind][0] += 1
        totals[e.kind][1] += e.points
        totals[e.kind][2] += e.amount_cny
    lines += [
        f"{len(pending)} proposals wait for a decision: approve all, reject all, or list the ids to approve "
        "and to reject (what is not listed stays undecided). Every id is in the leaderboard, accountability "
        f"and payout tables (`rewards-{period}-…`) and in `bridgehead rewards show --period {period}`.",
        "",
        "| kind | proposals | points | CNY |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {kind} | {n} | {points} | {cny} |" for kind, (n, points, cny) in sorted(totals.items())),
        "",
        "| id | kind | who | station | points | CNY | from |",
        "| ---: | --- | --- | --- | ---: | ---: | --- |",
    ]
    for e in pending[:limit]:
        who = e.beneficiary
        if e.kind == OFFICER_POINTS:
            code = who.removeprefix("officer:")
            who = f"{officers.get(code, '')} ({code})"
        station = stations.get(e.station_code or "", e.station_code or "")
        cells = [e.id, e.kind, who, station, e.points, e.amount_cny, _breakdown(e.sources)]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    if len(pending) > limit:
        lines.append(f"| … | {len(pending) - limit} more | | | | | |")
    return "\n".join(lines)


def per_station(board: Sequence[Mapping[str, Any]], lists: Sequence[Mapping[str, Any]]) -> str:
    """One log line: each station's officers with points, their total, and its accountability items."""
    points: dict[str, list[int]] = defaultdict(list)
    items: dict[str, int] = defaultdict(int)
    for row in board:
        points[str(row["station"])].append(int(row["points"]))
    for row in lists:
        items[str(row["station"])] += 1
    shown = [
        f"{s} {len(points[s])} officers {sum(points[s])} points, {items[s]} accountability items"
        for s in sorted(set(points) | set(items))
    ]
    return "; ".join(shown) or "no station"
