"""Linking signals to risks (线索归并): one risk per place-and-kind or per pair of people.

A signal joins the risk that holds one of its keys — its community, normalised address and
category, or any pair of the people it names — if that risk was active within the window
(12 months). A visit that names a risk joins it. A resolved risk so joined is reopened, and a settled
or referred one goes back to open — unless the signal is a calm visit (a return visit, a check or a
re-check finding things calm), which is evidence, not news. A signal with no match opens a new risk
if its kind may open one. The plan is made in one ordered pass over
the pending signals, so signals of the same batch that share a key meet on one new risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import pandas as pd

from bridgehead.db import tuples_of

MAX_PAIR_PARTIES = 6  # pairs among at most this many people: 20 workers give 15 pairs, not 190


def address_key(community: str, address_norm: str, category: str) -> str:
    return f"{community}|{address_norm}|{category}"


def pair_keys(parties: list[str]) -> list[str]:
    return [f"{a};{b}" for a, b in combinations(sorted(parties)[:MAX_PAIR_PARTIES], 2)]


@dataclass
class KnownRisk:
    status: str
    active_at: int  # seconds: the later of its last signal and its resolution
    place: bool = False  # a hotspot: a signal there naming a pair of people goes to the pair's own risk


@dataclass
class NewRisk:
    ref: int  # negative until the database gives it an id
    community_code: str
    category: str
    address_norm: str
    party_pair: str | None
    first_at: int


@dataclass
class LinkPlan:
    risk_of: dict[int, int] = field(default_factory=dict)  # signal id -> risk ref (negative: new)
    new_risks: dict[int, NewRisk] = field(default_factory=dict)
    reopened: dict[int, int] = field(default_factory=dict)  # risk id -> time of the reopening signal
    woken: dict[int, int] = field(default_factory=dict)  # settled or referred risk id -> time of the signal
    keys: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # -> (risk ref, last seen)


def plan_links(
    signals: pd.DataFrame,
    known_keys: dict[tuple[str, str], tuple[int, int]],
    known_risks: dict[int, KnownRisk],
    window_s: int,
) -> LinkPlan:
    """Decide the risk of every pending signal.

    `signals` columns: id, t (epoch seconds), community_code, address_norm, category, parties
    (list), named_risk_id, opens (bool), and optionally wakes (bool: not a calm visit; default true).
    Rows are taken in time order.
    """
    plan = LinkPlan()
    keys = dict(known_keys)
    active = {rid: r.active_at for rid, r in known_risks.items()}
    resolved = {rid for rid, r in known_risks.items() if r.status == "resolved"}
    waiting = {rid for rid, r in known_risks.items() if r.status in ("settled", "referred")}
    places = {rid for rid, r in known_risks.items() if r.place}
    if "wakes" not in signals:
        signals = signals.assign(wakes=True)
    ordered = signals.sort_values(["t", "id"], kind="stable")
    for sid, t, community, addr, category, parties, named, opens, wakes in tuples_of(
        ordered,
        [
            "id",
            "t",
            "community_code",
            "address_norm",
            "category",
            "parties",
            "named_risk_id",
            "opens",
            "wakes",
        ],
    ):
        own = [("address", address_key(community, addr, category))]
        own += [("pair", k) for k in pair_keys(parties or [])]
        ref = None
        if named is not None and not pd.isna(named) and int(named) in active:
            ref = int(named)
        else:
            live = [(k[0], *keys[k]) for k in own if k in keys and t - keys[k][1] <= window_s]
            live = [(kind, r, seen) for kind, r, seen in live if r < 0 or t - active.get(r, seen) <= window_s]
            if live:
                ref = max(live, key=lambda hit: hit[2])[1]
                people = [(r, seen) for kind, r, seen in live if kind == "pair" and r not in places]
                if ref in places and people:  # the people's own risk, not the busy place's
                    ref = max(people, key=lambda hit: hit[1])[0]
        if ref is None:
            if not opens:
                continue
            ref = -(len(plan.new_risks) + 1)
            pair = own[1][1] if len(own) > 1 else None
            plan.new_risks[ref] = NewRisk(ref, community, category, addr, pair, t)
        elif wakes and ref in resolved:
            resolved.discard(ref)
            plan.reopened[ref] = t
        elif wakes and ref in waiting:
            waiting.discard(ref)
            plan.woken[ref] = t
        plan.risk_of[int(sid)] = ref
        active[ref] = max(active.get(ref, t), t)
        for k in own:
            keys[k] = (ref, t)
            plan.keys[k] = (ref, t)
    return plan
