"""`bridgehead incidents`: the quick-response board (快反) — list, show, respond, watch, update, close.

`list` and `show` only read (no Prefect). `respond`, `watch` and `update` run their flows, so the
runs appear in the Prefect UI; `close` is a person's act and is audited under their name.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from deployments.cli_checks import input_file
from deployments.console import emit, not_blank, say
from deployments.local_server import flow_server
from deployments.options import TIME, parse_time
from deployments.register_cli import Format, FormatOption, LimitOption, rows_wanted
from models.common import local_text

incidents_app = typer.Typer(help="Quick response (快反处置): urgent calls, units, 1-3-5 targets.")

OUTCOMES = "resolved_on_scene, mediated, person_found, referred, case_filed, false_alarm"


AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        help="Replay at this time (ISO 8601; no offset means the jurisdiction's time zone). Default: now.",
        parser=parse_time,
        metavar=TIME,
    ),
]


def clock(at: datetime | None) -> str:
    return "" if at is None else local_text(at)


def after(start: datetime, at: datetime | None) -> str:
    """Seconds after the incident opened, as the 1-3-5 rule counts them."""
    return "" if at is None else f"+{int((at - start).total_seconds())} s"


def _mark(verdict: str) -> str:
    return {"met": "met", "missed": "MISSED", "pending": "pending"}[verdict]


class Shown(StrEnum):
    """Which incidents `list` shows."""

    open = "open"
    dispatched = "dispatched"
    closed = "closed"
    all = "all"


@incidents_app.command("list")
def incidents_list(
    status: Annotated[Shown, typer.Option(help="open, dispatched, closed, or all.")] = Shown.all,
    station: Annotated[str | None, typer.Option(help="Station code.")] = None,
    fmt: FormatOption = Format.table,
    limit: LimitOption = None,
) -> None:
    """Incidents, newest first, with their response times and targets met or missed."""
    from bridgehead.db import session_scope
    from models.common import utcnow
    from tasks.quick_response.board import board

    wanted = None if status is Shown.all else status.value
    with session_scope() as session:
        found = board(session, utcnow(), wanted, station, rows_wanted(limit, fmt, 50))
    rows: list[dict[str, Any]] = []
    for line in found.lines:
        i, t, judged = line.incident, line.times, line.judged
        dispatched, on_scene = (t.first_dispatch_at, t.first_on_scene_at) if t else (None, None)
        rows.append(
            {
                "incident": i.incident_code,
                "opened": clock(i.opened_at),
                "station": i.station_code,
                "community": i.community_code,
                "category": i.category,
                "status": i.status,
                "units": t.units if t else 0,
                "dispatch": f"{after(i.opened_at, dispatched)} {_mark(judged['dispatch'])}".strip(),
                "arrival": f"{after(i.opened_at, on_scene)} {_mark(judged['arrival'])}".strip(),
                "outcome": i.outcome,
            }
        )
    total = found.total
    emit(rows, fmt, f"Incidents ({len(rows):,} of {total:,})")


@incidents_app.command("show")
def incidents_show(code: str, fmt: FormatOption = Format.table) -> None:
    """One incident: targets, every unit with the time of each state, breaches and notices."""
    from bridgehead.db import session_scope
    from models.common import utcnow
    from tasks.quick_response.board import incident_record

    with session_scope() as session:
        try:
            record = incident_record(session, code, utcnow())
        except LookupError:
            say(f"[red]There is no incident {code}.[/]")
            raise typer.Exit(1) from None
        i, t, judged = record.incident, record.times, record.judged
        head = i.model_dump()
        targets = [
            {
                "target": "dispatch",
                "due": clock(i.dispatch_target_at),
                "done": clock(t and t.first_dispatch_at),
                "after_open": after(i.opened_at, t and t.first_dispatch_at),
                "verdict": judged["dispatch"].value,
            },
            {
                "target": "arrival",
                "due": clock(i.arrival_target_at),
                "done": clock(t and t.first_on_scene_at),
                "after_open": after(i.opened_at, t and t.first_on_scene_at),
                "verdict": judged["arrival"].value,
            },
        ]
        units = [
            {
                "unit": d.unit_code,
                "from_other_station": "yes" if d.escalation else "",
                "km": d.distance_km,
                "dispatched": after(i.opened_at, d.dispatched_at),
                "en_route": after(i.opened_at, d.en_route_at),
                "on_scene": after(i.opened_at, d.on_scene_at),
                "cleared": after(i.opened_at, d.cleared_at),
            }
            for d in record.dispatches
        ]
        changes = [
            {
                "at": clock(e.at),
                "after_open": after(i.opened_at, e.at),
                "unit": e.unit_code,
                "status": e.status,
            }
            for e in record.events
        ]
        missed = [
            {
                "target": b.target,
                "due": clock(b.due_at),
                "detected": clock(b.detected_at),
                "unit_from_other_station": b.escalated_unit_code,
            }
            for b in record.breaches
        ]
        told = [
            {
                "to": n.recipient_officer_code,
                "level": n.level,
                "station": n.station_code,
                "issued_on": str(n.issued_on),
            }
            for n in record.notices
        ]
    if fmt is Format.json:
        emit(
            [
                {
                    "incident": head,
                    "targets": targets,
                    "units": units,
                    "state_changes": changes,
                    "breaches": missed,
                    "notices": told,
                }
            ],
            fmt,
            "",
        )
        return
    say(
        f"[bold]{code}[/]: {head['category']} in {head['community_code']} (station {head['station_code']}), "
        f"opened {clock(i.opened_at)}, {head['status']}"
        + (f", outcome {head['outcome']}" if head["outcome"] else "")
    )
    emit(targets, fmt, "Targets (1-3-5)")
    emit(units, fmt, "Units (seconds after the call)")
    emit(changes, fmt, "State changes")
    if missed:
        emit(missed, fmt, "Missed targets")
        emit(told, fmt, "Supervision notices")


@incidents_app.command("respond")
def incidents_respond(code: str, as_of: AsOfOption = None) -> None:
    """Run the quick-response flow for an incident by hand (a replay with --as-of)."""
    from bridgehead.db import session_scope
    from flows.quick_response import quick_response
    from tasks.quick_response.incidents import get_incident

    try:
        with session_scope() as session:
            get_incident(session, code)  # an unknown code is a usage error, before any flow run
    except LookupError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    with flow_server():
        result = quick_response(code, parse_time(as_of))  # a string from the demo
    if result.closed:
        say(f"{code} is closed: nothing dispatched")
    elif result.already_dispatched:
        say(f"{code} already has units: nothing changed")
    elif not result.units:
        say(f"[red]{code}: no free unit anywhere[/]")
    else:
        say(
            f"{code}: dispatched "
            + ", ".join(f"{u['unit_code']} ({u['distance_km']:.1f} km)" for u in result.units)
        )


@incidents_app.command("watch")
def incidents_watch(as_of: AsOfOption = None) -> None:
    """Judge the open incidents' targets now (or --as-of); escalate each newly missed one."""
    from flows.quick_response import response_watch

    with flow_server():
        summary = response_watch(parse_time(as_of))
    say(
        f"{summary.watched} overdue incident(s) checked: {len(summary.breaches)} target(s) newly missed, "
        f"{summary.escalated} unit(s) pulled from other stations, {summary.notices} notice(s) to chiefs"
    )
    for b in summary.breaches:
        say(
            f"  {b['incident_code']}: {b['target']} target missed; "
            f"other station's unit: {b['escalated_unit'] or 'none free'}"
        )


