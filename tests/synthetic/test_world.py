"""The simulated city's people (`bridgehead.synthetic.world`), without the product: disputes settle when
visited and escalate when neglected, officers make their lists' visits (the negligent about half),
the case register keeps its totals, and the same seed gives the same world."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from bridgehead.synthetic import Dataset, build
from bridgehead.synthetic.world import World, load_params

END = date(2026, 12, 2)
START = END - timedelta(days=60)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return build(seed=11, scale=0.05, end=END)


def world(data: Dataset, follow_up: bool = True) -> World:
    return World(data, load_params(), START, follow_up)


def days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def test_the_negligent_officers_are_five_percent_of_those_with_lists_and_the_same_for_a_seed(
    data: Dataset,
) -> None:
    officers = data.frames["officers.csv"]
    carriers = officers[officers["role"].isin(["community", "assistant"])]
    w = world(data)
    assert len(w.negligent) == round(0.05 * len(carriers))
    assert set(w.negligent) <= set(carriers["officer_code"])
    assert world(data).negligent == w.negligent


def test_the_same_seed_gives_the_same_days(data: Dataset) -> None:
    a, b = world(data), world(data)
    for day in days(5):
        first, second = a.day_events(day), b.day_events(day)
        for channel in first:
            pd.testing.assert_frame_equal(first[channel], second[channel])


def test_the_disputes_own_visits_are_gone_the_world_still_sends_patrol_finds(data: Dataset) -> None:
    w = world(data)
    visits = pd.concat([w.day_events(day)["visit"] for day in days(20)])
    assert len(visits) > 0
    ids = set(visits["visit_id"])
    threads = data.threads["visits.csv"]
    generated = data.frames["visits.csv"]["visit_id"]
    assert not ids & set(generated[threads >= 0])  # no visit of a dispute's natural course


def test_criminal_cases_keep_their_daily_totals_with_or_without_follow_up(data: Dataset) -> None:
    cases = data.frames["cases.csv"]
    per_day = cases["filed_at"].str.slice(0, 10).value_counts()
    for follow_up in (True, False):
        w = world(data, follow_up)
        for day in days(30):
            assert len(w.day_events(day)["case"]) == per_day.get(day.isoformat(), 0)


def lists_for(w: World, day: date, officers: list[str], per_officer: int = 4) -> pd.DataFrame:
    """A day's lists as the product would hand them: the live disputes' risks, one officer each."""
    d = (day - w.origin).days
    live = np.flatnonzero((w.first_day <= d) & (d <= w.last_day))[: len(officers) * per_officer]
    th = w.data.ctx.threads
    return pd.DataFrame(
        {
            "officer_code": [officers[i // per_officer] for i in range(live.size)],
            "place": [i % per_officer + 1 for i in range(live.size)],
            "risk_id": np.arange(live.size) + 1,
            "why": "cadence",
            "level": "yellow",
            "community_code": w.data.ctx.j.comm_code[th.comm[live]],
            "category": [
                ("labor_debt", "family_neighbor", "marriage_romance", "land_property")[c % 4]
                for c in range(live.size)
            ],
            "address": th.address[live],
            "party_keys": th.parties[live],
            "thread": live,
            "story": "",
        }
    )


def test_officers_make_their_lists_visits_and_the_negligent_about_half(data: Dataset) -> None:
    w = world(data)
    diligent = [o for o in data.frames["officers.csv"]["officer_code"] if o not in w.negligent][:30]
    lists = lists_for(w, START + timedelta(days=20), w.negligent[:30] + diligent)
    visits = w.officer_visits(START + timedelta(days=20), lists)
    made = visits["officer_code"].value_counts()
    listed = lists["officer_code"].value_counts()
    assert all(made.get(o, 0) == listed[o] for o in diligent if o in listed)
    share = made.reindex(w.negligent[:30]).fillna(0).sum() / listed.reindex(w.negligent[:30]).sum()
    assert 0.3 < share < 0.7
    assert set(visits["outcome"]) <= {"", "settled", "referred", "escalated", "unreachable"}
    assert set(visits["concern"]) <= {"", "none", "low", "medium", "high"}
    assert (visits["risk_id"] != "").all() and visits["visit_id"].is_unique


def test_a_settled_dispute_goes_quiet_and_a_neglected_one_escalates(data: Dataset) -> None:
    """The same world twice: officers settle every live dispute on day 0 in one, nobody visits in the
    other. The settled world has fewer of the disputes' calls afterwards, the neglected one more."""
    settled, neglected = world(data), world(data, follow_up=False)
    d0 = (START - settled.origin).days
    live = np.flatnonzero((settled.first_day <= d0) & (d0 <= settled.last_day))
    settled.settled_on[live] = d0
    settled.attended[live] = d0
    calls = {"settled": 0, "neglected": 0}
    for day in days(60)[1:]:
        for name, w in (("settled", settled), ("neglected", neglected)):
            frame = w.day_events(day)["call"]
            calls[name] += sum(w.behind(frame.assign(risk_id=0, channel="call", source_id=frame["call_id"]))
                               ["thread"].isin(live)) if len(frame) else 0  # fmt: skip
    assert calls["settled"] < calls["neglected"]
    assert neglected.tally.extra_calls > settled.tally.extra_calls
    assert settled.tally.suppressed_signals > 0
