"""The review as a document (研判报告): what `build_review` hands the findings, the report, the snapshot,
the flow's artifacts and the CLI, typed.

It stays a JSON document (the `.json` report, `review_snapshot.figures` and a flow's result are this
shape, key for key), so its types are TypedDicts rather than classes: the same dicts, checked.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

Value = int | float | None  # a window's value; None is unknown (the reason is in `unknown`)


class Parts(TypedDict):
    """A ratio's numerator and denominator in one window."""

    numerator: int
    denominator: int


class Figure(TypedDict):
    """One figure over the three windows (current, previous, last year), with its changes and verdicts."""

    label: str
    kind: str  # count | rate | ratio | seconds
    current: Value
    previous: Value
    last_year: Value
    change_vs_previous_pct: float | None
    change_vs_last_year_pct: float | None
    significant_vs_previous: bool | None
    p_vs_previous: float | None
    significant_vs_last_year: bool | None
    p_vs_last_year: float | None
    significant: bool | None  # vs last year (同比), the headline comparison
    parts: NotRequired[dict[str, Parts]]  # a ratio's, by window
    unknown: NotRequired[dict[str, str]]  # why a window has no value, by window


class WindowDates(TypedDict):
    first: str
    last: str
    days: int


class Ranking(TypedDict):
    """A unit of the level below the scope, by its criminal cases against last year."""

    code: str
    name: str
    cases_current: int
    cases_last_year: int | None
    change_pct: float | None
    significant: bool | None
    calls_current: int
    risks_found_current: int


class RiskCommunity(TypedDict):
    community_code: str
    community: str
    station: str
    red: int
    orange: int


class Hotspot(TypedDict):
    """A place (not a household) by calls this period against the last."""

    risk_id: int
    place: str
    kind: str | None
    community: str
    station: str
    calls_current: int
    calls_previous: int
    change: int
    change_vs_previous_pct: float | None
    significant: bool | None
    p: float | None


class LateOfficer(TypedDict):
    officer_code: str
    officer: str
    station: str
    late: int


class LateStation(TypedDict):
    station_code: str
    station: str
    late: int


class Late(TypedDict):
    late_officers: list[LateOfficer]
    late_stations: list[LateStation]


class Conversion(TypedDict):
    """A criminal case filed at a dispute's address or between its parties (民转刑)."""

    case_id: str
    offence: str
    filed_at: str
    community: str
    address: str
    linked_by: str
    risk_id: int


class Series(TypedDict):
    this_year: list[int]
    last_year: list[int]


class Trend(TypedDict):
    year: int
    weeks: list[int]
    calls: Series
    cases: Series


class Colours(TypedDict):
    found: dict[str, Value]
    open_now: dict[str, int]


class Histogram(TypedDict):
    edges_s: list[int]
    dispatch: list[int]
    arrival: list[int]


class Review(Late):
    """Everything the review shows, JSON-ready."""

    slug: str
    scope: str
    scope_name: str
    scope_kind: str
    period: str
    lang: str
    windows: dict[str, WindowDates]
    generated_at: str
    unfinished: bool  # the period's figures still grow: compare with care
    figures: dict[str, Figure]
    rankings: list[Ranking]
    risk_communities: list[RiskCommunity]
    hotspots: list[Hotspot]
    conversions: list[Conversion]
    trend: Trend
    colours: Colours
    response_histogram: Histogram
    findings: list[str]


def unknowns(figures: dict[str, Figure]) -> list[tuple[str, str, list[str]]]:
    """Why values are unknown, once per window and reason, with the labels of the figures it covers (a
    window before the follow-up cycle blanks ten figures for one reason: one note, not ten)."""
    notes: dict[tuple[str, str], list[str]] = {}
    for key, f in figures.items():
        for window, why in (f.get("unknown") or {}).items():
            notes.setdefault((window, why), []).append(f.get("label") or key)
    return [(window, why, labels) for (window, why), labels in notes.items()]
