"""The city's hand-counted March 2026 (against February 2026 and March 2025): the rows in the brief's file
formats, loaded through intake and the daily sweep, and its figures counted by hand; shared by the review
build tests and the review command-line tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from bridgehead.db import session_scope
from models.common import LOCAL_TZ
from models.reward import RewardEntry
from models.signal import Signal
from models.tip import Tip
from tests.factories import ingest, sweep_stages, write_rows

PERIOD = "2026-03"
SMART, URBAN = (
    "61030301001",
    "61030301002",
)  # 陈仓派出所 (金台区): 盛世广场社区 (smart security), 陈仓大道社区
NANYING, BEIYING = "61032301001", "61032301002"  # 麦禾营派出所 (岐山县): two villages

YELLOW_CALL = {"category": "family_neighbor", "summary": "邻里因噪音争吵"}
BLUE_CALL = {"category": "public_order", "summary": "深夜聚众喧哗"}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def traffic(call_id: str, when: str, community: str = SMART) -> dict[str, Any]:
    """A call that is counted and opens no risk."""
    return {"call_id": call_id, "received_at": when, "community_code": community, "category": "traffic"}


def urgent(call_id: str, when: str, community: str, dispatch_s: int, arrive_s: int) -> dict[str, Any]:
    """A priority-1 call taken in already closed, with its response times: a history incident."""
    at = local(when)
    return {
        "call_id": call_id,
        "received_at": when,
        "community_code": community,
        "address": f"{call_id}路口",
        "category": "traffic",
        "priority": 1,
        "summary": "车祸有人受伤",
        "dispatched_at": (at + timedelta(seconds=dispatch_s)).isoformat(),
        "arrived_at": (at + timedelta(seconds=arrive_s)).isoformat(),
        "closed_at": (at + timedelta(hours=1)).isoformat(),
        "disposition": "resolved_on_scene",
    }


def case(case_id: str, filed: str, community: str, address: str, offence: str = "theft", **more: str) -> dict:
    return {
        "case_id": case_id,
        "filed_at": filed,
        "community_code": community,
        "address": address,
        "offence": offence,
        **more,
    }


CALLS = [
    # March 2026: 24 traffic calls, 3 urgent, 2 risk calls (+ 1 from the follow-up story) = 30
    traffic("T-0301a", "2026-03-01 00:00:00"),  # the first moment of March, local time
    traffic("T-0301b", "2026-02-28T16:30:00+00:00"),  # 1 March 00:30 in Shanghai
    traffic("T-0331", "2026-03-31 23:59:59"),
    *(traffic(f"T-03{day:02d}", f"2026-03-{day:02d} 09:00:00") for day in range(2, 23)),
    urgent("U1", "2026-03-05 10:00:00", SMART, 30, 150),  # on target (1 min, 3 min)
    urgent("U2", "2026-03-12 10:00:00", URBAN, 90, 240),  # dispatched late: missed
    urgent("U3", "2026-03-20 10:00:00", NANYING, 50, 600),  # a village: 15 minutes: on target
    {"call_id": "R1", "received_at": "2026-03-06 15:00:00", "community_code": URBAN, "address": "和平街5号",
     **YELLOW_CALL},  # a yellow risk
    {"call_id": "R2", "received_at": "2026-03-16 15:00:00", "address": "幸福路8号",
     "category": "family_neighbor", "summary": "邻居持刀威胁"},  # a red risk (not urgent: no incident)
    # not in any window
    traffic("T-0401", "2026-04-01 00:00:00"),
    traffic("T-0401b", "2026-03-31T16:30:00Z"),  # 1 April 00:30 in Shanghai
    traffic("T-0131", "2026-01-31 23:59:59"),
    traffic("T-250228", "2025-02-28 23:59:59"),
    # February 2026: 9 traffic, 1 urgent (+ 2 from the follow-up story) = 12
    traffic("T-0201", "2026-02-01 00:00:00"),
    traffic("T-0228", "2026-02-28 23:59:59"),
    *(traffic(f"T-02{day:02d}", f"2026-02-{day:02d} 09:00:00") for day in range(3, 10)),
    urgent("U4", "2026-02-10 09:00:00", SMART, 20, 200),  # 200 s in a smart-security estate: missed
    # March 2025: 7 traffic, 2 urgent, 1 risk call = 10
    traffic("T-250301", "2025-03-01 00:00:00"),
    traffic("T-250331", "2025-03-31 23:59:59"),
    *(traffic(f"T-2503{day:02d}", f"2025-03-{day:02d} 09:00:00") for day in range(10, 15)),
    urgent("U5", "2025-03-05 10:00:00", SMART, 40, 170),  # on target
    urgent("U6", "2025-03-20 10:00:00", BEIYING, 45, 1000),  # over 15 minutes in a village: missed
    {"call_id": "R9", "received_at": "2025-03-12 15:00:00", "community_code": URBAN, "address": "和平街9号",
     "category": "labor_debt", "summary": "拖欠工资"},  # a yellow risk
    # dispute signals before the windows, which later cases follow (民转刑) or do not
    {"call_id": "S-addr", "received_at": "2025-10-15 10:00:00", "address": "幸福路20号",
     "category": "family_neighbor", "summary": "邻里因漏水争吵"},
    {"call_id": "S-prev", "received_at": "2026-01-20 10:00:00", "community_code": URBAN,
     "address": "和平街60号", "category": "labor_debt", "summary": "讨要欠款", "party_keys": "P5;P6"},
    {"call_id": "S-13mo", "received_at": "2025-02-20 10:00:00", "community_code": URBAN,
     "address": "和平街40号", "category": "labor_debt", "summary": "拖欠工资"},
    {"call_id": "S-blue", "received_at": "2026-01-10 22:00:00", "address": "幸福路50号", **BLUE_CALL},
]  # fmt: skip

VISITS = [
    {"visit_id": "R3", "visited_at": "2026-03-18 10:00:00", "address": "幸福路9号", "category": "violence",
     "summary": "两人互殴", "concern": "high"},  # an orange risk found by a visit
    {"visit_id": "R8", "visited_at": "2025-03-18 10:00:00", "officer_code": "O000005",
     "community_code": NANYING, "address": "南营村9组", "category": "marriage_romance", "summary": "夫妻争吵",
     "concern": "medium"},  # a yellow risk, March 2025
]  # fmt: skip

ANALYSIS = [
    {"signal_id": "R4", "produced_at": "2026-03-22 10:00:00", "source": "研判平台", "community_code": BEIYING,
     "address": "北营村3组", "category": "land_property", "summary": "宅基地纠纷", "score": 0.8},  # yellow
    {"signal_id": "R7", "produced_at": "2026-02-15 10:00:00", "source": "研判平台", "address": "幸福路70号",
     "category": "public_order", "summary": "可疑人员聚集", "score": 0.3},  # blue, February
    {"signal_id": "S-party", "produced_at": "2025-12-05 10:00:00", "community_code": URBAN,
     "address": "和平街30号", "category": "marriage_romance", "summary": "情感纠纷", "score": 0.7,
     "party_keys": "P1;P2"},
    {"signal_id": "S-ly", "produced_at": "2024-11-10 10:00:00", "community_code": BEIYING,
     "address": "北营村8组", "category": "land_property", "summary": "土地承包纠纷", "score": 0.9},
]  # fmt: skip

TIPS = [
    {"tip_id": "TIP1", "received_at": "2026-03-25 10:00:00", "address": "幸福路10号", "category": "fraud",
     "summary": "举报电诈窝点", "contact": "wxid_1", "wants_reward": "true"},  # a blue risk
    {"tip_id": "TIP2", "received_at": "2026-03-26 10:00:00", "community_code": URBAN, "address": "和平街11号",
     "category": "other", "summary": "其他线索"},  # opens no risk
    {"tip_id": "TIP3", "received_at": "2026-02-18 10:00:00", "address": "幸福路12号", "category": "fraud",
     "summary": "举报电诈", "contact": "wxid_3", "wants_reward": "true"},  # a blue risk, February
]  # fmt: skip

CASES = [
    # March 2026: 11 filed (8 in 金台区, 3 in 岐山县); 3 telecom fraud; 2 fraud cases solved
    case("K1", "2026-03-03 10:00:00", SMART, "幸福路100号"),
    case("K2", "2026-03-13 10:00:00", SMART, "幸福路101号"),
    case("K3", "2026-03-14 10:00:00", URBAN, "和平街100号"),
    case("K4", "2026-03-17 10:00:00", NANYING, "南营村100号"),
    case("F1", "2026-03-05 10:00:00", SMART, "幸福路102号", "telecom_fraud", solved_at="2026-03-20 10:00:00"),
    case("F2", "2026-03-08 10:00:00", URBAN, "和平街101号", "telecom_fraud"),
    case("F3", "2026-03-28 10:00", BEIYING, "北营村100号", "telecom_fraud", solved_at="2026-04-05 10:00"),
    case("KA", "2026-03-15 10:00:00", SMART, "幸福路 20 号", "assault"),  # 民转刑 by address (S-addr)
    case("KP", "2026-03-20 10:00:00", NANYING, "南营村7组", "homicide", party_keys="P1;P9"),  # 刑转命
    case("KT", "2026-03-25 10:00:00", URBAN, "和平街40号"),  # S-13mo is 13 months old: not a conversion
    case("KN", "2026-03-26 10:00:00", SMART, "幸福路50号"),  # S-blue is no dispute: not a conversion
    case("F0", "2026-01-15 10:00:00", SMART, "幸福路103号", "telecom_fraud", solved_at="2026-03-10 10:00:00"),
    case("K-out", "2026-04-01 00:30:00", SMART, "幸福路104号"),
    # February 2026: 4 filed, 1 fraud filed and solved, 1 conversion (by parties, S-prev)
    case("K5", "2026-02-05 10:00:00", SMART, "幸福路105号"),
    case("K6", "2026-02-25 10:00:00", BEIYING, "北营村101号"),
    case("F4", "2026-02-03 10:00:00", SMART, "幸福路106号", "telecom_fraud", solved_at="2026-02-25 10:00:00"),
    case("KQ", "2026-02-12 10:00:00", SMART, "幸福路107号", "assault", party_keys="P5;P7"),
    # March 2025: 8 filed (5 in 金台区, 3 in 岐山县), 2 fraud filed, 2 solved, 1 conversion (by address, S-ly)
    *(case(f"K{n}", f"2025-03-0{n - 5} 10:00:00", SMART, f"幸福路11{n}号") for n in (7, 8, 9)),
    case("K10", "2025-03-06 10:00:00", NANYING, "南营村110号"),
    case("K11", "2025-03-07 10:00:00", NANYING, "南营村111号"),
    case("F5", "2025-03-04 10:00:00", SMART, "幸福路120号", "telecom_fraud", solved_at="2025-03-25 10:00:00"),
    case("F6", "2025-03-09 10:00:00", URBAN, "和平街120号", "telecom_fraud"),
    case("F7", "2025-01-15 10:00:00", SMART, "幸福路121号", "telecom_fraud", solved_at="2025-03-15 10:00:00"),
    case("KL", "2025-03-10 10:00:00", BEIYING, "北营村8组", "assault"),
]  # fmt: skip


def signal_of(source_id: str) -> Signal:
    with session_scope() as s:
        return s.execute(select(Signal).where(Signal.source_id == source_id)).scalar_one()


def visit(tmp_path: Path, visit_id: str, when: str, risk_id: int, concern: str, **fields: Any) -> None:
    row = {"visit_id": visit_id, "visited_at": when, "risk_id": risk_id, "concern": concern, **fields}
    row.setdefault("category", "family_neighbor")
    ingest(write_rows(tmp_path / visit_id / "visits.csv", {"summary": "回访", **row}), "visit")


def sweep(first: date, last: date) -> None:
    """Every day from `first` to `last`, as the daily sweep does: each day's list is made that morning."""
    while first <= last:
        sweep_stages(first)
        first += timedelta(days=1)


