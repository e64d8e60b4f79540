"""The daily sweep (每日督促): every morning at 06:00 Asia/Shanghai, inbox in, follow-ups out.

It takes each channel's pending files from the inbox through the intake flow (taken files move to
`processed/`, files with quarantined rows to `failed/` beside a report of their bad lines), then
sweeps every day since the last finished one up to today, so a missed morning is caught up by the
next. The summary per station goes to the Prefect UI as a table artifact.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypedDict

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from sqlalchemy import select
from sqlmodel import col

from bridgehead.db import session_scope
from bridgehead.exports import safe_values
from bridgehead.locks import exclusive
from bridgehead.orchestration import run_logger
from bridgehead.settings import get_settings
from flows.follow_up import PLAIN as SWEEP_PLAIN
from flows.follow_up import TASKS as SWEEP_TASKS
from flows.follow_up import sweep_days
from flows.intake import PLAIN as INTAKE_PLAIN
from flows.intake import TASKS, publish, take_in
from models.clock import not_future, today
from models.common import LOCAL_TZ, utcnow
from models.intake import QuarantinedRow
from tasks.follow_up.sweep import DayCounts, DaySummary, last_finished

CHANNELS = ("case", "call", "visit", "analysis", "tip")  # cases first: calls and visits may cite them
PATTERNS = ("*.csv", "*.jsonl", "*.ndjson")


class ChannelTaken(TypedDict):
    """One channel's files taken from the inbox."""

    channel: str
    files: int
    rows: int
    quarantined: int


class Morning(TypedDict):
    """The inbox taken and every day swept up to `day` (from `start`, the first day not yet swept)."""

    day: str
    start: str
    inbox: list[ChannelTaken]
    days: list[DaySummary]


def pending_files(inbox: Path) -> dict[str, list[Path]]:
    found = {}
    for channel in CHANNELS:
        files = sorted(f for pattern in PATTERNS for f in (inbox / channel).glob(pattern) if f.is_file())
        if files:
            found[channel] = files
    return found


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{utcnow().astimezone(LOCAL_TZ):%Y%m%dT%H%M%S}{path.suffix}"
    return Path(shutil.move(str(path), target))


def _quarantine_report(kept: Path, original: Path) -> Path:
    """The bad lines of a failed file, beside it: line and reason (the raw row stays in the database)."""
    with session_scope() as session:
        rows = session.execute(
            select(col(QuarantinedRow.line), col(QuarantinedRow.reason))
            .where(col(QuarantinedRow.file) == str(original))
            .order_by(col(QuarantinedRow.line))
        ).all()
    report = kept.with_name(kept.name + ".quarantine.csv")
    with report.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "reason"])
        writer.writerows(safe_values([original.name, line, reason]) for line, reason in rows)
    return report


def take_inbox(inbox: Path, day: date, stages: dict[str, Callable[..., Any]] = TASKS) -> list[ChannelTaken]:
    """Every channel's pending files through one intake (cases first), then moved aside.

    One taker at a time (the 10-minute inbox intake and the morning sweep may meet): the files
    are moved by whoever holds the lock, and the other finds the inbox empty.
    """
    with exclusive(INBOX_LOCK):
        return _take(inbox, day, stages)


INBOX_LOCK = "inbox"


def _take(inbox: Path, day: date, stages: dict[str, Callable[..., Any]]) -> list[ChannelTaken]:
    batch = pending_files(inbox)
    if not batch:
        return []
    taken = take_in(batch, stages)
    if stages is TASKS:
        publish("intake-inbox", taken, f"Last intake of the inbox ({', '.join(batch)})")
    per_file = {load.path: load for load in taken.loads}
    out = []
    for channel, files in batch.items():
        loads = [per_file[str(f)] for f in files]
        for f, load in zip(files, loads, strict=True):
            failed = load.quarantined > 0
            dest = _move(f, inbox / channel / ("failed" if failed else f"processed/{day.isoformat()}"))
            if failed:
                _quarantine_report(dest, f)
        out.append(
            ChannelTaken(
                channel=channel,
                files=len(files),
                rows=sum(x.rows for x in loads),
                quarantined=sum(x.quarantined for x in loads),
            )
        )
    return out


