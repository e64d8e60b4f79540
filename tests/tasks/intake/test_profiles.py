"""Import profiles: a CAD export with its own columns becomes a call file the normal intake reads."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import Engine
from sqlmodel import Session

from bridgehead.import_profile import (
    PROFILES_DIR,
    ImportProfile,
    load_profile,
    parse_profile,
    template_fields,
)
from models.contracts import FILE_COLUMNS
from models.signal import CallIn
from tasks.intake.checks import check_file
from tasks.intake.profile_jurisdiction import profile_jurisdiction
from tasks.intake.profiles import apply_profile, convert_file, render
from tasks.jurisdiction import coverage, load_jurisdiction
from tests.factories import SACRAMENTO

needs_sacramento = pytest.mark.skipif(not SACRAMENTO.exists(), reason=f"{SACRAMENTO} is not here")
# The rules file's red "weapon" words, as the grading engine matches them (whole words, any case).
RED_WEAPON = re.compile(r"\b(?:knife|gun|weapon|firearm)\b", re.IGNORECASE)
JURISDICTION_FILES = ("stations.csv", "communities.csv", "officers.csv", "units.csv")
PROTECTED_LOCATIONS = 147  # Sacramento withholds the place of domestic-violence, sex-crime ... calls


@pytest.fixture(scope="module")
def sacramento() -> ImportProfile:
    return load_profile("sacramento")


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    return pd.read_csv(SACRAMENTO, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def calls_csv(sacramento: ImportProfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_file(SACRAMENTO, sacramento, tmp_path_factory.mktemp("sac") / "calls.csv")


@pytest.fixture(scope="module")
def calls(calls_csv: Path) -> pd.DataFrame:
    return pd.read_csv(calls_csv, dtype=str, keep_default_na=False)


def by_description(calls: pd.DataFrame, source: pd.DataFrame, description: str) -> pd.DataFrame:
    return calls[(source["Description"] == description).to_numpy()]


def test_a_shipped_profile_loads_by_name_or_by_path() -> None:
    by_name = load_profile("sacramento")
    assert by_name == load_profile(PROFILES_DIR / "sacramento.yaml")
    assert (by_name.name, by_name.timezone, by_name.date_only) == ("sacramento", "America/Los_Angeles", True)


def test_an_unknown_profile_name_says_what_exists() -> None:
    with pytest.raises(ValueError, match=r"no import profile named 'chicago'.*sacramento"):
        load_profile("chicago")


@needs_sacramento
def test_sacramento_converts_to_the_brief_call_columns_quickly(sacramento: ImportProfile) -> None:
    started = time.perf_counter()
    calls = apply_profile(SACRAMENTO, sacramento)
    assert time.perf_counter() - started < 2
    assert tuple(calls.columns) == FILE_COLUMNS["calls.csv"]
    assert len(calls) == 25_000
    first = calls.iloc[0]
    assert (first.call_id, first.community_code, first.address) == (
        "SAC-7303185",
        "SAC-5A",
        "1963 BONAVISTA WAY",
    )
    assert (calls["phone"] == "").all() and (calls["party_keys"] == "").all()
    assert calls["call_id"].is_unique
    assert set(calls["priority"]) == {"1", "2", "3", "4"}


@needs_sacramento
def test_every_row_passes_the_call_contract_except_protected_locations(
    calls_csv: Path, source: pd.DataFrame
) -> None:
    checked = check_file(calls_csv, CallIn, key="call_id")
    assert len(checked.rows) == 25_000 - PROTECTED_LOCATIONS
    assert len(checked.rejects) == PROTECTED_LOCATIONS == (source["Location"] == "").sum()
    for reject in checked.rejects:
        assert re.fullmatch(r"community_code: [^;]+; address: [^;]+", reject.reason), reject.reason
    withheld = source.loc[[r.line - 2 for r in checked.rejects], "Description"]
    assert withheld.str.startswith("DOMESTIC VIOLENCE").sum() == 115


@needs_sacramento
def test_call_types_map_to_the_brief_categories(calls: pd.DataFrame, source: pd.DataFrame) -> None:
    expected = {
        "DISTURBANCE-FAMILY": "family_neighbor",
        "DISTURBANCE-NOISE": "family_neighbor",
        "KEEP THE PEACE": "family_neighbor",
        "DOMESTIC VIOLENCE-IN PROGRESS": "violence",
        "DISTURBANCE-WEAPON": "violence",
        "SHOTS FIRED - LESS THAN 15 AGO": "violence",
        "MISDEMEANOR ASSAULT-IN PROGRESS": "violence",
        "DISTURBANCE-CLARIFY": "public_order",
        "PETTY THEFT-IN PROGRESS": "public_order",
        "SUSPICIOUS VEHICLE-OCCUPIED": "public_order",
        "FORGERY-IN PROGRESS": "fraud",
        "TRAFFIC STOP": "traffic",
        "VEHICLE ACCIDENT-INJURIES": "traffic",
        "WELFARE CHECK": "other",
        "ALARM-CANCEL": "other",
    }
    for description, category in expected.items():
        rows = by_description(calls, source, description)
        assert not rows.empty and set(rows["category"]) == {category}, description


@needs_sacramento
def test_red_keywords_reach_the_summary_only_where_the_call_type_says_so(
    calls: pd.DataFrame, source: pd.DataFrame
) -> None:
    def summaries(description: str) -> set[str]:
        return set(by_description(calls, source, description)["summary"])

    assert summaries("DISTURBANCE-WEAPON") == {"DISTURBANCE-WEAPON"}  # says "weapon" already
    assert summaries("SHOTS FIRED - LESS THAN 15 AGO") == {"SHOTS FIRED - LESS THAN 15 AGO (gun)"}
    assert summaries("BRANDISHING-REPORT") == {"BRANDISHING-REPORT (weapon)"}
    assert summaries("DOMESTIC VIOLENCE-IN PROGRESS") == {"DOMESTIC VIOLENCE-IN PROGRESS"}  # no weapon stated
    assert summaries("FELONY BATTERY NO WEAPON-CSI") == {"FELONY BATTERY UNARMED-CSI"}  # no false "weapon"
    red = calls["summary"].str.contains(RED_WEAPON)
    assert red.sum() == 341
    assert set(calls.loc[red, "category"]) == {"violence", "public_order"}  # THEFT-GUN-REPORT is theft


@needs_sacramento
def test_times_carry_the_pacific_offset_and_history_is_closed(
    calls: pd.DataFrame, source: pd.DataFrame
) -> None:
    assert calls["received_at"].str.fullmatch(r"2019-0[12]-\d\dT00:00:00-08:00").all()
    assert calls.loc[0, "received_at"] == "2019-01-01T00:00:00-08:00"
    assert (calls["closed_at"] != "").all()  # history: a blank Clear_Date closes on the received date
    no_clear = (source["Clear_Date"] == "").to_numpy()
    assert (calls.loc[no_clear, "closed_at"] == calls.loc[no_clear, "received_at"]).all()
    # dates only: a dispatch or arrival "time" would make 0-second (or one-day) response times
    assert (calls["dispatched_at"] == "").all() and (calls["arrived_at"] == "").all()


def test_summer_dates_take_daylight_time(sacramento: ImportProfile, tmp_path: Path) -> None:
    src = tmp_path / "july.csv"
    row = dict.fromkeys(sacramento.source_columns(), "")
    row |= {"Record_ID": "1", "Description": "DISTURBANCE-NOISE", "Location": "1 J ST", "Beat": "3M"}
    row |= {"Call_Type": "415E", "Police_District": "3", "Received_Date": "2019-07-04"}
    row |= {"X_Coordinate": "0", "Y_Coordinate": "0"}
    pd.DataFrame([row]).to_csv(src, index=False)
    out = apply_profile(src, sacramento).iloc[0]
    assert (out.received_at, out.closed_at) == ("2019-07-04T00:00:00-07:00", "2019-07-04T00:00:00-07:00")
    assert (out.category, out.community_code) == ("family_neighbor", "SAC-3M")


@needs_sacramento
def test_the_generated_jurisdiction_has_a_station_per_district_and_a_community_per_beat(
    sacramento: ImportProfile, calls: pd.DataFrame, source: pd.DataFrame, tmp_path: Path
) -> None:
    folder = profile_jurisdiction(SACRAMENTO, sacramento, tmp_path / "j")
    read = {name: pd.read_csv(folder / name, dtype=str, keep_default_na=False) for name in JURISDICTION_FILES}
    stations, communities = read["stations.csv"], read["communities.csv"]
    assert all(tuple(read[n].columns) == FILE_COLUMNS[n] for n in read)
    districts = set(source["Police_District"]) - {""}
    assert districts == {"1", "2", "3", "4", "5", "6", "UI"}  # six districts, and UI (unincorporated)
    assert set(stations["station_code"]) == {f"SAC-D{d}" for d in districts}
    assert len(communities) == source["Beat"].replace("", pd.NA).nunique() == 27
    assert set(calls["community_code"]) - {""} == set(communities["community_code"])
    assert communities.set_index("community_code").loc["SAC-1A", "station_code"] == "SAC-D1"
    lat, lon = stations["lat"].astype(float), stations["lon"].astype(float)
    assert lat.between(38.4, 38.8).all() and lon.between(-121.7, -121.2).all()  # in and around Sacramento
    roles = read["officers.csv"].groupby("role").size().to_dict()
    assert roles == {"chief": 7, "community": 27, "patrol": 14}
    assert len(read["units.csv"]) == 14
    again = profile_jurisdiction(SACRAMENTO, sacramento, tmp_path / "again")
    assert all((folder / n).read_bytes() == (again / n).read_bytes() for n in read)


@needs_sacramento
def test_the_generated_jurisdiction_loads_clean_and_covered(
    engine: Engine, sacramento: ImportProfile, tmp_path: Path
) -> None:
    folder = profile_jurisdiction(SACRAMENTO, sacramento, tmp_path / "j")
    with Session(engine) as s:
        results = load_jurisdiction(s, folder, actor="person:tester")
        s.commit()
        cov = coverage(s)
    assert [r.rejects for r in results] == [[], [], [], []]
    assert [r.created for r in results] == [7, 27, 48, 14]
    assert cov.covered and (cov.stations, cov.communities, cov.units) == (7, 27, 14)


BAD_PROFILES = [
    (lambda p: p["columns"].update(caller="Caller_Name"), r"columns: 'caller' is not a column"),
    (
        lambda p: p["category"]["rules"][1].update(pattern="(WEAPON"),
        r"category\.rules\.1\.pattern: bad regular",
    ),
    (
        lambda p: p["category"]["rules"][0].update(category="violent"),
        r"category\.rules\.0\.category: .*'violent'",
    ),
    (lambda p: p.update(timezone="Pacific/Sacramento"), r"timezone: unknown time zone 'Pacific/Sacramento'"),
    (lambda p: p["priority"]["rules"][0].update(priority=5), r"priority\.rules\.0\.priority: .*4"),
    (lambda p: p["columns"].update(call_id="SAC-{Record_ID:>8}"), r"columns: call_id: bad template"),
    (lambda p: p["columns"].pop("address"), r"columns\.address is required"),
    (lambda p: p["columns"].update(community_code="Beat"), r"columns\.community_code and jurisdiction"),
    (lambda p: p.update(colour="red"), r"colour: not a profile key"),
]


@pytest.mark.parametrize(("spoil", "message"), BAD_PROFILES)
def test_a_bad_profile_is_refused_naming_the_key(spoil, message: str, tmp_path: Path) -> None:
    data = yaml.safe_load((PROFILES_DIR / "sacramento.yaml").read_text(encoding="utf-8"))
    spoil(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_profile(path)


def test_a_file_lacking_a_profile_column_is_refused_naming_both(
    sacramento: ImportProfile, tmp_path: Path
) -> None:
    src = tmp_path / "short.csv"
    src.write_text("Record_ID,Description\n1,TRAFFIC STOP\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"short\.csv lacks columns .*'Received_Date' \(named by columns\.received_at\)"
    ):
        apply_profile(src, sacramento)


# A made-up CAD export from somewhere else: other column names, a composite id, full local
# timestamps in a day-first format, its own time zone, its own codes, priority and phone columns.
RIVERTON = """
name: riverton
version: 1
timezone: Europe/Berlin
time_format: "%d.%m.%Y %H:%M"
columns:
  call_id: "{Agency}-{IncidentNo}"
  received_at: CallTime
  community_code: "RIV-{Area}"
  address: "{HouseNo} {Street}"
  priority: Urgency
  summary: Narrative
  phone: Phone
  dispatched_at: DispatchTime
  closed_at: ClosedTime
  disposition: Outcome
