"""The criminal case register (立案), holding the seed report's year-on-year figures exactly.

At scale 1 the current year files ``round(previous * 0.702)`` cases (down 29.8%) and solves
894 telecom-fraud cases against 618 (up 44.66%); each telecom-fraud case is solved inside the
year it was filed, so "solved in the year" means the same thing whichever date is counted.
Some cases grow out of earlier disputes at the same address and between the same parties
(民转刑), a handful of them homicides (刑转命), so the review can find conversions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import places
from .context import Context, stream
from .params import (
    CASES_PREVIOUS,
    CASES_RATIO,
    CONVERSION_SHARE,
    LINKED_HOMICIDES,
    OFFENCE_MIX,
    OTHER_HOMICIDES,
    SOLVED_DEFAULT,
    SOLVED_SHARE,
    TELECOM_SHARE,
    TELECOM_SOLVED,
    scaled,
)
from .rows import Part, by_time, concat, day_serial_ids, draw
from .texts import CAT, CATEGORIES
from .threads import community_weights
from .timeline import DAY, YEAR_DAYS, hour_profile, sample_days, sample_seconds_of_day, to_iso

OFFENCES = (*CATEGORIES, "theft", "assault", "homicide", "telecom_fraud", "other_crime")
OFF = {code: i for i, code in enumerate(OFFENCES)}

# what a dispute turns into: labour disputes vs the others
_LABOR_TURNS = (("labor_debt", 0.3), ("assault", 0.4), ("public_order", 0.3))
_OTHER_TURNS = (("assault", 0.55), ("violence", 0.2), ("public_order", 0.15), ("other_crime", 0.1))


@dataclass
class CaseTargets:
    filed: tuple[int, int]
    telecom_solved: tuple[int, int]
    linked_homicides: tuple[int, int]
    other_homicides: tuple[int, int]


def targets(scale: float) -> CaseTargets:
    previous = scaled(CASES_PREVIOUS, scale)
    linked = max(1, scaled(LINKED_HOMICIDES, scale))
    return CaseTargets(
        filed=(previous, round(previous * CASES_RATIO)),
        telecom_solved=(scaled(TELECOM_SOLVED[0], scale), scaled(TELECOM_SOLVED[1], scale)),
        linked_homicides=(linked, linked),
        other_homicides=(scaled(OTHER_HOMICIDES, scale), scaled(OTHER_HOMICIDES, scale)),
    )


def _conversions(rng: np.random.Generator, ctx: Context, goal: CaseTargets) -> Part:
    """Cases filed 1-330 days after a thread's last signal, at its address, with its parties."""
    th, sig = ctx.threads, ctx.signals
    n = th.comm.size
    last = sig.last_day(n)
    filed_day = last + 1 + np.minimum(rng.exponential(45.0, n), 329).astype(np.int64)
    valid = (last >= 0) & (filed_day < ctx.windows.n_days)
    window = (filed_day >= YEAR_DAYS).astype(np.int64)
    offence = np.full(n, -1, dtype=np.int64)

    homicide = np.zeros(n, dtype=bool)
    for w in (0, 1):  # the linked homicides, violent endings first
        cand = np.flatnonzero(valid & (window == w))
        order = cand[np.lexsort((rng.random(cand.size), ~th.violent_end[cand]))]
        homicide[order[: goal.linked_homicides[w]]] = True
    offence[homicide] = OFF["homicide"]

    p = np.where(th.violent_end, 0.35, CONVERSION_SHARE)
    convert = valid & ~homicide & (rng.random(n) < p)
    labor = th.category == CAT["labor_debt"]
    for mask, turns in ((convert & labor, _LABOR_TURNS), (convert & ~labor, _OTHER_TURNS)):
        codes = np.array([OFF[c] for c, _ in turns])
        probs = np.array([q for _, q in turns])
        offence[mask] = codes[rng.choice(codes.size, int(mask.sum()), p=probs)]

    chosen = np.flatnonzero(offence >= 0)
    days = filed_day[chosen]
    t = ctx.windows.start_sec + days * DAY + sample_seconds_of_day(rng, chosen.size, hour_profile("case"))
    return {
        "_t": t,
        "_thread": chosen,
        "comm": th.comm[chosen],
        "address": th.address[chosen],
        "offence": offence[chosen],
        "parties": th.parties[chosen],
    }


_CASE_SITES = np.array([0.5, 0.0, 0.4])  # theft, telecom fraud, the rest
_CASE_PARTIES = {
    "theft": [0.45, 0.55, 0, 0],
    "telecom_fraud": [0, 1, 0, 0],
    "assault": [0, 0.2, 0.7, 0.1],
    "homicide": [0, 0, 0.8, 0.2],
    "default": [0.3, 0.4, 0.3, 0],
}


