"""What a review covers (复盘问效): the period's three windows of whole local days, and the scope.

Every window is written out by hand from a calendar: the current one, the previous one (环比) and the
same dates a year earlier (同比; for a week, the same ISO week of last year).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from models.common import LOCAL_TZ
from tasks.review.period import Period, Window, last_full_week, parse_period, parse_scope


def d(text: str) -> date:
    return date.fromisoformat(text)


def windows(period: Period) -> dict[str, tuple[date, date, int]]:
    return {name: (w.first, w.last, w.days) for name, w in period.windows.items()}


def span(first: str, last: str) -> tuple[date, date, int]:
    return d(first), d(last), (d(last) - d(first)).days + 1


# --- periods ------------------------------------------------------------------------------------------


def test_a_week_is_monday_to_sunday_against_the_week_before_and_the_same_week_last_year() -> None:
    period = parse_period("2026-W47")
    assert period.text == "2026-W47"
    assert windows(period) == {
        "current": span("2026-11-16", "2026-11-22"),
        "previous": span("2026-11-09", "2026-11-15"),
        "last_year": span("2025-11-17", "2025-11-23"),  # 2025-W47, not 2025-11-16..22
    }


def test_the_first_week_of_a_year_starts_in_december() -> None:
    period = parse_period("2026-W01")
    assert windows(period) == {
        "current": span("2025-12-29", "2026-01-04"),
        "previous": span("2025-12-22", "2025-12-28"),
        "last_year": span("2024-12-30", "2025-01-05"),
    }


def test_week_53_is_compared_with_the_last_week_of_a_52_week_year() -> None:
    period = parse_period("2026-W53")  # 2026 has 53 ISO weeks, 2025 has 52
    assert windows(period) == {
        "current": span("2026-12-28", "2027-01-03"),
        "previous": span("2026-12-21", "2026-12-27"),
        "last_year": span("2025-12-22", "2025-12-28"),  # 2025-W52
    }
    assert parse_period("2020-W53").current == Window(d("2020-12-28"), d("2021-01-03"))
    assert parse_period("2020-W53").last_year == Window(d("2019-12-23"), d("2019-12-29"))  # 2019-W52


def test_a_month_is_compared_with_the_calendar_month_before_and_the_same_month_last_year() -> None:
    period = parse_period("2026-11")
    assert period.text == "2026-11"
    assert windows(period) == {
        "current": span("2026-11-01", "2026-11-30"),
        "previous": span("2026-10-01", "2026-10-31"),
        "last_year": span("2025-11-01", "2025-11-30"),
    }


def test_january_is_compared_with_the_december_before() -> None:
    assert windows(parse_period("2026-01")) == {
        "current": span("2026-01-01", "2026-01-31"),
        "previous": span("2025-12-01", "2025-12-31"),
        "last_year": span("2025-01-01", "2025-01-31"),
    }
    assert parse_period("2026-12").current == Window(d("2026-12-01"), d("2026-12-31"))


@pytest.mark.parametrize(
    ("text", "february"),
    [("2026-03", ("2026-02-01", "2026-02-28", 28)), ("2028-03", ("2028-02-01", "2028-02-29", 29))],
)
def test_march_is_compared_with_february_of_28_or_29_days(text: str, february: tuple[str, str, int]) -> None:
    period = parse_period(text)
    assert (str(period.previous.first), str(period.previous.last), period.previous.days) == february
    assert period.current.days == 31


def test_a_month_written_with_one_digit_is_the_same_month() -> None:
    assert parse_period("2026-3") == parse_period("2026-03")
    assert parse_period("2026-3").text == "2026-03"


def test_n_days_ending_on_a_date_include_that_date() -> None:
    period = parse_period("28d:2026-11-29")
    assert period.text == "28d:2026-11-29"
    assert windows(period) == {
        "current": span("2026-11-02", "2026-11-29"),
        "previous": span("2026-10-05", "2026-11-01"),
        "last_year": span("2025-11-02", "2025-11-29"),
    }
    one = parse_period("1d:2026-01-01")
    assert windows(one) == {
        "current": span("2026-01-01", "2026-01-01"),
        "previous": span("2025-12-31", "2025-12-31"),
        "last_year": span("2025-01-01", "2025-01-01"),
    }


def test_year_to_date_runs_from_1_january_against_as_many_days_before_and_last_years_same_dates() -> None:
    period = parse_period("ytd:2026-11-29")
    assert period.text == "ytd:2026-11-29"
    assert windows(period) == {
        "current": span("2026-01-01", "2026-11-29"),
        "previous": span("2025-02-02", "2025-12-31"),  # the 333 days just before
        "last_year": span("2025-01-01", "2025-11-29"),
    }


def test_29_february_is_compared_with_28_february_last_year() -> None:
    ytd = parse_period("ytd:2028-02-29")
    assert ytd.current == Window(d("2028-01-01"), d("2028-02-29"))
    assert ytd.last_year == Window(d("2027-01-01"), d("2027-02-28"))
    assert (ytd.current.days, ytd.last_year.days) == (60, 59)
    february = parse_period("2028-02")
    assert (february.current.days, february.previous.days, february.last_year.days) == (29, 31, 28)
    assert parse_period("28d:2028-02-29").last_year == Window(d("2027-02-02"), d("2027-02-28"))
    starting = parse_period("7d:2028-03-06")  # a window that starts on 29 February
    assert starting.current == Window(d("2028-02-29"), d("2028-03-06"))
    assert starting.last_year == Window(d("2027-02-28"), d("2027-03-06"))


def test_windows_are_whole_local_days() -> None:
    week = parse_period("2026-W47").current
    assert week.start == datetime(2026, 11, 16, tzinfo=LOCAL_TZ)
    assert week.end == datetime(2026, 11, 23, tzinfo=LOCAL_TZ)  # the first moment after Sunday
    assert week.start.utcoffset() == timedelta(hours=8)
    assert str(week) == "2026-11-16..2026-11-22"


def test_periods_are_read_with_spaces_and_in_lower_case() -> None:
    assert parse_period(" 2026-w47 ").text == "2026-W47"
    assert parse_period("YTD:2026-11-29").text == "ytd:2026-11-29"
    assert parse_period("28D:2026-11-29").text == "28d:2026-11-29"


def test_a_week_written_with_one_digit_is_the_same_period_as_the_mondays_review() -> None:
    assert parse_period("2026-W7").text == last_full_week(d("2026-02-16")) == "2026-W07"


@pytest.mark.parametrize(
    "text",
    [
        "2026-W60",
        "2026-W00",
        "2021-W53",
        "2026-13",
        "2026-00",
        "0d:2026-11-29",
        "28d:2026-02-30",
        "ytd:2026-13-01",
        "yesterday",
        "",
        "2026-11-29",
        "28d",
        "W47",
    ],
)
def test_a_bad_period_is_refused_with_the_forms_allowed(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_period(text)
    message = str(raised.value)
    assert repr(text) in message
    for form in ("2026-W47", "2026-11", "28d:2026-11-29", "ytd:2026-11-29"):
        assert form in message


@pytest.mark.parametrize("text", ["1000000d:2026-11-29", "28d:0001-01-05"])
def test_a_period_reaching_before_year_1_is_refused_with_the_forms_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="28d:2026-11-29"):
        parse_period(text)


def test_the_last_full_week_is_the_one_that_ended_before_the_day() -> None:
    assert last_full_week(d("2026-11-30")) == "2026-W48"  # Monday: last week
    assert last_full_week(d("2026-11-29")) == "2026-W47"  # Sunday: this week has not ended yet
    assert last_full_week(d("2026-11-25")) == "2026-W47"
    assert last_full_week(d("2026-01-01")) == "2025-W52"
    assert last_full_week(d("2027-01-04")) == "2026-W53"
    assert last_full_week(d("2026-01-12")) == "2026-W02"
    assert parse_period(last_full_week(d("2026-11-30"))).current == Window(d("2026-11-23"), d("2026-11-29"))


# --- scopes -------------------------------------------------------------------------------------------
# The test jurisdiction: 陈仓派出所 61030301 (金台区, district 610303) with 盛世广场社区 and 陈仓大道社区;
# 麦禾营派出所 61032301 (岐山县, 610323) with 南营村 and 北营村.

JINTAI = ("61030301001", "61030301002")
QISHAN = ("61032301001", "61032301002")


def test_the_city_covers_every_community_and_ranks_districts(engine: Engine, jurisdiction: Path) -> None:
    with Session(engine) as s:
        scope = parse_scope(s, "city")
    assert (scope.text, scope.kind, scope.code, scope.name, scope.slug) == (
        "city",
        "city",
        None,
        "全市",
        "city",
    )
    assert scope.communities == JINTAI + QISHAN
    assert scope.units == {"610303": "金台区", "610323": "岐山县"}
    assert scope.unit_of == {c: "610303" for c in JINTAI} | {c: "610323" for c in QISHAN}


def test_a_district_by_code_or_by_name_is_the_same_scope(engine: Engine, jurisdiction: Path) -> None:
    with Session(engine) as s:
        by_code, by_name = parse_scope(s, "district:610303"), parse_scope(s, "district:金台区")
    assert by_code == by_name
    assert (by_name.text, by_name.code, by_name.name, by_name.slug) == (
        "district:610303",
        "610303",
        "金台区",
        "district-610303",
    )
    assert by_name.communities == JINTAI
    assert by_name.units == {"61030301": "陈仓派出所"}


def test_a_station_covers_its_communities_and_ranks_them(engine: Engine, jurisdiction: Path) -> None:
    with Session(engine) as s:
        scope = parse_scope(s, " Station:61032301 ")
    assert (scope.text, scope.kind, scope.code, scope.name) == (
        "station:61032301",
        "station",
        "61032301",
        "麦禾营派出所",
    )
    assert scope.communities == QISHAN
    assert scope.units == {"61032301001": "南营村", "61032301002": "北营村"}


def test_a_community_is_a_scope_of_one(engine: Engine, jurisdiction: Path) -> None:
    with Session(engine) as s:
        scope = parse_scope(s, "community:61030301002")
    assert (scope.text, scope.name, scope.communities, scope.slug) == (
        "community:61030301002",
        "陈仓大道社区",
        ("61030301002",),
        "community-61030301002",
    )


@pytest.mark.parametrize(
    "text",
    [
        "district:610302",
        "district:渭滨区",
        "station:99999999",
        "community:61030301009",
        "station:610303",
        "province:61",
        "city:610303",
        "district:",
        "station",
        "",
    ],
)
def test_an_unknown_scope_is_refused_with_the_forms_allowed(
    engine: Engine, jurisdiction: Path, text: str
) -> None:
    with Session(engine) as s, pytest.raises(ValueError) as raised:
        parse_scope(s, text)
    assert repr(text) in str(raised.value)
    assert "city, district:CODE (610302 or 渭滨区), station:CODE, community:CODE" in str(raised.value)


def test_a_scope_needs_a_loaded_jurisdiction(engine: Engine) -> None:
    with Session(engine) as s, pytest.raises(ValueError, match="jurisdiction is empty"):
        parse_scope(s, "city")


def _load(folder: Path, stations: list[tuple], communities: list[tuple]) -> None:
    from bridgehead.db import session_scope
    from tasks.jurisdiction import load_jurisdiction
    from tests.factories import write_jurisdiction

    write_jurisdiction(folder, stations=stations, communities=communities, officers=[], units=[])
    with session_scope() as s:
        load_jurisdiction(s, folder, actor="person:test")


def test_stations_not_coded_by_division_are_grouped_by_the_district_they_name(
    engine: Engine, tmp_path: Path
) -> None:
    """Sacramento's districts are its stations; stations.csv says they are all in "Sacramento"."""
    stations = [(f"SAC-D{n}", f"District {n}", "Sacramento", 38.5, -121.5) for n in (1, 2)]
    communities = [
        (f"SAC-D{n}-1A", f"Beat {n}A", "community", f"SAC-D{n}", "true", "false", 1000, 38.5, -121.5)
        for n in (1, 2)
    ]
    _load(tmp_path / "j", stations, communities)
    with Session(engine) as s:
        city, district = parse_scope(s, "city"), parse_scope(s, "district:Sacramento")
    assert city.units == {"Sacramento": "Sacramento"}
    assert (district.text, district.communities) == ("district:Sacramento", ("SAC-D1-1A", "SAC-D2-1A"))


def test_a_district_name_two_districts_share_asks_for_a_code(engine: Engine, tmp_path: Path) -> None:
    stations = [("61030301", "一所", "新区", 34.3, 107.1), ("61032301", "二所", "新区", 34.4, 107.6)]
    communities = [
        (f"{s[0]}001", "社区", "community", s[0], "true", "false", 1000, 34.3, 107.1) for s in stations
    ]
    _load(tmp_path / "j", stations, communities)
    with (
        Session(engine) as s,
        pytest.raises(ValueError, match=r"'新区' names 2 districts; give one of \['610303', '610323'\]"),
    ):
        parse_scope(s, "district:新区")
