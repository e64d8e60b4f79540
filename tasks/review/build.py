"""A review (复盘问效): the scope's figures against the previous period (环比) and last year (同比).

`build_review` turns the per-community counts of `tasks.review.figures` into the review a station
chief reads: each figure with its changes and whether they are more than chance, the level below
ranked, the communities with the most red and orange risks, the hotspots (places by calls), the late,
the conversions, and a few sentences to act on.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlmodel import Session

from bridgehead import audit
from bridgehead.db import dialect_insert, table_of
from bridgehead.rules import get_rules
from models.clock import local_date
from models.common import LOCAL_TZ, utcnow
from models.review import ReviewSnapshot
from tasks.review import figures as rf
from tasks.review import lifecycle, lists
from tasks.review.conversions import conversions
from tasks.review.document import Figure, Histogram, Parts, Ranking, Review, Trend
from tasks.review.findings import findings, label
from tasks.review.period import Period, Scope
from tasks.review.response import incidents_by_window
from tasks.review.stats import change_pct, significant

HISTOGRAM_EDGES_S = [0, 30, 60, 120, 180, 300, 600, 900, 1800, 3600]
COLOURS = ("red", "orange", "yellow", "blue")
CHANNELS = ("call", "visit", "analysis", "tip")


def figure(
    key: str,
    lang: str,
    values: dict[str, Any],
    period: Period,
    kind: str = "count",
    parts: dict[str, Parts] | None = None,
    recorded: dict[str, bool] | None = None,
    reasons: dict[str, str] | None = None,
) -> Figure:
    """One figure: its three values, exact changes, and (for counts) the Poisson verdicts; a ratio also
    its numerator and denominator per window, and why a value is unknown (`reasons`, by window, for a
    rate with nothing to judge). A window with nothing on record (`recorded`) has no value, no change
    and no verdict: unknown, not zero."""
    blank = [w for w in rf.WINDOWS if recorded is not None and not recorded.get(w, True)]
    measured, values = values, {w: None if w in blank else v for w, v in values.items()}
    current, previous, last_year = (values.get(w) for w in rf.WINDOWS)
    days = {w: period.windows[w].days for w in rf.WINDOWS}

    def verdict(name: str) -> tuple[bool | None, float | None]:
        if kind != "count":
            return None, None
        return significant(current, values.get(name), days["current"], days[name])

    (vs_previous, p_previous), (vs_last_year, p_last_year) = verdict("previous"), verdict("last_year")
    out: Figure = {
        "label": label(key, lang),
        "kind": kind,
        "current": current,
        "previous": previous,
        "last_year": last_year,
        "change_vs_previous_pct": change_pct(current, previous),
        "change_vs_last_year_pct": change_pct(current, last_year),
        "significant_vs_previous": vs_previous,
        "p_vs_previous": p_previous,
        "significant_vs_last_year": vs_last_year,
        "p_vs_last_year": p_last_year,
        "significant": vs_last_year,  # 同比 is the headline comparison
    }
    if parts is not None:
        out["parts"] = parts
        out["unknown"] = {
            w: lifecycle.unknown_reason(key, lang) for w in rf.WINDOWS if measured.get(w) is None
        }
    if reasons:
        out["unknown"] = {**out.get("unknown", {}), **reasons}
    if blank:
        # the figure's own reason, where it has one, says more than "nothing on record"
        out["unknown"] = {**dict.fromkeys(blank, rf.NO_RECORD[lang != "zh"]), **out.get("unknown", {})}
    return out


def _verdict(frame: pd.DataFrame, step: str) -> pd.Series:
    """True met, False missed, NA not judged: no time recorded and the target still ahead, or an
    incident taken in closed from the source's history with no time for the step (the source does
    not record it: that is not a miss)."""
    met = frame[f"{step}_met"].astype("boolean")
    return met.mask(met.isna() & frame[f"{step}_overdue"] & ~frame["history"], False)


def on_target(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per incident (`tasks.review.response.incidents`): both 1-3-5 targets met, and whether both could
    be judged."""
    dispatch, arrival = _verdict(frame, "dispatch"), _verdict(frame, "arrival")
    return (dispatch.fillna(False) & arrival.fillna(False)).astype(bool), dispatch.notna() & arrival.notna()


