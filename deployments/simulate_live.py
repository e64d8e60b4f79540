"""`bridgehead simulate --live`: the city played on a fast clock against `bridgehead serve`.

What the Prefect UI of an operations room shows, at `speed` simulated minutes a real minute:
- the world's events reach the inbox at their own times, and an `inbox-intake` run takes them in
  every ten simulated minutes; urgent 110 calls come in live (no response recorded yet), so intake
  opens their incidents and each `bridgehead.incident.opened` event starts a `quick-response` run;
- the patrol units the product sent report en route and on scene (a `unit-status` run), and the
  officer on scene closes the incident with the call's outcome;
- at 06:00 a `daily-sweep` run plans the day; the chiefs sign off, the officers work their lists,
  and their visits reach the inbox through the day.
Every flow runs in the served process, on the simulated clock (`BRIDGEHEAD_CLOCK`), which never runs
ahead of the real one: a run that catches up with today goes on in real time. Its state is saved
every tick (`live/state.json`, the world pickled at each day's draws), so Ctrl-C stops it cleanly
and the same command resumes where it stopped. At speed N the product's own latency counts N-fold
on its response-time targets: judge those at speed 1.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from bridgehead.synthetic.world import CHANNELS, World
from deployments.simulate import Setup, lists_for, live_day, share_out, sign_off
from models.common import LOCAL_TZ, SimulatedClock, use_clock
from tasks.quick_response.incidents import is_urgent_call

LIVE_DAYS = 2  # the last days of a run play live; those before are replayed in-process first
TICK = timedelta(minutes=10)  # the inbox is fed, and taken in, every ten simulated minutes
MORNING = clock_time(6, 0)  # the daily sweep's hour
URGENT_CLEAR = ("dispatched_at", "arrived_at", "closed_at", "disposition")  # a live call has none yet
ON_SCENE_MIN = 25  # a unit's time on scene before the officer closes the incident


@dataclass
class LiveState:
    """Where a live run stands: the simulated time reached, the day drawn, what went to the inbox."""

    at: datetime
    day: date | None = None  # the day whose events are drawn and pending (kept with the world)
    morning: bool = False  # that day's sweep has run and its visits are pending too (likewise)
    released_to: datetime | None = None  # pending rows up to this time are in the inbox
    runs: dict[str, int] = field(default_factory=dict)  # deployment runs started, by deployment
    failed: list[str] = field(default_factory=list)  # runs that did not complete

    @staticmethod
    def path(setup: Setup) -> Path:
        return setup.folder / "live" / "state.json"

    def save(self, setup: Setup) -> None:
        raw = asdict(self)
        raw["at"] = self.at.isoformat()
        raw["day"] = self.day.isoformat() if self.day else None
        raw["released_to"] = self.released_to.isoformat() if self.released_to else None
        target = self.path(setup)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_suffix(".part")
        part.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        part.replace(target)  # atomic: a Ctrl-C never leaves half a state

    @classmethod
    def load(cls, setup: Setup) -> LiveState | None:
        target = cls.path(setup)
        if not target.exists():
            return None
        raw = json.loads(target.read_text(encoding="utf-8"))
        return cls(
            at=datetime.fromisoformat(raw["at"]),
            day=date.fromisoformat(raw["day"]) if raw["day"] else None,
            morning=raw["morning"],
            released_to=datetime.fromisoformat(raw["released_to"]) if raw["released_to"] else None,
            runs=raw["runs"],
            failed=raw["failed"],
        )


# --- the world's state between ticks ------------------------------------------------------------


def _world_path(setup: Setup) -> Path:
    return setup.folder / "live" / "world.pickle"


def save_world(setup: Setup, world: World, pending: dict[str, pd.DataFrame], state: LiveState) -> None:
    """The world, the events it drew and not yet delivered, and the day's progress: one file, replaced
    atomically, so a stop between two of them cannot make a resumed run draw a day twice."""
    _atomic_pickle(
        _world_path(setup), {"world": world, "pending": pending, "day": state.day, "morning": state.morning}
    )


def load_world(setup: Setup, state: LiveState) -> tuple[World, dict[str, pd.DataFrame]]:
    saved = pickle.loads(_world_path(setup).read_bytes())
    state.day, state.morning = saved["day"], saved["morning"]
    return saved["world"], saved["pending"]


def _atomic_pickle(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    part.replace(path)


def live_events(events: dict[str, pd.DataFrame], rules: Any) -> dict[str, pd.DataFrame]:
    """The day's events as they reach a live inbox, each with `_due` (when it is delivered).

    An urgent call arrives when it is received, with no response yet: the product dispatches it.
    Any other call arrives when it closes, as a dispatch system exports it; the rest at their time."""
    qr = rules.quick_response
    out = {}
    for channel, frame in events.items():
        _name, when, _key = CHANNELS[channel]
        frame = frame.copy()
        due = pd.to_datetime(frame[when], utc=True, format="ISO8601")
        if channel == "call" and not frame.empty:
            urgent = is_urgent_call(frame.assign(channel="call"), qr)
            frame.loc[urgent, list(URGENT_CLEAR)] = ""
            closed = pd.to_datetime(frame["closed_at"].replace("", None), utc=True, format="ISO8601")
            due = due.where(urgent | closed.isna(), closed)
        out[channel] = frame.assign(_due=due).sort_values("_due", kind="stable").reset_index(drop=True)
    return out


def undelivered(pending: dict[str, pd.DataFrame], after: datetime | None) -> dict[str, pd.DataFrame]:
    """The pending events not yet in the inbox (a call closing tomorrow waits for tomorrow)."""
    return {c: f[f["_due"] > after] if after is not None else f for c, f in pending.items()}


def merged(pending: dict[str, pd.DataFrame], new: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """`new` events added to `pending`, in order of delivery."""
    out = dict(pending)
    for channel, frame in new.items():
        if frame.empty:
            continue
        both = pd.concat([out[channel], frame], ignore_index=True) if channel in out else frame
        out[channel] = both.sort_values("_due", kind="stable").reset_index(drop=True)
    return out


def release(setup: Setup, pending: dict[str, pd.DataFrame], after: datetime | None, now: datetime) -> int:
    """Write the pending events due in (after, now] to the inbox, one file per channel and tick."""
    from bridgehead.synthetic.writer import write_csv

    written = 0
    stamp = now.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H%M%S")
    for channel, frame in pending.items():
        due = frame["_due"]
        rows = frame[(due <= now) & (due > after if after is not None else True)]
        if rows.empty:
            continue
        name = CHANNELS[channel][0]
        folder = setup.inbox / channel
        folder.mkdir(parents=True, exist_ok=True)
        written += write_csv(rows, folder / f"live-{stamp}.csv", name)
    return written


# --- the units and the officers on scene --------------------------------------------------------


def _minutes(*key: object) -> int:
    """A fixed draw of 0..4 minutes for a unit on an incident: the same on every run."""
    return zlib.crc32(repr(key).encode()) % 5


def play_units(setup: Setup, now: datetime, runner: Runner) -> tuple[int, int]:
    """The units report en route and on scene; the officer on scene closes the incident after a while.

    Travel takes 2 minutes and 2 a kilometre (30 km/h), plus a fixed draw. An incident with no unit
    yet waits for the product (the response watch pulls one from another station). Returns how many
    unit reports were written and incidents closed."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.incident import Dispatch, Incident, IncidentOutcome
    from tasks.quick_response.disposal import close_incident

    with session_scope() as session:
        open_ = session.execute(
            select(Incident.id, Incident.incident_code, Incident.opened_at, Incident.category).where(
                Incident.status != "closed"
            )
        ).all()
        sent = session.execute(
            select(
                Dispatch.incident_id,
                Dispatch.unit_code,
                Dispatch.dispatched_at,
                Dispatch.distance_km,
                Dispatch.en_route_at,
                Dispatch.on_scene_at,
            ).where(Dispatch.incident_id.in_([i.id for i in open_]))
        ).all()
    lines: list[tuple[str, str, str, datetime]] = []
    arrived: dict[int, datetime] = {}  # incidents every unit reached: the last arrival
    on_the_way: set[int] = set()
    code_of = {i.id: i.incident_code for i in open_}
    for d in sent:
        travel = timedelta(minutes=2 + 2 * (d.distance_km or 1) + _minutes(d.incident_id, d.unit_code))
        code = code_of[d.incident_id]
        if d.en_route_at is None and d.dispatched_at + timedelta(seconds=30) <= now:
            lines.append((d.unit_code, code, "en_route", d.dispatched_at + timedelta(seconds=30)))
        on_scene = d.on_scene_at or d.dispatched_at + travel
        if d.on_scene_at is None and on_scene <= now:
            lines.append((d.unit_code, code, "on_scene", on_scene))
        if on_scene <= now:
            arrived[d.incident_id] = max(arrived.get(d.incident_id, on_scene), on_scene)
        else:
            on_the_way.add(d.incident_id)
    closing = [  # every unit sent is there, and has been a while (no unit yet: the product's turn)
        (i.incident_code, arrived[i.id] + timedelta(minutes=ON_SCENE_MIN), i.category)
        for i in open_
        if i.id in arrived
        and i.id not in on_the_way
        and arrived[i.id] + timedelta(minutes=ON_SCENE_MIN) <= now
    ]
    if lines and runner.free("unit-status/unit-status"):
        path = setup.folder / "live" / "units" / f"{now.astimezone(LOCAL_TZ):%Y-%m-%dT%H%M%S}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(lines, columns=["unit_code", "incident_id", "status", "at"]).assign(
            at=lambda f: [t.isoformat() for t in f["at"]]
        ).to_csv(path, index=False)
        runner.start("unit-status/unit-status", {"files": [str(path)]})
    rules = get_rules()
    for code, at, category in closing:
        outcome = (
            IncidentOutcome.person_found
            if category == "missing_person"
            else IncidentOutcome.resolved_on_scene
        )
        with session_scope() as session:
            close_incident(session, rules, code, outcome, by="simulate-officer-on-scene", at=at)
    return len(lines), len(closing)