def _run_name() -> str:
    day = flow_run.parameters.get("day")
    return f"daily-sweep-{day or today()}"


def _inbox_run_name() -> str:
    return f"inbox-intake-{utcnow().astimezone(LOCAL_TZ):%Y-%m-%dT%H%M}"


@flow(name="inbox-intake", flow_run_name=_inbox_run_name, log_prints=False)
def inbox_intake() -> list[ChannelTaken]:
    """Every ten minutes: the inbox's pending files through intake, so risks and incidents open within
    minutes of a file arriving rather than at the next morning's sweep."""
    taken = take_inbox(get_settings().inbox_dir, today())
    run_logger().info(
        "inbox: %s",
        ", ".join(
            f"{t['channel']} {t['files']} file(s), {t['rows']} rows, {t['quarantined']} quarantined"
            for t in taken
        )
        or "empty",
    )
    return taken


def morning(day: date, plain: bool = False) -> Morning:
    """Take in the inbox, then sweep every day since the last finished one up to `day`.

    `plain`: the same stages without task runs (a replayed morning of the simulator), else as tasks
    of the calling flow run."""
    logger = run_logger()
    day = not_future(day)
    taken = take_inbox(get_settings().inbox_dir, day, INTAKE_PLAIN if plain else TASKS)
    with session_scope() as session:
        last = last_finished(session)
    # catch up every day missed since the last finished sweep; a day already swept is returned unchanged.
    # The days' stages are task runs of this flow run, not a flow run of their own: a flow run's end
    # costs about a second (its heartbeat thread joined), and the morning's report is this run's.
    start = last + timedelta(days=1) if last is not None and last < day else day
    days = sweep_days(start, day, SWEEP_PLAIN if plain else SWEEP_TASKS)
    logger.info(
        "inbox: %s; swept %s to %s (%d day(s))",
        ", ".join(f"{t['channel']} {t['files']} file(s)" for t in taken) or "empty",
        start,
        day,
        len(days),
    )
    return Morning(day=day.isoformat(), start=start.isoformat(), inbox=taken, days=days)


@flow(name="daily-sweep", flow_run_name=_run_name, log_prints=False)
def daily_sweep(day: date | None = None) -> Morning:
    """Take in the inbox, then sweep every day since the last finished one up to `day` (default today)."""
    result = morning(day or today())
    summary = result["days"][-1]
    create_table_artifact(
        key="daily-sweep-stations",
        table=[dict(row) for row in summary["stations"]] or [{"station": "(none)"}],
        description=f"Follow-up by station on {result['day']}",
    )
    markdown = _markdown(
        date.fromisoformat(result["day"]),
        date.fromisoformat(result["start"]),
        result["inbox"],
        summary["totals"],
    )
    create_markdown_artifact(key="daily-sweep", markdown=markdown)
    return result


TOTALS = ("due_today", "late", "notices", "accountability", "colour_changes", "visits_recorded", "assigned")


def _markdown(day: date, start: date, taken: list[ChannelTaken], totals: DayCounts) -> str:
    inbox = ", ".join(
        f"{x['channel']} {x['files']} file(s), {x['quarantined']} rows quarantined" for x in taken
    )
    return "\n".join(
        [
            f"# Daily sweep {day}",
            "",
            f"Days swept: {start} to {day}. Inbox: {inbox or 'empty'}.",
            "",
            "| " + " | ".join(k.replace("_", " ") for k in TOTALS) + " |",
            "|" + " --- |" * len(TOTALS),
            "| " + " | ".join(str(dict(totals)[k]) for k in TOTALS) + " |",
        ]
    )