UNJUDGED = {  # why a rate has no value in a window: (zh, en)
    "response_on_target_pct": {
        "none": ("本期无警情", "no incident in the window"),
        "untimed": (
            "本期警情均无派警、到场时间记录（数据源未记录）：无法判断1-3-5达标",
            "no incident's 1-3-5 targets could be judged: the source records no dispatch or arrival times",
        ),
    },
    "follow_up_on_time_pct": {"none": ("本期无到期走访", "no follow-up fell due in the window")},
}


def unjudged_reason(key: str, frame: pd.DataFrame, lang: str) -> str:
    """Why `key` (a rate) has no value for the rows of `frame`: none at all, or none judged."""
    zh, en = UNJUDGED[key]["none" if frame.empty else "untimed"]
    return zh if lang == "zh" else en


def response_figures(frame: pd.DataFrame) -> dict[str, float | int | None]:
    """Quick response in a window: incidents, targets met (1-3-5), median and 90th-percentile times."""
    dispatch_s, arrival_s = frame["dispatch_s"], frame["arrival_s"]
    met_both, judged = on_target(frame)
    met = int(met_both.sum())

    def q(series: pd.Series, at: float) -> float | None:
        series = series.dropna()
        return None if series.empty else float(series.quantile(at))

    return {
        "incidents": len(frame),
        "response_targets_met": met,
        "response_on_target_pct": met / int(judged.sum()) * 100 if judged.any() else None,
        "dispatch_median_s": q(dispatch_s, 0.5),
        "dispatch_p90_s": q(dispatch_s, 0.9),
        "arrival_median_s": q(arrival_s, 0.5),
        "arrival_p90_s": q(arrival_s, 0.9),
    }


KINDS = {
    "response_on_target_pct": "rate",
    "follow_up_on_time_pct": "rate",
    "settlement_rate_pct": "rate",
    "open_risks_per_officer": "ratio",
    "dispatch_median_s": "seconds",
    "dispatch_p90_s": "seconds",
    "arrival_median_s": "seconds",
    "arrival_p90_s": "seconds",
}