def follow_up_story(tmp_path: Path) -> None:
    """Three risks and the daily sweep, swept before anything else is taken in.

    - a blue risk (1 Feb) visited calmly on 5 Feb and 3 Mar: both follow-ups on time, resolved on 3 Mar;
    - a yellow risk (10 Feb) never visited: due 13 Feb, a notice to 孙宪河 on the 14th, to the chief on
      the 16th, an accountability entry on the 20th;
    - a yellow risk in 南营村 (9 Mar): due 12 Mar, a notice to 张伟 on the 13th, visited late on the 14th,
      next due 21 Mar and never done.
    """
    ingest(
        write_rows(
            tmp_path / "story" / "calls.csv",
            {"call_id": "FU-blue", "received_at": "2026-02-01 10:00:00", "address": "幸福路3号", **BLUE_CALL},
            {
                "call_id": "FU-late",
                "received_at": "2026-02-10 10:00:00",
                "address": "幸福路4号",
                **YELLOW_CALL,
            },
            {
                "call_id": "FU-village",
                "received_at": "2026-03-09 10:00:00",
                "community_code": NANYING,
                "address": "南营村3组",
                **YELLOW_CALL,
            },
        )
    )
    blue, village = signal_of("FU-blue").risk_id, signal_of("FU-village").risk_id
    assert blue is not None and village is not None
    sweep(date(2026, 2, 2), date(2026, 2, 2))
    visit(tmp_path, "V1", "2026-02-05 14:00:00", blue, "none", category="public_order")
    sweep(date(2026, 2, 3), date(2026, 2, 20))
    visit(tmp_path, "V2", "2026-03-03 14:00:00", blue, "none", category="public_order")
    sweep(date(2026, 3, 4), date(2026, 3, 13))
    village_visit = {"officer_code": "O000005", "community_code": NANYING, "address": "南营村3组"}
    visit(tmp_path, "V3", "2026-03-14 10:00:00", village, "low", **village_visit)
    sweep(date(2026, 3, 14), date(2026, 3, 15))


