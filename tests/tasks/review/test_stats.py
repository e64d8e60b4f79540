"""A review's arithmetic: percent changes as the seed prints them, and whether a change is more than chance.

The p-values are worked by hand from the exact conditional test: given n = current + baseline, the
current count is Binomial(n, p) with p = current days / all days; two-sided is twice the tail away
from the mean, capped at 1.
"""

from __future__ import annotations

from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.review.stats import change_pct, poisson_p_value, shown_pct, significant


def test_a_change_from_2_to_4_is_chance() -> None:
    flag, p = significant(4, 2)
    assert flag is False
    assert p == pytest.approx(0.6875)  # R: poisson.test(c(4, 2))$p.value
    assert change_pct(4, 2) == 100.0


def test_a_change_from_200_to_400_is_real() -> None:
    flag, p = significant(400, 200)
    assert flag is True
    assert p is not None and p < 1e-15


def test_4_against_2_is_twice_the_upper_tail() -> None:
    assert poisson_p_value(4, 2) == pytest.approx(2 * (15 + 6 + 1) / 64)  # 0.6875
    assert poisson_p_value(2, 4) == pytest.approx(0.6875)


def test_none_against_5_is_twice_the_lower_tail() -> None:
    assert poisson_p_value(0, 5) == pytest.approx(2 / 32)  # 0.0625: not quite significant
    assert significant(0, 5) == (False, pytest.approx(0.0625))
    assert significant(0, 6) == (True, pytest.approx(2 / 64))


def test_unequal_exposure_compares_rates_not_counts() -> None:
    """4 in 7 days against 2 in 14: under equal rates the 4 is Binomial(6, 1/3); P(X >= 4) = 73/729."""
    upper = sum(comb(6, k) * (1 / 3) ** k * (2 / 3) ** (6 - k) for k in (4, 5, 6))
    assert upper == pytest.approx(73 / 729)
    assert poisson_p_value(4, 2, current_days=7, baseline_days=14) == pytest.approx(2 * upper)
    # the same rate over twice the days is no change at all
    assert poisson_p_value(10, 20, current_days=7, baseline_days=14) == 1.0
    # 40 against 20 over the same days is a real doubling; 40 in 14 days against 20 in 7 is the same rate
    assert significant(40, 20)[0] is True
    assert significant(40, 20, current_days=14, baseline_days=7) == (False, 1.0)


def test_a_month_of_28_days_against_one_of_31() -> None:
    """28 calls in 28 days against 31 in 31 is the same daily rate: no change at all."""
    assert poisson_p_value(28, 31, 28, 31) == 1.0
    assert poisson_p_value(28, 31) < 1.0


def test_p_values_are_capped_at_1() -> None:
    assert poisson_p_value(3, 3) == 1.0
    assert poisson_p_value(0, 0) == 1.0
    assert significant(0, 0) == (False, 1.0)


def test_nothing_to_test_without_a_baseline() -> None:
    assert significant(5, None) == (None, None)
    assert significant(None, 5) == (None, None)


def test_large_counts_are_quick_and_exact_enough() -> None:
    """A province's year: counts in the hundreds of thousands."""
    assert poisson_p_value(500_000, 500_000) == 1.0
    assert poisson_p_value(501_000, 500_000) > 0.05  # 0.1% more: chance at this size
    assert poisson_p_value(505_000, 500_000) < 1e-6  # 1% more: real


def test_the_seeds_percent_changes() -> None:
    fall = change_pct(702, 1000)
    assert fall == pytest.approx(-29.8)
    assert shown_pct(fall) == "-29.8%"
    rise = change_pct(298, 206)
    assert rise == (298 - 206) / 206 * 100  # exact, not rounded
    assert rise != 44.66
    assert shown_pct(rise) == "+44.66%"


def test_percent_changes_are_shown_with_a_sign_and_at_most_two_decimals() -> None:
    assert shown_pct(100.0) == "+100%"
    assert shown_pct(-50.0) == "-50%"
    assert shown_pct(12.5) == "+12.5%"
    assert shown_pct(1 / 3 * 100) == "+33.33%"
    assert shown_pct(0.0) == "±0%"
    assert shown_pct(-0.001) == "±0%"
    assert shown_pct(None) == "—"


def test_a_change_from_nothing_has_no_percent() -> None:
    assert change_pct(5, 0) is None
    assert change_pct(0, 0) is None
    assert change_pct(None, 3) is None
    assert change_pct(3, None) is None
    assert change_pct(0, 4) == -100.0


counts = st.integers(min_value=0, max_value=5_000)
exposure = st.integers(min_value=1, max_value=400)


@settings(max_examples=300, deadline=None)
@given(counts, counts, exposure, exposure)
def test_a_p_value_is_a_probability(
    current: int, baseline: int, current_days: int, baseline_days: int
) -> None:
    p = poisson_p_value(current, baseline, current_days, baseline_days)
    assert 0.0 <= p <= 1.0


@settings(max_examples=300, deadline=None)
@given(counts, counts, exposure)
def test_swapping_the_counts_over_equal_days_gives_the_same_p(a: int, b: int, days: int) -> None:
    assert poisson_p_value(a, b, days, days) == pytest.approx(poisson_p_value(b, a, days, days), rel=1e-9)
