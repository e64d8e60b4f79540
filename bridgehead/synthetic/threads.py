"""Recurring disputes ("threads") that give risks their 3+, 5+ and cross-channel signals.

A thread is one dispute between fixed parties at one address: a family row, a couple, a
landlord and tenant, an employer and their workers. It produces a burst of signals a few days
apart, first mostly a 110 call, then calls, follow-up visits, tips and analysis hits about the
same address and parties. A few end in violence (a call mentioning a weapon or a threat), and
some later become criminal cases (see ``cases``). Without threads every risk would have one
signal and the grading rules would never fire.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import names, places
from .jurisdiction import COMMUNITY, Jurisdiction
from .params import THREAD_MIX
from .texts import CAT
from .timeline import YEAR_DAYS, Windows, day_weights, sample_days

CALL, VISIT, TIP, ANALYSIS = 0, 1, 2, 3
CHANNELS = ("call", "visit", "tip", "analysis")
_FIRST = np.array([0.75, 0.15, 0.05, 0.05])
_LATER = np.array([0.52, 0.36, 0.06, 0.06])


@dataclass
class Threads:
    """One row per recurring dispute."""

    comm: np.ndarray
    category: np.ndarray
    address: np.ndarray
    party_ids: np.ndarray  # (threads, width), -1 padded
    parties: np.ndarray  # joined keys
    phone: np.ndarray
    headcount: np.ndarray  # workers in a wage dispute, else 0
    violent_end: np.ndarray


@dataclass
class Signals:
    """One row per signal a thread produces (day index into the two-year span)."""

    thread: np.ndarray
    day: np.ndarray
    channel: np.ndarray
    category: np.ndarray
    escalated: np.ndarray  # the violent last signal of a thread

    def last_day(self, n_threads: int) -> np.ndarray:
        """Day of each thread's last signal."""
        last = np.full(n_threads, -1, dtype=np.int64)
        np.maximum.at(last, self.thread, self.day)
        return last


def community_weights(j: Jurisdiction, urban: float, village: float) -> np.ndarray:
    """Sampling weights of communities: population times a per-kind rate."""
    rate = np.where(j.comm_kind == COMMUNITY, urban, village)
    w = j.comm_population * rate
    return w / w.sum()


def build_threads(
    rng: np.random.Generator,
    j: Jurisdiction,
    residents: places.Residents,
    keys: names.PersonKeys,
    windows: Windows,
    n_threads: int,
) -> tuple[Threads, Signals]:
    """Draw ``n_threads`` disputes and explode them into dated, channelled signals."""
    n = n_threads
    codes = list(THREAD_MIX)
    cat_names = np.array(codes)[rng.choice(len(codes), n, p=list(THREAD_MIX.values()))]
    cat_names.sort(kind="stable")  # group by category so the per-category draws stay simple
    category = np.array([CAT[c] for c in cat_names.tolist()], dtype=np.int64)
    comm = rng.choice(j.n_communities, n, p=community_weights(j, 1.3, 1.0))

    address = places.dwellings(rng, j, comm)
    labor = category == CAT["labor_debt"]
    address[labor] = places.workplaces(rng, j, comm[labor])

    u = rng.random(n)
    workers = np.where(
        u < 0.70, rng.integers(1, 5, n), np.where(u < 0.88, rng.integers(5, 10, n), rng.integers(10, 31, n))
    )
    k = np.select(
        [
            category == CAT["family_neighbor"],
            category == CAT["marriage_romance"],
            category == CAT["land_property"],
        ],
        [rng.integers(2, 5, n), np.full(n, 2), rng.integers(2, 4, n)],
        default=1 + workers,
    )
    headcount = np.where(labor, workers, 0)
    party_ids = residents.draw(rng, comm, k)
    parties = keys.join(party_ids)
    phone = names.phones(rng, n)

    # signal counts and spacing ----------------------------------------------------------------
    long_running = rng.random(n) < 0.06
    size = np.where(long_running, rng.integers(6, 21, n), 1 + rng.geometric(0.38, n))
    size = np.minimum(size, 20)
    median_gap = np.where(long_running, rng.lognormal(np.log(25), 0.4, n), rng.lognormal(np.log(8), 0.7, n))
    dates = windows.dates()
    start = np.empty(n, dtype=np.int64)
    for code in codes:  # four categories: each has its own season
        m = cat_names == code
        start[m] = sample_days(rng, int(m.sum()), day_weights(dates, code), 0, 2 * YEAR_DAYS - 3)

    thread = np.repeat(np.arange(n), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(thread.size) - first[thread]
    gap = np.maximum(1, np.rint(rng.exponential(median_gap[thread]))).astype(np.int64)
    gap[pos == 0] = 0
    total = np.cumsum(gap)
    day = start[thread] + total - total[first[thread]]
    keep = day < windows.n_days
    thread, day, pos = thread[keep], day[keep], pos[keep]

    p_first = _FIRST / _FIRST.sum()
    p_later = _LATER / _LATER.sum()
    channel = np.where(pos == 0, rng.choice(4, thread.size, p=p_first), rng.choice(4, thread.size, p=p_later))

    # some threads end in violence: their last signal is a call about a fight or a threat
    violent_end = rng.random(n) < 0.05
    kept = np.bincount(thread, minlength=n)
    last_index = np.cumsum(kept) - 1
    is_last = np.zeros(thread.size, dtype=bool)
    is_last[last_index[kept > 0]] = True
    escalated = is_last & violent_end[thread] & (kept[thread] >= 2)
    channel[escalated] = CALL
    sig_category = np.where(escalated, CAT["violence"], category[thread])
    violent_end &= kept >= 2

    threads = Threads(comm, category, address, party_ids, parties, phone, headcount, violent_end)
    signals = Signals(thread, day, channel, sig_category, escalated)
    return threads, signals
