"""Intake (线索汇聚): files of any channel in, linked and graded risks out.

Six set-based stages, the same six task runs for a file of ten rows or of a million:
validate, load, link, grade, open incidents, report. Link, grade and opening incidents work from
database state, so a run that died half-way is completed by the next one and a rerun adds nothing.
A live urgent call is dispatched inside the open-incidents stage, committed with its incident; each
live incident is also announced as an event, which starts its quick response (for a red risk, or a
call too old to be live, that run dispatches; for a call intake answered, it records that it had
nothing to do).

A batch may hold several channels (the inbox: cases first, then calls, visits, analysis, tips): each
file is validated and loaded in that order, then the register is linked, graded and reported once.
`take_in` runs the stages as Prefect tasks inside a flow run, or as plain functions where no run is
wanted (`PLAIN`: the simulator's replay of a year, which would otherwise pay a flow run per day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.utilities.annotations import quote

from bridgehead.db import session_scope
from bridgehead.orchestration import db_task, run_logger
from bridgehead.rules import get_rules
from flows.quick_response import announce
from tasks.intake.grading_stage import GradeSummary, grade_pending
from tasks.intake.linking_stage import LinkSummary, link_pending
from tasks.intake.load import LoadResult, ValidatedFile, load_file, validate_file
from tasks.intake.report import IntakeReport, intake_markdown, intake_report, station_line
from tasks.quick_response.incidents import OpenedIncidents, open_incidents

Batch = dict[str, list[Path]]  # channel -> files, taken in this order


def _validate(batch: Batch) -> list[ValidatedFile]:
    out = []
    for channel, paths in batch.items():
        for path in paths:
            with session_scope() as session:
                out.append(validate_file(session, channel, Path(path)))
    return out


def _load(files: list[ValidatedFile]) -> list[LoadResult]:
    results = []
    for file in files:  # one transaction per file: a file loads whole or not at all
        with session_scope() as session:
            results.append(load_file(session, file))
    for file in files:  # kept open until every file loaded: a retried stage reads them again
        file.spool.close()
    return results


def _link() -> LinkSummary:
    with session_scope() as session:
        return link_pending(session, get_rules())


def _grade() -> GradeSummary:
    with session_scope() as session:
        return grade_pending(session, get_rules())


def _open_incidents() -> OpenedIncidents:
    with session_scope() as session:
        return open_incidents(session, get_rules())


def _report(loads: list[LoadResult], link: LinkSummary, grading: GradeSummary) -> IntakeReport:
    with session_scope() as session:
        return intake_report(session, loads, link, grading)


PLAIN: dict[str, Callable[..., Any]] = {
    "validate": _validate,
    "load": _load,
    "link": _link,
    "grade": _grade,
    "open-incidents": _open_incidents,
    "report": _report,
}
TASKS: dict[str, Callable[..., Any]] = {name: db_task(fn, name=name) for name, fn in PLAIN.items()}


@dataclass
class Taken:
    """One intake's results: the report, and what linking, grading and the incidents stage did."""

    report: IntakeReport
    loads: list[LoadResult]
    linked: LinkSummary
    graded: GradeSummary
    incidents: OpenedIncidents


def take_in(batch: Batch, stages: dict[str, Callable[..., Any]] = TASKS) -> Taken:
    """The six stages over a batch of files; each live incident opened is announced as an event."""
    files = stages["validate"](batch)
    # A task's parameters are walked by Prefect item by item; the validated rows are not its business.
    loads = stages["load"](quote(files) if stages is TASKS else files)
    linked = stages["link"]()
    graded = stages["grade"]()
    incidents = stages["open-incidents"]()
    if stages is TASKS:
        announce(incidents.live)
    taken = Taken(stages["report"](loads, linked, graded), loads, linked, graded, incidents)
    _log(", ".join(batch), taken)
    return taken


def _log(what: str, taken: Taken) -> None:
    logger, result, incidents = run_logger(), taken.report, taken.incidents
    logger.info(
        "%s: %d rows, %d loaded, %d duplicates, %d quarantined; %d new risks, %d reopened, %d graded",
        what,
        result.rows,
        result.loaded,
        result.duplicates,
        result.quarantined,
        taken.linked.new_risks,
        taken.linked.reopened,
        taken.graded.graded,
    )
    logger.info("%s by station: %s", what, station_line(result.by_station))
    if incidents.live or incidents.history:
        logger.info(
            "incidents: %d opened for a quick response (%s), %d urgent calls kept as closed history",
            len(incidents.live),
            ", ".join(i["incident_code"] for i in incidents.live[:10]) or "none",
            incidents.history,
        )
    for sent in incidents.dispatched:
        logger.info(
            "%s dispatched at intake: %s",
            sent.incident_code,
            ", ".join(u["unit_code"] for u in sent.units) or "no free unit anywhere",
        )


def publish(key: str, taken: Taken, description: str) -> None:
    create_markdown_artifact(key=key, markdown=intake_markdown(taken.report), description=description)


@flow(name="intake", flow_run_name="intake-{channel}", log_prints=False)
def intake(channel: Literal["call", "visit", "analysis", "tip", "case"], files: list[str]) -> IntakeReport:
    """Take in files of one channel (call, visit, analysis, tip, case) and update the risk register."""
    taken = take_in({channel: [Path(f) for f in files]})
    publish(f"intake-{channel}", taken, f"Last intake of {channel} files")
    return taken.report
