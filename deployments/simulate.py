"""`bridgehead simulate`: the generated city's people played against the real product, day by day.

The product goes live on the first simulated day: everything before is history, taken in as the files
are (the intake flow). Then each day, as a station network lives it:
1. **06:00, the daily sweep** takes in yesterday's inbox and plans the day (`flows.daily_sweep.morning`);
2. **the chiefs** sign off the red risks a visit settled yesterday (`bridgehead risks settle`);
3. **the officers** read their lists (`bridgehead followups due`) and make the visits, which the
   world answers (`bridgehead.synthetic.world`);
4. **the world** sends the day's calls, cases, analysis hits and tips; with the visits, they land in
   the inbox for the next morning.
The last morning is a real `daily-sweep` flow run. A replayed year runs the sweep's stages in-process
(the same code, no flow run per day: 365 mornings of Prefect's fixed cost would be most of the time);
`--live` plays it through `bridgehead serve` instead.

Same seed, scale and days: byte-identical inbox files and figures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd
import yaml
from sqlalchemy import func, select

from bridgehead.synthetic import Dataset, build
from bridgehead.synthetic.world import CHANNELS, World, load_params
from bridgehead.synthetic.writer import COLUMNS, write_csv, write_manifest
from models.clock import LOCAL_TZ

if TYPE_CHECKING:
    from flows.daily_sweep import Morning
    from tasks.review.counterfactual import Difference
    from tasks.review.staffing_report import StaffingPoint

ENVIRONMENT = (
    "BRIDGEHEAD_VAR_DIR",
    "BRIDGEHEAD_INBOX_DIR",
    "BRIDGEHEAD_RULES_FILE",
    "BRIDGEHEAD_DATABASE_URL",
)


@dataclass
class Setup:
    """Where a simulation keeps its files, and the days it covers: [start, end), swept to `end`."""

    folder: Path
    seed: int
    scale: float
    start: date
    end: date
    follow_up: bool = True
    capacity: int | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def database(self) -> Path:
        return self.folder / "bridgehead.db"

    @property
    def period(self) -> str:
        """The simulated days as a review period (`120d:2026-12-01`)."""
        return f"{(self.end - self.start).days}d:{self.end - timedelta(days=1)}"


def configure(setup: Setup) -> None:
    """Point this process at the simulation's database, inbox and (for a staffing what-if) rules."""
    from deployments.options import use_database

    os.environ["BRIDGEHEAD_VAR_DIR"] = str(setup.folder)
    os.environ["BRIDGEHEAD_INBOX_DIR"] = str(setup.inbox)
    if setup.capacity is not None:
        os.environ["BRIDGEHEAD_RULES_FILE"] = str(_capacity_rules(setup))
    use_database(f"sqlite:///{setup.database.as_posix()}")


def _capacity_rules(setup: Setup) -> Path:
    """The product's rules with every capped role's daily visits set to `capacity` (a what-if)."""
    from bridgehead.settings import get_settings

    rules = yaml.safe_load(get_settings().rules_file.read_text(encoding="utf-8"))
    rules["version"] = f"{rules['version']}+capacity-{setup.capacity}"
    rules["capacity"]["daily_visits"] = dict.fromkeys(rules["capacity"]["daily_visits"], setup.capacity)
    path = setup.folder / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def prepare(setup: Setup) -> tuple[Dataset, World]:
    """The city generated, its jurisdiction and history written and taken in; the world from `start`."""
    from bridgehead import audit
    from bridgehead.db import session_scope
    from deployments.intake_cli import run_intake
    from deployments.setup_cli import init
    from tasks.jurisdiction import load_jurisdiction

    data = build(setup.seed, setup.scale, setup.end)
    setup.data.mkdir(parents=True, exist_ok=True)
    for stale in setup.folder.glob("bridgehead.db*"):
        stale.unlink()
    for name, frame in data.frames.items():  # the whole generated city, in the brief's formats
        write_csv(frame, setup.data / name, "unit_status.csv" if name.startswith("unit_status") else None)
    history = history_files(data, setup)
    write_manifest(data.manifest, setup.data / "manifest.json")
    configure(setup)
    init()
    with session_scope() as session:
        load_jurisdiction(session, setup.data, actor=audit.current_actor("simulate"))
    for channel, path in history.items():
        run_intake(channel, [path])
    snapshot(setup.database, setup.folder / GO_LIVE)
    return data, World(data, load_params(), setup.start, setup.follow_up)


GO_LIVE = "go-live.db"  # the register as it stood on the first simulated morning


def snapshot(database: Path, copy: Path) -> None:
    """A consistent copy of a SQLite database (its backup API, WAL and all)."""
    import sqlite3

    copy.unlink(missing_ok=True)
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)


def from_go_live(setup: Setup, other: Setup) -> Setup:
    """`other`'s folder made afresh with `setup`'s register at go-live and its key, this process on it:
    another run of the same city from the same morning."""
    import shutil

    if other.folder.exists():
        shutil.rmtree(other.folder)
    other.folder.mkdir(parents=True)
    shutil.copy(setup.folder / GO_LIVE, other.database)
    shutil.copy(setup.folder / "secret.key", other.folder / "secret.key")
    configure(other)
    return other


