"""`bridgehead sweep` and `bridgehead followups`: the daily sweep by hand, and an officer's list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy import select

from deployments.cli_checks import day as parse_day
from deployments.console import emit, local, say
from deployments.local_server import flow_server
from deployments.register_cli import Format, FormatOption

followups_app = typer.Typer(help="Follow-up (跟进督促): visits owed on open risks.")

DAY = "YYYY-MM-DD"
DayOption = Annotated[
    date | None,
    typer.Option(
        "--date",
        help="The day (YYYY-MM-DD; default today, the jurisdiction's time zone).",
        parser=parse_day,
        metavar=DAY,
    ),
]


def sweep(
    day: DayOption = None,
    start: Annotated[
        date | None,
        typer.Option("--from", help="Replay from this day (with --to).", parser=parse_day, metavar=DAY),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option("--to", help="Replay up to this day, day by day.", parser=parse_day, metavar=DAY),
    ] = None,
) -> None:
    """The daily sweep for a day (inbox, catch-up, follow-ups), or a replay --from D1 --to D2."""
    first, last, one = start, end, day
    if (first is None) != (last is None) or (one and first):
        say("[red]give --date D, or --from D1 --to D2[/]")
        raise typer.Exit(2)
    from models.clock import not_future

    try:
        not_future(last or one or date.min)
    except ValueError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    quarantined = False
    if first and last and last < first:
        say("[red]--to is before --from[/]")
        raise typer.Exit(2)
    if first and last:
        from flows.follow_up import follow_up_sweep

        with flow_server():
            days = follow_up_sweep(first, last)
    else:
        from flows.daily_sweep import daily_sweep

        with flow_server():
            result = daily_sweep(one)
        for t in result["inbox"]:
            say(
                f"inbox {t['channel']}: {t['files']} file(s), {t['rows']:,} rows, "
                f"{t['quarantined']:,} quarantined"
            )
        days = result["days"]
        quarantined = any(t["quarantined"] for t in result["inbox"])
    for d in days:
        t = d["totals"]
        flag = " (already swept: unchanged)" if d.get("already_swept") else ""
        say(
            f"{d['day']}{flag}: {t['visits_recorded']:,} visits recorded ({t['calm']:,} calm), "
            f"{t['assigned']:,} assigned, {t['due_today']:,} due today, {t['late']:,} late, "
            f"{t['notices']:,} notices, {t.get('capacity_notices', 0):,} capacity notices, "
            f"{t['accountability']:,} accountability, {t['colour_changes']:,} colour changes"
        )
    if days:
        emit(days[-1]["stations"], "table", f"By station, {days[-1]['day']}")
    if quarantined:
        from deployments.options import EXIT_QUARANTINED

        say("some inbox rows were quarantined: bridgehead quarantine list")
        raise typer.Exit(EXIT_QUARANTINED)  # as `ingest` does: the day is swept, but look


@followups_app.command("due")
def followups_due(
    officer: Annotated[str, typer.Option(help="Officer code.")],
    day: DayOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """An officer's day, in the order to work it: red, first visits, most days late, then orange,
    yellow, blue, up to the officer's capacity; what does not fit is marked as the chief's."""
    import pandas as pd

    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models import Community, FollowUp, Officer, Risk
    from models.clock import today
    from tasks.follow_up.capacity import capacities, in_order

    when = day or today()
    with session_scope() as session:
        if session.get(Officer, officer) is None:
            say(f"[red]{officer!r} is not a known officer code[/]")
            raise typer.Exit(1)
        cap = capacities(session, get_rules()).get(officer)
        found = session.execute(
            select(FollowUp, Risk, Community.name)
            .join(Risk, Risk.id == FollowUp.risk_id)
            .join(Community, Community.community_code == Risk.community_code)
            .where(FollowUp.officer_code == officer, FollowUp.status == "pending", FollowUp.due_on <= when)
        ).all()
    owed = pd.DataFrame(
        [(i, officer, f.due_on, f.why, risk.level) for i, (f, risk, _) in enumerate(found)],
        columns=["follow_up_id", "officer_code", "due_on", "why", "level"],
    )
    order = in_order(owed, when)["follow_up_id"].tolist() if found else []
    rows: list[dict[str, Any]] = []
    for place, i in enumerate(order, start=1):
        f, risk, name = found[i]
        rows.append(
            {
                "place": place if cap is None or place <= cap else None,
                "risk": risk.id,
                "level": risk.level,
                "why": f.why,
                "address": risk.address_norm or risk.party_pair,
                "community": f"{risk.community_code} {name}",
                "category": risk.category,
                "due_on": str(f.due_on),
                "days_late": (when - f.due_on).days,
                "last_signal": local(risk.last_signal_at),
            }
        )
    listed = sum(r["place"] is not None for r in rows)
    over = (
        f"; {len(rows) - listed} more than a day's {cap}: the chief's to share out"
        if len(rows) > listed
        else ""
    )
    emit(
        rows,
        fmt.value if isinstance(fmt, Format) else fmt,
        f"{officer}'s visits on {when}: {listed} on the list{over}",
    )


@followups_app.command("reassign")
def followups_reassign(
    by: Annotated[str, typer.Option(help="The station chief reassigning (named in the audit trail).")],
    day: DayOption = None,
    station: Annotated[
        list[str] | None,
        typer.Option(help="Only this station's overflow (repeatable; default: every station)."),
    ] = None,
) -> None:
    """A chief's answer to capacity notices (调配): the visits that did not fit an officer's day go, with
    their risks, to the station's officers with room that day; the rest stay on the notice."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.clock import today
    from tasks.follow_up.reassign import reassign_overflow

    when = day or today()
    with session_scope() as session:
        done = reassign_overflow(session, get_rules(), when, set(station) if station else None, by=by)
    say(
        f"{when}: {done.risks:,} risks reassigned with their visits in {done.stations} stations; "
        f"{done.still_over:,} visits found no officer with room (ask for help)"
    )