def _background(rng: np.random.Generator, ctx: Context, counts: list[dict[int, int]]) -> Part:
    """One-off cases: ``counts[w]`` maps offence index to how many to file in year ``w``."""
    days_l: list[np.ndarray] = []
    off_l: list[np.ndarray] = []
    for w, per_offence in enumerate(counts):
        for off, k in sorted(per_offence.items()):
            if k <= 0:
                continue
            code = OFFENCES[off]
            weights = ctx.day_weights(code if code in CAT else "other")
            days_l.append(sample_days(rng, k, weights, w * YEAR_DAYS, (w + 1) * YEAR_DAYS))
            off_l.append(np.full(k, off, dtype=np.int64))
    days = np.concatenate(days_l)
    offence = np.concatenate(off_l)
    t = ctx.windows.start_sec + days * DAY + sample_seconds_of_day(rng, days.size, hour_profile("case"))
    j = ctx.j
    comm = rng.choice(j.n_communities, days.size, p=community_weights(j, 1.5, 0.8))
    address = places.dwellings(rng, j, comm)
    kind = np.where(offence == OFF["theft"], 0, np.where(offence == OFF["telecom_fraud"], 1, 2))
    at_site = rng.random(days.size) < _CASE_SITES[kind]
    address[at_site] = places.sites(rng, j, comm[at_site])
    probs = np.array([_CASE_PARTIES.get(c, _CASE_PARTIES["default"]) for c in OFFENCES])
    k = draw(rng, probs / probs.sum(axis=1, keepdims=True), offence)
    parties = ctx.keys.join(ctx.residents.draw(rng, comm, k))
    return {
        "_t": t,
        "_thread": np.full(days.size, -1, dtype=np.int64),
        "comm": comm,
        "address": address,
        "offence": offence,
        "parties": parties,
    }


def build_cases(ctx: Context) -> tuple[pd.DataFrame, np.ndarray, CaseTargets]:
    """The register for both years; returns the frame, each row's source thread (-1 for none)
    and the targets it was built to."""
    rng = stream(ctx.seed, "cases")
    goal = targets(ctx.scale)
    linked = _conversions(rng, ctx, goal)
    linked_per_year = np.bincount(ctx.windows.window_of(linked["_t"]), minlength=2)

    mix_codes = list(OFFENCE_MIX)
    mix = np.array([OFFENCE_MIX[c] for c in mix_codes])
    counts: list[dict[int, int]] = []
    for w in (0, 1):
        rest = goal.filed[w] - int(linked_per_year[w])
        telecom = round(goal.filed[w] * TELECOM_SHARE[w])
        homicides = goal.other_homicides[w]
        spread = rng.multinomial(max(rest - telecom - homicides, 0), mix / mix.sum())
        per = {OFF[c]: int(k) for c, k in zip(mix_codes, spread, strict=True)}
        per[OFF["telecom_fraud"]] = telecom
        per[OFF["homicide"]] = homicides
        counts.append(per)
    rows = by_time(concat([linked, _background(rng, ctx, counts)]))

    t = rows["_t"]
    offence = rows["offence"]
    n = t.size
    w = ctx.windows
    # solved: telecom fraud exactly, inside the year it was filed; the rest by share
    solved_at = np.full(n, -1, dtype=np.int64)
    share = np.array([SOLVED_SHARE.get(c, SOLVED_DEFAULT) for c in OFFENCES])
    other = offence != OFF["telecom_fraud"]
    lag = (rng.lognormal(np.log(20.0), 1.0, n) * DAY).astype(np.int64) + 3600
    hit = other & (rng.random(n) < share[offence])
    solved_at[hit] = t[hit] + lag[hit]
    year_end = np.where(w.window_of(t) == 0, w.current_start_sec, w.end_sec)
    for y in (0, 1):
        cand = np.flatnonzero(~other & (w.window_of(t) == y) & (t < year_end - 2 * DAY))
        pick = np.sort(rng.choice(cand, min(goal.telecom_solved[y], cand.size), replace=False))
        room = year_end[pick] - t[pick] - 7200
        solved_at[pick] = t[pick] + 3600 + (rng.beta(1.3, 3.0, pick.size) * room).astype(np.int64)
    solved = (solved_at >= 0) & (solved_at < w.end_sec)

    frame = pd.DataFrame(
        {
            "case_id": day_serial_ids("K", t, 4),
            "filed_at": to_iso(t),
            "community_code": ctx.j.comm_code[rows["comm"]],
            "address": rows["address"],
            "offence": np.array(OFFENCES, dtype=object)[offence],
            "party_keys": rows["parties"],
            "solved_at": to_iso(np.where(solved, solved_at, 0), solved),
        }
    )
    return frame, rows["_thread"], goal
