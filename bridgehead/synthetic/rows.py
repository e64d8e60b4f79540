"""Column-wise row sets: how the generators hold, merge, sort and number their rows.

A row set is a dict of equal-length numpy arrays with an int64 ``_t`` (local seconds). Keeping
rows as columns lets every step stay vectorised; the helpers here are the few operations all
generators need, so they behave the same everywhere (notably the stable sort, which keeps the
output deterministic when two rows share a second).
"""

from __future__ import annotations

import numpy as np

from .texts import CATEGORIES
from .timeline import DAY, ymd

Part = dict[str, np.ndarray]


def by_category(table: dict[str, list[float]]) -> np.ndarray:
    """A (categories, options) probability matrix from a dict with a ``default`` row."""
    rows = [table.get(c, table["default"]) for c in CATEGORIES]
    m = np.array(rows, dtype=float)
    return m / m.sum(axis=1, keepdims=True)


def draw(rng: np.random.Generator, probs: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One option index per row from its group's row of ``probs`` (vectorised inverse CDF)."""
    cdf = np.cumsum(probs, axis=1)[groups]
    u = rng.random(groups.size)[:, None]
    return np.minimum((u > cdf).sum(axis=1), probs.shape[1] - 1)


def no_thread(n: int) -> np.ndarray:
    """The ``_thread`` column of rows that belong to no recurring dispute."""
    return np.full(n, -1, dtype=np.int64)


def concat(parts: list[Part]) -> Part:
    """Stack row sets that have the same columns."""
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def by_time(part: Part) -> Part:
    """Rows in time order; ties keep their order (stable), so output is reproducible."""
    order = np.argsort(part["_t"], kind="stable")
    return {k: v[order] for k, v in part.items()}


def day_serial_ids(prefix: str, seconds: np.ndarray, width: int) -> np.ndarray:
    """``<prefix><YYYYMMDD><serial>`` ids for rows already sorted by time."""
    day = seconds // DAY
    first = np.searchsorted(day, day, side="left")
    serial = np.arange(day.size) - first + 1
    digits = np.strings.zfill(serial.astype(str), width)
    return (prefix + ymd(seconds).astype(object)) + digits.astype(object)
