"""`bridgehead simulate`: the generated city's people against the product, and what follow-up changes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NotRequired, TypedDict

import typer

from deployments.cli_checks import day as parse_day
from deployments.cli_checks import finite, output_folder
from deployments.console import emit, say

if TYPE_CHECKING:
    from deployments.simulate import Accountability, Setup
    from flows.daily_sweep import Morning
    from tasks.review.counterfactual import Difference
    from tasks.review.health import Health
    from tasks.review.staffing_report import StaffingPoint

DAY = "YYYY-MM-DD"
REPLAY_DAYS = 120  # the default simulated span: four months up to yesterday
LIVE_SPAN = 14  # --live's default: two weeks to today, the last two days live


def simulate(
    first: Annotated[
        date | None,
        typer.Option(
            "--from",
            help=f"Go-live: the first simulated day ({DAY}; default 120 days before --to).",
            parser=parse_day,
            metavar=DAY,
        ),
    ] = None,
    last: Annotated[
        date | None,
        typer.Option(
            "--to",
            help=f"The last simulated day ({DAY}; default yesterday); its morning after is swept too.",
            parser=parse_day,
            metavar=DAY,
        ),
    ] = None,
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the city, inbox and database go.", parser=output_folder)
    ] = Path("var/simulate"),
    seed: Annotated[int, typer.Option(help="Same seed, same city, same figures.", min=0, max=2**32 - 1)] = 7,
    scale: Annotated[
        float, typer.Option(help="Volume of the four channels (1: the seed's city).", parser=finite(0.001, 5))
    ] = 0.05,
    no_follow_up: Annotated[
        bool, typer.Option("--no-follow-up", help="Nobody works the lists: the world alone.")
    ] = False,
    counterfactual: Annotated[
        bool, typer.Option(help="Also run the same city with --no-follow-up and compare the two.")
    ] = False,
    capacity: Annotated[
        str | None,
        typer.Option(
            help="A staffing what-if: every officer's visits a day (1-50); several (2,4,8) draw the curve.",
            metavar="N[,N...]",
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Play the last two days on a fast clock against `bridgehead serve` (the Prefect UI shows "
            "it), the days before replayed first; Ctrl-C stops, the same command resumes. Default: the two "
            "weeks to today.",
        ),
    ] = False,
    speed: Annotated[
        float,
        typer.Option(help="With --live: simulated minutes per real minute.", parser=finite(1, 100_000)),
    ] = 60.0,
) -> None:
    """Play the generated city day by day against the product: the world's calls, cases, analysis hits
    and tips through the inbox, the daily sweep each morning, officers working their lists."""
    from deployments.local_server import flow_server
    from deployments.simulate import Setup
    from models.clock import today

    last = last or today() - timedelta(days=0 if live else 1)
    first = first or last - timedelta(days=LIVE_SPAN - 1 if live else REPLAY_DAYS - 1)
    if last > today() or (last == today() and not live):
        raise typer.BadParameter(
            f"{last} has not ended yet (today is {today()}): simulate past days", param_hint="--to"
        )
    if first > last:
        raise typer.BadParameter(f"{first} is after --to {last}", param_hint="--from")
    if (last - first).days >= 365:
        raise typer.BadParameter(
            "at most 365 days: the city is generated for the year before --to", param_hint="--from"
        )
    counts = capacities(capacity) if capacity is not None else []
    several = len(counts) > 1
    if several and (no_follow_up or counterfactual):
        raise typer.BadParameter(
            "a staffing curve runs the cycle at each capacity: drop --no-follow-up and --counterfactual",
            param_hint="--capacity",
        )
    if live and (several or no_follow_up or counterfactual):
        raise typer.BadParameter(
            "a live run plays the cycle once: drop --capacity lists, --no-follow-up and --counterfactual",
            param_hint="--live",
        )
    one = counts[0] if len(counts) == 1 else None
    setup = Setup(folder, seed, scale, first, last + timedelta(days=1), not no_follow_up, one)
    if live:
        run_live(setup, speed)
        return
    with flow_server():
        if several:
            run_staffing(setup, counts)
        else:
            run_simulation(setup, counterfactual)


def run_live(setup: Setup, speed: float) -> None:
    """The live run on the configured Prefect server, or on one of its own with the UI."""
    import os

    from prefect.context import refresh_global_settings_context

    from deployments.local_server import LocalServer, api_url_in_use
    from deployments.simulate_live import run_live as play

    say(
        f"A synthetic Baoji (seed {setup.seed}, scale {setup.scale:g}), live at x{speed:g} "
        f"from {setup.start} to the end of {setup.end - timedelta(days=1)}"
    )
    server = None
    if not api_url_in_use():
        setup.folder.mkdir(parents=True, exist_ok=True)
        server = LocalServer(setup.folder / "prefect", own_session=True).start()
        os.environ["PREFECT_API_URL"] = server.api_url
        refresh_global_settings_context()
        say(f"Started a Prefect server: UI at {server.api_url.removesuffix('/api')}")
    try:
        state = play(setup, speed, say)
        failed = state.failed
    finally:
        if server is not None:
            server.stop()
    runs = ", ".join(f"{n.split('/')[0]} {c}" for n, c in sorted(state.runs.items())) or "none"
    say(f"Deployment runs started: {runs}; failed or crashed runs: {len(failed)}")
    for name in failed[:10]:
        say(f"  [red]{name}[/]")
    if failed:
        raise typer.Exit(1)


def capacities(value: str) -> list[int]:
    """`6` or `2,4,8`: visits a day, each 1 to 50, each once."""
    try:
        out = sorted({int(part) for part in str(value).split(",") if part.strip()})
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: give whole numbers, e.g. 6 or 2,4,8", param_hint="--capacity"
        ) from None
    if not out or not all(1 <= n <= 50 for n in out):
        raise typer.BadParameter(f"{value!r}: each capacity is 1 to 50 visits a day", param_hint="--capacity")
    return out


def run_staffing(setup: Setup, capacities: list[int]) -> list[StaffingPoint]:
    """The same go-live once per capacity; the curve as a table and a report with its chart."""
    from bridgehead.settings import get_settings
    from deployments import simulate as sim
    from tasks.review.staffing_report import COLUMNS, shown, write_staffing_report

    say(f"A synthetic Baoji (seed {setup.seed}, scale {setup.scale:g}); go-live {setup.start}")
    data, _ = sim.prepare(setup)
    points = []
    for capacity in capacities:
        say(f"Capacity {capacity} visits a day per officer ...")
        points += sim.staffing(setup, data, [capacity])
    rows = [{label: shown(getattr(p, key)) for key, label in COLUMNS.items()} for p in points]
    emit(rows, "table", "Staffing what-if (—: nothing to measure)")
    last = setup.end - timedelta(days=1)
    slug = f"staffing-{setup.start}-{last}"
    paths = write_staffing_report(points, get_settings().reports_dir, slug, f"{setup.start} to {last}")
    say(f"Report (HTML with the chart, CSV, JSON): {paths['html'].resolve().as_uri()}")
    return points


class SimulationReport(TypedDict):
    """What a simulation found, as `health.json` keeps it (a JSON document)."""

    health: Health
    accountability: Accountability
    counterfactual: NotRequired[list[Difference]]  # with --counterfactual


def run_simulation(setup: Setup, counterfactual: bool = False) -> SimulationReport | None:
    """Prepare, play, and report: progress by week, the health line, the comparison if asked (None when
    nobody works the lists: the world's year alone, nothing to report)."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from deployments import simulate as sim
    from tasks.review.health import health, in_one_line

    say(
        f"A synthetic Baoji (seed {setup.seed}, scale {setup.scale:g}); "
        f"the product goes live on {setup.start}"
    )
    data, world = sim.prepare(setup)
    if not setup.follow_up:
        other = sim.counterfactual(setup, data)
        say(f"Nobody worked the lists from {setup.start}: the world's year is in {other.database}")
        return None
    say(
        f"{len(world.negligent)} of the officers do about half their list (named in simulation.json, "
        "never told to the product)"
    )
    mornings = sim.run(setup, world, progress=weekly)
    with session_scope() as session:
        found = health(session, get_rules(), setup.end - timedelta(days=1))
    found_out = sim.accountability(setup, world.negligent)
    out: SimulationReport = {"health": found, "accountability": found_out}
    say(in_one_line(found))
    say(sim.accountability_line(found_out))
    if counterfactual:
        say("The same city with nobody working the lists (--no-follow-up) ...")
        rows = sim.compare(setup, sim.counterfactual(setup, data))
        out["counterfactual"] = rows
        print_comparison(rows)
    (setup.folder / "health.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    say(f"Inbox digest (same seed, same bytes): {sim.digest(setup.folder)}; {len(mornings)} mornings swept")
    return out


def weekly(day: date, morning: Morning) -> None:
    if day.weekday() != 0 or not morning["days"]:
        return
    t = morning["days"][-1]["totals"]
    say(
        f"{day}: {t['due_today']} visits due, {t['late']} late, {t['visits_recorded']} recorded "
        f"({t['calm']} calm), {t['notices']} notices, {t['accountability']} accountability"
    )


LABELS = {
    "conversions": "conversions (民转刑)",
    "conversions_homicide": "of them homicides (刑转命)",
    "violence_calls_at_disputes": "violence calls at dispute addresses",
    "repeat_calls": "repeat calls (another within 30 days)",
}


def print_comparison(rows: list[Difference]) -> None:
    from tasks.review.stats import shown_pct

    emit(
        [
            {
                "figure": LABELS[r["figure"]],
                "with the cycle": r["with_cycle"],
                "without follow-up": r["without"],
                "change": shown_pct(r["change_pct"]),
                "p": f"{r['p_value']:.2g}",
                "verdict": "real" if r["significant"] else "chance",
            }
            for r in rows
        ],
        "table",
        "With the cycle against nobody working the lists (Poisson test, equal windows)",
    )
