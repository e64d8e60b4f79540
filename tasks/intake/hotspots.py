"""Places that are not households (热点): hotspots, ranked for patrol instead of visited on a cadence.

From the brief: an address in `places.csv`, an intersection ("A & B", "A / B", "…与…交叉口"), or an
address whose signals name 4 or more unrelated parties within 30 days is a hotspot — a place risk.
It gets no household visit cadence, and the volume rules (3 or 5 signals in 30 days, two channels)
do not make it orange or red; the rules about people (a weapon, a threat to kill, self-harm, a
missing person) still grade it, and a signal there that names a pair of people goes to that pair's
own risk when they have one (linking), so repeated trouble between the same people still raises it.

"Unrelated" parties: people never named together, directly or through others, on the address's
signals of those 30 days — one call naming a family of four is one group, two feuding families who
appear in each other's calls are one group, four callers each about themselves are four. A 110 call
that names nobody, outside the dispute categories and violence, is a party of its own: nothing ties
it to the address's other calls. That is how a CAD export reads (Sacramento's names no person at
all): four unnamed shoplifting, trespass or suspicious-person calls at one address in 30 days are a
place's trouble, while a dispute or a fight is about the household's own people whether or not the
call names them (a household's repeated violence must never be lowered as "a place").

The test is the address's, not one risk's: every household risk at a hotspot's address is a place risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.addresses import is_crossing
from bridgehead.db import chunks, frame_in, tuples_of
from models.common import DISPUTE_CATEGORIES
from models.follow_up import FollowUp
from models.jurisdiction import Community, Place
from models.risk import LIVE_STATUSES, Risk
from models.signal import Signal

PARTIES_AT_A_PLACE = 4
PARTIES_WINDOW = timedelta(days=30)
# Grading codes that count signals rather than judge what happened: not for places.
VOLUME_CODES = ("red.signals_", "orange.signals_", "orange.channels_", "red.violence_repeat")


def unrelated(groups: list[set[str]]) -> int:
    """How many groups of people these signals name: people named together are one group (union-find)."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for named in groups:
        first, *rest = sorted(named)
        for other in rest:
            parent[root(other)] = root(first)
    return len({root(k) for named in groups for k in named})


def parties_of(signals: pd.DataFrame) -> list[set[str]]:
    """The people each signal names; an unnamed call outside the disputes and violence is a caller of its
    own; the rest name nobody. `signals` columns: id, channel, category, party_keys ('a;b')."""
    about_people = {c.value for c in DISPUTE_CATEGORIES} | {"violence"}
    return [
        set(keys.split(";")) if isinstance(keys, str) and keys
        else {f"#call{sid}"} if channel == "call" and category not in about_people
        else set()
        for sid, channel, category, keys in zip(
            *(signals[c].tolist() for c in ("id", "channel", "category", "party_keys")), strict=True
        )
    ]  # fmt: skip


def many_parties(signals: pd.DataFrame) -> set[tuple[str, str]]:
    """Addresses whose signals of some 30 days name PARTIES_AT_A_PLACE or more unrelated parties.

    `signals` columns: community_code, address_norm, occurred_at, id, channel, category, party_keys.
    One pass over plain lists, an address's signals in time order side by side: a pandas group per
    address cost more than the window itself (13 s for the 600,000 signals of scale 1).
    """
    found: set[tuple[str, str]] = set()
    frame = signals.assign(parties=parties_of(signals))
    frame = frame.loc[frame["parties"].map(bool).astype(bool)]
    # in time order, then by address keeping that order: each address's signals are a run, in time order
    frame = frame.sort_values("occurred_at").sort_values(["community_code", "address_norm"], kind="stable")
    addresses = list(zip(frame["community_code"].tolist(), frame["address_norm"].tolist(), strict=True))
    times = pd.to_datetime(frame["occurred_at"], utc=True).to_numpy(dtype="datetime64[ns]").astype("int64")
    named: list[set[str]] = frame["parties"].tolist()
    window = PARTIES_WINDOW // timedelta(microseconds=1) * 1000
    first = 0
    while first < len(addresses):
        last = first
        while last + 1 < len(addresses) and addresses[last + 1] == addresses[first]:
            last += 1
        if _crowded(times[first : last + 1].tolist(), named[first : last + 1], window):
            found.add((str(addresses[first][0]), str(addresses[first][1])))
        first = last + 1
    return found


def _crowded(times: list[int], named: list[set[str]], window: int) -> bool:
    """Whether some run of signals within `window` (ns) names PARTIES_AT_A_PLACE unrelated parties."""
    if len(set().union(*named)) < PARTIES_AT_A_PLACE:
        return False  # too few people in all: no window can have enough
    start = 0
    for end in range(len(times)):
        while times[end] - times[start] > window:
            start += 1
        if end - start + 1 >= 2 and unrelated(named[start : end + 1]) >= PARTIES_AT_A_PLACE:
            return True
    return False


def _at(frame: pd.DataFrame, addresses: set[tuple[str, str]]) -> pd.DataFrame:
    """The rows of `frame` at these (community_code, address_norm) addresses."""
    keys = tuples_of(frame, ["community_code", "address_norm"])
    return frame.loc[[k in addresses for k in keys]] if len(frame) else frame


