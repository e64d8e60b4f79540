"""The staffing what-if (警力测算): the cycle's figures against each officer's daily visits, as a page.

One point per simulated capacity: follow-ups on time, 化解率, conversions (民转刑) and the open
household risks per officer. The page loads nothing (inline CSS and SVG, as the review's does); a
figure with nothing to measure is "—" with its reason, never a zero on the curve.
"""

from __future__ import annotations

import csv
import json
import warnings
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from bridgehead.exports import safe_values
from tasks.review.report import CSS_FONTS, chart_fonts, inline_svg


@dataclass(frozen=True)
class StaffingPoint:
    """One simulated capacity and what the cycle did with it."""

    capacity: int  # visits a day, every community officer and assistant
    on_time_pct: float | None  # follow-ups due in the last 8 weeks done by their due date
    settlement_rate_pct: float | None  # 化解率
    conversions: int  # 民转刑 over the simulated days
    open_household_per_officer: float | None
    capacity_notices: int  # visits owed that did not fit a day, over the simulated days


COLUMNS = {
    "capacity": "visits a day per officer",
    "on_time_pct": "follow-ups on time (%)",
    "settlement_rate_pct": "化解率 (%)",
    "conversions": "conversions (民转刑)",
    "open_household_per_officer": "open household risks per community officer",
    "capacity_notices": "capacity notices",
}


def write_staffing_report(
    points: list[StaffingPoint], folder: Path, slug: str, period: str
) -> dict[str, Path]:
    """`<slug>.html`, `.csv` and `.json` in `folder`, the points in order of capacity."""
    points = sorted(points, key=lambda p: p.capacity)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{slug}.{kind}" for kind in ("html", "csv", "json")}
    rows = [asdict(p) for p in points]
    paths["json"].write_text(
        json.dumps({"period": period, "points": rows}, indent=2) + "\n", encoding="utf-8"
    )
    with paths["csv"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(safe_values(list(r.values())) for r in rows)
    paths["html"].write_text(render_html(points, period), encoding="utf-8")
    return paths


def render_html(points: list[StaffingPoint], period: str) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for label in COLUMNS.values())
    body = "".join(
        "<tr>" + "".join(f"<td>{shown(getattr(p, key))}</td>" for key in COLUMNS) + "</tr>" for p in points
    )
    unknown = [p.capacity for p in points if p.on_time_pct is None or p.settlement_rate_pct is None]
    note = (
        f"<p class='note'>— : nothing to measure (no follow-up fell due, or no dispute's 30 days ran out) "
        f"at capacity {', '.join(map(str, unknown))}.</p>"
        if unknown
        else ""
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Staffing what-if (警力测算)</title>"
        f"<style>body{{font-family:{CSS_FONTS};margin:2em;max-width:60em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
        ".note{color:#666}</style></head><body>"
        f"<h1>Staffing what-if (警力测算)</h1><p>The same city and go-live, simulated {escape(period)}, with "
        "every community officer's and assistant's daily visits set to each capacity.</p>"
        f"{_chart(points)}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
        "</body></html>\n"
    )


def shown(value: float | int | None) -> str:
    """A figure as printed: one decimal for a rate, thousands for a count, "—" for nothing measured."""
    if value is None:
        return "—"
    return f"{value:.1f}" if isinstance(value, float) else f"{value:,}"


def _chart(points: list[StaffingPoint]) -> str:
    style: dict[RcKeyType, Any] = {
        "font.family": chart_fonts(),
        "font.size": 9,
        "svg.fonttype": "none",
        "svg.hashsalt": "staffing",
    }
    with matplotlib.rc_context(style), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        return inline_svg(_figure(points), "staffing", "on-time rate, 化解率 and conversions by capacity")


def _figure(points: list[StaffingPoint]) -> Figure:
    fig = Figure(figsize=(9.5, 3.2), layout="constrained")
    rates, counts = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for key, label in (("on_time_pct", "on time"), ("settlement_rate_pct", "化解率")):
        known = [(p.capacity, getattr(p, key)) for p in points if getattr(p, key) is not None]
        rates.plot([c for c, _ in known], [v for _, v in known], marker="o", label=label)
    rates.set(ylim=(0, 100), xlabel="visits a day per officer", ylabel="%")
    rates.legend(loc="lower right", frameon=False)
    counts.plot([p.capacity for p in points], [p.conversions for p in points], marker="o", color="#d62728")
    counts.set(xlabel="visits a day per officer", ylabel="conversions (民转刑)")
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts.set_ylim(0, max(1.0, counts.get_ylim()[1]))
    for ax in (rates, counts):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
    return fig
