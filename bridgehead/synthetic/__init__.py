"""A synthetic Baoji: two years of a police station network's prevention data.

``generate(out)`` writes the jurisdiction (stations, communities, officers, patrol units), a
year of the four channels plus the previous year (110 calls, visits, data analysis, tips), the
criminal case register, the patrol units' status feeds and a ``manifest.json`` into ``out``.
The files use the formats of the product brief, so they load through the same path as real data.
The seed report's figures and three stories are planted so reviews and scenarios have something known to find.

Same ``(seed, scale, end)`` gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from . import names, places
from .cases import build_cases
from .channels import build_analysis, build_calls, build_tips, build_visits
from .context import Context, stream
from .jurisdiction import STORY_PLACES, Jurisdiction, build_jurisdiction
from .params import GENERATOR_VERSION, THREADS, scaled
from .responses import LOST_CHILD_DISPATCH_S, LOST_CHILD_FOUND_S, build_lost_child_search, build_unit_status
from .stories import StoryRows, build_stories
from .threads import build_threads
from .timeline import Windows
from .writer import COLUMNS, write_csv, write_manifest

__all__ = ["COLUMNS", "GENERATOR_VERSION", "Dataset", "build", "generate"]


@dataclass
class Dataset:
    """The generated city in memory: each file's frame, each row's dispute thread (-1: none) and story
    tag, and the manifest. `generate` writes it; the simulator (`world`) replays it day by day."""

    ctx: Context
    frames: dict[str, pd.DataFrame]
    threads: dict[str, np.ndarray]
    tags: dict[str, np.ndarray]
    manifest: dict[str, Any]


def generate(out: Path, seed: int = 7, scale: float = 1.0, end: date | None = None) -> dict:
    """Write the synthetic dataset into ``out`` (created if needed) and return the manifest.

    ``end`` is the day after the last day of data (default: today in Asia/Shanghai): the
    current year is [end - 365 days, end) and the previous year the 365 days before it.
    ``scale`` multiplies the event volumes, never the jurisdiction.
    """
    data = build(seed, scale, end)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in data.frames.items():
        write_csv(frame, out / name, "unit_status.csv" if name.startswith("unit_status") else None)
    write_manifest(data.manifest, out / "manifest.json")
    return data.manifest


def build(seed: int = 7, scale: float = 1.0, end: date | None = None) -> Dataset:
    """The synthetic dataset in memory (see `generate`)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    if end is None:
        end = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    windows = Windows(end)

    j = build_jurisdiction()
    residents = places.Residents(j)
    keys = names.PersonKeys(stream(seed, "people"))
    threads, signals = build_threads(
        stream(seed, "threads"), j, residents, keys, windows, max(1, scaled(THREADS, scale))
    )
    ctx = Context(seed, scale, windows, j, residents, keys, threads, signals)
    stories = build_stories(ctx)

    calls, call_tags, call_threads = build_calls(ctx, stories.call_part())
    visits, visit_tags, visit_threads = build_visits(ctx, stories.visit_part())
    analysis, analysis_threads = build_analysis(ctx)
    tips, tip_threads = build_tips(ctx, stories.tip_part())
    cases, case_threads, goal = build_cases(ctx)

    frames = {
        "stations.csv": j.stations,
        "communities.csv": j.communities,
        "officers.csv": j.officers,
        "units.csv": j.units,
        "places.csv": _places(j),
        "calls.csv": calls,
        "visits.csv": visits,
        "analysis.csv": analysis,
        "tips.csv": tips,
        "cases.csv": cases,
        "unit_status.csv": build_unit_status(stream(seed, "units"), j, calls),
    }
    story_facts = _stories(ctx, stories, calls, call_tags, visits, visit_tags, tips)
    frames["unit_status_lost_child.csv"] = build_lost_child_search(story_facts["lost_child"])
    rows = {name: len(frame) for name, frame in frames.items()}

    yearly = {
        "calls": _per_year(windows, calls["received_at"]),
        "visits": _per_year(windows, visits["visited_at"]),
        "analysis": _per_year(windows, analysis["produced_at"]),
        "tips": _per_year(windows, tips["received_at"]),
        "cases_filed": _per_year(windows, cases["filed_at"]),
        "telecom_fraud_solved": _per_year(
            windows, cases.loc[cases["offence"] == "telecom_fraud", "solved_at"]
        ),
    }
    manifest: dict[str, Any] = {
        "generator": "bridgehead.synthetic",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "end": end.isoformat(),
        "timezone": "Asia/Shanghai",
        "windows": windows.manifest(),
        "rows": rows,
        "per_year": yearly,
        "year_on_year_percent": {
            "cases_filed": _change(yearly["cases_filed"]),
            "telecom_fraud_solved": _change(yearly["telecom_fraud_solved"]),
        },
        "case_targets": {
            "filed": list(goal.filed),
            "telecom_fraud_solved": list(goal.telecom_solved),
        },
        "jurisdiction": j.counts(),
        "repeat_patterns": _repeat_summary(
            ctx, call_threads, visit_threads, analysis_threads, tip_threads, case_threads
        ),
        "conversions": _conversions(
            ctx,
            cases,
            case_threads,
            {
                "calls.csv": (calls, call_threads),
                "visits.csv": (visits, visit_threads),
                "analysis.csv": (analysis, analysis_threads),
                "tips.csv": (tips, tip_threads),
            },
        ),
        "stories": story_facts,
    }
    return Dataset(
        ctx,
        frames,
        {"calls.csv": call_threads, "visits.csv": visit_threads, "analysis.csv": analysis_threads,
         "tips.csv": tip_threads, "cases.csv": case_threads},
        {"calls.csv": call_tags, "visits.csv": visit_tags},
        manifest,
    )  # fmt: skip