category:
  column: Nature
  default: other
  rules:
    - {category: family_neighbor, codes: [FAM, NBR]}
    - {category: 劳资债务, codes: [WAGE]}
    - {category: violence, pattern: "^ASLT|^STAB"}
red_keywords:
  column: Nature
  rules:
    - {add: knife, pattern: "^STAB"}
"""

RIVERTON_EXPORT = """\
IncidentNo,Agency,CallTime,DispatchTime,ClosedTime,Area,Street,HouseNo,Nature,Urgency,Narrative,Phone,Outcome
17,RPD,05.01.2024 22:40,05.01.2024 22:41,05.01.2024 23:30,N3,Mühlweg,12,FAM,2,Streit,0151 2345678,mediated
18,RPD,14.07.2024 09:05,,,S1,Hafenstraße,3,STAB,1,man with blade in stairwell,,
19,RPD,20.07.2024 11:00,,,S1,Hafenstraße,5,WAGE,3,12 workers unpaid,,
20,RPD,31.02.2024 10:00,,,S1,Hafenstraße,5,NBR,3,,,
,RPD,21.07.2024 10:00,,,S1,Hafenstraße,5,NBR,3,,,
"""


def test_a_profile_for_another_export_converts_it(tmp_path: Path) -> None:
    profile = parse_profile(yaml.safe_load(RIVERTON), "riverton.yaml")
    src = tmp_path / "riverton_export.csv"
    src.write_text(RIVERTON_EXPORT, encoding="utf-8")
    out = convert_file(src, profile, tmp_path / "calls.csv")
    calls = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert tuple(calls.columns) == FILE_COLUMNS["calls.csv"]
    winter, summer, wage = calls.iloc[0], calls.iloc[1], calls.iloc[2]
    assert (winter.call_id, winter.community_code, winter.address) == ("RPD-17", "RIV-N3", "12 Mühlweg")
    assert (winter.received_at, winter.closed_at) == (
        "2024-01-05T22:40:00+01:00",
        "2024-01-05T23:30:00+01:00",
    )
    assert (winter.category, winter.priority, winter.phone) == ("family_neighbor", "2", "0151 2345678")
    assert summer.received_at == "2024-07-14T09:05:00+02:00" and summer.closed_at == ""  # live, not history
    assert (summer.category, summer.summary) == ("violence", "man with blade in stairwell (knife)")
    assert wage.category == "labor_debt"

    checked = check_file(out, CallIn, key="call_id")
    assert [line for line, _ in checked.rows] == [2, 3, 4]
    assert checked.rows[0][1].received_at.isoformat() == "2024-01-05T21:40:00+00:00"
    reasons = {r.line: r.reason for r in checked.rejects}
    assert reasons[5].startswith("received_at: Input should be a valid datetime")
    assert "unreadable time '31.02.2024 10:00'" in reasons[5]
    assert re.fullmatch(r"call_id: [^;]+", reasons[6])  # no IncidentNo: blank, not "RPD-"
    assert convert_file(src, profile, tmp_path / "again.csv").read_bytes() == out.read_bytes()


def test_a_profile_needs_a_way_to_each_required_column() -> None:
    data = yaml.safe_load(RIVERTON)
    del data["category"]
    with pytest.raises(ValueError, match=r"category needs columns\.category or the `category` section"):
        parse_profile(data)


def test_iso_times_may_carry_offsets_and_clock_changes_are_resolved(tmp_path: Path) -> None:
    profile = parse_profile(
        {
            "name": "t",
            "version": "1",
            "timezone": "America/New_York",
            "columns": {"call_id": "id", "received_at": "t", "address": "a", "community_code": "c"},
            "category": {"column": "a", "default": "其他"},
        }
    )
    src = tmp_path / "t.csv"
    times = ["2024-07-01T12:00:00Z", "2024-07-01 12:00", "2024-03-10 02:30", "2024-11-03 01:30", ""]
    pd.DataFrame({"id": range(5), "t": times, "a": "x", "c": "c"}).to_csv(src, index=False)
    assert list(apply_profile(src, profile)["received_at"]) == [
        "2024-07-01T08:00:00-04:00",  # an instant with an offset keeps the instant
        "2024-07-01T12:00:00-04:00",  # a bare wall time is the profile zone's
        "2024-03-10T03:00:00-04:00",  # skipped by the spring change: moved forward
        "2024-11-03T01:30:00-04:00",  # repeated by the autumn change: the first (summer) one
        "",
    ]
    assert set(apply_profile(src, profile)["category"]) == {"other"}


def test_a_blank_template_part_drops_out_with_its_separator_and_an_id_stays_strict() -> None:
    """`{number} {dir} {road} {suffix}` once blanked 96% of a city's addresses: those with no direction."""
    df = pd.DataFrame(
        {"number": ["12", "7", "", ""], "dir": ["N", "", "", ""], "road": ["MAIN", "ELM", "OAK", ""],
         "suffix": ["ST", "AVE", "", ""]}
    )  # fmt: skip
    assert render(df, "{number} {dir} {road} {suffix}").tolist() == ["12 N MAIN ST", "7 ELM AVE", "OAK", ""]
    assert render(df, "SD-{number}-{road}", strict=True).tolist() == ["SD-12-MAIN", "SD-7-ELM", "", ""]


