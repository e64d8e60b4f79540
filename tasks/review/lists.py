"""The lists of a review (复盘问效): the communities with the most red and orange risks, the late
officers and stations, the conversions case by case; and the names they are shown with."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from models.common import LOCAL_TZ
from models.jurisdiction import Community, Officer, Station
from tasks.review.document import Conversion, Late, RiskCommunity
from tasks.review.period import Period


def names(session: Session) -> dict[str, dict[str, str]]:
    return {
        "community": dict(session.execute(select(col(Community.community_code), col(Community.name))).all()),
        "station": dict(session.execute(select(col(Station.station_code), col(Station.name))).all()),
        "station_of": dict(
            session.execute(select(col(Community.community_code), col(Community.station_code))).all()
        ),
        "officer": dict(session.execute(select(col(Officer.officer_code), col(Officer.name))).all()),
        "officer_station": dict(
            session.execute(select(col(Officer.officer_code), col(Officer.station_code))).all()
        ),
    }


def risk_communities(
    frame: pd.DataFrame, names: dict[str, dict[str, str]], top: int = 10
) -> list[RiskCommunity]:
    """The communities with the most open red, then orange, risks (the hotspots are places, by calls)."""
    hot = frame[frame["level"].isin(["red", "orange"])]
    if hot.empty:
        return []
    table = hot.pivot_table(index="community_code", columns="level", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=["red", "orange"], fill_value=0).sort_values(
        ["red", "orange"], ascending=False
    )
    return [
        {
            "community_code": code,
            "community": names["community"].get(code, code),
            "station": names["station"].get(names["station_of"].get(code, ""), ""),
            "red": int(r.red),
            "orange": int(r.orange),
        }
        for code, r in table.head(top).iterrows()
    ]


def late(frame: pd.DataFrame, names: dict[str, dict[str, str]], top: int = 10) -> Late:
    """The officers and stations with the most follow-ups of the period not done on time (`frame`: the
    period's follow-ups per officer and station, `tasks.review.figures.follow_ups`)."""

    def most(by: str) -> pd.Series:
        missed = frame.groupby(by)["missed"].sum()
        return missed[missed > 0].sort_values(ascending=False, kind="stable").head(top)

    officers, stations = most("officer_code"), most("station_code")
    return {
        "late_officers": [
            {
                "officer_code": code,
                "officer": names["officer"].get(code, ""),
                "station": names["station"].get(names["officer_station"].get(code, ""), ""),
                "late": int(n),
            }
            for code, n in officers.items()
        ],
        "late_stations": [
            {"station_code": code, "station": names["station"].get(code, code), "late": int(n)}
            for code, n in stations.items()
        ],
    }


def conversion_rows(
    frame: pd.DataFrame, period: Period, names: dict[str, dict[str, str]]
) -> list[Conversion]:
    if frame.empty:
        return []
    filed = pd.to_datetime(frame["filed_at"], utc=True)
    inside = frame[(filed >= period.current.start) & (filed < period.current.end)]
    return [
        {
            "case_id": r.case_id,
            "offence": r.offence,
            "filed_at": pd.Timestamp(r.filed_at).tz_convert(LOCAL_TZ).isoformat(),
            "community": names["community"].get(r.community_code, r.community_code),
            "address": r.address,
            "linked_by": r.linked_by,
            "risk_id": int(r.risk_id),
        }
        for r in inside.itertuples()
    ]