def history_files(data: Dataset, setup: Setup) -> dict[str, Path]:
    """Each channel's rows before the first simulated day: what the register knew at go-live."""
    cut = setup.start.isoformat()
    out = {}
    for channel, (name, when, _key) in CHANNELS.items():
        frame = data.frames[name]
        path = setup.data / "history" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(frame[frame[when].str.slice(0, 10) < cut], path)
        out[channel] = path
    return out


def run(setup: Setup, world: World, progress: Any = None) -> list[Morning]:
    """Every day from `start` to the day before `end`, then `end`'s morning as a daily-sweep flow run."""
    from flows.daily_sweep import daily_sweep, morning

    mornings: list[Morning] = []
    day = setup.start
    while day < setup.end:
        mornings.append(morning(day, plain=True))
        live_day(setup, world, day)
        if progress is not None:
            progress(day, mornings[-1])
        day += timedelta(days=1)
    mornings.append(daily_sweep(setup.end))
    write_manifest(world.manifest(), setup.folder / "simulation.json")
    return mornings


def live_day(setup: Setup, world: World, day: date) -> None:
    """After the morning's sweep: the chiefs' sign-offs, the officers' visits, the world's events."""
    visits = None
    if setup.follow_up:
        sign_off(day)
        share_out(day)
        visits = world.officer_visits(day, lists_for(world, day))
    events = world.day_events(day)
    if visits is not None:
        events["visit"] = pd.concat([events["visit"], visits], ignore_index=True)
    write_inbox(setup.inbox, day, events)


def sign_off(day: date) -> int:
    """Each station chief settles the red risks a visit settled (the chief's sign-off, audited), the
    morning's sign-offs in one transaction."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from tasks.follow_up.sign_off import awaiting_sign_off, settle_by_chiefs

    at = datetime.combine(day, time(8, 30), LOCAL_TZ)
    rules = get_rules()
    with session_scope() as session:
        waiting = awaiting_sign_off(session)
        signed = [
            (int(r), c)
            for r, c in zip(waiting["risk_id"], waiting["chief"], strict=True)
            if isinstance(c, str)
        ]
        settle_by_chiefs(session, rules, signed, "走访已化解，所长签字确认", at)
    return len(signed)


def share_out(day: date) -> int:
    """Each station chief with a capacity notice this morning reassigns the overflow to the station's
    officers with room (`bridgehead followups reassign`): the chief reads the notices the product sent."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.follow_up import CapacityNotice
    from tasks.follow_up.reassign import reassign_overflow

    with session_scope() as session:
        stations = set(
            session.execute(
                select(CapacityNotice.station_code).where(CapacityNotice.issued_on == day)
            ).scalars()
        )
        return reassign_overflow(session, get_rules(), day, stations).risks if stations else 0


def lists_for(world: World, day: date) -> pd.DataFrame:
    """The day's lists as the officers read them, with the dispute the world knows is behind each risk."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from tasks.follow_up.capacity import day_lists, risk_signals

    with session_scope() as session:
        lists = day_lists(session, get_rules(), day)
        signals = risk_signals(session, lists["risk_id"].tolist())
    return lists.merge(world.behind(signals), on="risk_id", how="left").fillna({"thread": -1, "story": ""})


def write_inbox(inbox: Path, day: date, events: dict[str, pd.DataFrame]) -> None:
    for channel, frame in events.items():
        if frame.empty:
            continue
        name = CHANNELS[channel][0]
        folder = inbox / channel
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(frame[list(COLUMNS[name])], folder / f"{day.isoformat()}.csv", name)


def digest(folder: Path) -> str:
    """SHA-256 over every file the simulation fed the product, in name order: same seed, same digest."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((folder / "inbox").rglob("*.csv")) + sorted((folder / "data").rglob("*.csv")):
        if not path.name.endswith(".quarantine.csv"):
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def summary_line(mornings: list[Morning]) -> dict[str, int]:
    """The last swept day's totals, for a line of progress."""
    return dict(mornings[-1]["days"][-1]["totals"]) if mornings and mornings[-1]["days"] else {}


def load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def counterfactual(setup: Setup, data: Dataset) -> Setup:
    """The same city from the same go-live with nobody working the lists (`--no-follow-up`).

    Nobody reads the product's lists, so the world does not need it day by day: each day's events are
    written to the inbox as in the real run, then taken in together (one intake, no sweep: nobody
    would act on it). The register starts as a copy of the real run's at go-live."""
    from dataclasses import replace

    from flows.intake import PLAIN, take_in

    other = from_go_live(setup, replace(setup, folder=setup.folder / "no-follow-up", follow_up=False))
    world = World(data, load_params(), other.start, follow_up=False)
    day = other.start
    while day < other.end:
        write_inbox(other.inbox, day, world.day_events(day))
        day += timedelta(days=1)
    batch = {c: sorted((other.inbox / c).glob("*.csv")) for c in CHANNELS if (other.inbox / c).is_dir()}
    take_in(batch, PLAIN)
    write_manifest(world.manifest(), other.folder / "simulation.json")
    return other