def build_review(
    session: Session, scope: Scope, period: Period, lang: str = "zh", as_of: datetime | None = None
) -> Review:
    """Everything the review shows, as plain data (JSON-ready)."""
    as_of = as_of or utcnow()
    counts = rf.counts(session, period, scope)
    values: dict[str, dict[str, Any]] = {k: frame.sum().to_dict() for k, frame in counts.items()}
    by = rf.risks_found_by(session, period, scope)
    for channel in CHANNELS:
        values[f"risks_found.channel.{channel}"] = {w: by[w].get(f"channel.{channel}", 0) for w in rf.WINDOWS}
    for colour in COLOURS:
        values[f"risks_found.colour.{colour}"] = {w: by[w].get(f"colour.{colour}", 0) for w in rf.WINDOWS}
    converted = conversions(session, period, scope)
    for name, window in period.windows.items():
        filed = pd.to_datetime(converted["filed_at"], utc=True) if not converted.empty else pd.Series()
        inside = (
            converted[(filed >= window.start) & (filed < window.end)] if not converted.empty else converted
        )
        values.setdefault("conversions", {})[name] = len(inside)
        homicides = int((inside["offence"] == "homicide").sum()) if not inside.empty else 0
        values.setdefault("conversions_homicide", {})[name] = homicides
    incidents = incidents_by_window(session, period.windows, scope, as_of)
    unknown: dict[str, dict[str, str]] = {}
    for w, frame in incidents.items():
        for key, value in response_figures(frame).items():
            values.setdefault(key, {})[w] = value
        if values["response_on_target_pct"][w] is None:
            unknown.setdefault("response_on_target_pct", {})[w] = unjudged_reason(
                "response_on_target_pct", frame, lang
            )
    today, names = local_date(as_of), lists.names(session)
    stations = names["station_of"]
    follow_ups = {w: rf.follow_ups(session, period.windows[w], scope, today, stations) for w in rf.WINDOWS}
    for w, frame in follow_ups.items():
        due, on_time = int(frame["due"].sum()), int(frame["on_time"].sum())
        values.setdefault("follow_ups_due", {})[w] = due
        values.setdefault("follow_ups_on_time", {})[w] = on_time
        values.setdefault("follow_up_on_time_pct", {})[w] = on_time / due * 100 if due else None
        if not due:
            unknown.setdefault("follow_up_on_time_pct", {})[w] = unjudged_reason(
                "follow_up_on_time_pct", frame, lang
            )
    for w, found in rf.supervision(session, period, scope).items():
        for key, value in found.items():
            values.setdefault(key, {})[w] = value
    ends = lifecycle.lifecycle(session, period, scope)
    for key, end in ends.items():
        values[key] = end.values
    recorded, cycle = rf.on_record(session, period), rf.cycle_on_record(session, period)
    before_cycle = {w: rf.NO_CYCLE[lang != "zh"] for w in rf.WINDOWS if recorded[w] and not cycle[w]}
    figures = {
        key: figure(
            key,
            lang,
            values[key],
            period,
            KINDS.get(key, "count"),
            ends[key].parts if key in ends else None,
            {w: recorded[w] and (cycle[w] or key not in rf.CYCLE_FIGURES) for w in rf.WINDOWS},
            {**unknown.get(key, {}), **before_cycle} if key in rf.CYCLE_FIGURES else unknown.get(key),
        )
        for key in ORDER
        if key in values
    }
    open_now = rf.open_by_colour(session, scope)
    current = incidents["current"]
    late = lists.late(follow_ups["current"], names)
    review: Review = {
        "slug": slug(scope, period),
        "scope": scope.text,
        "scope_name": scope.name if scope.kind != "city" or lang == "zh" else "Whole city",  # 全市
        "scope_kind": scope.kind,
        "period": period.text,
        "lang": lang,
        "windows": {
            w: {"first": str(x.first), "last": str(x.last), "days": x.days} for w, x in period.windows.items()
        },
        "generated_at": as_of.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "unfinished": period.current.end > as_of,  # its figures still grow: compare with care
        "figures": figures,
        "rankings": rankings(scope, counts, recorded["last_year"]),
        "risk_communities": lists.risk_communities(open_now, names),
        "hotspots": lifecycle.hotspots(session, period, scope, names),
        "late_officers": late["late_officers"],
        "late_stations": late["late_stations"],
        "conversions": lists.conversion_rows(converted, period, names),
        "trend": trend(session, scope, period),
        "colours": {
            "found": {c: figures[f"risks_found.colour.{c}"]["current"] for c in COLOURS},
            "open_now": _open_now(open_now),
        },
        "response_histogram": histogram(current),
        "findings": [],
    }
    review["findings"] = findings(review, lang)
    return review


ORDER = (
    "calls",
    "cases_filed",
    "telecom_fraud_filed",
    "telecom_fraud_solved",
    "risks_found",
    *(f"risks_found.channel.{c}" for c in CHANNELS),
    *(f"risks_found.colour.{c}" for c in COLOURS),
    "risks_resolved",
    "settlement_rate_pct",
    "risks_back",
    "open_risks_per_officer",
    "conversions",
    "conversions_homicide",
    "incidents",
    "response_targets_met",
    "response_on_target_pct",
    "dispatch_median_s",
    "dispatch_p90_s",
    "arrival_median_s",
    "arrival_p90_s",
    "follow_ups_due",
    "follow_ups_on_time",
    "follow_up_on_time_pct",
    "supervision_notices",
    "capacity_notices",
    "accountability_entries",
    "tips_received",
    "tips_verified",
    "tips_rewarded",
)


def slug(scope: Scope, period: Period) -> str:
    """The artifact key: lowercase letters, digits and dashes (review-district-610302-2026-w47)."""
    return f"review-{scope.slug}-{period.text}".lower().replace(":", "-")


