"""Follow-up sweep (跟进督促): a day, or a range of days replayed in order, of visits owed and chased.

Per day, four set-based task runs whatever the number of risks — record visits (and the evidence
rule), assign follow-ups, supervise late ones, finish — each in its own transaction, which also
marks the stage done. A day killed half-way resumes after its last committed stage; a finished day
is skipped, so a rerun or a second sweep started at the same moment (they queue on one lock) has
exactly one effect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, cast

from prefect import flow
from prefect.runtime import flow_run

from bridgehead.db import session_scope
from bridgehead.locks import exclusive
from bridgehead.orchestration import db_task, run_logger
from bridgehead.rules import get_rules
from models.clock import not_future
from tasks.follow_up.cadence import VisitSummary, record_visits, schedule
from tasks.follow_up.supervision import SupervisionSummary, supervise
from tasks.follow_up.sweep import DaySummary, finish, finished, mark_stage, stages_done

LOCK = "follow-up-sweep"


def _visits(day: date) -> VisitSummary:
    with session_scope() as session:
        done = record_visits(session, get_rules(), day)
        mark_stage(session, day, "record-visits")
    run_logger().info(
        "%s: %d follow-ups done by a visit (%d calm); %d colours lowered, %d risks resolved",
        day,
        done.completed,
        done.calm,
        len(done.lowered),
        len(done.resolved),
    )
    return done


def _assign(day: date) -> int:
    with session_scope() as session:
        assigned = schedule(session, get_rules(), day)
        mark_stage(session, day, "assign-follow-ups")
    run_logger().info("%s: %d follow-ups assigned or brought forward", day, assigned)
    return assigned


def _supervise(day: date) -> SupervisionSummary:
    with session_scope() as session:
        climbed = supervise(session, get_rules(), day)
        mark_stage(session, day, "supervise")
    run_logger().info(
        "%s: %d notices to officers, %d to station chiefs, %d accountability entries",
        day,
        climbed.officer_notices,
        climbed.chief_notices,
        climbed.accountability,
    )
    return climbed


def _finish(day: date) -> DaySummary:
    with session_scope() as session:
        summary = finish(session, day)
    worst = sorted(summary["stations"], key=lambda r: -r["late"])[:3]
    run_logger().info(
        "%s: %d stations; most late: %s",
        day,
        len(summary["stations"]),
        ", ".join(f"{r['station']} {r['late']}" for r in worst if r["late"]) or "none",
    )
    return summary


PLAIN: dict[str, Callable[..., Any]] = {
    "record-visits": _visits,
    "assign-follow-ups": _assign,
    "supervise": _supervise,
    "finish-day": _finish,
}
STAGES = tuple(PLAIN)  # in the order a day runs them
TASKS: dict[str, Callable[..., Any]] = {name: db_task(fn, name=name) for name, fn in PLAIN.items()}


def sweep_one_day(day: date, stages: dict[str, Callable[..., Any]] = TASKS) -> DaySummary:
    """The day's four stages, or the recorded summary when the day was already swept.

    A day a killed sweep left half-done runs only the stages that had not committed."""
    with session_scope() as session:
        done = finished(session, day)
        if done is not None:
            return cast(DaySummary, {**done.summary, "already_swept": True})
        committed = stages_done(session, day)
    if committed:
        run_logger().info("%s: resuming a sweep stopped after %s", day, ", ".join(sorted(committed)))
    for name in STAGES[:-1]:
        if name not in committed:
            stages[name](day)
    return stages["finish-day"](day)


def sweep_days(day: date, last: date, stages: dict[str, Callable[..., Any]] = TASKS) -> list[DaySummary]:
    """Every day from `day` to `last` in order, one sweep at a time (they queue on one lock).

    With `PLAIN` stages the same work runs without task runs: a replay of a year, not a morning."""
    if last < day:
        raise ValueError(f"until ({last}) is before day ({day})")
    not_future(last)
    logger, results = run_logger(), list[DaySummary]()
    with exclusive(LOCK):
        current = day
        while current <= last:
            result = sweep_one_day(current, stages)
            t = result["totals"]
            logger.info(
                "%s%s: %d visits recorded (%d calm), %d assigned, %d due today, %d late, %d notices, "
                "%d accountability, %d colour changes",
                current,
                " (already swept: unchanged)" if result.get("already_swept") else "",
                t["visits_recorded"],
                t["calm"],
                t["assigned"],
                t["due_today"],
                t["late"],
                t["notices"],
                t["accountability"],
                t["colour_changes"],
            )
            results.append(result)
            current += timedelta(days=1)
    return results


def _run_name() -> str:
    params = flow_run.parameters
    first, last = params.get("day"), params.get("until")
    return f"follow-up-sweep-{first}" + (f"-to-{last}" if last and last != first else "")


@flow(name="follow-up-sweep", flow_run_name=_run_name, log_prints=False)
def follow_up_sweep(day: date, until: date | None = None) -> list[DaySummary]:
    """Sweep `day`, or every day from `day` to `until` in order (catch-up and replay)."""
    return sweep_days(day, until or day)
