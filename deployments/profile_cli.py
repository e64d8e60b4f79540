"""`bridgehead profile`: what an import profile makes of a city's export, before anything is taken in."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from deployments.cli_checks import input_file
from deployments.console import emit, say

profile_app = typer.Typer(help="Import profiles: a city's call export in the brief's format.")


class Shown(StrEnum):
    table = "table"
    json = "json"


@profile_app.command("check")
def profile_check(
    profile: Annotated[
        str, typer.Argument(help="A profile file, or the name of a shipped one (sacramento).")
    ],
    source: Annotated[Path, input_file("The call export to try it on.")],
    rows: Annotated[int, typer.Option(help="Converted rows to show.", min=0, max=100)] = 5,
    fmt: Annotated[
        Shown, typer.Option("--format", help="table for people; json for programs.")
    ] = Shown.table,
) -> None:
    """Dry run: how many rows would load, what would be quarantined and why, a few rows as converted."""
    from bridgehead.import_profile import load_profile
    from tasks.intake.profile_check import dry_run

    try:
        found = dry_run(source, load_profile(profile), rows=rows)
    except (ValueError, OSError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if fmt is Shown.json:
        typer.echo(
            json.dumps(asdict(found) | {"would_quarantine": found.would_quarantine}, ensure_ascii=False)
        )
        return
    dropped = f" ({found.dropped:,} more left out by the profile's drop rules)" if found.dropped else ""
    say(
        f"{found.file}: {found.rows:,} rows{dropped}; {found.would_load:,} would load, "
        f"{found.would_quarantine:,} would be quarantined (communities are checked when it is taken in)"
    )
    if found.reasons:
        emit(
            [asdict(r) for r in found.reasons],
            "table",
            "Would be quarantined, by reason (a sample line each)",
        )
    if found.sample:
        emit(found.sample, "table", f"The first {len(found.sample)} rows as converted")
    if found.zone_note:
        say(f"[yellow]Note: {found.zone_note}[/]")