def rankings(
    scope: Scope, counts: dict[str, pd.DataFrame], last_year_on_record: bool = True
) -> list[Ranking]:
    """The level below the scope, ranked by the year-on-year change in criminal cases (largest rise first);
    with nothing on record a year back, by this period's cases alone (no change, no verdict)."""

    def per_unit(key: str) -> pd.DataFrame:
        frame = counts[key]
        return frame.groupby(frame.index.map(lambda c: scope.unit_of.get(c, c))).sum()

    cases, calls, risks = per_unit("cases_filed"), per_unit("calls"), per_unit("risks_found")
    rows: list[Ranking] = []
    for code, name in scope.units.items():
        now = int(cases["current"].get(code, 0))
        before = int(cases["last_year"].get(code, 0)) if last_year_on_record else None
        flag, _ = significant(now, before)
        rows.append(
            {
                "code": code,
                "name": name,
                "cases_current": now,
                "cases_last_year": before,
                "change_pct": change_pct(now, before),
                "significant": flag,
                "calls_current": int(calls["current"].get(code, 0)),
                "risks_found_current": int(risks["current"].get(code, 0)),
            }
        )
    return sorted(rows, key=lambda r: (-_rise(r), -r["cases_current"], r["code"]))


def _rise(row: Ranking) -> float:
    """A rise from none last year is the largest rise of all; none to none is no change."""
    if row["change_pct"] is None:
        return math.inf if row["cases_current"] else 0.0
    return float(row["change_pct"])


def trend(session: Session, scope: Scope, period: Period) -> Trend:
    """Weekly calls and cases of the period's year to its last whole week, against all of last year."""
    sunday = period.current.last - timedelta(days=period.current.last.isoweekday() % 7)
    year, reached, _ = sunday.isocalendar()  # the ISO year of the period's last whole week
    series = rf.weekly(session, year, period.current.end, scope)
    return {
        "year": year,
        "weeks": list(range(1, max(len(series["calls.this_year"]), len(series["calls.last_year"])) + 1)),
        "calls": {"this_year": series["calls.this_year"][:reached], "last_year": series["calls.last_year"]},
        "cases": {"this_year": series["cases.this_year"][:reached], "last_year": series["cases.last_year"]},
    }


def _open_now(frame: pd.DataFrame) -> dict[str, int]:
    totals = frame.groupby("level")["n"].sum() if not frame.empty else pd.Series(dtype=int)
    return {c: int(totals.get(c, 0)) for c in COLOURS}


def histogram(frame: pd.DataFrame) -> Histogram:
    """Dispatch and arrival seconds of the period's incidents, in the bins the chart shows."""
    edges = HISTOGRAM_EDGES_S

    def binned(step: str) -> list[int]:
        seconds = frame[f"{step}_s"].dropna().clip(0, edges[-1] - 1)
        return pd.cut(seconds, edges, right=False).value_counts(sort=False).astype(int).tolist()

    return {"edges_s": edges, "dispatch": binned("dispatch"), "arrival": binned("arrival")}


def save_snapshot(session: Session, review: Review, period: Period) -> None:
    """One row per scope and period, replaced by a rerun (late data changes figures); audited."""
    record = {
        "scope": review["scope"],
        "period": review["period"],
        "period_start": period.current.start,
        "period_end": period.current.end,
        "created_at": utcnow(),
        "created_by": audit.current_actor(),
        "rules_version": get_rules().version,
        "figures": review["figures"],
        "findings": review["findings"],
    }
    upsert = dialect_insert(session, table_of(ReviewSnapshot))
    session.connection().execute(
        upsert.on_conflict_do_update(
            index_elements=["scope", "period"],
            set_={
                k: upsert.excluded[k]
                for k in ("created_at", "created_by", "rules_version", "figures", "findings")
            },
        ),
        [record],
    )
    headline = {k: review["figures"][k]["current"] for k in ("calls", "cases_filed", "risks_found")}
    audit.append(
        session,
        [
            audit.Change(
                "review",
                "review_snapshot",
                f"{review['scope']}/{review['period']}",
                None,
                headline,
                f"review of {review['scope_name']} for {review['period']}",
            )
        ],
    )
