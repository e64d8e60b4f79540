"""Addresses and residents drawn per community, vectorised over many rows at once.

Three kinds of address: a dwelling (flat in an estate, or house in a village group), a site
(shops, squares, the village committee; drawn with a strong skew so a few hot spots collect
many calls) and a workplace (where wage disputes happen). Residents are integer person ids
laid out community by community, so "someone who lives here" is one vectorised draw.
"""

from __future__ import annotations

import numpy as np

from . import names
from .jurisdiction import VILLAGE, Jurisdiction


def _num(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64).astype(str).astype(object)


def dwellings(rng: np.random.Generator, j: Jurisdiction, comm: np.ndarray) -> np.ndarray:
    """Home addresses: ``<estate>12号楼3单元502室`` or ``<village>3组21号``."""
    n = comm.size
    out = np.empty(n, dtype=object)
    village = j.comm_kind[comm] == VILLAGE
    v = np.flatnonzero(village)
    out[v] = (
        j.comm_name[comm[v]]
        + _num(rng.integers(1, 13, v.size))
        + "组"
        + _num(rng.integers(1, 81, v.size))
        + "号"
    )
    u = np.flatnonzero(~village)
    c = comm[u]
    n_est = j.estate_offsets[c + 1] - j.estate_offsets[c]
    est = j.estate_offsets[c] + (rng.random(u.size) * n_est).astype(np.int64)
    floor = rng.integers(1, 19, u.size)
    out[u] = (
        j.estate_name[est]
        + _num(rng.integers(1, 31, u.size))
        + "号楼"
        + _num(rng.integers(1, 7, u.size))
        + "单元"
        + _num(floor)
        + np.char.zfill(rng.integers(1, 5, u.size).astype(str), 2).astype(object)
        + "室"
    )
    return out


def sites(rng: np.random.Generator, j: Jurisdiction, comm: np.ndarray) -> np.ndarray:
    """Public places, skewed towards each community's first sites (its hot spots)."""
    lo = j.site_offsets[comm]
    size = j.site_offsets[comm + 1] - lo
    local = np.minimum((rng.random(comm.size) ** 2.6 * size).astype(np.int64), size - 1)
    return j.site_name[lo + local]


def workplaces(rng: np.random.Generator, j: Jurisdiction, comm: np.ndarray) -> np.ndarray:
    """Building sites, factories and farms where wage disputes start."""
    n = comm.size
    village = j.comm_kind[comm] == VILLAGE
    urban_w = np.array(names.URBAN_WORKPLACES, dtype=object)
    village_w = np.array(names.VILLAGE_WORKPLACES, dtype=object)
    out = np.empty(n, dtype=object)
    v = np.flatnonzero(village)
    out[v] = j.comm_name[comm[v]] + village_w[rng.integers(0, village_w.size, v.size)]
    u = np.flatnonzero(~village)
    out[u] = (
        j.comm_road[comm[u]]
        + _num(rng.integers(1, 400, u.size))
        + "号"
        + urban_w[rng.integers(0, urban_w.size, u.size)]
    )
    return out


class Residents:
    """Person ids by community: community ``c`` owns ids [offset[c], offset[c] + population[c]).

    Ids from ``total`` upwards are reserved for the planted stories' people.
    """

    def __init__(self, j: Jurisdiction) -> None:
        self.population = j.comm_population
        self.offset = np.concatenate([[0], np.cumsum(self.population)[:-1]]).astype(np.int64)
        self.total = int(self.population.sum())

    def draw(self, rng: np.random.Generator, comm: np.ndarray, k: np.ndarray) -> np.ndarray:
        """A padded (rows, max k) matrix of distinct residents; ``-1`` where a row has fewer.

        A random start and stride inside the community keep the people of one row distinct.
        """
        k = np.asarray(k, dtype=np.int64)
        width = int(k.max()) if k.size else 0
        out = np.full((comm.size, width), -1, dtype=np.int64)
        if width == 0:
            return out
        pop = self.population[comm]
        start = (rng.random(comm.size) * pop).astype(np.int64)
        step = 1 + (rng.random(comm.size) * np.maximum(pop // (width + 1) - 1, 1)).astype(np.int64)
        cols = np.arange(width)
        local = (start[:, None] + cols[None, :] * step[:, None]) % pop[:, None]
        ids = self.offset[comm][:, None] + local
        keep = cols[None, :] < k[:, None]
        out[keep] = ids[keep]
        return out
