"""Two registers of one city side by side — with the cycle and without follow-up — and whether
follow-up changed what the seed says it changes: disputes growing into crime.

The figures come from each register alone, in event time over the same window: conversions (民转刑)
and homicides among them (刑转命) as the review counts them, violence calls at an address with a
dispute signal in the 12 months before, and repeat calls (a 110 call on a risk that had another in
the 30 days before). Each difference gets the review's Poisson verdict (equal windows).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypedDict

import pandas as pd
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.common import DISPUTE_CATEGORIES
from models.signal import Signal
from tasks.review.conversions import conversions
from tasks.review.figures import in_scope
from tasks.review.period import Period, Scope, Window
from tasks.review.stats import change_pct, poisson_p_value

YEAR, MONTH = timedelta(days=365), timedelta(days=30)
FIGURES = ("conversions", "conversions_homicide", "violence_calls_at_disputes", "repeat_calls")


def _calls(window: Window, scope: Scope) -> Any:
    return and_(
        col(Signal.channel) == "call",
        col(Signal.occurred_at) >= window.start,
        col(Signal.occurred_at) < window.end,
        in_scope(scope, Signal.community_code),
    )


def violence_calls_at_disputes(session: Session, window: Window, scope: Scope) -> int:
    """Violence calls in the window at an address where a dispute was signalled in the year before."""
    earlier = aliased(Signal)
    dispute = exists().where(
        col(earlier.community_code) == Signal.community_code,
        col(earlier.address_norm) == Signal.address_norm,
        col(earlier.category).in_(sorted(DISPUTE_CATEGORIES)),
        col(earlier.occurred_at) < Signal.occurred_at,
        col(earlier.occurred_at) >= Signal.occurred_at - YEAR,
    )
    stmt = select(func.count()).where(_calls(window, scope), col(Signal.category) == "violence", dispute)
    return int(session.execute(stmt).scalar_one())


def repeat_calls(session: Session, window: Window, scope: Scope) -> int:
    """110 calls in the window on a risk that had another call in the 30 days before."""
    earlier = aliased(Signal)
    again = exists().where(
        col(earlier.risk_id) == Signal.risk_id,
        col(earlier.channel) == "call",
        col(earlier.id) != Signal.id,
        col(earlier.occurred_at) <= Signal.occurred_at,
        col(earlier.occurred_at) >= Signal.occurred_at - MONTH,
    )
    stmt = select(func.count()).where(_calls(window, scope), col(Signal.risk_id).is_not(None), again)
    return int(session.execute(stmt).scalar_one())


class Difference(TypedDict):
    """One figure with the cycle and without it (a row of `health.json`'s counterfactual, key for key)."""

    figure: str
    with_cycle: int
    without: int
    change_pct: float | None
    p_value: float
    significant: bool


def differences(with_cycle: dict[str, int], without: dict[str, int], alpha: float = 0.05) -> list[Difference]:
    """Each figure with the cycle against without it, and whether the change is more than chance."""
    out = []
    for key in FIGURES:
        a, b = int(with_cycle[key]), int(without[key])
        p = poisson_p_value(a, b)
        out.append(
            Difference(
                figure=key,
                with_cycle=a,
                without=b,
                change_pct=change_pct(a, b),
                p_value=p,
                significant=p < alpha and a + b > 0,
            )
        )
    return out


def window_figures(session: Session, period: Period, scope: Scope) -> dict[str, int]:
    """The compared figures over the period's current window."""
    window = period.current
    cases = conversions(session, period, scope)
    if not cases.empty:
        filed = pd.to_datetime(cases["filed_at"], utc=True)
        cases = cases[(filed >= window.start) & (filed < window.end)]
    return {
        "conversions": len(cases),
        "conversions_homicide": int((cases["offence"] == "homicide").sum()) if not cases.empty else 0,
        "violence_calls_at_disputes": violence_calls_at_disputes(session, window, scope),
        "repeat_calls": repeat_calls(session, window, scope),
    }