def settle_units(setup: Setup, clock: SimulatedClock, runner: Runner, timeout_s: float = 180) -> None:
    """As the run stops: the runs in flight finish, the units sent report in and the incidents they
    reached are closed, round after round until a round has nothing to do (a quick response the
    trigger starts late, under load, still sends its units and sees them arrive)."""
    deadline, quiet = time.monotonic() + timeout_s, 0
    while quiet < 2 and time.monotonic() < deadline:
        drain()
        time.sleep(2)  # an event's trigger may still be creating its run
        quiet = quiet + 1 if play_units(setup, clock.now(), runner) == (0, 0) and not in_flight() else 0


# --- the served process and its runs ------------------------------------------------------------


class Runner:
    """Deployment runs started from the simulator and counted. The morning's sweep is waited for (the
    officers read its lists); intake and the unit feed are started and left to run, one at a time
    each, so the simulated day goes on while they work. Failures are read from the server at the end."""

    def __init__(self, state: LiveState, timeout_s: float = 900) -> None:
        self.state, self.timeout_s = state, timeout_s
        self.last: dict[str, Any] = {}  # the latest run started of each deployment

    def run(self, name: str, parameters: dict[str, Any] | None = None) -> None:
        """Start a run and wait for it to end."""
        from prefect.deployments import run_deployment

        run_deployment(name, parameters=parameters or {}, timeout=self.timeout_s)
        self.state.runs[name] = self.state.runs.get(name, 0) + 1

    def free(self, name: str) -> bool:
        """Whether the latest run of `name` has ended (or none was started)."""
        from prefect.client.orchestration import get_client

        last = self.last.get(name)
        if last is None:
            return True
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(last).state
        return state is not None and state.is_final()

    def start(self, name: str, parameters: dict[str, Any] | None = None) -> bool:
        """Start a run unless the latest one of `name` is still going; whether one was started."""
        from prefect.deployments import run_deployment

        if not self.free(name):
            return False
        self.last[name] = run_deployment(name, parameters=parameters or {}, timeout=0).id
        self.state.runs[name] = self.state.runs.get(name, 0) + 1
        return True