class Accountability(TypedDict):
    """Whether accountability found the officers who skip their lists, without being told who they are
    (`health.json` keeps it, key for key)."""

    entries: int
    on_negligent: int
    negligent: int
    negligent_with_one: int


def accountability_line(found: Accountability) -> str:
    entries = found["entries"]
    share = (
        f"{100 * found['on_negligent'] / entries:.0f}% on the negligent officers"
        if entries
        else "none to judge"
    )
    return (
        f"Accountability: {entries} entries since go-live, {share}; "
        f"{found['negligent_with_one']} of the {found['negligent']} negligent officers have one"
    )


def accountability(setup: Setup, negligent: list[str]) -> Accountability:
    """The accountability entries of the simulated days, against the officers the world made negligent."""
    from bridgehead.db import session_scope
    from models.follow_up import AccountabilityEntry

    with session_scope() as session:
        officers = list(
            session.execute(
                select(AccountabilityEntry.officer_code).where(
                    AccountabilityEntry.recorded_on >= setup.start,
                    AccountabilityEntry.recorded_on < setup.end,
                )
            ).scalars()
        )
    named = set(negligent)
    return Accountability(
        entries=len(officers),
        on_negligent=sum(o in named for o in officers),
        negligent=len(named),
        negligent_with_one=len(named & set(officers)),
    )


def _counterfactual_job(setup: Setup) -> None:
    """The child process's whole life: its own city (same seed, same bytes), the world alone."""
    import contextlib
    import sys

    log = setup.folder / "no-follow-up.log"
    with (
        log.open("w", encoding="utf-8") as out,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        sys.stdout = sys.stderr = out
        counterfactual(setup, build(setup.seed, setup.scale, setup.end))


class Background:
    """The counterfactual run in a process of its own, on the other core, while the cycle's days run.

    It starts from `go-live.db` and touches nothing of the cycle's run; `result()` waits for it."""

    def __init__(self, setup: Setup) -> None:
        import multiprocessing

        self.setup = setup
        self.process = multiprocessing.get_context("spawn").Process(
            target=_counterfactual_job, args=(setup,), name="no-follow-up", daemon=True
        )
        self.process.start()

    def result(self) -> Setup:
        from dataclasses import replace

        self.process.join()
        if self.process.exitcode != 0:
            raise RuntimeError(
                f"the run with nobody working the lists failed (exit {self.process.exitcode}): "
                f"see {self.setup.folder / 'no-follow-up.log'}"
            )
        return replace(self.setup, folder=self.setup.folder / "no-follow-up", follow_up=False)


def staffing(setup: Setup, data: Dataset, capacities: list[int], progress: Any = None) -> list[StaffingPoint]:
    """The staffing what-if: the same city from the same go-live register (`prepare`d in `setup`), once
    per capacity, each in `capacity-N/` beside it; a point of the curve from each."""
    from dataclasses import replace

    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.follow_up import CapacityNotice
    from tasks.review.counterfactual import window_figures
    from tasks.review.health import health
    from tasks.review.period import parse_period, parse_scope
    from tasks.review.staffing_report import StaffingPoint

    points, rules_file = [], os.environ.get("BRIDGEHEAD_RULES_FILE")
    for capacity in capacities:
        trial = from_go_live(
            setup, replace(setup, folder=setup.folder / f"capacity-{capacity}", capacity=capacity)
        )
        world = World(data, load_params(), trial.start, trial.follow_up)
        run(trial, world, progress=progress)
        period = parse_period(trial.period)
        with session_scope() as session:
            found = health(session, get_rules(), trial.end - timedelta(days=1))
            figures = window_figures(session, period, parse_scope(session, "city"))
            notices = session.execute(
                select(func.count()).where(
                    CapacityNotice.issued_on >= trial.start, CapacityNotice.issued_on < trial.end
                )
            ).scalar_one()
        points.append(
            StaffingPoint(
                capacity,
                found["on_time_pct"],
                found["settlement_rate_pct"],
                figures["conversions"],
                found["open_household_per_officer"],
                int(notices),
            )
        )
    if rules_file is None:  # back to the rules this process came with
        os.environ.pop("BRIDGEHEAD_RULES_FILE", None)
    else:
        os.environ["BRIDGEHEAD_RULES_FILE"] = rules_file
    configure(setup)
    return points


def compare(with_cycle: Setup, without: Setup) -> list[Difference]:
    """The two registers' figures over the simulated days, with the Poisson verdict on each difference."""
    from bridgehead.db import session_scope
    from tasks.review.counterfactual import differences, window_figures
    from tasks.review.period import parse_period, parse_scope

    figures = []
    for setup in (with_cycle, without):
        configure(setup)
        with session_scope() as session:
            figures.append(
                window_figures(session, parse_period(with_cycle.period), parse_scope(session, "city"))
            )
    configure(with_cycle)
    return differences(*figures)
