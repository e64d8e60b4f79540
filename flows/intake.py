"""Intake (线索汇聚): files of any channel in, linked and graded risks out.

Six set-based stages, the same six task runs for a file of ten rows or of a million:
validate, load, link, grade, open incidents, report. Link, grade and opening incidents work from
database state, so a run that died half-way is completed by the next one and a rerun adds nothing.
Each live incident is announced as an event, which starts its quick response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from bridgehead.db import session_scope
from bridgehead.orchestration import db_task
from bridgehead.rules import get_rules
from flows.quick_response import announce
from tasks.grading_stage import GradeSummary, grade_pending
from tasks.incidents import OpenedIncidents, open_incidents
from tasks.intake import LoadResult, ValidatedFile, load_file, validate_file
from tasks.linking_stage import LinkSummary, link_pending
from tasks.report import IntakeReport, intake_markdown, intake_report, station_line


def _validate(channel: str, paths: list[Path]) -> list[ValidatedFile]:
    out = []
    for path in paths:
        with session_scope() as session:
            out.append(validate_file(session, channel, Path(path)))
    return out


def _load(files: list[ValidatedFile]) -> list[LoadResult]:
    results = []
    for file in files:  # one transaction per file: a file loads whole or not at all
        with session_scope() as session:
            results.append(load_file(session, file))
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


validate = db_task(_validate, name="validate")
load = db_task(_load, name="load")
link = db_task(_link, name="link")
grade = db_task(_grade, name="grade")
respond = db_task(_open_incidents, name="open-incidents")
report = db_task(_report, name="report")


@flow(name="intake", flow_run_name="intake-{channel}", log_prints=False)
def intake(channel: Literal["call", "visit", "analysis", "tip", "case"], files: list[str]) -> IntakeReport:
    """Take in files of one channel (call, visit, analysis, tip, case) and update the risk register."""
    logger = get_run_logger()
    validated = validate(channel, [Path(f) for f in files])
    loads = load(validated)
    linked = link()
    graded = grade()
    incidents = respond()
    announce(incidents.live)
    result = report(loads, linked, graded)
    create_markdown_artifact(
        key=f"intake-{channel}",
        markdown=intake_markdown(result),
        description=f"Last intake of {channel} files",
    )
    logger.info(
        "%s: %d rows, %d loaded, %d duplicates, %d quarantined; %d new risks, %d reopened, %d graded",
        channel,
        result.rows,
        result.loaded,
        result.duplicates,
        result.quarantined,
        linked.new_risks,
        linked.reopened,
        graded.graded,
    )
    logger.info("%s by station: %s", channel, station_line(result.by_station))
    if incidents.live or incidents.history:
        logger.info(
            "incidents: %d opened for a quick response (%s), %d urgent calls kept as closed history",
            len(incidents.live),
            ", ".join(i["incident_code"] for i in incidents.live[:10]) or "none",
            incidents.history,
        )
    return result
