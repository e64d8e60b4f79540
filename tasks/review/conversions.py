"""Conversions (民转刑): criminal cases that grew out of a dispute the register already knew about.

A case counts when a signal in a dispute category on a risk came within the 12 months before its
filing, at the same community and normalised address, or sharing a person key with the case. The
signal's category is judged, not the risk's: a feud's risk often turns `violence` before the killing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, select
from sqlmodel import Session, col

from bridgehead.db import frame_of, read, stored_time
from models.case import CaseParty, CriminalCase
from models.common import DISPUTE_CATEGORIES
from models.signal import Signal, SignalParty
from tasks.review.figures import in_scope
from tasks.review.period import Period, Scope

YEAR = timedelta(days=365)  # a criminal case within 12 months of a dispute signal


def conversions(session: Session, period: Period, scope: Scope) -> pd.DataFrame:
    """Criminal cases filed in any window that follow a dispute risk's signal (民转刑), one row per case.

    Linked by address (the same community and normalised address) or by parties (a person key the
    case shares with the signal), the signal at most 12 months before the filing. The cases are read
    first and the signals looked up by the addresses and parties of the cases (a semi-join): a join
    left to the planner walks every dispute signal of a province against every case of its community.
    """
    earliest = min(w.start for w in period.windows.values())
    latest = max(w.end for w in period.windows.values())
    filed = and_(
        col(CriminalCase.filed_at) >= earliest,
        col(CriminalCase.filed_at) < latest,
        in_scope(scope, CriminalCase.community_code),
    )
    cases = frame_of(
        read(
            session,
            select(
                col(CriminalCase.id),
                col(CriminalCase.case_id),
                col(CriminalCase.offence),
                col(CriminalCase.filed_at),
                col(CriminalCase.community_code),
                col(CriminalCase.address),
                col(CriminalCase.address_norm),
            ).where(filed),
        ).all(),
        columns=["id", "case_id", "offence", "filed_at", "community_code", "address", "address_norm"],
    )
    if cases.empty:
        return cases

    def dispute(category: Any) -> Any:
        """A dispute signal on a risk (the risk may since have turned violent)."""
        return and_(
            category.in_(sorted(DISPUTE_CATEGORIES)),
            col(Signal.risk_id).is_not(None),
            col(Signal.occurred_at) >= earliest - YEAR,
        )

    # the cases' addresses and parties asked of the database, not sent to it: lists of thousands of
    # values cost more to bind and plan than the lookups they ask for
    at_address = frame_of(
        read(
            session,
            select(
                col(Signal.community_code),
                col(Signal.address_norm),
                stored_time(Signal.occurred_at),
                col(Signal.risk_id),
            ).where(  # by the (address, category) index
                dispute(col(Signal.category)),
                col(Signal.address_norm).in_(select(col(CriminalCase.address_norm)).where(filed)),
            ),
        ).all(),
        ["community_code", "address_norm", "signal_at", "risk_id"],
    )
    by_address = cases.merge(at_address, on=["community_code", "address_norm"]).assign(linked_by="address")
    case_parties = (
        select(col(CaseParty.case_id), col(CaseParty.party_key))
        .join(CriminalCase, col(CriminalCase.id) == CaseParty.case_id)
        .where(filed)
    )
    parties = frame_of(read(session, case_parties).all(), ["id", "party_key"])
    with_party = frame_of(
        read(
            session,
            select(col(SignalParty.party_key), stored_time(Signal.occurred_at), col(Signal.risk_id))
            .join(Signal, col(Signal.id) == SignalParty.signal_id)
            .where(
                # `|| ''` keeps SQLite off the category index, so it looks signals up by party (by
                # category it read every dispute signal, for minutes)
                dispute(col(Signal.category) + ""),
                col(SignalParty.party_key).in_(case_parties.with_only_columns(col(CaseParty.party_key))),
            ),
        ).all(),
        ["party_key", "signal_at", "risk_id"],
    )
    by_parties = cases.merge(parties.merge(with_party, on="party_key"), on="id").assign(linked_by="parties")
    frame = pd.concat([by_address, by_parties.drop(columns="party_key")], ignore_index=True)
    if frame.empty:
        return frame.drop(columns=["address_norm", "signal_at"])
    filed, signal = pd.to_datetime(frame["filed_at"], utc=True), pd.to_datetime(frame["signal_at"], utc=True)
    frame = frame[(signal < filed) & (signal >= filed - YEAR)]
    frame = frame.sort_values(["id", "linked_by", "signal_at"]).drop_duplicates("id", keep="last")
    return frame.drop(columns=["signal_at", "address_norm"]).sort_values("filed_at").reset_index(drop=True)
