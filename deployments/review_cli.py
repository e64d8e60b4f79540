"""`bridgehead review`: a review by hand, through the same flow the Monday schedule runs."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from deployments.console import console, emit, say
from models.review import Lang
from tasks.review.document import Hotspot, Ranking
from tasks.review.findings import unknown_notes
from tasks.review.stats import shown_cell, shown_pct

if TYPE_CHECKING:
    from flows.review import PublishedReview


class ReviewFormat(StrEnum):
    table = "table"
    json = "json"


def review(
    scope: Annotated[
        str, typer.Option(help="city | district:CODE (610302 or 渭滨区) | station:CODE | community:CODE")
    ] = "city",
    period: Annotated[
        str | None,
        typer.Option(
            help="2026-W47 | 2026-11 | 28d:2026-11-29 | ytd:2026-11-29 (default: the last full week)"
        ),
    ] = None,
    lang: Annotated[Lang, typer.Option(help="zh or en")] = Lang.zh,
    output: Annotated[ReviewFormat, typer.Option("--format", help="table, or json (exact figures)")] = (
        ReviewFormat.table
    ),
) -> None:
    """Review a scope for a period against the previous period (环比) and last year (同比)."""
    from flows.review import resolve
    from flows.review import review as review_flow

    try:
        resolve(scope, period, lang.value)  # a bad parameter is a usage error, before any flow run
    except ValueError as exc:
        say(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    from deployments.local_server import flow_server

    with flow_server():
        result = review_flow(scope=scope, period=period, lang=lang.value)
    if output is ReviewFormat.json:
        print(json.dumps(_json(result), ensure_ascii=False, indent=2, default=str))
        return
    print_review(result)


def _json(result: PublishedReview) -> dict[str, object]:
    keep = (
        "scope",
        "scope_name",
        "period",
        "windows",
        "figures",
        "findings",
        "rankings",
        "hotspots",
        "files",
    )
    return {k: result[k] for k in keep}


TOP = 10  # ranked units shown in the table


def print_review(result: PublishedReview) -> None:
    w = result["windows"]
    console.rule(
        f"{result['scope_name']} · {result['period']} ({w['current']['first']} – {w['current']['last']})"
    )
    rows = [
        {
            "figure": f["label"],
            "current": shown_cell(f, "current"),
            "previous": shown_cell(f, "previous"),
            "vs previous": _pct(f["change_vs_previous_pct"], f["significant_vs_previous"]),
            "last year": shown_cell(f, "last_year"),
            "vs last year": _pct(f["change_vs_last_year_pct"], f["significant_vs_last_year"]),
        }
        for f in result["figures"].values()
    ]
    emit(rows, "table", "Figures (* a real change: exact conditional Poisson test, 5% level)")
    for note in unknown_notes(result):
        say(f"— {note}")
    for line in result["findings"]:
        say(f"- {line}")
    if result["rankings"]:
        ranked = result["rankings"]
        shown = f"the top {TOP} of {len(ranked)}" if len(ranked) > TOP else f"all {len(ranked)}"
        emit(
            [_shown_rank(r) for r in ranked[:TOP]],
            "table",
            f"Ranked by the year-on-year rise in criminal cases, {shown} (* a real change)",
        )
    hotspots = result.get("hotspots") or []
    if hotspots:
        emit(
            [_shown_hotspot(h) for h in hotspots],
            "table",
            "Hotspots: the top places by 110 calls, this period and the one before (* a real change)",
        )
    else:
        say("Hotspots: no hotspot in the scope (no place with a 110 call this period)")
    say(f"Report: {result['files']['html']}")


def _shown_rank(row: Ranking) -> dict[str, object]:
    """A ranking row for the table: the change as a percentage, starred when real (JSON keeps it exact)."""
    shown = {k: v for k, v in row.items() if k not in ("change_pct", "significant", "p")}
    shown["change"] = _pct(row.get("change_pct"), row.get("significant"))
    return shown


def _shown_hotspot(row: Hotspot) -> dict[str, object]:
    return {
        "place": row["place"],
        "kind": row["kind"],
        "community": row["community"],
        "calls": row["calls_current"],
        "previous": row["calls_previous"],
        "change": f"{row['change']:+,}",
        "vs previous": _pct(row["change_vs_previous_pct"], row["significant"]),
    }


def _pct(value: float | None, real: bool | None) -> str:
    return shown_pct(value) + (" *" if real else "")
