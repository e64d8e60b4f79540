"""What the commands share: exit codes, the database option, common options and their parsers."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from deployments.cli_checks import existing_folder, input_file, instant
from models.common import LOCAL_TZ

EXIT_QUARANTINED = 3  # the command did its work, and some rows were quarantined


def use_database(url: str | None) -> None:
    """Point this process at another database (and forget any engine already made)."""
    if url:
        os.environ["BRIDGEHEAD_DATABASE_URL"] = url
    from bridgehead.db import get_engine
    from bridgehead.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()


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


TIME = "ISO-8601-TIME"


def parse_time(value: str | datetime | None) -> datetime | None:
    """An ISO time as the files take it: without an offset it is the jurisdiction's local time.

    Given to typer as the `parser` of time options, so a bad time is a usage error naming the option.
    """
    if value is None or isinstance(value, datetime):
        return value
    return instant(value, LOCAL_TZ)
