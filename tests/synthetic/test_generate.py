"""The synthetic Baoji generator: determinism, formats, the seed's figures and its three stories.

Most tests share one small dataset (scale 0.05); a single default-scale run checks the
year-on-year figures the seed report publishes and the time budget.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from bridgehead.synthetic import generate
from bridgehead.synthetic.timeline import last_before
from models.common import DISPUTE_CATEGORIES, Category, Offence
from models.contracts import FILE_COLUMNS

END = date(2026, 11, 29)
SMALL = 0.05

COLUMNS = FILE_COLUMNS
CATEGORIES = {c.value for c in Category}
OFFENCES = {o.value for o in Offence}
DISPUTES = {c.value for c in DISPUTE_CATEGORIES}
DISTRICTS = {
    "610302": "渭滨区",
    "610303": "金台区",
    "610304": "陈仓区",
    "610305": "凤翔区",
    "610323": "岐山县",
    "610324": "扶风县",
    "610326": "眉县",
    "610327": "陇县",
    "610328": "千阳县",
    "610329": "麟游县",
    "610330": "凤县",
    "610331": "太白县",
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
PARTY_KEYS = re.compile(r"^(PK[0-9a-f]{10})(;PK[0-9a-f]{10})*$")
DANGER = re.compile(r"持刀|菜刀|扬言|棍棒|threatened to kill|knife")
STAMPS = {
    "calls.csv": ["received_at", "dispatched_at", "arrived_at", "closed_at"],
    "visits.csv": ["visited_at"],
    "analysis.csv": ["produced_at"],
    "tips.csv": ["received_at"],
    "cases.csv": ["filed_at", "solved_at"],
}
IDS = {
    "stations.csv": "station_code",
    "communities.csv": "community_code",
    "officers.csv": "officer_code",
    "units.csv": "unit_code",
    "calls.csv": "call_id",
    "visits.csv": "visit_id",
    "analysis.csv": "signal_id",
    "tips.csv": "tip_id",
    "cases.csv": "case_id",
}


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype=str, keep_default_na=False)


def stamps(series: pd.Series) -> pd.Series:
    """Timestamps as naive Shanghai wall-clock times (blank -> NaT)."""
    return pd.to_datetime(series.str.slice(0, 19).replace("", None), format="%Y-%m-%dT%H:%M:%S")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synthetic_small")
    return out, generate(out, seed=7, scale=SMALL, end=END)


@pytest.fixture(scope="module")
def frames(small: tuple[Path, dict]) -> dict[str, pd.DataFrame]:
    out, _ = small
    return {name: read(out, name) for name in COLUMNS}


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(small: tuple[Path, dict], tmp_path: Path) -> None:
    out, manifest = small
    again = generate(tmp_path / "again", seed=7, scale=SMALL, end=END)
    first = sorted(p.name for p in out.iterdir())
    second = sorted(p.name for p in (tmp_path / "again").iterdir())
    assert first == second == sorted([*COLUMNS, "manifest.json", "unit_status_lost_child.csv"])
    for name in first:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert again == manifest


def test_different_seed_gives_different_calls(small: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = small
    other = tmp_path / "seed8"
    generate(other, seed=8, scale=SMALL, end=END)
    assert (out / "calls.csv").read_bytes() != (other / "calls.csv").read_bytes()
    assert (out / "visits.csv").read_bytes() != (other / "visits.csv").read_bytes()
    # the jurisdiction is the seed report's city: reference data, the same for every seed
    for name in ("stations.csv", "communities.csv", "officers.csv", "units.csv"):
        assert (out / name).read_bytes() == (other / name).read_bytes(), name


def test_default_end_is_today_in_shanghai(tmp_path: Path) -> None:
    manifest = generate(tmp_path, seed=1, scale=0.002)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert manifest["end"] in {today.isoformat(), (today - timedelta(days=1)).isoformat()}


# --- formats -----------------------------------------------------------------------------------------


def test_files_have_exactly_the_brief_columns(small: tuple[Path, dict]) -> None:
    out, _ = small
    for name, columns in COLUMNS.items():
        header = (out / name).read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == ",".join(columns), name


def test_ids_are_unique_per_file(frames: dict[str, pd.DataFrame]) -> None:
    for name, column in IDS.items():
        ids = frames[name][column]
        assert ids.is_unique, name
        assert (ids != "").all(), name


def test_timestamps_carry_the_shanghai_offset_and_fit_the_windows(
    frames: dict[str, pd.DataFrame],
) -> None:
    start = datetime(2024, 11, 29)  # END - 730 days
    for name, columns in STAMPS.items():
        for column in columns:
            values = frames[name][column]
            filled = values[values != ""]
            assert filled.str.match(TIMESTAMP.pattern).all(), (name, column)
            for text in filled.iloc[:: max(1, len(filled) // 50)]:
                assert datetime.fromisoformat(text).utcoffset() == timedelta(hours=8)
            moments = stamps(filled)
            assert moments.min() >= start, (name, column)
            assert moments.max() < datetime(2026, 11, 29), (name, column)
    calls = frames["calls.csv"]
    t = {c: stamps(calls[c]) for c in STAMPS["calls.csv"]}
    dispatched = calls["dispatched_at"] != ""
    assert (t["dispatched_at"][dispatched] >= t["received_at"][dispatched]).all()
    assert (t["arrived_at"][dispatched] >= t["dispatched_at"][dispatched]).all()
    closed = calls["closed_at"] != ""
    assert (t["closed_at"][closed] >= t["received_at"][closed]).all()
    cases = frames["cases.csv"]
    solved = cases["solved_at"] != ""
    assert (stamps(cases["solved_at"])[solved] >= stamps(cases["filed_at"])[solved]).all()


def test_value_domains(frames: dict[str, pd.DataFrame]) -> None:
    calls, visits = frames["calls.csv"], frames["visits.csv"]
    analysis, tips, cases = frames["analysis.csv"], frames["tips.csv"], frames["cases.csv"]
    for name in ("calls.csv", "visits.csv", "analysis.csv", "tips.csv"):
        assert set(frames[name]["category"]) <= CATEGORIES, name
    assert set(cases["offence"]) <= OFFENCES
    assert {"theft", "telecom_fraud", "assault", "homicide"} <= set(cases["offence"])
    assert set(calls["priority"]) <= {"1", "2", "3", "4"}
    urgent = calls[calls["category"].isin(["violence", "missing_person"])]
    assert (urgent["priority"] == "1").mean() > 0.7
    assert calls["phone"].str.fullmatch(r"1[358]\d{9}").all()
    assert set(calls["disposition"]) <= {
        "",
        "resolved_on_scene",
        "mediated",
        "referred",
        "case_filed",
        "false_alarm",
        "advised",
    }
    assert set(visits["concern"]) <= {"none", "low", "medium", "high"}
    officers = frames["officers.csv"]
    carriers = officers[officers["community_code"] != ""]  # the responsible officer first, then 辅警
    responsible = carriers.drop_duplicates("community_code").set_index("community_code")["officer_code"]
    assert (visits["officer_code"] == visits["community_code"].map(responsible)).all()
    assert (visits["risk_id"] == "").all()
    assert analysis["score"].str.fullmatch(r"[01]\.\d{3}").all()
    score = analysis["score"].astype(float)
    assert ((score >= 0) & (score <= 1)).all()
    assert set(tips["wants_reward"]) == {"true", "false"}
    contact = tips["contact"][tips["contact"] != ""]
    assert contact.str.fullmatch(r"1[358]\d{9}|wxid_[a-z0-9]{12}").all()
    for name in ("calls.csv", "visits.csv", "analysis.csv", "cases.csv"):
        keys = frames[name]["party_keys"]
        assert keys[keys != ""].str.fullmatch(PARTY_KEYS.pattern).all(), name
    chinese = calls["summary"].str.contains(r"[\u4e00-\u9fff]")
    assert 0.9 < chinese.mean() < 1.0  # mostly Chinese, a few English


def test_scale_multiplies_event_volumes(small: tuple[Path, dict]) -> None:
    _, manifest = small
    per_year = manifest["per_year"]
    assert per_year["calls"] == {"previous": 13_000, "current": 12_000}
    assert per_year["visits"] == {"previous": 2_400, "current": 2_600}
    assert per_year["cases_filed"] == {"previous": 500, "current": 351}
    assert manifest["rows"]["communities.csv"] == 1340


# --- jurisdiction ---------------------------------------------------------------------------------


def test_jurisdiction_matches_the_seed_figures(
    small: tuple[Path, dict], frames: dict[str, pd.DataFrame]
) -> None:
    _, manifest = small
    stations, comms = frames["stations.csv"], frames["communities.csv"]
    officers, units = frames["officers.csv"], frames["units.csv"]
    assert 70 <= len(stations) <= 90
    assert set(stations["district"]) == set(DISTRICTS.values())
    assert (stations["station_code"].str.slice(0, 6).map(DISTRICTS) == stations["district"]).all()
    assert stations["station_code"].str.fullmatch(r"\d{8}").all()
    assert (comms["community_code"].str.slice(0, 8) == comms["station_code"]).all()
    assert comms["community_code"].str.fullmatch(r"\d{11}").all()

    community = comms[comms["kind"] == "community"]
    village = comms[comms["kind"] == "village"]
    assert len(community) == 182
    assert len(village) == 1158
    assert set(comms["kind"]) == {"community", "village"}
    assert (community["has_police_office"] == "true").all()
    population = comms["population"].astype(int)
    assert population[community.index].between(3000, 15000).all()
    assert population[village.index].between(500, 3000).all()
    for col, centre in (("lat", 34.36), ("lon", 107.24)):
        assert (comms[col].astype(float) - centre).abs().max() < 1.0

    # 一村一警: every village has one officer or assistant; every community its own officer and, as its
    # police office is staffed (民辅警全配备), an assistant for every 2,000 residents
    responsible = officers[officers["community_code"] != ""]
    assert set(responsible["role"]) <= {"community", "assistant"}
    assert set(responsible["community_code"]) == set(comms["community_code"])
    village_roles = responsible[responsible["community_code"].isin(village["community_code"])]
    assert village_roles["community_code"].is_unique
    assert set(village_roles["role"]) == {"community", "assistant"}
    community_roles = responsible[responsible["community_code"].isin(community["community_code"])]
    staff = community_roles.groupby("community_code")["role"].value_counts().unstack(fill_value=0)
    assert (staff["community"] == 1).all()
    residents = community.set_index("community_code")["population"].astype(int)
    assert (staff["assistant"] == residents[staff.index] // 2000).all()
    assert (officers.loc[officers["role"].isin(["chief", "patrol"]), "community_code"] == "").all()
    assert (officers.groupby("station_code")["role"].apply(lambda r: (r == "chief").sum()) == 1).all()
    assert officers["officer_code"].str.fullmatch(r"O\d{6}").all()

    per_station = units.groupby("station_code").size()
    assert per_station.between(2, 6).all() and len(per_station) == len(stations)
    assert units["members"].astype(int).between(2, 4).all()

    counts = manifest["jurisdiction"]
    assert counts["smart_security_estates"] == 519
    assert counts["estates"] > 519
    assert counts["communities"] == 182 and counts["villages"] == 1158
    assert counts["villages_with_officer_or_assistant"] == 1158
    assert counts["communities_all_estates_smart"] == (comms["smart_security"] == "true").sum()
    assert (comms.loc[comms["smart_security"] == "true", "kind"] == "community").all()


def test_story_places_exist(frames: dict[str, pd.DataFrame]) -> None:
    stations, comms = frames["stations.csv"], frames["communities.csv"]
    officers, units = frames["officers.csv"], frames["units.csv"]

    def station(name: str, district: str) -> str:
        hit = stations[(stations["name"] == name) & (stations["district"] == district)]
        assert len(hit) == 1, name
        return hit["station_code"].iloc[0]

    chencang = station("陈仓派出所", "金台区")
    maiheying = station("麦禾营派出所", "岐山县")
    shennong = station("神农派出所", "渭滨区")
    names = comms.set_index("name")
    assert names.at["盛世广场社区", "station_code"] == chencang
    assert names.at["南营村", "station_code"] == maiheying
    assert names.at["南营村", "kind"] == "village"
    assert names.at["宝桥新村社区", "station_code"] == shennong
    sun = officers[officers["name"] == "孙宪河"]
    assert len(sun) == 1 and sun["role"].iloc[0] == "community"
    assert sun["community_code"].iloc[0] == names.at["宝桥新村社区", "community_code"]
    wang = officers[officers["name"] == "王志英"]
    assert len(wang) == 1 and wang["role"].iloc[0] == "patrol"
    assert wang["station_code"].iloc[0] == chencang
    assert units.loc[units["station_code"] == chencang, "members"].astype(int).sum() == 6


# --- the three stories -------------------------------------------------------------------------------


def test_lost_child_call(small: tuple[Path, dict], frames: dict[str, pd.DataFrame]) -> None:
    _, manifest = small
    story = manifest["stories"]["lost_child"]
    calls, comms = frames["calls.csv"], frames["communities.csv"]
    row = calls[calls["call_id"] == story["call_id"]].iloc[0]
    assert row["received_at"] == "2026-08-07T20:15:00+08:00"
    assert row["category"] == "missing_person" and row["priority"] == "1"
    assert row["address"] == "陈仓大道盛世广场"
    assert "走失" in row["summary"]
    assert row["community_code"] == story["community_code"]
    assert comms.set_index("community_code").at[row["community_code"], "name"] == "盛世广场社区"
    assert story["station_name"] == "陈仓派出所" and story["patrol_members"] == 6
    for column in ("dispatched_at", "arrived_at", "closed_at", "disposition"):
        assert row[column] == "", column
    assert row["party_keys"].split(";") == story["party_keys"] and len(story["party_keys"]) == 2
    # the one open call in the file
    assert (calls["closed_at"] == "").sum() == 1


def test_story_dates_are_the_last_before_end() -> None:
    assert last_before(date(2026, 11, 29), 8, 7) == date(2026, 8, 7)
    assert last_before(date(2026, 8, 8), 8, 7) == date(2026, 8, 7)
    assert last_before(date(2026, 8, 7), 8, 7) == date(2025, 8, 7)
    assert last_before(date(2026, 3, 1), 8, 10) == date(2025, 8, 10)


def test_melon_field_visit(small: tuple[Path, dict], frames: dict[str, pd.DataFrame]) -> None:
    _, manifest = small
    story = manifest["stories"]["melon_field"]
    visits, officers = frames["visits.csv"], frames["officers.csv"]
    row = visits[visits["visit_id"] == story["visit_id"]].iloc[0]
    assert row["visited_at"].startswith("2026-08-10T")
    assert row["category"] == "labor_debt" and row["concern"] == "low"
    assert "瓜农" in row["summary"] and "和解" in row["summary"]
    officer = officers[officers["officer_code"] == row["officer_code"]].iloc[0]
    assert officer["community_code"] == row["community_code"] == story["community_code"]
    assert story["community_name"] == "南营村" and story["station_name"] == "麦禾营派出所"
    keys = row["party_keys"].split(";")
    assert len(keys) >= 3 and story["buyer"] in keys and set(story["farmers"]) <= set(keys)


def test_neighbour_feud(small: tuple[Path, dict], frames: dict[str, pd.DataFrame]) -> None:
    _, manifest = small
    story = manifest["stories"]["neighbour_feud"]
    calls, visits, officers = frames["calls.csv"], frames["visits.csv"], frames["officers.csv"]
    liu, cao = story["constant_pair"]

    def pair(frame: pd.DataFrame) -> pd.Series:
        return frame["party_keys"].str.contains(liu) & frame["party_keys"].str.contains(cao)

    feud_calls = calls[pair(calls)]
    feud_visits = visits[pair(visits)]
    assert sorted(feud_calls["call_id"]) == sorted(story["call_ids"])
    assert (feud_calls["category"] == "family_neighbor").all()
    assert (feud_calls["community_code"] == story["community_code"]).all()
    call_times = stamps(feud_calls["received_at"]).sort_values().reset_index(drop=True)
    # across both years, every few weeks, some within 30 days of the one before
    assert call_times.min() < datetime(2025, 11, 29) <= call_times.max()
    gaps = call_times.diff().dropna().dt.days
    assert len(call_times) >= 15 and (gaps <= 30).any() and gaps.max() <= 60

    sun = officers.loc[officers["name"] == "孙宪河", "officer_code"].iloc[0]
    assert (feud_visits["officer_code"] == sun).all()
    visit_times = stamps(feud_visits["visited_at"])
    ordered = feud_visits.assign(t=visit_times).sort_values("t")
    calm = ordered.tail(6)
    assert (calm["concern"] == "none").all()
    assert list(calm["visit_id"]) == story["calm_visit_ids"]
    assert calm["t"].min() >= datetime(2026, 10, 10)  # the last seven weeks
    assert call_times.max() < calm["t"].min()  # no call in between, nor after
    earlier = ordered.iloc[:-6]
    assert earlier["concern"].isin(["high", "medium"]).mean() >= 0.7

    # orange, not red: never 5 signals within 30 days (calm visits are evidence, not signals)
    signals = np.sort(np.concatenate([call_times.to_numpy(), earlier["t"].to_numpy()]))
    window = np.timedelta64(30, "D")
    most = max(int(np.searchsorted(signals, t + window, side="right") - i) for i, t in enumerate(signals))
    assert 3 <= most <= 4
    # the families appear nowhere else
    for name in ("analysis.csv", "cases.csv"):
        assert not frames[name]["party_keys"].str.contains(liu).any(), name


# --- repeat patterns and conversions -------------------------------------------------------------


def test_repeat_patterns_feed_the_grading_rules(frames: dict[str, pd.DataFrame]) -> None:
    calls, visits, tips = frames["calls.csv"], frames["visits.csv"], frames["tips.csv"]
    disputes = calls[calls["category"].isin(DISPUTES) & (calls["party_keys"] != "")]
    disputes = disputes.assign(t=stamps(disputes["received_at"]))
    spans = disputes.groupby("party_keys")["t"].agg(["count", "min", "max"])
    within = (spans["max"] - spans["min"]) <= pd.Timedelta(days=30)
    assert ((spans["count"] >= 3) & within).sum() >= 10
    # the same parties reach several channels
    cross = set(calls["party_keys"]) & set(visits["party_keys"]) - {""}
    assert len(cross) >= 50
    thread_addresses = set(calls.loc[calls["category"].isin(DISPUTES), "address"])
    assert len(thread_addresses & set(tips["address"])) >= 5
    # wage disputes about 10 or more people
    labor = calls[calls["category"] == "labor_debt"]
    many_keys = labor["party_keys"].str.count("PK") >= 10
    headcount = labor["summary"].str.extract(r"(\d+)(?:名工人| workers)")[0].astype(float) >= 10
    assert many_keys.sum() >= 5 and headcount.sum() >= 5
    # something for the red rules: weapons, threats
    share = calls["summary"].str.contains(DANGER.pattern).mean()
    assert 0.003 < share < 0.1


def test_conversions_have_earlier_dispute_signals(
    small: tuple[Path, dict], frames: dict[str, pd.DataFrame]
) -> None:
    _, manifest = small
    conversions = manifest["conversions"]
    assert conversions["linked_cases"] > 0
    homicides = conversions["linked_homicides"]
    assert len(homicides) >= 2
    calls, visits = frames["calls.csv"], frames["visits.csv"]
    signals = pd.concat(
        [
            calls.rename(columns={"call_id": "id", "received_at": "at"})[
                ["id", "at", "address", "party_keys"]
            ],
            visits.rename(columns={"visit_id": "id", "visited_at": "at"})[
                ["id", "at", "address", "party_keys"]
            ],
        ]
    )
    for case in homicides:
        filed = stamps(pd.Series([case["filed_at"]])).iloc[0]
        earlier = signals[
            (signals["address"] == case["address"]) & (signals["party_keys"] == case["party_keys"])
        ]
        times = stamps(earlier["at"])
        before = times[(times < filed) & (times >= filed - pd.Timedelta(days=365))]
        assert len(before) >= 1, case["case_id"]
    cases = frames["cases.csv"]
    assert set(cases.loc[cases["case_id"].isin([h["case_id"] for h in homicides]), "offence"]) == {"homicide"}


# --- the seed's figures at scale 1 -----------------------------------------------------------------


def _change(before: int, now: int) -> float:
    return round((now - before) / before * 100, 2)


def test_scale_one_year_on_year_figures(tmp_path: Path) -> None:
    started = time.perf_counter()
    manifest = generate(tmp_path, seed=7, end=END)
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"generate took {elapsed:.1f}s"

    cases = read(tmp_path, "cases.csv")
    cut = "2025-11-29"
    filed_day = cases["filed_at"].str.slice(0, 10)
    before = int((filed_day < cut).sum())
    now = int((filed_day >= cut).sum())
    assert (before, now) == (10_000, 7_020)
    assert now == round(before * 0.702)
    assert _change(before, now) == -29.8

    telecom = cases[(cases["offence"] == "telecom_fraud") & (cases["solved_at"] != "")]
    solved_day = telecom["solved_at"].str.slice(0, 10)
    solved_before = int((solved_day < cut).sum())
    solved_now = int((solved_day >= cut).sum())
    assert _change(solved_before, solved_now) == 44.66
    # each solved in the year it was filed: counting by filing year gives the same figure
    same_year = (telecom["filed_at"].str.slice(0, 10) < cut) == (solved_day < cut)
    assert same_year.all()

    assert manifest["year_on_year_percent"] == {"cases_filed": -29.8, "telecom_fraud_solved": 44.66}
    calls = manifest["per_year"]["calls"]
    assert 200_000 <= calls["previous"] <= 300_000 and 200_000 <= calls["current"] <= 300_000
    assert 40_000 <= manifest["per_year"]["visits"]["current"] <= 60_000
    assert manifest["rows"]["calls.csv"] == read(tmp_path, "calls.csv").shape[0]
