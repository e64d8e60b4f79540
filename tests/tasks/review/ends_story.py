"""The hand-counted May 2026 of how risks end (against April 2026 and May 2025): risks opened by calls,
their ends written as the end rules write them, reopenings by later signals, capacity notices and places.
Shared as the `story` fixture by the review lifecycle tests and the review flow test.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from bridgehead.db import session_scope
from models.common import LOCAL_TZ
from models.follow_up import CapacityNotice, SweepDay
from models.risk import Risk, RiskLevelChange
from models.signal import Signal
from tests.factories import ingest, write_rows

SMART, URBAN = "61030301001", "61030301002"  # 陈仓派出所: 孙宪河, 李明 (community officers)
NANYING, BEIYING = "61032301001", "61032301002"  # 麦禾营派出所: 张伟 (community officer), 刘芳 (assistant)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def call(call_id: str, when: str, address: str, category: str, community: str = SMART) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "received_at": when,
        "community_code": community,
        "address": address,
        "category": category,
        "summary": "纠纷" if category != "public_order" else "聚集喧哗",
    }


def dispute(call_id: str, when: str, community: str = SMART) -> dict[str, Any]:
    return call(call_id, when, f"{call_id}号院", "family_neighbor", community)


def place_calls(name: str, address: str, community: str, *days: str) -> list[dict[str, Any]]:
    return [
        call(f"{name}-{i}", f"{day} 20:00:00", address, "public_order", community)
        for i, day in enumerate(days)
    ]


OPENING = [
    dispute("P1", "2026-03-10 10:00:00", URBAN),  # April's only dispute due: resolved 20 Mar, back 15 Apr
    dispute("D1", "2026-04-03 10:00:00"),  # resolved 3 May 10:00: exactly 30 days, in time
    dispute("D2", "2026-04-10 10:00:00"),  # resolved by the evidence rule 5 May: in time
    dispute("D3", "2026-04-05 10:00:00"),  # dormant 6 May 10:00: 31 days, too late
    dispute("D4", "2026-04-12 10:00:00"),  # never resolved
    dispute("D5", "2026-04-15 10:00:00"),  # resolved 25 Apr (in time), back on 10 May
    dispute("D6", "2026-05-10 10:00:00"),  # its 30 days end in June: not due in May
    dispute("D7", "2026-05-02 00:00:00"),  # 30 days end 1 June 00:00: June's, not May's
    dispute("D8", "2026-04-20 10:00:00"),  # settled 22 Apr, never resolved (woken on 12 May)
    call("N1", "2026-04-08 10:00:00", "N1号院", "public_order"),  # no dispute: resolved, not counted
    # places (hotspots): calls in May | April
    *place_calls("H1", "幸福路200号", SMART, "2026-04-02", "2026-04-20",
                 *(f"2026-05-{d:02d}" for d in (1, 3, 5, 7, 9))),
    *place_calls("H2", "和平街200号", URBAN, *(f"2026-04-{d:02d}" for d in (3, 6, 9, 12)), "2026-05-20"),
    *place_calls("H3", "幸福路201号", SMART, "2026-04-04", "2026-04-14", "2026-04-24"),  # none in May
    *place_calls("H4", "南营村200号", NANYING, "2026-05-11", "2026-05-12"),
]  # fmt: skip
PLACES = {"H1": "shop", "H2": "crossing", "H3": "hospital", "H4": "school"}
LATER = [
    dispute("P1", "2026-04-15 10:00:00", URBAN) | {"call_id": "P1-back"},  # reopens P1: back in April
    dispute("D5", "2026-05-10 10:00:00") | {"call_id": "D5-back"},  # reopens D5: back in May
    dispute("D8", "2026-05-12 10:00:00") | {"call_id": "D8-again"},  # wakes a settled risk: not "back"
]
CAPACITY = [  # (officer, station, day): 3 in May, 1 in April, none in May 2025
    ("O000001", "61030301", "2026-05-03"),
    ("O000001", "61030301", "2026-05-04"),
    ("O000005", "61032301", "2026-05-10"),
    ("O000002", "61030301", "2026-04-30"),
    ("O000002", "61030301", "2026-06-01"),  # June
]


def risk_of(source_id: str) -> int:
    with session_scope() as s:
        rid = s.execute(select(Signal.risk_id).where(Signal.source_id == source_id)).scalar_one()
    assert rid is not None
    return int(rid)


def end(source_id: str, at: str, rule: str, status: str = "resolved") -> None:
    """What an end rule writes: the risk's status and a level-history row naming the rule."""
    rid = risk_of(source_id)
    with session_scope() as s:
        level = s.execute(select(Risk.level).where(Risk.id == rid)).scalar_one()
        when = {"resolved_at": local(at)} if status == "resolved" else {"settled_at": local(at)}
        s.execute(update(Risk).where(Risk.id == rid).values(status=status, **when))
        cause, reasons = (
            ("evidence", ["evidence.calm_2", "evidence.resolved"]) if rule == "evidence" else ("end", [rule])
        )
        s.execute(
            insert(RiskLevelChange).values(
                risk_id=rid, at=local(at), from_level=level, to_level=level, cause=cause, reasons=reasons,
                rules_version="test", actor="test",
            )
        )  # fmt: skip


@pytest.fixture
def story(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    ingest(write_rows(tmp_path / "open" / "calls.csv", *OPENING))
    with session_scope() as s:
        for name, kind in PLACES.items():
            s.execute(update(Risk).where(Risk.id == risk_of(f"{name}-0")).values(place_kind=kind))
        for officer, station, day in CAPACITY:
            s.execute(
                insert(CapacityNotice).values(
                    station_code=station, officer_code=officer, issued_on=date.fromisoformat(day), owed=10,
                    capacity=8, overflow=2,
                )
            )  # fmt: skip
        s.add(SweepDay(day=date(2026, 3, 1), actor="test", summary={}))  # the follow-up cycle began in March
    end("P1", "2026-03-20 10:00:00", "ends.return_visit")
    end("D1", "2026-05-03 10:00:00", "ends.return_visit")
    end("D2", "2026-05-05 10:00:00", "evidence")
    end("D3", "2026-05-06 10:00:00", "ends.dormant")
    end("D5", "2026-04-25 10:00:00", "ends.return_visit")
    end("N1", "2026-04-10 10:00:00", "ends.return_visit")
    end("D8", "2026-04-22 10:00:00", "ends.settled", status="settled")
    ingest(write_rows(tmp_path / "later" / "calls.csv", *LATER))
    calm = {
        "visit_id": "V-D1",
        "visited_at": "2026-05-20 10:00:00",
        "risk_id": risk_of("D1"),
        "concern": "none",
        "address": "D1号院",
        "category": "family_neighbor",
        "summary": "回访",
    }
    ingest(write_rows(tmp_path / "visit" / "visits.csv", calm), "visit")  # a calm visit: D1 stays resolved