def test_a_constant_is_written_with_an_equals_sign_and_reads_no_column() -> None:
    df = pd.DataFrame({"beat": ["121", "835"]})
    assert render(df, "=SDPD").tolist() == ["SDPD", "SDPD"]
    assert template_fields("=SDPD") == []


def _san_diego_like(tmp_path: Path) -> ImportProfile:
    """A city that ships codes in one file and their meaning in another, with cancelled and duplicate
    calls in the export, and divisions only in the first digit of the beat."""
    (tmp_path / "codes.csv").write_text(
        "call_type,description\n415,DISTURBING THE PEACE\n1016,DOMESTIC VIOLENCE\n11-8,MISSING PERSON\n",
        encoding="utf-8",
    )
    (tmp_path / "export.csv").write_text(
        "incident_num,date_time,number,dir,road,sfx,beat,call_type,disposition\n"
        "E1,2024-05-01 10:00:00,100,N,HARBOR,BLVD,121,415,A\n"
        "E2,2024-05-01 10:05:00,200,,MARKET,ST,835,1016,A\n"
        "E3,2024-05-01 10:06:00,200,,MARKET,ST,835,1016,DUP\n"
        "E4,2024-05-01 11:00:00,9,,IMPERIAL,AVE,512,999,CAN\n"
        "E5,2024-05-01 12:00:00,9,,IMPERIAL,AVE,512,999,A\n",
        encoding="utf-8",
    )
    (tmp_path / "city.yaml").write_text(
        """
name: city
version: "1"
timezone: America/Los_Angeles
time_format: "%Y-%m-%d %H:%M:%S"
lookups:
  - {column: description, from: call_type, file: codes.csv, key: call_type, value: description,
     default: UNKNOWN CALL}
derived:
  - {column: division, from: beat, pattern: "^(\\\\d)"}
drop:
  - {column: disposition, codes: [CAN, DUP]}
columns:
  call_id: "SD-{incident_num}"
  received_at: date_time
  address: "{number} {dir} {road} {sfx}"
  summary: description
category:
  column: description
  rules:
    - {category: violence, pattern: "DOMESTIC VIOLENCE"}
    - {category: missing_person, pattern: "MISSING"}
    - {category: public_order, pattern: "DISTURBING"}
jurisdiction:
  community: "SD-{beat}"
  station: "SD-D{division}"
  community_name: "Beat {beat}"
  station_name: "=San Diego Police"
  district: San Diego
  center: {lat: 32.72, lon: -117.16}
""",
        encoding="utf-8",
    )
    return load_profile(tmp_path / "city.yaml")


