"""`bridgehead hotspots`: places that are not households, ranked for patrol (热点巡防).

Read-only: it never imports Prefect.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

import typer

from deployments.cli_checks import MAX_LIMIT
from deployments.cli_checks import day as parse_day
from deployments.console import emit
from deployments.register_cli import Format, FormatOption

hotspots_app = typer.Typer(help="Hotspots (热点): places ranked for patrol by their calls.")


@hotspots_app.command("list")
def hotspots_list(
    station: Annotated[str | None, typer.Option(help="Station code.")] = None,
    days: Annotated[
        int, typer.Option(help="Calls in the last N days (and the N before).", min=1, max=366)
    ] = 30,
    as_of: Annotated[
        date | None,
        typer.Option("--date", help="As of the start of this day (default today).", parser=parse_day),
    ] = None,
    fmt: FormatOption = Format.table,
    limit: Annotated[int, typer.Option(help="At most this many places.", min=1, max=MAX_LIMIT)] = 20,
) -> None:
    """Live hotspots by calls in the last N days, with the N days before to show the trend."""
    from bridgehead.db import session_scope
    from models.clock import day_start, today
    from tasks.intake.hotspots import ranking

    day = as_of or today()
    when = day_start(day)
    with session_scope() as session:
        spots = ranking(session, when, days=days, station=station, limit=limit)
    rows = [{"place": n, **asdict(h)} for n, h in enumerate(spots, start=1)]
    emit(
        rows,
        fmt.value if isinstance(fmt, Format) else fmt,
        f"Hotspots by calls in the {days} days before {day}",
    )
