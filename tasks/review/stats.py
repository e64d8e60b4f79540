"""The arithmetic of a review: percent change, and whether a change in a count is more than chance.

Counts of crimes and calls swing by chance, small ones most (CompStat's classic mistake is to
praise a station whose burglaries went from 2 to 1). A change is flagged as real only when the
**exact conditional Poisson test** rejects "same rate" at the 5% level: given the two counts' total
n, the current count is Binomial(n, p) under equal rates, with p = current days / (current days +
baseline days); the two-sided p-value is twice the smaller tail, capped at 1 (the C-test of
Przyborowski and Wilenski; equal to R's `poisson.test` for two samples over equal days, while over
unequal days R sums the outcomes less likely than the one seen instead of doubling the tail).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

ALPHA = 0.05


def change_pct(current: float | None, baseline: float | None) -> float | None:
    """(current − baseline) / baseline × 100, exact; None when there is no baseline to compare with."""
    if current is None or baseline is None or baseline == 0:
        return None
    return (current - baseline) / baseline * 100


def shown_pct(pct: float | None) -> str:
    """As the seed prints it: (702 − 1000) / 1000 is −29.8%, 298 against 206 is +44.66%."""
    if pct is None:
        return "—"
    text = f"{pct:+.2f}".rstrip("0").rstrip(".")
    return ("±0" if text in ("+0", "-0") else text) + "%"


def shown_value(value: float | None) -> str:
    """A figure as a table shows it: counts with thousands separators, rates and times to one decimal."""
    if value is None:
        return "—"
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def shown_cell(figure: Mapping[str, Any], window: str) -> str:
    """A figure's value in a text table: a ratio with its parts ('66.7 (2/3)', '4.25 (17/4)'), an
    unknown one as '—' (its reason is shown beside the table)."""
    value, kind = figure.get(window), figure.get("kind")
    if value is None:
        return "—"
    text = f"{value:,.2f}" if kind == "ratio" else shown_value(value)
    parts = (figure.get("parts") or {}).get(window)
    return f"{text} ({parts['numerator']:,}/{parts['denominator']:,})" if parts else text


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def _tail_away(k: int, n: int, p: float) -> float:
    """P(X >= k) when k is above the mean, else P(X <= k): the tail that starts at k and only falls.

    Terms come from the ratio of neighbours, and the sum stops once they no longer matter, so a test
    of two counts in the millions costs a few thousand steps.
    """
    upward = k >= n * p
    term = math.exp(_log_pmf(k, n, p))
    total, i, odds = term, k, p / (1 - p)
    while term > total * 1e-17 and (i < n if upward else i > 0):
        term *= (n - i) / (i + 1) * odds if upward else i / (n - i + 1) / odds
        i += 1 if upward else -1
        total += term
    return total


def poisson_p_value(current: int, baseline: int, current_days: float = 1, baseline_days: float = 1) -> float:
    """Two-sided p-value of "the current rate equals the baseline's" for two Poisson counts."""
    n = current + baseline
    if n == 0:
        return 1.0
    p = current_days / (current_days + baseline_days)
    return min(1.0, 2 * _tail_away(current, n, p))


def significant(
    current: int | None, baseline: int | None, current_days: float = 1, baseline_days: float = 1
) -> tuple[bool | None, float | None]:
    """(is the change real at the 5% level, p-value); (None, None) when there is nothing to test."""
    if current is None or baseline is None:
        return None, None
    p = poisson_p_value(int(current), int(baseline), current_days, baseline_days)
    return p < ALPHA, p