def test_lookups_derived_values_and_drop_rules_a_new_user_can_write(tmp_path: Path) -> None:
    profile = _san_diego_like(tmp_path)
    calls = apply_profile(tmp_path / "export.csv", profile)
    assert calls["call_id"].tolist() == [
        "SD-E1",
        "SD-E2",
        "SD-E5",
    ]  # the cancelled and duplicate calls left out
    assert calls.attrs["dropped"] == 2 and calls.attrs["source_rows"].tolist() == [0, 1, 4]
    assert calls["summary"].tolist() == ["DISTURBING THE PEACE", "DOMESTIC VIOLENCE", "UNKNOWN CALL"]
    assert calls["category"].tolist() == ["public_order", "violence", "other"]
    assert calls["address"].tolist() == ["100 N HARBOR BLVD", "200 MARKET ST", "9 IMPERIAL AVE"]
    folder = profile_jurisdiction(tmp_path / "export.csv", profile, tmp_path / "j")
    stations = pd.read_csv(folder / "stations.csv", dtype=str)
    assert sorted(stations["station_code"]) == ["SD-D1", "SD-D5", "SD-D8"]  # divisions, not one per beat
    assert set(stations["name"]) == {"San Diego Police"}


def test_a_lookup_file_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    profile = _san_diego_like(tmp_path)
    (tmp_path / "codes.csv").unlink()
    with pytest.raises(ValueError, match=r"^lookups: cannot read .*codes\.csv"):
        apply_profile(tmp_path / "export.csv", profile)