SERVED = ("inbox-intake", "daily-sweep", "quick-response", "response-watch", "unit-status")


def start_serving(setup: Setup, clock: SimulatedClock, log: Path) -> subprocess.Popen[bytes]:
    """`bridgehead serve` on the simulation's database, inbox and clock, until this run stops."""
    from deployments.local_server import die_with_parent

    env = {
        **os.environ,
        "BRIDGEHEAD_CLOCK": str(clock),
        "BRIDGEHEAD_DATABASE_URL": f"sqlite:///{setup.database.as_posix()}",
        "BRIDGEHEAD_VAR_DIR": str(setup.folder),
        "BRIDGEHEAD_INBOX_DIR": str(setup.inbox),
    }
    only = [arg for name in SERVED for arg in ("--only", name)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("bridgehead")), "serve", *only],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            start_new_session=True,  # Ctrl-C reaches the simulator, which lets the runs in flight finish
        )
    _wait_for_deployments(proc, log)
    return proc


def _wait_for_deployments(proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> None:
    """Until the served deployments are registered (their runs then wait for the runner's poll)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bridgehead serve exited with status {proc.returncode}: see {log}")
        if _served():
            return
        time.sleep(0.5)
    raise TimeoutError(f"bridgehead serve did not register its deployments in {timeout_s:.0f} s: see {log}")


def _served() -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        names = {d.name for d in client.read_deployments()}
    return set(SERVED) <= names


def in_flight() -> int:
    """Flow runs pending or running, or due to start (a triggered quick response the runner has not
    picked up yet)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterNextScheduledStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    busy = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING]))
    )
    due = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(before_=datetime.now(UTC)),
    )
    with get_client(sync_client=True) as client:
        return len(client.read_flow_runs(flow_run_filter=busy)) + len(
            client.read_flow_runs(flow_run_filter=due)
        )


