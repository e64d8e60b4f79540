"""Quick response (快反处置): an urgent call becomes dispatched units at once, then stays watched.

`quick_response` is started by the `bridgehead.incident.opened` event that intake emits (the
deployment's trigger), or called directly for replays and tests; each run is named after its
incident. `response_watch` runs every minute and judges the 1-3-5 targets against the records
as of a time, so it can replay a night. `unit_status` takes in the units' status feed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.runtime import flow_run

from bridgehead.db import session_scope
from bridgehead.orchestration import db_task
from bridgehead.rules import get_rules
from models.common import ZONE, local_text, utcnow
from tasks.quick_response.dispatch import DispatchResult, respond
from tasks.quick_response.incidents import LiveIncident, get_incident
from tasks.quick_response.response_watch import WatchSummary, watch_targets
from tasks.quick_response.unit_status import FeedResult, apply_feed

INCIDENT_OPENED = "bridgehead.incident.opened"
TARGET_MISSED = "bridgehead.response.target-missed"  # the "missed a 1-3-5 target" automation listens


def announce(incidents: list[LiveIncident]) -> None:
    """One event per live incident: the quick-response deployment's trigger listens for these."""
    for incident in incidents:
        code = incident["incident_code"]
        emit_event(
            event=INCIDENT_OPENED,
            resource={
                "prefect.resource.id": f"bridgehead.incident.{code}",
                "prefect.resource.name": code,
                "bridgehead.station": incident["station_code"],
            },
            payload={
                "incident_code": code,
                "category": incident["category"],
                "station_code": incident["station_code"],
                "opened_at": incident["opened_at"].isoformat(),
            },
        )


def _dispatch(incident_code: str, at: datetime) -> DispatchResult:
    with session_scope() as session:
        return respond(session, get_incident(session, incident_code), get_rules().quick_response, at)


def _watch(as_of: datetime) -> WatchSummary:
    with session_scope() as session:
        return watch_targets(session, as_of)


def _apply(files: list[str]) -> list[FeedResult]:
    results = []
    for file in files:  # one transaction per file
        with session_scope() as session:
            results.append(apply_feed(session, Path(file)))
    return results


dispatch = db_task(_dispatch, name="dispatch")
watch = db_task(_watch, name="watch-targets")
apply_unit_status = db_task(_apply, name="apply-unit-status")


def _local(at: datetime) -> str:
    return local_text(at)


@flow(name="quick-response", flow_run_name="quick-response-{incident_code}", log_prints=False)
def quick_response(incident_code: str, as_of: datetime | None = None) -> DispatchResult:
    """Dispatch the nearest free units of the incident's station (every free unit for a search).

    `as_of` replays a response at a past moment; by default the dispatch is now.
    """
    logger = get_run_logger()
    at = as_of or utcnow()
    result = dispatch(incident_code, at)
    if result.closed:
        logger.info("%s is already closed: nothing to dispatch", incident_code)
    elif result.already_dispatched:  # a live call is dispatched by the intake that opened it
        logger.info("%s already has units: this run changes nothing", incident_code)
    elif not result.units:
        logger.warning("%s: no free unit at %s or any other station", incident_code, result.station_code)
    else:
        logger.info(
            "%s: %d unit(s) dispatched at %s (%d free at %s)",
            incident_code,
            len(result.units),
            _local(at),
            result.free_before,
            result.station_code,
        )
        rows = "\n".join(
            f"| {u['unit_code']} | {u['station_code']} | {u['distance_km']:.2f} |" for u in result.units
        )
        create_markdown_artifact(
            markdown=f"# {incident_code}\n\nDispatched at {_local(at)} ({ZONE})\n\n"
            f"| unit | station | km |\n| --- | --- | --- |\n{rows}\n",
            description=f"Units dispatched to {incident_code}",
        )
    return result


def _watch_run_name() -> str:
    as_of = flow_run.parameters.get("as_of")
    return f"response-watch-{_local(as_of) if isinstance(as_of, datetime) else 'now'}"


@flow(name="response-watch", flow_run_name=_watch_run_name, log_prints=False)
def response_watch(as_of: datetime | None = None) -> WatchSummary:
    """Judge the open incidents' 1-3-5 targets as of a time; escalate each newly missed one."""
    logger = get_run_logger()
    summary = watch(as_of or utcnow())
    logger.info(
        "%d overdue incident(s) watched; %d target(s) newly missed, %d escalated, %d notice(s) to chiefs",
        summary.watched,
        len(summary.breaches),
        summary.escalated,
        summary.notices,
    )
    for breach in summary.breaches:
        logger.warning(
            "%s missed its %s target; unit pulled from another station: %s",
            breach["incident_code"],
            breach["target"],
            breach["escalated_unit"] or "none free",
        )
        emit_event(
            event=TARGET_MISSED,
            resource={
                "prefect.resource.id": f"bridgehead.incident.{breach['incident_code']}",
                "prefect.resource.name": breach["incident_code"],
            },
            payload={k: breach[k] for k in ("incident_code", "target", "escalated_unit")},
        )
    return summary


@flow(name="unit-status", flow_run_name="unit-status", log_prints=False)
def unit_status(files: list[str]) -> list[FeedResult]:
    """Take in unit status feeds (CSV or JSON Lines): dispatched, en_route, on_scene, cleared."""
    logger = get_run_logger()
    results = apply_unit_status(files)
    for r in results:
        logger.info(
            "%s: %d lines, %d applied, %d duplicates, %d quarantined; %d dispatches and %d units changed",
            Path(r.file).name,
            r.rows,
            r.applied,
            r.duplicates,
            r.quarantined,
            r.dispatches,
            r.units,
        )
    return results
