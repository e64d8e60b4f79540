"""The chief's answer to a capacity notice (调配): the visits an officer's day could not hold go, with
their risks, to officers of the same station who have room that day.

From the brief: overload is the station chief's to solve — reassign, or ask for help. A chief who
reassigns hands each visit that did not fit to a carrier with room left today: the risk's own
community's assistants and officers first (an urban police office's 辅警 take what its community
officer cannot), then whoever in the station has the most room; the busiest overflow goes first, in
the brief's order of the day's work. The risk goes with it, so its next visits are the new officer's
too and the load evens out instead of overflowing again tomorrow. What no officer of the station has
room for stays with its officer and on the chief's notice: that is the help to ask for. Every move is
audited, by the chief who made it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.bulk import update_by_id
from bridgehead.rules import Rules
from models.follow_up import FollowUp
from models.jurisdiction import CARRIER_ROLES, Officer
from models.risk import Risk
from tasks.follow_up.capacity import capacities, ranked
from tasks.jurisdiction import station_chiefs


@dataclass
class Reassigned:
    risks: int = 0  # risks handed to another officer, with their pending visits
    stations: int = 0  # stations whose chief reassigned
    still_over: int = 0  # overflow no officer of its station had room for (the chief asks for help)


def reassign_overflow(
    session: Session, rules: Rules, day: date, stations: set[str] | None = None, by: str | None = None
) -> Reassigned:
    """Reassign `day`'s overflow in these stations (all by default), each by its chief (or `by`)."""
    owed = ranked(rules, day)
    rows: Sequence[tuple[int, str, str, str, int, int | None]] = session.execute(
        select(
            owed.c.risk_id,
            owed.c.officer_code,
            owed.c.station_code,
            owed.c.community_code,
            owed.c.place,
            owed.c.cap,
        )
        .where(owed.c.officer_code.is_not(None))
        .order_by(owed.c.place, owed.c.officer_code)
    ).all()
    load: dict[str, int] = defaultdict(int)
    over = []
    for risk_id, officer, station, community, place, cap in rows:
        load[officer] += 1
        if cap is not None and place > cap and (stations is None or station in stations):
            over.append((risk_id, officer, station, community))
    if not over:
        return Reassigned()
    room = _room(session, rules, load, {station for *_, station, _c in over})
    moves: dict[str, list[tuple[int, str, str]]] = defaultdict(list)  # station -> (risk, from, to)
    done = Reassigned()
    for risk_id, officer, station, community in over:
        helper = room.take(f"community {community}", f"station {station}")
        if helper is None:
            done.still_over += 1
            continue
        moves[station].append((risk_id, officer, helper))
    chiefs = station_chiefs(session)
    for station, moved in moves.items():
        _move(session, day, moved, by or chiefs.get(station) or f"chief of {station}")
    done.risks = sum(len(m) for m in moves.values())
    done.stations = len(moves)
    return done


class _Room:
    """Room left today per carrier, and a heap of it per community and per station.

    Room only shrinks, so an entry that overstates it is stale: it is refreshed when it reaches the top.
    """

    def __init__(self, left: dict[str, int], where: dict[str, tuple[str, str]]) -> None:
        self.left = left
        self.heaps: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for officer, n in left.items():
            for place in where[officer]:
                self.heaps[place].append((-n, officer))
        for heap in self.heaps.values():
            heapq.heapify(heap)

    def take(self, *places: str) -> str | None:
        """One visit's room from the carrier with the most left in the first of `places` that has any."""
        for place in places:
            heap = self.heaps.get(place, [])
            while heap and self.left[heap[0][1]] > 0:
                officer = heap[0][1]
                if -heap[0][0] == self.left[officer]:
                    self.left[officer] -= 1
                    heapq.heapreplace(heap, (-self.left[officer], officer))
                    return officer
                heapq.heapreplace(heap, (-self.left[officer], officer))
        return None


def _room(session: Session, rules: Rules, load: dict[str, int], stations: set[str]) -> _Room:
    """The room left today of the carriers of these stations who have any."""
    caps = capacities(session, rules)
    left: dict[str, int] = {}
    where: dict[str, tuple[str, str]] = {}
    for officer, station, community in session.execute(
        select(col(Officer.officer_code), col(Officer.station_code), col(Officer.community_code)).where(
            col(Officer.role).in_(CARRIER_ROLES), col(Officer.station_code).in_(sorted(stations))
        )
    ).tuples():
        room = (caps.get(officer) or 0) - load.get(officer, 0)
        if room > 0:
            left[officer], where[officer] = room, (f"community {community}", f"station {station}")
    return _Room(left, where)


def _move(session: Session, day: date, moved: list[tuple[int, str, str]], chief: str) -> None:
    """Each risk and its pending visits to the new officer, on the new officer's list today; audited."""
    update_by_id(session, Risk, [{"id": risk_id, "officer_code": to} for risk_id, _, to in moved])
    session.connection().execute(
        update(FollowUp)
        .where(col(FollowUp.risk_id) == bindparam("b_risk"), col(FollowUp.status) == "pending")
        .values(officer_code=bindparam("b_to"), planned_on=day),
        [{"b_risk": risk_id, "b_to": to} for risk_id, _, to in moved],
    )
    audit.append(
        session,
        [
            audit.Change(
                "reassign",
                "risk",
                str(risk_id),
                {"officer_code": old},
                {"officer_code": to},
                f"capacity: {old}'s day was full on {day}; reassigned to {to} by the station chief",
            )
            for risk_id, old, to in moved
        ],
        actor=audit.current_actor(chief),
    )
