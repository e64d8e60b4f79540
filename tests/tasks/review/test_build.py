"""A review (复盘问效) of a small month counted by hand, figure by figure.

The story is written in the brief's file formats and taken in through intake's real stages (urgent calls
that arrive already closed open history incidents); the follow-ups come from the daily sweep run day by
day. Each row's comment says what it counts for. The period is March 2026 (31 days), compared with
February 2026 (28 days, 环比) and March 2025 (31 days, 同比).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bridgehead.db import get_engine, session_scope
from flows.review import resolve, run_name
from models.audit import AuditLog
from models.clock import today
from models.common import LOCAL_TZ
from models.contracts import FILE_COLUMNS
from models.review import ReviewSnapshot
from tasks.review.build import build_review, save_snapshot
from tasks.review.figures import CYCLE_FIGURES, NO_CYCLE
from tasks.review.period import Scope, last_full_week, parse_period, parse_scope
from tasks.review.stats import poisson_p_value
from tests.factories import ingest, write_csv, write_rows
from tests.tasks.review.story import (
    CITY,
    PERIOD,
    SMART,
    URBAN,
    Story,
    load_story,
    local,
    pct,
    traffic,
)

AS_OF = datetime(2026, 4, 2, 9, 0, tzinfo=LOCAL_TZ)  # when the review is made


@pytest.fixture
def story(engine: Engine, jurisdiction: Path, tmp_path: Path) -> Story:
    return load_story(tmp_path)


def review_of(scope: str, period: str = PERIOD, lang: str = "zh") -> dict[str, Any]:
    with Session(get_engine()) as s:
        return build_review(s, parse_scope(s, scope), parse_period(period), lang, as_of=AS_OF)


NOT_COUNTS = {
    "response_on_target_pct",
    "settlement_rate_pct",
    "open_risks_per_officer",
    "follow_up_on_time_pct",
    "dispatch_median_s",
    "dispatch_p90_s",
    "arrival_median_s",
    "arrival_p90_s",
}


def test_every_figure_of_a_citys_month(story: Story) -> None:
    review = review_of("city")
    figures = review["figures"]
    assert list(figures) == list(CITY)
    for key, (now, before, year_ago) in CITY.items():
        f = figures[key]
        assert (f["current"], f["previous"], f["last_year"]) == pytest.approx((now, before, year_ago)), key
        assert f["change_vs_previous_pct"] == pytest.approx(pct(now, before)), key
        assert f["change_vs_last_year_pct"] == pytest.approx(pct(now, year_ago)), key
        if key in NOT_COUNTS:  # rates and times are not Poisson counts
            assert f["kind"] != "count"
            assert (f["significant_vs_previous"], f["p_vs_previous"], f["significant"]) == (None, None, None)
            continue
        assert f["kind"] == "count"
        p_previous = poisson_p_value(now, before, 31, 28)  # March against February: rates, not counts
        p_year = None if year_ago is None else poisson_p_value(now, year_ago, 31, 31)
        assert f["p_vs_previous"] == pytest.approx(p_previous), key
        assert f["p_vs_last_year"] == pytest.approx(p_year), key
        assert f["significant_vs_previous"] is (p_previous < 0.05), key
        assert (
            f["significant_vs_last_year"] is f["significant"] is (None if p_year is None else p_year < 0.05)
        ), key
    one_of_none = {"numerator": 0, "denominator": 1}
    assert figures["settlement_rate_pct"]["parts"] == dict.fromkeys(
        ("current", "previous", "last_year"), one_of_none
    )
    # 0 of 1 is known where the follow-up cycle ran: 0%; March 2025 has its calls and risks on record,
    # but the cycle began in February 2026: its visits and ends are unknown, not 0
    for key in CYCLE_FIGURES:
        assert figures[key]["unknown"] == {"last_year": NO_CYCLE[0]}, key
    assert figures["open_risks_per_officer"]["parts"]["current"] == {"numerator": 17, "denominator": 4}


def test_the_month_reads_as_a_station_chief_expects(story: Story) -> None:
    review = review_of("city")
    figures = review["figures"]
    assert figures["calls"]["label"] == "110接警"
    assert figures["calls"]["significant"] is True  # 30 against 10: real
    assert figures["cases_filed"]["significant"] is False  # 11 against 8: chance
    assert figures["calls"]["change_vs_last_year_pct"] == 200.0
    assert {k: review[k] for k in ("slug", "scope", "scope_name", "scope_kind", "period", "lang")} == {
        "slug": "review-city-2026-03",
        "scope": "city",
        "scope_name": "全市",
        "scope_kind": "city",
        "period": "2026-03",
        "lang": "zh",
    }
    assert review["windows"] == {
        "current": {"first": "2026-03-01", "last": "2026-03-31", "days": 31},
        "previous": {"first": "2026-02-01", "last": "2026-02-28", "days": 28},
        "last_year": {"first": "2025-03-01", "last": "2025-03-31", "days": 31},
    }
    assert review["generated_at"] == "2026-04-02T09:00:00+08:00"
    assert review["findings"] == [
        "110接警同比+200%（本期30，去年同期10），变化显著。",
        "刑事立案同比+37.5%（11 / 8），但数量小，属正常波动，不宜据此下结论。",
        "化解率0.0%：本期满30天的矛盾纠纷风险1个，30天内化解0个。",
        "盛世广场社区（陈仓派出所）在册红色风险1个、橙色1个，为本范围最多，应逐一落实包案跟进。",
        "张伟（O000005，麦禾营派出所）本期逾期跟进2次，为最多，所长应督促整改。",
        "本期2起刑事案件由矛盾纠纷转化而来（民转刑），其中命案1起（刑转命），见转化清单。",
        "快反达标率66.7%（3起警情），到场用时中位数240秒、90%分位528秒。",
    ]


def test_districts_are_ranked_by_their_rise_in_criminal_cases(story: Story) -> None:
    assert review_of("city")["rankings"] == [
        {
            "code": "610303",
            "name": "金台区",
            "cases_current": 8,
            "cases_last_year": 5,
            "change_pct": 60.0,
            "significant": False,
            "calls_current": 28,
            "risks_found_current": 4,
        },
        {
            "code": "610323",
            "name": "岐山县",
            "cases_current": 3,
            "cases_last_year": 3,
            "change_pct": 0.0,
            "significant": False,
            "calls_current": 2,
            "risks_found_current": 2,
        },
    ]


def test_the_lists_charts_and_conversions(story: Story) -> None:
    review = review_of("city")
    assert review["risk_communities"] == [
        {"community_code": SMART, "community": "盛世广场社区", "station": "陈仓派出所", "red": 1, "orange": 1}
    ]
    assert review["hotspots"] == []  # no risk is a place here (tests/tasks/review/test_lifecycle.py)
    assert review["late_officers"] == [
        {"officer_code": "O000005", "officer": "张伟", "station": "麦禾营派出所", "late": 2}
    ]
    assert review["late_stations"] == [{"station_code": "61032301", "station": "麦禾营派出所", "late": 2}]
    assert review["conversions"] == [
        {
            "case_id": "KA",
            "offence": "assault",
            "filed_at": "2026-03-15T10:00:00+08:00",
            "community": "盛世广场社区",
            "address": "幸福路 20 号",
            "linked_by": "address",
            "risk_id": story.converted_by_address,
        },
        {
            "case_id": "KP",
            "offence": "homicide",
            "filed_at": "2026-03-20T10:00:00+08:00",
            "community": "南营村",
            "address": "南营村7组",
            "linked_by": "parties",
            "risk_id": story.converted_by_parties,
        },
    ]
    assert review["colours"] == {
        "found": {"red": 1, "orange": 1, "yellow": 3, "blue": 1},
        "open_now": {"red": 1, "orange": 1, "yellow": 11, "blue": 4},
    }
    histogram = review["response_histogram"]
    assert histogram["edges_s"] == [0, 30, 60, 120, 180, 300, 600, 900, 1800, 3600]
    assert histogram["dispatch"] == [0, 2, 1, 0, 0, 0, 0, 0, 0]  # 30 s, 50 s | 90 s
    assert histogram["arrival"] == [0, 0, 0, 1, 1, 0, 1, 0, 0]  # 150 s | 240 s | 600 s


def test_the_trend_counts_calls_by_local_iso_week(story: Story) -> None:
    trend = review_of("city")["trend"]
    assert trend["year"] == 2026
    assert trend["weeks"] == list(range(1, 54))  # 2026 has 53 ISO weeks
    # this year to the last whole week of March (week 13, to Sunday 29 March; 31 March 23:59 is left out);
    # week 9 holds 28 February 23:59:59 and 1 March 00:00 and 00:30
    assert trend["calls"]["this_year"] == [0, 1, 0, 1, 3, 6, 3, 0, 3, 9, 9, 9, 0]
    last_year = [0] * 52  # all of 2025's 52 weeks
    for week, n in ((8, 1), (9, 2), (10, 1), (11, 6), (12, 1), (14, 1), (42, 1)):
        last_year[week - 1] = n
    assert trend["calls"]["last_year"] == last_year
    assert (len(trend["cases"]["this_year"]), sum(trend["cases"]["this_year"])) == (13, 16)
    assert (len(trend["cases"]["last_year"]), sum(trend["cases"]["last_year"])) == (52, 9)


def test_the_trend_puts_a_case_filed_on_a_monday_in_that_week(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """A register that gives dates only files its cases at 00:00 local time: Monday's belong to that week."""
    rows = [["M1", "2026-03-02", SMART, "幸福路1号", "theft", "", ""],  # Monday of week 10
            ["M2", "2026-03-09 00:00:00", SMART, "幸福路2号", "theft", "", ""]]  # fmt: skip  # week 11
    ingest(write_csv(tmp_path / "cases.csv", FILE_COLUMNS["cases.csv"], rows), "case")
    cases = review_of("city", "2026-W12")["trend"]["cases"]["this_year"]
    assert cases == [0] * 9 + [1, 1, 0]