def classify(session: Session, households: pd.DataFrame) -> dict[int, str]:
    """Which household risks at these risks' addresses are places, and why: places.csv's kind, crossing,
    many_parties. `households`: the household risks asked about (risk_id, community_code, address_norm),
    as the caller read them. The answer may name risks beyond them: a place is an address, so every live
    household risk there becomes a place risk with it."""
    pending = households.dropna(subset=["address_norm"])
    if pending.empty:
        return {}
    wanted = set(zip(pending["community_code"], pending["address_norm"], strict=True))
    others = frame_in(
        session,
        select(col(Risk.id), col(Risk.community_code), col(Risk.address_norm)).where(
            col(Risk.place_kind).is_(None), col(Risk.status).in_(LIVE_STATUSES)
        ),  # by ix_risk_place_kind_address_norm
        Risk.address_norm,
        sorted({a for _, a in wanted}),
        ["risk_id", "community_code", "address_norm"],
    )
    risks = pd.concat([pending, others]).drop_duplicates("risk_id")
    risks = _at(risks, wanted)
    addresses = list(tuples_of(risks, ["community_code", "address_norm"]))
    keys = sorted({f"{c}|{a}" for c, a in addresses})
    places = frame_in(
        session, select(col(Place.place_key), col(Place.kind)), Place.place_key, keys, ["k", "v"]
    )
    kind_of: dict[tuple[str, str], str] = {
        tuple(k.split("|", 1)): v for k, v in zip(places["k"], places["v"], strict=True)
    }
    signals = frame_in(
        session,
        select(
            col(Signal.community_code),
            col(Signal.address_norm),
            col(Signal.occurred_at),
            col(Signal.id),
            col(Signal.channel),
            col(Signal.category),
            col(Signal.party_keys),
            col(Signal.address),
        ),
        Signal.address_norm,
        sorted({a for c, a in wanted if (c, a) not in kind_of}),
        [
            "community_code",
            "address_norm",
            "occurred_at",
            "id",
            "channel",
            "category",
            "party_keys",
            "address",
        ],
    )
    signals = _at(signals, wanted)
    for c, a, raw in tuples_of(signals, ["community_code", "address_norm", "address"]):
        if (c, a) not in kind_of and is_crossing(raw):
            kind_of[(c, a)] = "crossing"
    rest = _at(signals, wanted - set(kind_of))
    kind_of |= {address: "many_parties" for address in many_parties(rest)}
    return {
        int(r): kind_of[k] for r, k in zip(risks["risk_id"].tolist(), addresses, strict=True) if k in kind_of
    }


def mark_places(session: Session, kinds: dict[int, str]) -> list[audit.Change]:
    """Make the risks places: off the household visit cadence, their pending visits cancelled."""
    if not kinds:
        return []
    for kind in set(kinds.values()):
        ids = [rid for rid, k in kinds.items() if k == kind]
        for part in chunks(ids):
            session.execute(update(Risk).where(col(Risk.id).in_(part)).values(place_kind=kind))
    for part in chunks(sorted(kinds)):
        session.execute(
            update(FollowUp)
            .where(col(FollowUp.risk_id).in_(part), col(FollowUp.status) == "pending")
            .values(status="cancelled")
        )
    return [
        audit.Change("place", "risk", str(rid), {"place_kind": None}, {"place_kind": kind},
                     f"a hotspot ({kind}): ranked for patrol, no household visit cadence")
        for rid, kind in sorted(kinds.items())
    ]  # fmt: skip


@dataclass
class Hotspot:
    risk_id: int
    kind: str
    level: str
    community: str
    station_code: str
    address: str | None
    calls: int
    calls_before: int


def ranking(
    session: Session, as_of: datetime, days: int = 30, station: str | None = None, limit: int = 20
) -> list[Hotspot]:
    """Live places by calls in the last `days` (and the `days` before, to see the trend), for patrol."""
    now, before = as_of - timedelta(days=days), as_of - timedelta(days=2 * days)

    def calls(since: datetime, until: datetime) -> Any:
        return (
            select(col(Signal.risk_id), func.count().label("n"))
            .where(
                col(Signal.channel) == "call",
                col(Signal.occurred_at) >= since,
                col(Signal.occurred_at) < until,
            )
            .group_by(col(Signal.risk_id))
            .subquery()
        )

    recent, earlier = calls(now, as_of), calls(before, now)
    stmt = (
        select(Risk, col(Community.name), col(Community.station_code), recent.c.n, earlier.c.n)
        .join(Community, col(Community.community_code) == Risk.community_code)
        .join(recent, recent.c.risk_id == Risk.id)
        .join(earlier, earlier.c.risk_id == Risk.id, isouter=True)
        .where(col(Risk.place_kind).is_not(None), col(Risk.status).in_(LIVE_STATUSES))
    )
    if station:
        stmt = stmt.where(col(Community.station_code) == station)
    rows = list(session.execute(stmt).tuples())
    rank = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
    rows.sort(key=lambda r: (-r[3], rank.get(r[0].level, 9), r[0].id))
    return [
        Hotspot(risk.id, risk.place_kind, risk.level, f"{risk.community_code} {name}", station_code,
                risk.address_norm, int(n), int(m or 0))
        for risk, name, station_code, n, m in rows[:limit]
    ]  # fmt: skip
