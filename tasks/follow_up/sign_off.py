"""The station chief's sign-off (站长签批): a red risk is settled only by a named chief, with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.db import frame_of
from bridgehead.rules import Rules
from models.common import Colour
from models.jurisdiction import Community, Officer, OfficerRole
from models.risk import Risk, RiskStatus
from models.signal import Signal
from tasks.follow_up.ends import Ends


def settle_by_chief(
    session: Session, rules: Rules, risk_id: int, by: str, reason: str, now: datetime
) -> Risk:
    """A red risk settled on the station chief's sign-off, with the visit that settled it as evidence."""
    return settle_by_chiefs(session, rules, [(risk_id, by)], reason, now)[0]


def settle_by_chiefs(
    session: Session, rules: Rules, sign_offs: list[tuple[int, str]], reason: str, now: datetime
) -> list[Risk]:
    """Red risks settled on their station chiefs' sign-offs, each audited as its chief's act; a morning's
    list in one pass. Any refusal refuses the whole list (nothing is half signed)."""
    ends, risks, acts = Ends(session, rules, now), [], []
    for risk_id, by in sign_offs:
        risk, chief, visit = _sign_off_checked(session, risk_id, by)
        first = len(ends.changes)
        ends.settle(risk, now, {"visit": visit, "chief": chief, "reason": reason}, rule="ends.chief_sign_off")
        risks.append(risk)
        acts.append((by.strip(), first, len(ends.changes)))
    changes = ends.write()
    for by, first, last in acts:
        audit.append(session, changes[first:last], actor=f"person:{by}")
    return risks


def _sign_off_checked(session: Session, risk_id: int, by: str) -> tuple[Risk, str, int]:
    """The risk, the chief's code and the settling visit, or the one-line reason it cannot be signed."""
    risk = session.get(Risk, risk_id)
    if risk is None:
        raise LookupError(f"there is no risk {risk_id}")
    if risk.level != Colour.red or risk.status not in (RiskStatus.open, RiskStatus.referred):
        raise ValueError(
            f"risk {risk_id} is {risk.level} and {risk.status}: only an open or referred red risk is settled "
            "by sign-off; the others are settled by a visit with outcome settled"
        )
    station: str = session.execute(
        select(col(Community.station_code)).where(col(Community.community_code) == risk.community_code)
    ).scalar_one()
    chiefs: Sequence[tuple[str, str]] = session.execute(
        select(col(Officer.officer_code), col(Officer.name)).where(
            col(Officer.station_code) == station, col(Officer.role) == OfficerRole.chief
        )
    ).all()
    named = [code for code, name in chiefs if by.strip() in (code, name)]
    if len(named) != 1:
        raise PermissionError(
            f"--by: {by!r} is not a chief of station {station}: only its chief signs off a red risk "
            f"({', '.join(f'{c} {n}' for c, n in chiefs) or 'it has no chief on record'})"
        )
    visit = session.execute(
        select(col(Signal.id), col(Signal.outcome), col(Signal.occurred_at))
        .where(col(Signal.risk_id) == risk_id, col(Signal.channel) == "visit")
        .order_by(col(Signal.occurred_at).desc(), col(Signal.id).desc())
        .limit(1)
    ).first()
    if visit is None or visit.outcome != "settled":
        raise ValueError(
            f"risk {risk_id} has no visit that settled it: "
            "record the visit with outcome settled (已化解) first"
        )
    return risk, named[0], int(visit.id)


def awaiting_sign_off(session: Session) -> pd.DataFrame:
    """Red risks whose latest visit settled them, waiting for their station chief (risk_id,
    station_code, chief): the chief's morning list of sign-offs."""
    red = (
        select(col(Risk.id))
        .where(col(Risk.level) == Colour.red, col(Risk.status).in_([RiskStatus.open, RiskStatus.referred]))
        .scalar_subquery()
    )
    visits = frame_of(
        session.execute(
            select(col(Signal.risk_id), col(Signal.outcome), col(Community.station_code))
            .join(Community, col(Community.community_code) == Signal.community_code)
            .where(col(Signal.channel) == "visit", col(Signal.risk_id).in_(red))
            .order_by(col(Signal.risk_id), col(Signal.occurred_at), col(Signal.id))
        ).all(),
        columns=["risk_id", "outcome", "station_code"],
    )
    latest = visits.drop_duplicates("risk_id", keep="last")
    latest = latest[latest["outcome"] == "settled"]
    chiefs = dict(
        session.execute(
            select(col(Officer.station_code), col(Officer.officer_code)).where(
                col(Officer.role) == OfficerRole.chief
            )
        ).all()
    )
    return latest.assign(chief=latest["station_code"].map(chiefs))[["risk_id", "station_code", "chief"]]