def drain(timeout_s: float = 90) -> None:
    """Wait (a while) for the runs in flight, so stopping the served process crashes none."""
    deadline = time.monotonic() + timeout_s
    while in_flight() and time.monotonic() < deadline:
        time.sleep(1)


def failed_runs(since: datetime) -> list[str]:
    """Flow runs started since `since` that failed or crashed, triggered ones included."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    bad = FlowRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
    runs_filter = FlowRunFilter(
        state=FlowRunFilterState(type=bad), start_time=FlowRunFilterStartTime(after_=since)
    )
    with get_client(sync_client=True) as client:
        return [f"{r.name} ({r.state_name})" for r in client.read_flow_runs(flow_run_filter=runs_filter)]


# --- the loop -----------------------------------------------------------------------------------


class StopRequest:
    """Ctrl-C asks the loop to stop at its next step, instead of raising wherever the main thread is.

    A KeyboardInterrupt that lands while Prefect's client awaits a run in its own event loop can be
    lost there (the run went on for a simulated day and exited as if it had finished), so the first
    Ctrl-C only sets a flag that the loop reads between steps; a second one interrupts at once."""

    def __init__(self, say: Any) -> None:
        self.asked, self.say = threading.Event(), say
        self._previous: Any = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._ask)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _ask(self, _signum: int, _frame: object) -> None:
        if self.asked.is_set():
            raise KeyboardInterrupt
        self.asked.set()
        self.say("Stopping once the step in hand is done (Ctrl-C again to stop at once)")

    def sleep(self, seconds: float) -> None:
        self.asked.wait(seconds)


def run_live(setup: Setup, speed: float, say: Any) -> LiveState:
    """Play from go-live (or from where the last run stopped) to the end of the last day, or Ctrl-C."""
    from bridgehead.rules import get_rules
    from deployments import simulate as sim
    from models.clock import day_start

    state = LiveState.load(setup)
    if state is None:
        _data, world = sim.prepare(setup)
        live_from = max(setup.start, setup.end - timedelta(days=LIVE_DAYS))
        if live_from > setup.start:
            say(
                f"Replaying {setup.start} to {live_from - timedelta(days=1)} in-process (the officers work "
                f"through the go-live backlog), then live from {live_from}"
            )
            replay(setup, world, live_from)
        state = LiveState(at=day_start(live_from))
        state.released_to = state.at - timedelta(microseconds=1)
        pending: dict[str, pd.DataFrame] = {}
        save_world(setup, world, pending, state)
        state.save(setup)
    else:
        sim.configure(setup)
        world, pending = load_world(setup, state)
        say(f"Resuming at {state.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} (simulated)")
    end = day_start(setup.end)
    started = datetime.now(UTC)
    clock = SimulatedClock(state.at, speed, started)
    use_clock(clock)
    os.environ["BRIDGEHEAD_CLOCK"] = str(clock)
    serving = start_serving(setup, clock, setup.folder / "live" / "serve.log")
    runner, rules = Runner(state), get_rules()
    say(f"Serving on a clock at x{speed:g}; Ctrl-C stops, the same command resumes")
    stop = StopRequest(say)
    try:
        with stop:
            _play(setup, world, pending, state, clock, runner, rules, end, speed, stop)
    except KeyboardInterrupt:
        stop.asked.set()
    finally:
        if stop.asked.is_set():
            at = state.at.astimezone(LOCAL_TZ)
            say(f"Stopped at {at:%Y-%m-%d %H:%M} (simulated); run it again to resume")
        state.save(setup)
        drain()
        state.failed = sorted(set(state.failed) | set(failed_runs(started)))
        state.save(setup)
        serving.terminate()
        try:
            serving.wait(30)
        except subprocess.TimeoutExpired:
            serving.kill()
    return state


def _play(
    setup: Setup,
    world: World,
    pending: dict[str, pd.DataFrame],
    state: LiveState,
    clock: SimulatedClock,
    runner: Runner,
    rules: Any,
    end: datetime,
    speed: float,
    stop: StopRequest,
) -> None:
    """Tick by tick to `end`, or until Ctrl-C: each step leaves a state the same command resumes from."""
    say = stop.say
    while state.at < end:
        if stop.asked.is_set():
            return
        now = min(clock.now(), end)
        local = now.astimezone(LOCAL_TZ)
        if state.day != local.date() and local.date() < setup.end:  # past midnight: the day's draw
            state.day, state.morning = local.date(), False
            pending = undelivered(pending, state.released_to)
            pending = merged(pending, live_events(world.day_events(local.date()), rules))
            save_world(setup, world, pending, state)
        if not state.morning and local.time() >= MORNING:
            morning(setup, world, pending, state, runner, rules)
            say(_progress(state))
        if release(setup, pending, state.released_to, now) or _tick(state.at, now):
            runner.start("inbox-intake/inbox-intake")
        state.released_to = now
        play_units(setup, now, runner)
        state.at = now
        state.save(setup)
        stop.sleep(_to_next_tick(clock, now, speed))
    settle_units(setup, clock, runner)
    runner.run("inbox-intake/inbox-intake")  # the last tick's files, taken in before it stops


def replay(setup: Setup, world: World, until: date) -> None:
    """The days before `until` as `bridgehead simulate` plays them (in-process, each morning's sweep
    then the day's visits and events to the inbox), so the live days start from a city that works
    its lists rather than from the go-live backlog."""
    from flows.daily_sweep import morning as sweep_morning

    day = setup.start
    while day < until:
        sweep_morning(day, plain=True)
        live_day(setup, world, day)
        day += timedelta(days=1)


def morning(
    setup: Setup, world: World, pending: dict[str, pd.DataFrame], state: LiveState, runner: Runner, rules: Any
) -> None:
    """06:00: the daily sweep (a deployment run), the chiefs' sign-offs and reassignments, the visits."""
    day = state.day
    assert day is not None
    runner.run("daily-sweep/daily-sweep", {"day": day.isoformat()})
    sign_off(day)
    share_out(day)
    visits = world.officer_visits(day, lists_for(world, day))
    pending.update(merged(pending, live_events({"visit": visits}, rules)))
    state.morning = True
    save_world(setup, world, pending, state)


def _tick(before: datetime, now: datetime) -> bool:
    """Whether a ten-minute boundary of the simulated clock fell in (before, now]."""
    step = TICK.total_seconds()
    return int(now.timestamp() // step) > int(before.timestamp() // step)


def _to_next_tick(clock: SimulatedClock, now: datetime, speed: float) -> float:
    """Real seconds to the next tick; caught up with the real clock, the ticks come in real time."""
    step = TICK.total_seconds()
    next_tick = datetime.fromtimestamp((now.timestamp() // step + 1) * step, UTC)
    real = (next_tick - clock.now()).total_seconds() / speed
    return min(max(real, 0.5), step)


def _progress(state: LiveState) -> str:
    runs = ", ".join(f"{n.split('/')[0]} {c}" for n, c in sorted(state.runs.items()))
    failed = f"; {len(state.failed)} failed" if state.failed else ""
    return f"{state.day} 06:00 swept; runs so far: {runs}{failed}"
