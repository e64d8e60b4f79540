"""`bridgehead`: the command line over the cycle.

Commands that only read never import Prefect or start a server; commands that run flows say
where their runs can be seen.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from deployments.cli_checks import (
    BridgeheadGroup,
    database_label,
    day,
    existing_folder,
    finite,
    input_file,
    output_folder,
    use_command_classes,
)
from deployments.console import not_blank, say
from deployments.follow_up_cli import followups_app, sweep
from deployments.hotspots_cli import hotspots_app
from deployments.incidents_cli import incidents_app
from deployments.local_server import flow_server
from deployments.profile_cli import profile_app
from deployments.register_cli import quarantine_app, risks_app
from deployments.review_cli import review
from deployments.rewards_cli import rewards_app
from deployments.simulate_cli import simulate
from deployments.tips_cli import tips_app

app = typer.Typer(
    help="Bridgehead (桥头堡): the prevention cycle of a police station network.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=BridgeheadGroup,
)
jurisdiction_app = typer.Typer(help="Reference data: stations, communities, officers, units.")
audit_app = typer.Typer(help="The hash-chained audit trail.")
app.add_typer(jurisdiction_app, name="jurisdiction")
app.add_typer(audit_app, name="audit")
app.add_typer(risks_app, name="risks")
app.add_typer(hotspots_app, name="hotspots")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(incidents_app, name="incidents")
app.add_typer(followups_app, name="followups")
app.add_typer(rewards_app, name="rewards")
app.add_typer(tips_app, name="tips")
automations_app = typer.Typer(help="Prefect automations that tell operations when something went wrong.")
app.add_typer(automations_app, name="automations")
app.add_typer(profile_app, name="profile")
app.command("sweep")(sweep)
app.command("review")(review)
app.command("simulate")(simulate)

EXIT_QUARANTINED = 3

# Offline by design: no usage telemetry from the client or the temporary local server.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def use_database(url: str | None) -> None:
    """Point this process at another database (and forget any engine already made)."""
    if url:
        os.environ["BRIDGEHEAD_DATABASE_URL"] = url
    from bridgehead.db import get_engine
    from bridgehead.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()


def _database_label() -> str:
    return database_label()


InputFiles = Annotated[list[Path], input_file("CSV or JSON Lines files of one channel.")]
SeedOption = Annotated[int, typer.Option(help="Same seed, same files.", min=0, max=2**32 - 1)]
MAX_SCALE = 5.0


def profile_name(value: str | None) -> str | None:
    """`--profile`: a profile's name, or a profile file (a regular file, not a folder or a pipe)."""
    if value is None:
        return None
    if not value.strip():
        raise typer.BadParameter("give a profile name (e.g. sacramento) or a profile file")
    path = Path(value)
    if path.exists() and not path.is_file():
        raise typer.BadParameter(f"{value!r} is not a profile file: give a file or a profile name")
    return value


def jurisdiction_folder(value: Path) -> Path:
    """A folder whose four files, where present, are regular files."""
    existing_folder(value)
    for name in ("stations.csv", "communities.csv", "officers.csv", "units.csv"):
        if (value / name).exists() and not (value / name).is_file():
            raise typer.BadParameter(f"{str(value / name)!r} is not a regular file")
    return value


@app.callback()
def main(
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="BRIDGEHEAD_DATABASE_URL", help="SQLAlchemy URL."),
    ] = None,
) -> None:
    use_database(database_url)


@app.command()
def init() -> None:
    """Create or upgrade the schema (Alembic migrations) in the configured database."""
    from bridgehead.migrate import upgrade

    upgrade()
    say(f"Schema is up to date in {_database_label()}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.", parser=output_folder)] = Path(
        "var/data"
    ),
    seed: SeedOption = 7,
    scale: Annotated[
        float,
        typer.Option(
            help=f"Multiplies the volumes of the four channels (0.001 to {MAX_SCALE:g}).",
            parser=finite(0.001, MAX_SCALE),
        ),
    ] = 1.0,
    end: Annotated[
        date | None,
        typer.Option(
            help="Data runs up to, not including, this day (YYYY-MM-DD; default: today, local time).",
            parser=day,
            metavar="YYYY-MM-DD",
        ),
    ] = None,
) -> None:
    """Write a synthetic Baoji: jurisdiction, two years of the four channels, the case register."""
    from bridgehead.synthetic import generate as run_generate

    started = time.perf_counter()
    manifest = run_generate(out, seed=seed, scale=scale, end=end)
    counts = manifest["rows"]
    say(
        f"Wrote {out} in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{name} {n:,}" for name, n in counts.items())
    )