@incidents_app.command("update")
def incidents_update(
    files: Annotated[list[Path], input_file("Unit status feeds (CSV or JSON Lines).")],
) -> None:
    """Take in unit status feeds: unit_code, incident_id, status, at. Exit 3 if any line was quarantined."""
    from deployments.options import EXIT_QUARANTINED
    from flows.quick_response import unit_status

    with flow_server():
        results = unit_status([str(f) for f in files])
    for r in results:
        say(
            f"{r.file}: {r.rows:,} lines, {r.applied:,} applied, {r.duplicates:,} already known, "
            f"{r.quarantined:,} quarantined; {r.dispatches:,} dispatch records and {r.units:,} units changed"
        )
    if any(r.quarantined for r in results):
        say("  quarantined lines: bridgehead quarantine list")
        raise typer.Exit(EXIT_QUARANTINED)


@incidents_app.command("close")
def incidents_close(
    code: str,
    outcome: Annotated[str, typer.Option(help=OUTCOMES)],
    by: Annotated[str, typer.Option(help="Who closes it (recorded in the audit trail).", callback=not_blank)],
    note: Annotated[str | None, typer.Option(help="What was done.")] = None,
    dispute: Annotated[
        str | None,
        typer.Option(help="The dispute category that remains, e.g. family_neighbor (goes on a risk)."),
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option(help="When it was closed (ISO 8601). Default: now.", parser=parse_time, metavar=TIME),
    ] = None,
) -> None:
    """Close an incident with its outcome; a remaining dispute becomes a signal on a risk."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.incident import IncidentOutcome
    from tasks.quick_response.disposal import close_incident

    if outcome not in OUTCOMES.split(", "):
        say(f"[red]--outcome must be one of {OUTCOMES}[/]")
        raise typer.Exit(2)
    try:
        with session_scope() as session:
            done = close_incident(
                session,
                get_rules(),
                code,
                IncidentOutcome(outcome),
                by=by,
                at=parse_time(at),
                note=note,
                dispute=dispute,
            )
    except (LookupError, ValueError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    say(f"{code} closed: {done.outcome}; units freed: {', '.join(done.units_freed) or 'none'}")
    if done.officer_code is None:
        say(f"  [yellow]{by} is not one officer's code or name: the response earns nobody points[/]")
    elif done.officer_code != by:
        say(f"  closed by officer {done.officer_code}")
    if done.signal_id:
        say(f"  the remaining dispute is on risk {done.risk_id}: bridgehead risks show {done.risk_id}")
