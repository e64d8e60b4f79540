"""What every channel generator shares: the city, the people, the dates and the threads.

Each part of the output draws from its own named random stream derived from the seed, so
changing how one file is generated does not reshuffle the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import names, places
from .jurisdiction import Jurisdiction
from .texts import CATEGORIES
from .threads import Signals, Threads
from .timeline import DAY, Windows, day_weights, hour_profile, sample_days, sample_seconds_of_day

STREAMS = {
    "people": 1,
    "threads": 2,
    "stories": 3,
    "calls": 4,
    "visits": 5,
    "analysis": 6,
    "tips": 7,
    "cases": 8,
    "units": 9,
    "visit-outcomes": 10,
}


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream ``name`` of dataset ``seed``."""
    return np.random.default_rng([seed, STREAMS[name]])


@dataclass
class Context:
    seed: int
    scale: float
    windows: Windows
    j: Jurisdiction
    residents: places.Residents
    keys: names.PersonKeys
    threads: Threads
    signals: Signals
    _weights: dict[str, np.ndarray] = field(default_factory=dict)

    def day_weights(self, kind: str) -> np.ndarray:
        """Per-day weights over the two years for a category (or ``visit``), cached."""
        if kind not in self._weights:
            self._weights[kind] = day_weights(self.windows.dates(), kind)
        return self._weights[kind]

    def times(self, rng: np.random.Generator, days: np.ndarray, cats: np.ndarray, hours: str) -> np.ndarray:
        """Local seconds for signals on the given day indices, with an hourly profile by
        channel (and by category for calls)."""
        out = self.windows.start_sec + days.astype(np.int64) * DAY
        for ci, code in enumerate(CATEGORIES):
            m = cats == ci
            if m.any():
                out[m] += sample_seconds_of_day(rng, int(m.sum()), hour_profile(hours, code))
        return out

    def background(
        self,
        rng: np.random.Generator,
        counts: tuple[int, int],
        mix: dict[str, float],
        hours: str,
        season: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Times and categories of one-off signals: ``counts`` per year, categories by ``mix``,
        days by each category's season (or by ``season`` for all), hours by channel."""
        probs = np.array([mix[c] for c in CATEGORIES])
        probs = probs / probs.sum()
        all_days: list[np.ndarray] = []
        all_cats: list[np.ndarray] = []
        year = self.windows.n_days // 2
        for w, n in enumerate(counts):
            per_cat = rng.multinomial(max(n, 0), probs)
            for ci, code in enumerate(CATEGORIES):
                if per_cat[ci] == 0:
                    continue
                weights = self.day_weights(season or code)
                all_days.append(sample_days(rng, int(per_cat[ci]), weights, w * year, (w + 1) * year))
                all_cats.append(np.full(per_cat[ci], ci, dtype=np.int64))
        days = np.concatenate(all_days) if all_days else np.empty(0, np.int64)
        cats = np.concatenate(all_cats) if all_cats else np.empty(0, np.int64)
        return self.times(rng, days, cats, hours), cats
