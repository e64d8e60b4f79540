"""`bridgehead risks` and `bridgehead quarantine`: reading the register and the rows kept out of it.

Read-only commands: they never import Prefect. Phone numbers in summaries are masked.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from deployments.cli_checks import MAX_ID, MAX_LIMIT
from deployments.console import emit, local, not_blank, say
from models.common import Colour
from models.risk import RiskStatus

risks_app = typer.Typer(help="The risk register (风险隐患台账): list, show, raise, settle.")
quarantine_app = typer.Typer(help="Rows kept out of the register, with file, line and reason.")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table for people; csv or json for programs.")]
LimitOption = Annotated[
    int | None,
    typer.Option(
        help="At most this many rows (0: all). Default: a screenful in a table, every row in csv or json.",
        min=0,
        max=MAX_LIMIT,
    ),
]


def rows_wanted(limit: int | None, fmt: Format, screenful: int) -> int | None:
    """How many rows to give: what was asked (0 is all); else a screenful in a table and all in an
    export (an export that stops at a table's default is a silently lost file)."""
    if limit is not None:
        return limit or None
    return screenful if fmt is Format.table else None


RiskId = Annotated[int, typer.Argument(help="The risk's id.", min=1, max=MAX_ID)]


def category_code(value: str | None) -> str | None:
    """A category as intake takes it: its code or its Chinese label; anything else names the codes."""
    from models.common import CATEGORY_LABELS, Category

    if value is None:
        return None
    code = CATEGORY_LABELS.get(value.strip(), value.strip())
    if code not in Category.__members__:
        raise typer.BadParameter(f"{value!r} is not a category; use one of {', '.join(Category.__members__)}")
    return code


@risks_app.command("list")
def risks_list(
    level: Annotated[Colour | None, typer.Option(help="red, orange, yellow or blue.")] = None,
    status: Annotated[
        RiskStatus | None, typer.Option(help="open, settled (a return visit due), referred or resolved.")
    ] = RiskStatus.open,
    officer: Annotated[str | None, typer.Option(help="The responsible officer's code.")] = None,
    station: Annotated[str | None, typer.Option(help="Station code.")] = None,
    community: Annotated[str | None, typer.Option(help="Community or village code.")] = None,
    category: Annotated[
        str | None, typer.Option(help="Category code or label, e.g. family_neighbor.", callback=category_code)
    ] = None,
    fmt: FormatOption = Format.table,
    limit: LimitOption = None,
) -> None:
    """Risks, most urgent first: colour, then most recent signal."""
    from bridgehead.db import session_scope
    from models import Community, Risk, Signal

    signals = (
        select(Signal.risk_id, func.count().label("n"))
        .where(Signal.risk_id.is_not(None))
        .group_by(Signal.risk_id)
    ).subquery()
    rank = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
    stmt = (
        select(Risk, Community.station_code, Community.name, signals.c.n)
        .join(Community, Community.community_code == Risk.community_code)
        .join(signals, signals.c.risk_id == Risk.id, isouter=True)
    )
    for column, value in (
        (Risk.level, level),
        (Risk.status, status),
        (Community.station_code, station),
        (Risk.community_code, community),
        (Risk.category, category),
        (Risk.officer_code, officer),
    ):
        if value:
            stmt = stmt.where(column == value)
    with session_scope() as session:
        found = session.execute(stmt).all()
    found.sort(key=lambda r: (rank.get(r[0].level, 9), -r[0].last_signal_at.timestamp()))
    rows: list[dict[str, Any]] = [
        {
            "id": risk.id,
            "level": risk.level,
            "status": risk.status,
            "category": risk.category,
            "station": station_code,
            "community": f"{risk.community_code} {name}",
            "address": risk.address_norm or risk.party_pair,
            "officer": risk.officer_code,
            "signals": n or 0,
            "last_signal": local(risk.last_signal_at),
            "why": ", ".join(r for r in risk.reasons if r.startswith(f"{risk.level}.")),
        }
        for risk, station_code, name, n in found[: rows_wanted(limit, fmt, 100)]
    ]
    emit(rows, fmt, f"Risks ({len(rows):,} of {len(found):,})")


@risks_app.command("show")
def risks_show(risk_id: RiskId, fmt: FormatOption = Format.table) -> None:
    """One risk with all its signals and its whole level history, with reasons."""
    from bridgehead.db import session_scope
    from bridgehead.privacy import scrub_text
    from models import Risk, RiskLevelChange, Signal

    with session_scope() as session:
        risk = session.get(Risk, risk_id)
        if risk is None:
            say(f"[red]There is no risk {risk_id}.[/]")
            raise typer.Exit(1)
        signals = session.execute(
            select(Signal).where(Signal.risk_id == risk_id).order_by(Signal.occurred_at, Signal.id)
        ).scalars()
        history = session.execute(
            select(RiskLevelChange).where(RiskLevelChange.risk_id == risk_id).order_by(RiskLevelChange.id)
        ).scalars()
        signal_rows = [
            {
                "at": local(s.occurred_at),
                "channel": s.channel,
                "id": s.source_id,
                "category": s.category,
                "concern": s.concern,
                "outcome": s.outcome,
                "summary": scrub_text(s.summary or ""),
            }
            for s in signals
        ]
        history_rows = [
            {
                "at": local(h.at),
                "from": h.from_level,
                "to": h.to_level,
                "cause": h.cause,
                "reasons": ", ".join(h.reasons),
                "rules": h.rules_version,
                "by": h.actor,
                "note": h.note,
            }
            for h in history
        ]
        head = risk.model_dump(exclude={"reasons"}) | {"reasons": list(risk.reasons)}
    if fmt is Format.json:
        emit([{"risk": head, "signals": signal_rows, "level_history": history_rows}], fmt, "")
        return
    if fmt is Format.csv:  # one valid CSV: the signals, then the colour changes, told apart by `record`
        records = [{"record": "signal", **r} for r in signal_rows]
        records += [{"record": "level_change", **r} for r in history_rows]
        columns = list(dict.fromkeys(c for r in records for c in r))
        emit([{c: r.get(c) for c in columns} for r in records], fmt, "")
        return
    say(
        f"Risk {risk_id}: [bold]{head['level']}[/] ({head['status']}), {head['category']} in "
        f"{head['community_code']}, officer {head['officer_code']}; reasons: {', '.join(head['reasons'])}"
    )
    emit(signal_rows, fmt, f"Signals ({len(signal_rows)})")
    emit(history_rows, fmt, "Level history")


@risks_app.command("raise")
def risks_raise(
    risk_id: RiskId,
    to: Annotated[str, typer.Option("--to", help="The new, higher colour.")],
    by: Annotated[str, typer.Option("--by", help="Your name (for the audit).", callback=not_blank)],
    reason: Annotated[str, typer.Option("--reason", help="Why.", callback=not_blank)],
) -> None:
    """Raise a risk's colour by hand. Nothing lowers a colour but the evidence rule."""
    from bridgehead.db import session_scope
    from models.common import Colour
    from tasks.intake.grading_stage import raise_level

    try:
        colour = Colour(to)
        with session_scope() as session:
            change = raise_level(session, risk_id, colour, by, reason)
    except (ValueError, LookupError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    say(f"Risk {risk_id}: {change.from_level} → {change.to_level} by {by} ({reason})")
    if colour is Colour.red:
        _respond_now(risk_id)


def _respond_now(risk_id: int) -> None:
    """A risk raised to red starts its quick response at once where a Prefect server is set."""
    import os

    if not os.environ.get("PREFECT_API_URL"):
        say(
            "No Prefect server is set (PREFECT_API_URL): the next intake opens its quick response "
            "(within the rules' red_risk_fresh_within_min)."
        )
        return
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from flows.quick_response import announce
    from tasks.quick_response.incidents import open_incidents

    with session_scope() as session:
        opened = open_incidents(session, get_rules())
    announce(opened.live)
    codes = [i["incident_code"] for i in opened.live if i["risk_id"] == risk_id] or [
        i["incident_code"] for i in opened.live
    ]
    say(f"Quick response started: {', '.join(codes) or 'an incident already covers it'}")


@risks_app.command("settle")
def risks_settle(
    risk_id: RiskId,
    by: Annotated[str, typer.Option("--by", help="The station chief, by name or code.", callback=not_blank)],
    reason: Annotated[str, typer.Option("--reason", help="Why it is settled.", callback=not_blank)],
) -> None:
    """Sign off a red risk as settled (化解) on the visit that settled it; only its station's chief can."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.common import utcnow
    from tasks.follow_up.sign_off import settle_by_chief

    try:
        with session_scope() as session:
            risk = settle_by_chief(session, get_rules(), risk_id, by, reason, utcnow())
            days = get_rules().ends.return_visit_days[Colour(risk.level)]
    except (ValueError, LookupError, PermissionError) as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    say(f"Risk {risk_id}: settled on {by}'s sign-off ({reason}); a return visit is due in {days} days")


@quarantine_app.command("list")
def quarantine_list(
    channel: Annotated[
        str | None, typer.Option(help="call, visit, analysis, tip, case, jurisdiction:…")
    ] = None,
    file: Annotated[str | None, typer.Option(help="Only rows of files whose path contains this.")] = None,
    fmt: FormatOption = Format.table,
    limit: LimitOption = None,
) -> None:
    """Quarantined rows: file, line and reason (contacts and phones never shown)."""
    from bridgehead.db import session_scope
    from models import QuarantinedRow

    stmt = select(QuarantinedRow).order_by(QuarantinedRow.id)
    if channel:
        stmt = stmt.where(QuarantinedRow.channel == channel)
    if file:
        stmt = stmt.where(QuarantinedRow.file.contains(file))
    wanted = rows_wanted(limit, fmt, 200)
    with session_scope() as session:
        total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = [
            {
                "channel": q.channel,
                "file": q.file,
                "line": q.line,
                "reason": q.reason,
                "at": local(q.quarantined_at),
            }
            for q in session.execute(stmt.limit(wanted)).scalars()
        ]
    emit(rows, fmt, f"Quarantined rows ({len(rows):,} of {total:,})")