def test_the_trend_of_a_year_to_date_review_of_2025_is_2025(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(write_rows(tmp_path / "calls.csv", traffic("C1", "2025-06-10 09:00:00")))
    trend = review_of("city", "ytd:2025-12-31")["trend"]
    assert trend["year"] == 2025
    assert sum(trend["calls"]["this_year"]) == 1


def test_a_station_review_counts_only_its_own_communities(story: Story) -> None:
    """陈仓派出所: nothing from 麦禾营's villages (U3, KP, the late follow-ups in 南营村)."""
    review = review_of("station:61030301")
    got = {k: (f["current"], f["previous"], f["last_year"]) for k, f in review["figures"].items()}
    assert {k: got[k] for k in STATION} == STATION
    assert [r["code"] for r in review["rankings"]] == [URBAN, SMART]  # +200% (3 against 1), then +25%
    assert [(r["cases_current"], r["cases_last_year"]) for r in review["rankings"]] == [(3, 1), (5, 4)]
    assert [c["case_id"] for c in review["conversions"]] == ["KA"]
    assert review["late_officers"] == review["late_stations"] == []
    assert review["risk_communities"][0]["community_code"] == SMART
    assert sum(review["trend"]["calls"]["this_year"]) == 44 - 2  # less U3 and FU-village


STATION = {
    "calls": (28, 12, 9),
    "cases_filed": (8, 3, 5),
    "telecom_fraud_filed": (2, 1, 2),
    "telecom_fraud_solved": (2, 1, 2),
    "risks_found": (4, 4, 1),
    "conversions": (1, 1, 0),
    "conversions_homicide": (0, 0, 0),
    "incidents": (2, 1, 1),
    "response_targets_met": (1, 0, 1),
    "follow_ups_due": (1, 2, None),  # March 2025: before the follow-up cycle began, unknown
    "follow_ups_on_time": (1, 1, None),
    "open_risks_per_officer": (13 / 2, 10 / 2, None),  # less 南营村's and 北营村's; 孙宪河, 李明
    "supervision_notices": (0, 2, None),
    "capacity_notices": (0, 0, None),
    "accountability_entries": (0, 1, None),
    "tips_received": (2, 1, 0),
    "tips_verified": (1, 1, 0),
    "tips_rewarded": (1, 0, 0),
}


def test_the_other_station_and_a_district_by_name(story: Story) -> None:
    by_name = review_of("district:岐山县")
    assert by_name["scope"] == "district:610323" and by_name["scope_name"] == "岐山县"
    figures = by_name["figures"]
    got = {k: (figures[k]["current"], figures[k]["previous"], figures[k]["last_year"]) for k in QISHAN}
    assert got == QISHAN
    assert [c["case_id"] for c in by_name["conversions"]] == ["KP"]
    assert by_name["late_officers"][0]["officer_code"] == "O000005"
    assert by_name["risk_communities"] == by_name["hotspots"] == []
    station = review_of("station:61032301")
    assert station["figures"] == by_name["figures"]  # one station in the district: the same figures
    village = review_of("community:61032301001")[
        "figures"
    ]  # 南营村: its officer's notices, not 北营村's rows
    got = {k: (village[k]["current"], village[k]["previous"], village[k]["last_year"]) for k in NANYING_ONLY}
    assert got == NANYING_ONLY
    rate = village["settlement_rate_pct"]  # FU-village (9 March) has not had its 30 days: unknown, not 0
    assert (rate["current"], rate["previous"], rate["last_year"]) == (None, None, None)
    nothing_due = "本期到期（开立已满30天）的矛盾纠纷风险为0：无可计算的化解率"
    assert rate["unknown"] == {"current": nothing_due, "previous": nothing_due, "last_year": NO_CYCLE[0]}
    assert village["open_risks_per_officer"]["current"] == 2.0  # FU-village and R8, 张伟 alone


QISHAN = {
    "calls": (2, 0, 1),  # U3, FU-village | - | U6
    "cases_filed": (3, 1, 3),
    "risks_found": (2, 0, 1),
    "conversions": (1, 0, 1),
    "conversions_homicide": (1, 0, 0),
    "incidents": (1, 0, 1),
    "follow_ups_due": (2, 0, None),
    "follow_ups_on_time": (0, 0, None),
    "supervision_notices": (1, 0, None),
}
NANYING_ONLY = {
    "calls": (2, 0, 0),  # U3, FU-village | - | (U6 was in 北营村)
    "cases_filed": (2, 0, 2),  # K4, KP | - | K10, K11
    "conversions": (1, 0, 0),
    "risks_found": (1, 0, 1),  # FU-village | - | R8
    "follow_ups_due": (2, 0, None),
    "supervision_notices": (1, 0, None),  # to 张伟, 南营村's community officer
}


def test_an_english_review(story: Story) -> None:
    review = review_of("city", lang="en")
    assert review["scope_name"] == "Whole city"  # not 全市 in an English title
    assert review["figures"]["conversions"]["label"] == "Disputes turned criminal (民转刑)"
    assert review["findings"][0] == (
        "110 calls: +200% year on year (30 / 10), a real change (Poisson test, 5% level)."
    )
    assert review["findings"][-1] == (
        "Quick response met the 1-3-5 targets in 66.7% of 3 incidents; arrival took 240 s at the median "
        "and 528 s at the 90th percentile."
    )


# --- the seed's figures -------------------------------------------------------------------------------


def seed_cases(path: Path) -> Path:
    """1,000 criminal cases in 2 to 29 November 2025 and 702 in the same days of 2026; of them 206 and
    298 telecom-fraud cases solved inside the window."""
    rows = []
    for year, total, solved in ((2025, 1000, 206), (2026, 702, 298)):
        for n in range(total):
            day = date(year, 11, 2) + timedelta(days=n % 28)
            fraud = n < solved
            rows.append(
                [
                    f"{year}-{n:04d}",
                    f"{day} 10:00:00",
                    SMART,
                    f"幸福路{n}号",
                    "telecom_fraud" if fraud else "theft",
                    "",
                    f"{day} 18:00:00" if fraud else "",
                ]
            )
    return write_csv(path, FILE_COLUMNS["cases.csv"], rows)  # the brief's columns, in its order


def test_the_seeds_figures(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    assert ingest(seed_cases(tmp_path / "cases.csv"), "case")["loaded"].loaded == 1702
    after = datetime(2026, 11, 30, 9, tzinfo=LOCAL_TZ)  # the morning after the 28 days
    with Session(engine) as s:
        zh = build_review(s, parse_scope(s, "city"), parse_period("28d:2026-11-29"), "zh", as_of=after)
        en = build_review(s, parse_scope(s, "city"), parse_period("28d:2026-11-29"), "en", as_of=after)
    cases, solved = zh["figures"]["cases_filed"], zh["figures"]["telecom_fraud_solved"]
    assert (cases["current"], cases["last_year"]) == (702, 1000)
    assert cases["change_vs_last_year_pct"] == pytest.approx(-29.8)
    assert cases["change_vs_last_year_pct"] == (702 - 1000) / 1000 * 100  # exact: not rounded
    assert (solved["current"], solved["last_year"]) == (298, 206)
    assert solved["change_vs_last_year_pct"] == pytest.approx(44.66, abs=0.005)
    assert solved["change_vs_last_year_pct"] == (298 - 206) / 206 * 100
    assert cases["significant"] is True and solved["significant"] is True
    assert zh["findings"][:3] == [
        "刑事立案同比-29.8%（本期702，去年同期1,000），变化显著。",
        "电诈立案同比+44.66%（本期298，去年同期206），变化显著。",
        "电诈破案同比+44.66%（本期298，去年同期206），变化显著。",
    ]
    assert en["findings"][0] == (
        "Criminal cases filed: -29.8% year on year (702 / 1,000), a real change (Poisson test, 5% level)."
    )


# --- the snapshot -------------------------------------------------------------------------------------


def snapshots(engine: Engine) -> list[ReviewSnapshot]:
    with Session(engine) as s:
        return list(s.execute(select(ReviewSnapshot).order_by(ReviewSnapshot.id)).scalars())


def save(scope: str, period: str) -> dict[str, Any]:
    with session_scope() as s:
        review = build_review(s, parse_scope(s, scope), parse_period(period), as_of=AS_OF)
        save_snapshot(s, review, parse_period(period))
    return review


def test_a_rerun_replaces_the_snapshot_of_its_scope_and_period(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    ingest(write_rows(tmp_path / "a" / "calls.csv", traffic("C1", "2026-03-10 09:00:00")))
    first = save("city", PERIOD)
    (row,) = snapshots(engine)
    assert (row.scope, row.period, row.figures["calls"]["current"]) == ("city", "2026-03", 1)
    assert row.period_start == local("2026-03-01 00:00:00")
    assert row.period_end == local("2026-04-01 00:00:00")
    assert row.findings == first["findings"]
    assert row.rules_version is not None

    ingest(write_rows(tmp_path / "b" / "calls.csv", traffic("C2", "2026-03-11 09:00:00")))  # late data
    second = save("city", PERIOD)
    (again,) = snapshots(engine)
    assert again.id == row.id
    assert again.figures["calls"]["current"] == 2
    assert again.figures == second["figures"]
    assert again.created_at >= row.created_at

    save("station:61030301", PERIOD)
    save("city", "2026-W11")
    assert [(r.scope, r.period) for r in snapshots(engine)] == [
        ("city", "2026-03"),
        ("station:61030301", "2026-03"),
        ("city", "2026-W11"),
    ]
    with Session(engine) as s:
        audited = s.execute(
            select(AuditLog.entity_id, AuditLog.after)
            .where(AuditLog.entity == "review_snapshot")
            .order_by(AuditLog.seq)
        ).all()
        assert s.execute(select(func.count()).select_from(ReviewSnapshot)).scalar_one() == 3
    assert [a[0] for a in audited] == [
        "city/2026-03",
        "city/2026-03",
        "station:61030301/2026-03",
        "city/2026-W11",
    ]
    assert audited[1][1] == {"calls": 2, "cases_filed": 0, "risks_found": 0}


# --- the flow's parameters ----------------------------------------------------------------------------


def test_the_flow_checks_its_parameters_before_reading(engine: Engine, jurisdiction: Path) -> None:
    scope, period, lang = resolve("district:金台区", "2026-w47", "en")
    assert (scope.text, period.text, lang) == ("district:610303", "2026-W47", "en")
    _, default, _ = resolve("city", None, "zh")
    assert default.text == last_full_week(today())
    with pytest.raises(ValueError, match="28d:2026-11-29"):
        resolve("city", "last tuesday", "zh")
    with pytest.raises(ValueError, match="station:CODE"):
        resolve("station:00000000", "2026-W47", "zh")
    with pytest.raises(ValueError):
        resolve("city", "2026-W47", "fr")


def test_a_review_run_is_named_by_its_scope_and_period() -> None:
    assert run_name("station:61030201", "28d:2026-11-29") == "review-station-61030201-28d-2026-11-29"
    assert run_name(" city ", "2026-W47") == "review-city-2026-W47"
    assert run_name("district:610302", None) == f"review-district-610302-{last_full_week(today())}"


def test_a_rise_from_no_cases_last_year_ranks_first_and_none_to_none_ranks_as_no_change() -> None:
    from tasks.review.build import rankings

    units = {"A": "甲", "B": "乙", "C": "丙", "D": "丁"}
    scope = Scope(text="city", kind="city", code=None, name="全市", communities=tuple(units), units=units,
                  unit_of={c: c for c in units})  # fmt: skip
    cases = {"A": (2, 4), "B": (3, 0), "C": (0, 0), "D": (5, 4)}  # (current, last year)
    frame = pd.DataFrame(
        {"current": [n for n, _ in cases.values()], "last_year": [b for _, b in cases.values()]},
        index=list(cases),
    )
    empty = frame * 0
    ranked = rankings(scope, {"cases_filed": frame, "calls": empty, "risks_found": empty})
    assert [r["code"] for r in ranked] == ["B", "D", "C", "A"]  # new, +25%, none to none, −50%


def test_a_period_not_yet_over_says_so_first(story: Story) -> None:
    with Session(get_engine()) as s:
        scope = parse_scope(s, "city")
        in_march = datetime(2026, 3, 20, tzinfo=LOCAL_TZ)
        mid_march = build_review(s, scope, parse_period(PERIOD), "en", as_of=in_march)
        done = build_review(s, scope, parse_period(PERIOD), "en", as_of=AS_OF)
    assert mid_march["unfinished"] and not done["unfinished"]
    assert mid_march["findings"][0].startswith("This period runs to 2026-03-31 and has not ended")
    assert not done["findings"][0].startswith("This period")


def test_english_counts_agree_with_their_nouns() -> None:
    from tasks.review.findings import _count

    assert (_count(1, "criminal case"), _count(0, "incident"), _count(1_280, "incident")) == (
        "1 criminal case",
        "0 incidents",
        "1,280 incidents",
    )
