"""`bridgehead ingest`: files through the intake flow (线索汇聚); an export converted by its profile first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deployments.console import say
from deployments.local_server import flow_server
from deployments.options import EXIT_QUARANTINED, InputFiles, profile_name


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


def load_profile_or_exit(profile: str):  # type: ignore[no-untyped-def]
    from bridgehead.import_profile import load_profile

    try:
        return load_profile(profile)
    except (ValueError, OSError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _convert(source: Path, profile: str) -> Path:
    """A call export in the brief's format, kept beside the other converted files under var/."""
    from bridgehead.settings import get_settings
    from tasks.intake.profiles import convert_file

    loaded = load_profile_or_exit(profile)
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
