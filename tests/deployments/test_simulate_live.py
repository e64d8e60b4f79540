"""`bridgehead simulate --live`: the city on a fast clock through served deployments, stopped and resumed.

The clock and the delivery of the world's events are plain functions; one slow test drives a
simulated day through `bridgehead serve` on a Prefect server of the command's own (as a new user
would run it), stops it with Ctrl-C half-way and resumes it, and reads what the register holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select
from sqlmodel import Session

from bridgehead.rules import get_rules
from deployments.simulate import Setup
from deployments.simulate_live import LiveState, StopRequest, live_events, merged, release, undelivered
from models.clock import today
from models.common import LOCAL_TZ, SimulatedClock
from models.follow_up import SweepDay
from models.incident import Dispatch, Incident
from models.signal import Signal

BRIDGEHEAD = str(Path(sys.executable).with_name("bridgehead"))


def test_the_simulated_clock_runs_at_its_speed_and_never_ahead_of_the_real_one() -> None:
    real = datetime.now(UTC)
    clock = SimulatedClock(real - timedelta(days=2), 60, real - timedelta(minutes=1))
    assert abs(clock.now() - (real - timedelta(days=2) + timedelta(hours=1))) < timedelta(minutes=1)
    assert SimulatedClock.parse(str(clock)).now() - clock.now() < timedelta(seconds=5)
    ahead = SimulatedClock(real - timedelta(minutes=5), 1000, real - timedelta(minutes=1))
    assert ahead.now() <= datetime.now(UTC)  # a thousand minutes ahead would be the future


def test_a_clock_that_does_not_read_is_one_line_naming_the_setting() -> None:
    with pytest.raises(ValueError, match=r"^BRIDGEHEAD_CLOCK='tomorrow': write '<simulated ISO time> x"):
        SimulatedClock.parse("tomorrow")


def _calls() -> dict[str, pd.DataFrame]:
    row = {
        "community_code": "C1",
        "address": "幸福路1号",
        "summary": "",
        "party_keys": "",
        "phone": "",
        "dispatched_at": "2026-12-01T10:03:00+08:00",
        "arrived_at": "2026-12-01T10:09:00+08:00",
        "disposition": "mediated",
    }
    received = "2026-12-01T10:00:00+08:00"
    urgent = {"call_id": "A", "category": "violence", "priority": 1, "closed_at": "2026-12-01T11:00:00+08:00"}
    other = {
        "call_id": "B",
        "category": "family_neighbor",
        "priority": 3,
        "closed_at": "2026-12-01T12:30:00+08:00",
    }
    return {"call": pd.DataFrame([{**row, "received_at": received, **c} for c in (urgent, other)])}


def test_an_urgent_call_arrives_live_and_any_other_when_it_closes() -> None:
    calls = live_events(_calls(), get_rules())["call"].set_index("call_id")
    assert calls.loc["A", "_due"] == pd.Timestamp("2026-12-01T02:00:00Z")  # received: the product dispatches
    assert calls.loc["A", ["dispatched_at", "arrived_at", "closed_at", "disposition"]].tolist() == [""] * 4
    assert calls.loc["B", "_due"] == pd.Timestamp("2026-12-01T04:30:00Z")  # exported when it closed
    assert calls.loc["B", "disposition"] == "mediated"


def test_each_event_reaches_the_inbox_once_across_ticks_and_days(tmp_path: Path) -> None:
    setup = Setup(tmp_path, seed=1, scale=0.01, start=date(2026, 12, 1), end=date(2026, 12, 2))
    pending = live_events(_calls(), get_rules())
    at = [datetime(2026, 12, 1, h, 0, tzinfo=LOCAL_TZ) for h in (9, 10, 12, 13)]
    delivered = [release(setup, pending, a, b) for a, b in pairwise(at)]
    assert delivered == [1, 0, 1]  # A at 10:00 in (9, 10], nothing in (10, 12], B at 12:30 in (12, 13]
    files = sorted((tmp_path / "inbox" / "call").glob("*.csv"))
    assert [pd.read_csv(f)["call_id"].tolist() for f in files] == [["A"], ["B"]]
    left = undelivered(pending, at[1])  # a new day drawn at 10:00: B is still owed, A is not
    assert left["call"]["call_id"].tolist() == ["B"]
    assert merged(left, live_events(_calls(), get_rules()))["call"]["call_id"].tolist() == ["A", "B", "B"]


def test_the_state_of_a_live_run_reads_back_as_written(tmp_path: Path) -> None:
    setup = Setup(tmp_path, seed=1, scale=0.01, start=date(2026, 12, 1), end=date(2026, 12, 2))
    state = LiveState(
        at=datetime(2026, 12, 1, 3, tzinfo=UTC), released_to=datetime(2026, 12, 1, 2, tzinfo=UTC)
    )
    state.runs["inbox-intake/inbox-intake"] = 3
    state.save(setup)
    assert LiveState.load(setup) == state


def test_the_first_ctrl_c_asks_the_loop_to_stop_and_the_second_interrupts() -> None:
    said: list[str] = []
    before = signal.getsignal(signal.SIGINT)
    with StopRequest(said.append) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        stop.sleep(5)  # wakes at once: the flag is set, nothing was raised
        assert stop.asked.is_set() and said and "Ctrl-C again" in said[0]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is before


# --- one simulated day through `bridgehead serve` -----------------------------------------------------


@pytest.mark.server
def test_a_day_played_live_through_served_deployments_stops_on_ctrl_c_and_resumes(tmp_path: Path) -> None:
    day = today() - timedelta(days=1)
    folder = tmp_path / "live"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "BRIDGEHEAD_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    command = [
        BRIDGEHEAD, "simulate", "--live", "--speed", "360", "--scale", "0.02", "--seed", "7",
        "--dir", str(folder), "--from", str(day), "--to", str(day),
    ]  # fmt: skip
    # x360: a day in four real minutes, a tick in 1.7 s. Ctrl-C comes two ticks after 05:50, while the
    # morning's daily-sweep run is awaited through Prefect's client (where a plain KeyboardInterrupt
    # was once lost) or just after it.
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    state = folder / "live" / "state.json"
    deadline, before_dawn = time.monotonic() + 600, datetime.combine(day, clock_time(5, 50), LOCAL_TZ)
    while time.monotonic() < deadline and first.poll() is None:
        saved = LiveState.load(Setup(folder, 7, 0.05, day, day)) if state.exists() else None
        if saved is not None and saved.at >= before_dawn:
            break
        time.sleep(0.2)
    time.sleep(3.5)
    first.send_signal(signal.SIGINT)
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0, out[-3000:]
    assert "Stopped at" in out, out[-3000:]
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    said = second.stdout + second.stderr
    assert second.returncode == 0, said[-3000:]
    assert "Resuming at" in said and "failed or crashed runs: 0" in said, said[-3000:]

    engine = create_engine(f"sqlite:///{folder / 'bridgehead.db'}")
    start = datetime.combine(day, datetime.min.time(), LOCAL_TZ)
    with Session(engine) as s:
        swept = s.execute(select(SweepDay.day)).scalars().all()
        visits = s.execute(
            select(func.count()).where(Signal.channel == "visit", Signal.occurred_at >= start)
        ).scalar_one()
        live = s.execute(select(Incident.id, Incident.status).where(Incident.opened_at >= start)).all()
        reached = s.execute(
            select(func.count()).select_from(Dispatch).where(Dispatch.on_scene_at.is_not(None))
        ).scalar_one()
        calls = s.execute(
            select(Signal.source_id, func.count()).where(Signal.channel == "call").group_by(Signal.source_id)
        ).all()
    engine.dispose()
    assert swept == [day]  # the morning's daily-sweep run, once, though the run was stopped and resumed
    assert visits > 100  # the officers worked the lists it made, and their visits came in through the day
    assert live and reached > 0  # urgent calls opened incidents; the units sent reported on scene
    assert any(status == "closed" for _, status in live)
    assert all(n == 1 for _, n in calls)  # nothing delivered twice made a second signal
