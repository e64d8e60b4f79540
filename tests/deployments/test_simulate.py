"""`bridgehead simulate` against the real product: the city's people work the lists Bridgehead gives
them, accountability finds the negligent officers without being told who they are, the same seed
gives the same bytes, and the counterfactual with nobody working the lists is compared honestly."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlmodel import Session

from bridgehead.db import get_engine
from bridgehead.settings import get_settings
from deployments import simulate as sim
from deployments.simulate_cli import run_simulation
from models.clock import today
from models.follow_up import AccountabilityEntry, FollowUp
from models.signal import Signal

pytestmark = pytest.mark.prefect
DAYS = 21


def setup(folder: Path) -> sim.Setup:
    end = today() - timedelta(days=1)
    return sim.Setup(folder, seed=3, scale=0.01, start=end - timedelta(days=DAYS), end=end)


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator points its process at its own database, inbox and folder: undone afterwards."""
    for key in sim.ENVIRONMENT:
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_officers_work_their_lists_and_the_negligent_are_found(
    prefect_server: None, isolated: None, tmp_path: Path
) -> None:
    first = setup(tmp_path / "a")
    out = run_simulation(first, counterfactual=True)
    engine = create_engine(f"sqlite:///{first.database}")
    with Session(engine) as s:
        done = s.execute(select(func.count()).where(FollowUp.status == "done")).scalar_one()
        named = s.execute(select(func.count()).where(Signal.named_risk_id.is_not(None))).scalar_one()
        blamed = set(s.execute(select(AccountabilityEntry.officer_code)).scalars())
    engine.dispose()
    assert named > 100 and done > 100  # the officers' visits came back through the inbox and completed them
    negligent = set(json.loads((first.folder / "simulation.json").read_text())["negligent_officers"])
    assert blamed <= negligent  # nobody who works the whole list is held to account
    health = out["health"]
    assert health["on_time_pct"] is not None and health["on_time_pct"] > 80
    rows = {r["figure"]: r for r in out["counterfactual"]}
    assert rows["violence_calls_at_disputes"]["with_cycle"] <= rows["violence_calls_at_disputes"]["without"]
    assert set(rows) == {"conversions", "conversions_homicide", "violence_calls_at_disputes", "repeat_calls"}

    second = setup(tmp_path / "b")
    run_simulation(second)
    assert sim.digest(first.folder) == sim.digest(second.folder)  # same seed: byte-identical inputs
    a, b = (json.loads((s.folder / "health.json").read_text())["health"] for s in (first, second))
    assert a == b  # and the same figures


def test_the_staffing_curve_puts_each_capacity_through_the_same_city(
    prefect_server: None, isolated: None, tmp_path: Path
) -> None:
    from deployments.simulate_cli import run_staffing

    short = sim.Setup(tmp_path / "s", seed=3, scale=0.01, start=today() - timedelta(days=11), end=today())
    points = {p.capacity: p for p in run_staffing(short, [1, 8])}
    one, eight = points[1], points[8]
    # one visit a day leaves most of the go-live backlog to the chiefs' capacity notices and late
    assert one.capacity_notices > 5 * eight.capacity_notices
    assert one.on_time_pct is not None and eight.on_time_pct is not None
    assert one.on_time_pct < eight.on_time_pct
    rules = (short.folder / "capacity-1" / "rules.yaml").read_text(encoding="utf-8")
    assert "+capacity-1" in rules  # the what-if's rules carry their own version
    page = get_settings().reports_dir / f"staffing-{short.start}-{short.end - timedelta(days=1)}.html"
    assert '<svg id="staffing"' in page.read_text(encoding="utf-8")


def test_a_capacity_that_is_not_a_number_is_one_line() -> None:
    from typer.testing import CliRunner

    from deployments.cli import app

    result = CliRunner().invoke(app, ["simulate", "--capacity", "4,lots"])
    assert result.exit_code == 2 and "--capacity" in result.output and "whole numbers" in result.output
    assert "Traceback" not in result.output