def _per_year(windows: Windows, stamps: pd.Series) -> dict[str, int]:
    text = stamps[stamps != ""].str.slice(0, 10)
    cut = windows.current_start.isoformat()
    start = windows.start.isoformat()
    stop = windows.end.isoformat()
    return {
        "previous": int(((text >= start) & (text < cut)).sum()),
        "current": int(((text >= cut) & (text < stop)).sum()),
    }


def _change(counts: dict[str, int]) -> float | None:
    """Year-on-year change in percent, rounded to 2 decimals half up (the seed's way)."""
    before, now = counts["previous"], counts["current"]
    if before == 0:
        return None
    pct = (Decimal(now) - Decimal(before)) / Decimal(before) * 100
    return float(pct.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _repeat_summary(ctx: Context, *thread_columns: np.ndarray) -> dict[str, int]:
    """How many recurring disputes there are and how many reach several channels."""
    n = ctx.threads.comm.size
    channels = np.zeros(n, dtype=np.int64)
    for col in thread_columns[:4]:
        present = np.zeros(n, dtype=bool)
        present[col[col >= 0]] = True
        channels += present
    size = np.bincount(ctx.signals.thread, minlength=n)
    return {
        "threads": int(n),
        "thread_signals": int(size.sum()),
        "threads_with_3_or_more_signals": int((size >= 3).sum()),
        "threads_with_5_or_more_signals": int((size >= 5).sum()),
        "threads_in_2_or_more_channels": int((channels >= 2).sum()),
        "threads_ending_in_violence": int(ctx.threads.violent_end.sum()),
        "labor_threads_with_10_or_more_workers": int((ctx.threads.headcount >= 10).sum()),
    }


def _conversions(
    ctx: Context,
    cases: pd.DataFrame,
    case_threads: np.ndarray,
    sources: dict[str, tuple[pd.DataFrame, np.ndarray]],
) -> dict[str, Any]:
    """The cases that grew out of a dispute thread; the homicides listed with their signals."""
    linked = case_threads >= 0
    homicide = linked & (cases["offence"].to_numpy() == "homicide")
    listed = []
    for i in np.flatnonzero(homicide):
        th = int(case_threads[i])
        prior: dict[str, list[str]] = {}
        for name, (frame, col) in sources.items():
            ids = frame.iloc[np.flatnonzero(col == th), 0].tolist()
            if ids:
                prior[name] = ids
        listed.append(
            {
                "case_id": cases.at[i, "case_id"],
                "filed_at": cases.at[i, "filed_at"],
                "community_code": cases.at[i, "community_code"],
                "address": cases.at[i, "address"],
                "party_keys": cases.at[i, "party_keys"],
                "earlier_signals": prior,
            }
        )
    return {
        "linked_cases": int(linked.sum()),
        "linked_homicides": listed,
        "by_offence": {
            str(k): int(v) for k, v in sorted(cases.loc[linked, "offence"].value_counts().items())
        },
    }


def _places(j: Jurisdiction) -> pd.DataFrame:
    """places.csv: the square of the lost-child story, a public space whose callers are strangers."""
    square = j.special["lost_child"]
    return pd.DataFrame(
        {
            "address": [STORY_PLACES["lost_child"][3]],
            "community_code": [j.comm_code[square]],
            "kind": ["public_space"],
        }
    )


def _stories(
    ctx: Context,
    stories: StoryRows,
    calls: pd.DataFrame,
    call_tags: np.ndarray,
    visits: pd.DataFrame,
    visit_tags: np.ndarray,
    tips: pd.DataFrame,
) -> dict[str, Any]:
    j: Jurisdiction = ctx.j
    st = j.stations

    def place(key: str) -> dict[str, str]:
        c = j.special[key]
        s = j.special[f"{key}_station"]
        return {
            "station_code": st.at[s, "station_code"],
            "station_name": st.at[s, "name"],
            "district": st.at[s, "district"],
            "community_code": j.comm_code[c],
            "community_name": j.comm_name[c],
        }

    lost = calls[call_tags == "lost_child"].iloc[0]
    chencang = place("lost_child")["station_code"]
    units = j.units[j.units["station_code"] == chencang]
    patrol = j.officers[(j.officers["station_code"] == chencang) & (j.officers["name"] == "王志英")]
    melon = visits[visit_tags == "melon_field"].iloc[0]
    feud_calls = calls[call_tags == "feud_call"]
    feud_visits = visits[visit_tags == "feud_visit"]
    calm = visits[visit_tags == "feud_calm"]
    feud_place = place("neighbour_feud")
    wage = stories.tips[0]
    wage_tip = tips[tips["tip_id"] == wage["tip_id"]].iloc[0]
    wage_comm = int(str(wage["comm"]))
    return {
        "lost_child": place("lost_child")
        | {
            "call_id": lost["call_id"],
            "received_at": lost["received_at"],
            "date": lost["received_at"][:10],
            "address": lost["address"],
            "category": lost["category"],
            "priority": int(lost["priority"]),
            "party_keys": stories.people["lost_child_parents"],
            "patrol_units": units["unit_code"].tolist(),
            "patrol_members": int(units["members"].sum()),
            "patrol_officer": patrol["officer_code"].iloc[0],
            "incident_code": f"INC-{lost['call_id']}",
            "replay_dispatch_after_s": LOST_CHILD_DISPATCH_S,
            "found_after_s": LOST_CHILD_FOUND_S,
            "search_feed": "unit_status_lost_child.csv",
        },
        "melon_field": place("melon_field")
        | {
            "visit_id": melon["visit_id"],
            "visited_at": melon["visited_at"],
            "date": melon["visited_at"][:10],
            "officer_code": melon["officer_code"],
            "address": melon["address"],
            "category": melon["category"],
            "concern": melon["concern"],
            "farmers": stories.people["melon_farmers"],
            "buyer": stories.people["melon_buyer"][0],
        },
        "neighbour_feud": feud_place
        | {
            "address": feud_calls["address"].iloc[0],
            "officer_code": feud_visits["officer_code"].iloc[0],
            "officer_name": "孙宪河",
            "families": {"刘": stories.people["liu_family"], "曹": stories.people["cao_family"]},
            "constant_pair": [stories.people["liu_family"][0], stories.people["cao_family"][0]],
            "call_ids": feud_calls["call_id"].tolist(),
            "call_dates": feud_calls["received_at"].str.slice(0, 10).tolist(),
            "visit_ids": feud_visits["visit_id"].tolist(),
            "calm_visit_ids": calm["visit_id"].tolist(),
            "calm_visit_dates": calm["visited_at"].str.slice(0, 10).tolist(),
            "expected_colour": "orange",
        },
        # the contact stays in tips.csv: it is the tipster's, not the scenario's
        "tip": {
            "tip_id": wage_tip["tip_id"],
            "received_at": wage_tip["received_at"],
            "date": wage_tip["received_at"][:10],
            "station_code": st.at[int(j.comm_station[wage_comm]), "station_code"],
            "community_code": wage_tip["community_code"],
            "community_name": j.comm_name[wage_comm],
            "address": wage_tip["address"],
            "category": wage_tip["category"],
            "summary": wage_tip["summary"],
            "wants_reward": True,
            "officer_code": j.comm_officer[wage_comm],
            "outcome": "risk_found",
        },
    }
