"""`bridgehead init`, `generate` and `demo`: the register made ready, a synthetic city, the cycle shown."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from deployments.cli_checks import database_label, day, finite, output_folder
from deployments.console import say
from deployments.options import MAX_SCALE, SeedOption


def init() -> None:
    """Create or upgrade the schema (Alembic migrations) in the configured database."""
    from bridgehead.migrate import upgrade

    upgrade()
    say(f"Schema is up to date in {database_label()}")


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