def tips_decided() -> None:
    """Tip verification and rewards are set as the reward stage will: TIP1 verified and its reward
    approved in March, TIP3 verified in February and its reward rejected."""
    tip1, tip3 = signal_of("TIP1").id, signal_of("TIP3").id
    with session_scope() as s:
        for signal_id, verified in ((tip1, "2026-03-27 10:00:00"), (tip3, "2026-02-20 10:00:00")):
            s.execute(
                update(Tip)
                .where(Tip.signal_id == signal_id)
                .values(status="verified", verified_by="O000001", verified_at=local(verified))
            )
        codes = {signal_id: code for signal_id, code in s.execute(select(Tip.signal_id, Tip.tip_code))}
        decisions = ((tip1, "approved", "2026-03-30 10:00:00"), (tip3, "rejected", "2026-02-25 10:00:00"))
        for signal_id, status, decided in decisions:
            s.execute(
                insert(RewardEntry).values(
                    period=decided[:7],
                    beneficiary=f"tip:{codes[signal_id]}",
                    kind="tip_reward",
                    amount_cny=500,
                    status=status,
                    decided_by="person:赵所长",
                    decided_at=local(decided),
                )
            )


@dataclass
class Story:
    converted_by_address: int  # the risk ids the conversions go back to
    converted_by_parties: int


