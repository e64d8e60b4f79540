"""Unit status feeds (警力状态): what the patrol units reported on the urgent calls.

Every urgent call that got a response gets four lines (dispatched, en route, on scene, cleared)
from one unit of its station, at the call's own times, so the incidents of history carry real
response times. The lost child's search has its own file: the demo replays that night, and the
units' reports can only follow the dispatch the replay makes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .jurisdiction import Jurisdiction

URGENT_CATEGORIES = ("violence", "missing_person")
LOST_CHILD_DISPATCH_S = 40  # the replay dispatches 40 s after the call
LOST_CHILD_FOUND_S = 14 * 60


def _iso(stamps: pd.Series) -> pd.Series:
    return stamps.dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def build_unit_status(rng: np.random.Generator, j: Jurisdiction, calls: pd.DataFrame) -> pd.DataFrame:
    """Four status lines per urgent call with a response, from a unit of the call's station."""
    urgent = (calls["priority"].astype(int) == 1) | calls["category"].isin(URGENT_CATEGORIES)
    done = urgent & (calls["dispatched_at"] != "") & (calls["arrived_at"] != "") & (calls["closed_at"] != "")
    rows = calls.loc[done, ["call_id", "community_code", "dispatched_at", "arrived_at", "closed_at"]]
    station = rows["community_code"].map(j.communities.set_index("community_code")["station_code"])
    units = j.units.groupby("station_code")["unit_code"].apply(list)
    pick = rng.random(len(rows))
    rows = rows.assign(
        unit_code=[units[s][int(p * len(units[s]))] for s, p in zip(station, pick, strict=True)],
        incident_id="INC-" + rows["call_id"],
    )
    dispatched = pd.to_datetime(rows["dispatched_at"], utc=True)
    arrived = pd.to_datetime(rows["arrived_at"], utc=True)
    rolling = np.minimum(20, (arrived - dispatched).dt.total_seconds() // 4)
    rows["en_route_at"] = _iso(dispatched + pd.to_timedelta(rolling, unit="s"))
    return _long(
        rows,
        {
            "dispatched": "dispatched_at",
            "en_route": "en_route_at",
            "on_scene": "arrived_at",
            "cleared": "closed_at",
        },
    )


def build_lost_child_search(story: dict[str, Any]) -> pd.DataFrame:
    """Every unit of 陈仓派出所 on the search: on the way within a minute, on scene in under five."""
    call = pd.Timestamp(story["received_at"])
    rows = []
    for k, unit in enumerate(story["patrol_units"]):
        seconds = {"en_route": 55 + 5 * k, "on_scene": 170 + 40 * k, "cleared": LOST_CHILD_FOUND_S + 60 * k}
        rows += [
            {
                "unit_code": unit,
                "incident_id": f"INC-{story['call_id']}",
                "status": s,
                "at": call + pd.Timedelta(seconds=t),
            }
            for s, t in seconds.items()
        ]
    frame = pd.DataFrame(rows).sort_values(["at", "unit_code"], kind="stable")
    frame["at"] = _iso(frame["at"].dt.tz_convert("UTC"))
    return frame.reset_index(drop=True)


def _long(rows: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "unit_code": rows["unit_code"],
                "incident_id": rows["incident_id"],
                "status": status,
                "at": rows[col],
            }
        )
        for status, col in columns.items()
    ]
    order = {status: i for i, status in enumerate(columns)}
    frame = pd.concat(parts, ignore_index=True)
    frame["_order"] = frame["status"].map(order)
    frame = frame.sort_values(["at", "incident_id", "_order"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)
