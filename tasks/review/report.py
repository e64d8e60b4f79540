"""A review's outputs: one self-contained HTML page to read and forward, plus JSON and CSV to reuse.

The page must open on a station's offline PC, so it loads nothing: the CSS is inline and the three
charts are inline SVG from matplotlib with text kept as text (`svg.fonttype = none`), so the viewer's
own fonts draw the Chinese and the numbers stay searchable. Charts are drawn on `Figure` objects
(no pyplot state) so flows can build reports concurrently.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from bridgehead.exports import safe_values
from tasks.review import document as doc
from tasks.review.stats import shown_pct
from tasks.review.text import TEXT

CSV_COLUMNS = [
    "figure", "label", "kind", "current", "previous", "last_year", "change_vs_previous_pct",
    "change_vs_last_year_pct", "significant_vs_previous", "significant_vs_last_year", "p_vs_previous",
    "p_vs_last_year", *(f"{w}_{part}" for w in ("current", "previous", "last_year")
                        for part in ("numerator", "denominator")), "unknown",
]  # fmt: skip
WINDOWS = ("current", "previous", "last_year")
Draw = Callable[[doc.Review, dict[str, str]], "Figure"]
TEST_NAME = "exact conditional Poisson test, two-sided, 5% level"
COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#e6b800", "blue": "#1f77b4"}
# What the browser uses to draw chart text; matplotlib measures with whichever of these it has.
CSS_FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Micro Hei"]


def write_report(review: doc.Review, folder: Path) -> dict[str, Path]:
    """Write `<slug>.html`, `.json` and `.csv` into `folder`; the slug names files, so no paths in it."""
    slug = str(review["slug"])
    if not slug or slug.startswith(".") or Path(slug).name != slug:
        raise ValueError(f"review slug {slug!r} is not a plain file name")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{slug}.{kind}" for kind in ("html", "json", "csv")}
    paths["json"].write_text(json.dumps(review, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for key, fig in (review.get("figures") or {}).items():  # text cells neutralised (CSV injection)
            writer.writerow(safe_values([key, *_csv_cells(fig)]))
    paths["html"].write_text(render_html(review), encoding="utf-8")
    return paths


def _csv_cells(fig: doc.Figure) -> list[Any]:
    """A figure's CSV cells after its key: the plain columns, a ratio's parts, why values are unknown."""
    parts: Mapping[str, Mapping[str, Any]] = fig.get("parts") or {}
    cells = {
        f"{w}_{part}": (parts.get(w) or {}).get(part)
        for w in WINDOWS
        for part in ("numerator", "denominator")
    }
    cells["unknown"] = "; ".join(f"{w}: {why}" for w, why in (fig.get("unknown") or {}).items()) or None
    return [cells[c] if c in cells else fig.get(c) for c in CSV_COLUMNS[1:]]


# --- the page ------------------------------------------------------------------------------------------

CSS = """body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.sig{font-weight:bold;color:#b00}.ns{color:#999}.none,.meta{color:#777}
svg.chart{max-width:100%;height:auto;display:block;margin-bottom:1.5em}"""


def render_html(review: doc.Review) -> str:
    """The whole page as one string; every piece of review text passes through `html.escape`."""
    t = TEXT.get(review.get("lang", "zh"), TEXT["zh"])
    title = f"{review.get('scope_name') or review.get('scope', '')} {t['title']} · {review.get('period', '')}"
    parts = [
        f'<!DOCTYPE html>\n<html lang="{escape(review.get("lang", "zh"))}"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _windows(review, t),
        f"<h2>{t['findings']}</h2>",
        _list(review.get("findings"), t),
        f"<h2>{t['figures']}</h2>",
        _figures_table(review.get("figures") or {}, t),
        _unknown(review.get("figures") or {}, t),
        f'<p class="meta legend">{escape(t["legend"])} {t["test"]}: {escape(TEST_NAME)}.</p>',
    ]
    for chart_id, heading, draw in CHARTS:
        parts += [f"<h2>{t[heading]}</h2>", _chart(draw, review, t, chart_id, t[heading])]
    sections: Mapping[str, Any] = review  # the lists, each by its key
    for key, columns in SECTIONS:
        empty = t["no_hotspots"] if key == "hotspots" else t["none"]
        parts += [f"<h2>{t[key]}</h2>", _table(sections.get(key), columns, t, empty)]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _windows(review: doc.Review, t: dict[str, str]) -> str:
    windows = review.get("windows") or {}
    spans = [
        f"{t[name]}: {w.get('first')} – {w.get('last')} ({w.get('days')} {t['days']})"
        for name in ("current", "previous", "last_year")
        if (w := windows.get(name))
    ]
    document: Mapping[str, Any] = review  # by name: a document may carry rules_version (Review does not)
    meta = [
        f"{t[k]}: {document[f]}"
        for k, f in (("generated", "generated_at"), ("rules", "rules_version"))
        if document.get(f)
    ]
    return f'<p class="meta">{escape(" · ".join(spans))}<br>{escape(" · ".join(meta))}</p>'


def _list(items: Sequence[str] | None, t: dict[str, str]) -> str:
    if not items:
        return f'<p class="none">{t["none"]}</p>'
    return "<ul>" + "".join(f"<li>{escape(str(item))}</li>" for item in items) + "</ul>"


def _number(value: Any, kind: str, t: dict[str, str]) -> str:
    """Counts whole with thousands separators, rates as percentages, times in seconds."""
    if value is None:
        return "—"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if kind == "rate":
        return f"{value:.2f}".rstrip("0").rstrip(".") + "%"
    if kind == "ratio":
        return f"{value:,.2f}"
    if kind == "seconds":
        return f"{value:,.0f} {t['seconds']}"
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"


def _number_cell(
    value: Any, kind: str, t: dict[str, str], parts: Mapping[str, Any] | None = None, why: str | None = None
) -> str:
    """A number; a ratio with its numerator and denominator; an unknown one with why, on hover."""
    text = _number(value, kind, t)
    if parts and value is not None:
        text += f" ({parts.get('numerator', 0):,}/{parts.get('denominator', 0):,})"
    tip = f' title="{escape(why)}"' if why and value is None else ""
    return f'<td class="n"{tip}>{escape(text)}</td>'


def _change(pct: float | None, sig: bool | None, p: float | None) -> str:
    """A change as the seed shows it, bold and marked when the test says it is real, grey when not."""
    text = escape(shown_pct(pct))
    tip = f' title="p = {p:.4g}"' if isinstance(p, int | float) else ""
    if sig is True:
        return f'<td class="n sig"{tip}>{text} ●</td>'
    if sig is False:
        return f'<td class="n ns"{tip}>{text}</td>'
    return f'<td class="n">{text}</td>'


def _value_cell(f: doc.Figure, window: str, kind: str, t: dict[str, str]) -> str:
    parts, why = (f.get("parts") or {}).get(window), (f.get("unknown") or {}).get(window)
    return _number_cell(f.get(window), kind, t, parts, why)


def _figures_table(figures: dict[str, doc.Figure], t: dict[str, str]) -> str:
    if not figures:
        return f'<p class="none">{t["none"]}</p>'
    heads = ["figure", "current", "previous", "vs_previous", "last_year", "vs_last_year"]
    rows = ["<tr>" + "".join(f"<th>{t[h]}</th>" for h in heads) + "</tr>"]
    for key, f in figures.items():
        by_name: Mapping[str, Any] = f  # its changes and verdicts, by window
        kind = f.get("kind", "count")
        cells = [f"<td>{escape(str(f.get('label') or key))}</td>", _value_cell(f, "current", kind, t)]
        for window in ("previous", "last_year"):
            vs = f"vs_{window}"
            cells.append(_value_cell(f, window, kind, t))
            cells.append(
                _change(
                    by_name.get(f"change_{vs}_pct"), by_name.get(f"significant_{vs}"), by_name.get(f"p_{vs}")
                )
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _unknown(figures: dict[str, doc.Figure], t: dict[str, str]) -> str:
    """Below the figures: each value shown as — and why it is unknown."""
    sep = "、" if t is TEXT["zh"] else ", "
    notes = [f"{sep.join(labels)} · {t[w]}: {why}" for w, why, labels in doc.unknowns(figures)]
    return "".join(f'<p class="meta unknown">— {escape(str(note))}</p>' for note in notes)


def _table(
    rows: Sequence[dict[str, Any]] | None, columns: Sequence[str], t: dict[str, str], empty: str = ""
) -> str:
    """A plain table of the given keys; a change column is shown and marked like the figures'."""
    if not rows:
        return f'<p class="none">{escape(empty or t["none"])}</p>'
    out = ["<tr>" + "".join(f"<th>{t[c]}</th>" for c in columns) + "</tr>"]
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            if c in ("change_pct", "change_vs_previous_pct"):
                cells.append(_change(value, row.get("significant"), row.get("p")))
            elif c == "change" and isinstance(value, int):  # a hotspot's calls, more or fewer
                cells.append(f'<td class="n">{value:+,}</td>')
            elif isinstance(value, int | float) and not isinstance(value, bool) and c != "risk_id":
                cells.append(_number_cell(value, "count", t))
            else:
                cells.append(f"<td>{escape('—' if value is None else str(value))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    table = "<table>" + "".join(out) + "</table>"
    if len(rows) <= FOLD_AFTER:
        return table
    return f"<details><summary>{len(rows):,} {escape(t['rows'])}</summary>{table}</details>"


FOLD_AFTER = 15  # a longer list (a year's conversions) is folded, so the page reads top to bottom


SECTIONS: list[tuple[str, list[str]]] = [
    ("rankings", ["code", "name", "cases_current", "cases_last_year", "change_pct", "calls_current",
                  "risks_found_current"]),
    ("hotspots", ["place", "kind", "community", "calls_current", "calls_previous", "change",
                  "change_vs_previous_pct"]),
    ("risk_communities", ["community", "station", "red", "orange"]),
    ("late_officers", ["officer", "officer_code", "station", "late"]),
    ("late_stations", ["station", "station_code", "late"]),
    ("conversions", ["case_id", "offence", "filed_at", "community", "address", "linked_by", "risk_id"]),
]  # fmt: skip


# --- the charts ----------------------------------------------------------------------------------------


def _chart(draw: Draw, review: doc.Review, t: dict[str, str], chart_id: str, label: str) -> str:
    """Draw and save under one style, as tick labels only take their font when the figure is saved."""
    style: dict[RcKeyType, Any] = {
        "font.family": chart_fonts(),
        "font.size": 9,
        "svg.fonttype": "none",
        "svg.hashsalt": chart_id,
    }
    with matplotlib.rc_context(style), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        return inline_svg(draw(review, t), chart_id, label)


@cache
def chart_fonts() -> list[str]:
    """A CJK font to measure with when this machine has one (the browser draws the text anyway)."""
    have = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in have] + ["DejaVu Sans"]


def inline_svg(fig: Figure, chart_id: str, label: str) -> str:
    """The figure as inline SVG: no XML prolog, namespaces or metadata, ids prefixed so charts never clash."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = svg.replace('id="', f'id="{chart_id}-').replace("url(#", f"url(#{chart_id}-")
    svg = svg.replace('href="#', f'href="#{chart_id}-')
    svg = re.sub(r"font-family:[^;\"]*", f"font-family: {CSS_FONTS}", svg)
    attrs = f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(label)}"'
    return svg.replace("<svg", attrs, 1)


def _figure(panels: int) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(9.5, 3.0), layout="constrained")
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def _counts_axis(ax: Axes) -> None:
    """Counts are whole and start at zero; an all-zero axis still spans 0 to 1 instead of ±0.06."""
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))


def _empty(ax: Axes, t: dict[str, str]) -> None:
    ax.text(0.5, 0.5, t["none"], transform=ax.transAxes, ha="center", va="center", color="#999", fontsize=14)


def _trend_chart(review: doc.Review, t: dict[str, str]) -> Figure:
    """Calls and cases week by week, this year solid against last year dashed."""
    trend: Mapping[str, Any] = review.get("trend") or {}
    weeks = list(trend.get("weeks") or [])
    fig, axes = _figure(2)
    year = trend.get("year")
    for ax, key in zip(axes, ("calls", "cases"), strict=True):
        series = trend.get(key) or {}
        this_year, last_year = list(series.get("this_year") or []), list(series.get("last_year") or [])
        ax.set_title(t[key])
        ax.set_xlabel(t["week"])
        if not (this_year or last_year):
            _empty(ax, t)
            continue
        labels = (str(year), str(year - 1)) if isinstance(year, int) else (t["this_year"], t["last_year"])
        ax.plot(weeks[: len(this_year)], this_year[: len(weeks)], color="#1f77b4", label=labels[0])
        ax.plot(weeks[: len(last_year)], last_year[: len(weeks)], color="#999", ls="--", label=labels[1])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _counts_axis(ax)
        ax.legend(frameon=False)
    return fig


def _colours_chart(review: doc.Review, t: dict[str, str]) -> Figure:
    """Risks found in the period and open now, one bar per colour in its own colour."""
    colours: Mapping[str, Any] = review.get("colours") or {}
    fig, axes = _figure(2)
    for ax, key in zip(axes, ("found", "open_now"), strict=True):
        counts = colours.get(key) or {}
        values = [counts.get(c) or 0 for c in COLOURS]
        bars = ax.bar([t[c] for c in COLOURS], values, color=list(COLOURS.values()))
        ax.bar_label(bars, labels=[f"{v:,}" for v in values])
        ax.set_title(t[key])
        ax.margins(y=0.15)
        _counts_axis(ax)
    return fig


def _response_chart(review: doc.Review, t: dict[str, str]) -> Figure:
    """Dispatch and arrival seconds per bin; bins are unequal, so they stand side by side, labelled."""
    hist = review.get("response_histogram") or {}
    edges = hist.get("edges_s") or []
    dispatch, arrival = list(hist.get("dispatch") or []), list(hist.get("arrival") or [])
    n = max(len(dispatch), len(arrival))
    fig, (ax,) = _figure(1)
    if len(edges) == n + 1:
        names = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(n)]
    else:
        names = [str(i + 1) for i in range(n)]
    x = list(range(n))
    ax.bar([i - 0.2 for i in x], (dispatch + [0] * n)[:n], width=0.4, color="#1f77b4", label=t["dispatch"])
    ax.bar([i + 0.2 for i in x], (arrival + [0] * n)[:n], width=0.4, color="#ff7f0e", label=t["arrival"])
    ax.set_xticks(x, names)
    ax.set_xlabel(t["seconds"])
    ax.legend(frameon=False)
    _counts_axis(ax)
    if not any(dispatch) and not any(arrival):
        _empty(ax, t)
    return fig


CHARTS: list[tuple[str, str, Draw]] = [
    ("chart-trend", "trend", _trend_chart),
    ("chart-colours", "colours", _colours_chart),
    ("chart-response", "response", _response_chart),
]
