"""`bridgehead jurisdiction`: the reference data (stations, communities, officers, units, places)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deployments.cli_checks import input_file, output_folder
from deployments.console import not_blank, say
from deployments.intake_cli import load_profile_or_exit
from deployments.options import EXIT_QUARANTINED, jurisdiction_folder, profile_name

jurisdiction_app = typer.Typer(help="Reference data: stations, communities, officers, units.")


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


@jurisdiction_app.command("from-profile")
def jurisdiction_from_profile(
    source: Annotated[Path, input_file("The call export the jurisdiction is drawn from.")],
    profile: Annotated[
        str, typer.Option(help="Import profile (a file, or e.g. 'sacramento').", callback=profile_name)
    ],
    out: Annotated[Path, typer.Option(help="Folder for the four jurisdiction files.", parser=output_folder)],
) -> None:
    """Write a jurisdiction (stations, communities, officers, units) for a call export's areas."""
    from tasks.intake.profile_jurisdiction import profile_jurisdiction

    folder = profile_jurisdiction(source, load_profile_or_exit(profile), out)
    say(f"Wrote the jurisdiction of {source.name} to {folder}")
    say(f"Load it with: bridgehead jurisdiction load {folder}")