def load_story(tmp_path: Path) -> Story:
    """The city's hand-counted March 2026 (and February, and March 2025), loaded."""
    follow_up_story(tmp_path)
    ingest(write_rows(tmp_path / "main" / "calls.csv", *CALLS))
    ingest(write_rows(tmp_path / "main" / "visits.csv", *VISITS), "visit")
    ingest(write_rows(tmp_path / "main" / "analysis.csv", *ANALYSIS), "analysis")
    ingest(write_rows(tmp_path / "main" / "tips.csv", *TIPS), "tip")
    loaded = ingest(write_rows(tmp_path / "main" / "cases.csv", *CASES), "case")["loaded"]
    assert (loaded.loaded, loaded.quarantined) == (len(CASES), 0)
    tips_decided()
    by_address, by_parties = signal_of("S-addr").risk_id, signal_of("S-party").risk_id
    assert by_address is not None and by_parties is not None
    return Story(by_address, by_parties)


# (current, previous, last year) of every figure, counted by hand from the rows above
CITY = {
    "calls": (30, 12, 10),
    "cases_filed": (11, 4, 8),
    "telecom_fraud_filed": (3, 1, 2),
    "telecom_fraud_solved": (2, 1, 2),  # by the day solved: F1 and F0 (filed in January)
    "risks_found": (6, 4, 2),
    "risks_found.channel.call": (3, 2, 1),  # R1, R2, FU-village | FU-blue, FU-late | R9
    "risks_found.channel.visit": (1, 0, 1),  # R3 | - | R8
    "risks_found.channel.analysis": (1, 1, 0),  # R4 | R7
    "risks_found.channel.tip": (1, 1, 0),  # TIP1 | TIP3
    "risks_found.colour.red": (1, 0, 0),  # R2
    "risks_found.colour.orange": (1, 0, 0),  # R3
    "risks_found.colour.yellow": (3, 1, 2),  # R1, R4, FU-village | FU-late | R8, R9
    "risks_found.colour.blue": (1, 3, 0),  # TIP1 | FU-blue, R7, TIP3
    "risks_resolved": (1, 0, None),  # FU-blue, on 3 March | - | the cycle began in February 2026
    # 化解率: the dispute risks whose 30 days ran out in the window (opened 30 Jan - 1 Mar | 2 - 29 Jan |
    # 30 Jan - 1 Mar 2025): FU-late | S-prev | S-13mo, none resolved: 0 of 1 each
    "settlement_rate_pct": (0.0, 0.0, None),
    "risks_back": (0, 0, None),  # no resolved risk had a signal after its resolution
    # live at the window's end over the 4 community officers and assistants: the 18 risks less FU-blue
    # (resolved 3 March) | the 12 opened before 1 March | unknown: March 2025 is before the follow-up cycle
    "open_risks_per_officer": (17 / 4, 12 / 4, None),
    "conversions": (2, 1, 1),  # KA, KP | KQ | KL
    "conversions_homicide": (1, 0, 0),  # KP
    "incidents": (3, 1, 2),
    "response_targets_met": (2, 0, 1),
    "response_on_target_pct": (200 / 3, 0.0, 50.0),
    "dispatch_median_s": (50.0, 20.0, 42.5),  # 30, 50, 90 | 20 | 40, 45
    "dispatch_p90_s": (82.0, 20.0, 44.5),
    "arrival_median_s": (240.0, 200.0, 585.0),  # 150, 240, 600 | 200 | 170, 1000
    "arrival_p90_s": (528.0, 200.0, 917.0),
    "follow_ups_due": (3, 2, None),  # FU-blue 7 Mar, FU-village 12 and 21 Mar | FU-blue 8 Feb, FU-late 13 Feb
    "follow_ups_on_time": (1, 1, None),
    "follow_up_on_time_pct": (100 / 3, 50.0, None),
    "supervision_notices": (1, 2, None),  # 张伟 13 Mar | 孙宪河 14 Feb, the chief 16 Feb
    "capacity_notices": (0, 0, None),  # no officer owed more visits in a day than the day holds
    "accountability_entries": (0, 1, None),  # FU-late, 7 days late on 20 Feb
    "tips_received": (2, 1, 0),
    "tips_verified": (1, 1, 0),
    "tips_rewarded": (1, 0, 0),  # TIP3's reward was rejected
}


def pct(now: float | None, before: float | None) -> float | None:
    return None if now is None or not before else (now - before) / before * 100
