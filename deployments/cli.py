"""`bridgehead`: the command line over the cycle, assembled from one module per noun.

Commands that only read never import Prefect or start a server; commands that run flows say
where their runs can be seen.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from deployments.audit_cli import audit_app
from deployments.cli_checks import BridgeheadGroup, use_command_classes
from deployments.demo import demo
from deployments.follow_up_cli import followups_app, sweep
from deployments.hotspots_cli import hotspots_app
from deployments.incidents_cli import incidents_app
from deployments.intake_cli import ingest
from deployments.jurisdiction_cli import jurisdiction_app
from deployments.options import use_database
from deployments.profile_cli import profile_app
from deployments.register_cli import quarantine_app, risks_app
from deployments.review_cli import review
from deployments.rewards_cli import rewards_app
from deployments.serve_cli import automations_app, serve
from deployments.setup_cli import generate, init
from deployments.simulate_cli import simulate
from deployments.tips_cli import tips_app

# Offline by design: no usage telemetry from the client or the temporary local server.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    help="Bridgehead (桥头堡): the prevention cycle of a police station network.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=BridgeheadGroup,
)
for command in (init, generate, ingest, sweep, review, serve, demo, simulate):
    app.command(command.__name__)(command)
for name, group in (
    ("jurisdiction", jurisdiction_app),
    ("audit", audit_app),
    ("risks", risks_app),
    ("hotspots", hotspots_app),
    ("quarantine", quarantine_app),
    ("incidents", incidents_app),
    ("followups", followups_app),
    ("rewards", rewards_app),
    ("tips", tips_app),
    ("automations", automations_app),
    ("profile", profile_app),
):
    app.add_typer(group, name=name)


@app.callback()
def main(
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="BRIDGEHEAD_DATABASE_URL", help="SQLAlchemy URL."),
    ] = None,
) -> None:
    use_database(database_url)


use_command_classes(app)  # every command that needs the register checks the database first

if __name__ == "__main__":
    app()