@jurisdiction_app.command("load")
def jurisdiction_load(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Folder with stations, communities, officers, units.",
            exists=True,
            file_okay=False,
            callback=jurisdiction_folder,
        ),
    ],
    by: Annotated[
        str | None, typer.Option(help="Name of the person loading (for the audit).", callback=not_blank)
    ] = None,
) -> None:
    """Upsert the jurisdiction files and report coverage gaps. Exit 3 if rows were quarantined."""
    from bridgehead import audit
    from bridgehead.db import session_scope
    from deployments.console import print_coverage, print_load
    from tasks.jurisdiction import coverage, load_jurisdiction

    try:
        with session_scope() as session:
            results = load_jurisdiction(session, folder, actor=audit.current_actor(by))
    except FileNotFoundError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    print_load(results)
    with session_scope() as session:
        print_coverage(coverage(session))
    if any(r.rejects for r in results):
        raise typer.Exit(EXIT_QUARANTINED)


@app.command()
def ingest(
    files: InputFiles,
    channel: Annotated[
        str, typer.Option(help="call, visit, analysis, tip, or case (the criminal case register).")
    ],
    profile: Annotated[
        str | None,
        typer.Option(
            help="Import profile for a call export in other columns (a file, or e.g. 'sacramento').",
            callback=profile_name,
        ),
    ] = None,
) -> None:
    """Take files in through the intake flow (线索汇聚). Exit 3 if any row was quarantined."""
    from models.contracts import INPUT_CONTRACTS

    if channel not in INPUT_CONTRACTS:
        say(f"[red]--channel must be one of {', '.join(INPUT_CONTRACTS)}, not {channel!r}[/]")
        raise typer.Exit(2)
    if profile:
        if channel != "call":
            say("[red]--profile maps call exports: use it with --channel call[/]")
            raise typer.Exit(2)
        files = [_convert(f, profile) for f in files]
    report = run_intake(channel, files)
    if report.quarantined:
        raise typer.Exit(EXIT_QUARANTINED)


def _load_profile(profile: str):  # type: ignore[no-untyped-def]
    from tasks.intake.profiles import load_profile

    try:
        return load_profile(profile)
    except (ValueError, OSError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _convert(source: Path, profile: str) -> Path:
    """A call export in the brief's format, kept beside the other converted files under var/."""
    from bridgehead.settings import get_settings
    from tasks.intake.profiles import convert_file

    loaded = _load_profile(profile)
    out = get_settings().var_dir / "converted" / loaded.name / f"{source.stem}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    convert_file(source, loaded, out)
    say(f"converted {source} with profile {loaded.name} {loaded.version} -> {out}")
    return out


def run_intake(channel: str, files: list[Path]):  # type: ignore[no-untyped-def]
    """Run the intake flow and print what it did; say where the run can be seen."""
    from deployments.console import print_intake
    from flows.intake import intake

    with flow_server():
        report = intake(channel, [str(f) for f in files])
    print_intake(channel, report)
    return report


@jurisdiction_app.command("from-profile")
def jurisdiction_from_profile(
    source: Annotated[Path, input_file("The call export the jurisdiction is drawn from.")],
    profile: Annotated[
        str, typer.Option(help="Import profile (a file, or e.g. 'sacramento').", callback=profile_name)
    ],
    out: Annotated[Path, typer.Option(help="Folder for the four jurisdiction files.", parser=output_folder)],
) -> None:
    """Write a jurisdiction (stations, communities, officers, units) for a call export's areas."""
    from tasks.intake.profiles import profile_jurisdiction

    folder = profile_jurisdiction(source, _load_profile(profile), out)
    say(f"Wrote the jurisdiction of {source.name} to {folder}")
    say(f"Load it with: bridgehead jurisdiction load {folder}")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:SHA256 as `bridgehead audit anchor` printed it, or a file holding that line."),
    ] = None,
) -> None:
    """Check the audit chain, its head and a kept anchor; name the first row that does not fit (exit 1)."""
    from bridgehead import audit
    from bridgehead.db import session_scope

    kept = None
    if anchor is not None:
        text = Path(anchor).read_text() if Path(anchor).is_file() else anchor
        try:
            kept = audit.Anchor.parse(text)
        except ValueError as exc:
            say(f"[red]--{exc}[/]")
            raise typer.Exit(2) from None
    with session_scope() as session:
        verdict = audit.verify(session, against=kept)
        head = session.get(audit.AuditHead, 1)
    if verdict.ok:
        say(f"[green]Audit chain intact:[/] {verdict.rows_checked:,} rows in {_database_label()}")
        if kept is not None:
            say(f"It holds the anchor you kept (row {kept.seq}).")
        if head is not None:
            say(f"Anchor to keep elsewhere: {head.seq}:{head.hash}")
        return
    say(f"[red]Audit chain broken at row {verdict.first_bad_seq}:[/] {verdict.problem}")
    say(f"{verdict.rows_checked:,} rows before it check out.")
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(
    out: Annotated[Path | None, typer.Option(help="Also write the line to this file.")] = None,
) -> None:
    """Print the chain's head as SEQ:SHA256: kept outside the database, it shows a rewritten tail."""
    from bridgehead import audit
    from bridgehead.db import session_scope

    with session_scope() as session:
        line = str(audit.anchor(session))
    if out is not None:
        out.write_text(line + "\n")
    typer.echo(line)


