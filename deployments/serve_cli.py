"""`bridgehead serve` and `bridgehead automations`: the deployments served, the alerts applied."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from deployments.console import say
from deployments.setup_cli import init

automations_app = typer.Typer(help="Prefect automations that tell operations when something went wrong.")


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
