"""A jurisdiction for an export (stations, communities, officers, units) drawn by its import profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bridgehead.import_profile import FIT_DEGREES, Coordinates, ImportProfile
from models.contracts import FILE_COLUMNS
from tasks.intake.profiles import read_source, render


def _positions(df: pd.DataFrame, coords: Coordinates | None) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) per row, NaN where the source has none (blank, zero, unreadable or off the globe)."""
    if coords is None:
        return np.full(len(df), np.nan), np.full(len(df), np.nan)
    x = np.array(pd.to_numeric(df[coords.x], errors="coerce"), dtype=float)  # a copy: written below
    y = np.array(pd.to_numeric(df[coords.y], errors="coerce"), dtype=float)
    x[x == 0] = np.nan
    y[y == 0] = np.nan
    if coords.origin is not None and coords.units_per_degree is not None:
        o, per = coords.origin, coords.units_per_degree
        lat, lon = o.lat + (y - o.y) / per["y"], o.lon + (x - o.x) / per["x"]
        off = (np.abs(lat - o.lat) > FIT_DEGREES) | (np.abs(lon - o.lon) > FIT_DEGREES)
    else:
        lat, lon = y, x
        off = np.zeros(len(df), dtype=bool)
    off |= ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    lat[off] = np.nan
    lon[off] = np.nan
    return lat, lon


def _write(folder: Path, name: str, rows: pd.DataFrame) -> None:
    rows = rows.loc[:, list(FILE_COLUMNS[name])]
    rows.to_csv(folder / name, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6f")


def _officers(stations: pd.DataFrame, communities: pd.DataFrame, patrol: int) -> pd.DataFrame:
    """One community officer per community (so every place is covered); a chief and patrol per station."""
    frames = [
        pd.DataFrame(
            {
                "officer_code": communities["community_code"] + "-CO",
                "name": "Community officer, " + communities["name"],
                "role": "community",
                "station_code": communities["station_code"],
                "community_code": communities["community_code"],
            }
        )
    ]
    posts = [("-CHIEF", "Chief", "chief")]
    posts += [(f"-P{i}", f"Patrol officer {i}", "patrol") for i in range(1, patrol + 1)]
    for suffix, title, role in posts:
        frames.append(
            pd.DataFrame(
                {
                    "officer_code": stations["station_code"] + suffix,
                    "name": f"{title}, " + stations["name"],
                    "role": role,
                    "station_code": stations["station_code"],
                    "community_code": "",
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("officer_code")


def profile_jurisdiction(src: Path, profile: ImportProfile, out: Path) -> Path:
    """Write a jurisdiction folder (the four brief files) covering every community the export names.

    One station per station value, one community per community value (its station: the one most of
    its rows name; a community no row places goes to the busiest station), one community officer per
    community, a chief and `patrol_officers` per station, `units` patrol units per station. Places sit
    at the mean position of their rows. Codes come from the profile's templates, so they are stable.
    """
    j = profile.jurisdiction
    if j is None:
        raise ValueError(f"profile {profile.name!r} has no `jurisdiction` section to build one from")
    df = read_source(src, profile)
    lat, lon = _positions(df, j.coordinates)
    rows = pd.DataFrame(
        {
            "community": render(df, j.community),
            "station": render(df, j.station),
            "community_name": render(df, j.community_name),
            "station_name": render(df, j.station_name),
            "lat": lat,
            "lon": lon,
        }
    )
    rows = rows[rows["community"] != ""]
    placed = rows[rows["station"] != ""]
    if placed.empty:
        raise ValueError(
            f"{src.name}: no row names both a community and a station ({j.community}, {j.station})"
        )
    located = rows.dropna(subset=["lat", "lon"])
    if j.center is not None:
        center = (j.center.lat, j.center.lon)
    elif not located.empty:
        center = (float(located["lat"].mean()), float(located["lon"].mean()))
    else:
        raise ValueError(f"profile {profile.name!r}: no row has coordinates; set jurisdiction.center")

    rows = rows.assign(
        community_name=rows["community_name"].replace("", np.nan).fillna(rows["community"]),
        station_name=rows["station_name"].replace("", np.nan).fillna(rows["station"]),
    )
    placed = rows[rows["station"] != ""]
    stations = placed.groupby("station").agg(name=("station_name", "first"), calls=("community", "size"))
    stations = stations.join(located[located["station"] != ""].groupby("station")[["lat", "lon"]].mean())
    stations = stations.fillna({"lat": center[0], "lon": center[1]})
    busiest = stations["calls"].idxmax()

    home = (
        placed.groupby(["community", "station"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["community", "n", "station"], ascending=[True, False, True])
        .drop_duplicates("community")
        .set_index("community")["station"]
    )
    communities = rows.groupby("community").agg(name=("community_name", "first"))
    communities["station_code"] = home.reindex(communities.index).fillna(busiest)
    communities = communities.join(located.groupby("community")[["lat", "lon"]].mean())
    at_station = stations.loc[communities["station_code"], ["lat", "lon"]].set_axis(communities.index)
    communities[["lat", "lon"]] = communities[["lat", "lon"]].fillna(at_station)

    stations = stations.reset_index(names="station_code").assign(district=j.district)
    communities = communities.reset_index(names="community_code").assign(
        kind=j.kind, has_police_office="true", smart_security="false", population=j.population
    )
    officers = _officers(stations, communities, j.patrol_officers)
    units = (
        pd.concat(
            [stations.assign(unit_code=stations["station_code"] + f"-U{i}") for i in range(1, j.units + 1)]
            or [stations.iloc[:0].assign(unit_code="")],
            ignore_index=True,
        )
        .assign(members=j.unit_members)
        .sort_values("unit_code")
    )

    out.mkdir(parents=True, exist_ok=True)
    _write(out, "stations.csv", stations)
    _write(out, "communities.csv", communities)
    _write(out, "officers.csv", officers)
    _write(out, "units.csv", units)
    return out