@app.command()
def serve(
    only: Annotated[
        list[str] | None,
        typer.Option(help="Serve only these deployments (default: all), e.g. quick-response."),
    ] = None,
    port: Annotated[
        int, typer.Option(help="Port of the local Prefect server started when none is set.", min=1, max=65535)
    ] = 4200,
) -> None:
    """Serve every deployment with its schedule and trigger; start a local Prefect server if none is set."""
    from bridgehead.settings import get_settings
    from deployments.local_server import LocalServer

    # A quick response waits for the runner's poll: 1 s instead of Prefect's 10 s (bench/quick_response.py).
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "1")
    init()  # the scheduled runs (the response watch, every minute) need the schema in place
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server = LocalServer(get_settings().var_dir / "prefect", port=port).start()
        os.environ["PREFECT_API_URL"] = server.api_url
        say(f"Started a local Prefect server: UI at {server.api_url.removesuffix('/api')} (log {server.log})")
    else:
        say(f"Serving against {os.environ['PREFECT_API_URL']}")
    try:
        from deployments.serve import serve as serve_all

        serve_all(only)
    except ValueError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()
            say("Stopped the local Prefect server")


@automations_app.command("apply")
def automations_apply(
    webhook: Annotated[
        str | None, typer.Option(help="Where alerts are POSTed (JSON: subject, body); kept in a block.")
    ] = None,
) -> None:
    """Apply deployments/automations/*.yaml to the Prefect server (PREFECT_API_URL), replacing by name."""
    from deployments.alerts import apply

    if not os.environ.get("PREFECT_API_URL"):
        say("[red]set PREFECT_API_URL to the Prefect server the automations belong to[/]")
        raise typer.Exit(2)
    try:
        names = apply(webhook)
    except ValueError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    for name in names:
        say(f"applied {name}")


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the demo's files and database go.", parser=output_folder)
    ] = Path("var/demo"),
    seed: SeedOption = 7,
    scale: Annotated[
        float,
        typer.Option(
            help="Volume of the four channels: 1 is the seed's city (the replay then takes about an hour).",
            parser=finite(0.001, MAX_SCALE),
        ),
    ] = 0.05,
    replay_days: Annotated[
        int,
        typer.Option(
            help="Days the city lives through the product, ending yesterday (365: the whole year).",
            min=1,
            max=365,
        ),
    ] = 120,
) -> None:
    """Run the cycle on a synthetic Baoji: generate, take in, respond, follow up, review, verify."""
    from bridgehead.settings import get_settings
    from deployments.demo import run_demo

    # The demo's runs, logs and artifacts go where `bridgehead serve` will look (var/prefect), so the
    # UI it starts afterwards shows them.
    os.environ.setdefault("PREFECT_HOME", str((get_settings().var_dir / "prefect").resolve()))

    with flow_server():
        run_demo(folder, seed=seed, scale=scale, replay_days=replay_days)


use_command_classes(app)  # every command that needs the register checks the database first

if __name__ == "__main__":
    app()
