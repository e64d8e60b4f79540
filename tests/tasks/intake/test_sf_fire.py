"""Real data with response times: four days of San Francisco Fire Department calls (DataSF) through
their shipped profile. One row per unit becomes one call, "null" is blank, 12-hour local times keep
their instant, unspaced corners are crossings, and the review measures dispatch and arrival."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from bridgehead.addresses import normalise_address
from bridgehead.db import session_scope
from bridgehead.import_profile import load_profile
from tasks.intake.profile_check import dry_run
from tasks.intake.profile_jurisdiction import profile_jurisdiction
from tasks.intake.profiles import apply_profile, convert_file
from tasks.jurisdiction import coverage, load_jurisdiction
from tests.factories import ingest, review_of

EXPORT = Path(__file__).resolve().parents[3] / "docs" / "data" / "sf_fire_calls_2018-02-01_04.csv"


def test_each_call_is_its_first_unit_and_null_is_blank() -> None:
    source = pd.read_csv(EXPORT, dtype=str, keep_default_na=False)
    calls = apply_profile(EXPORT, load_profile("sf_fire"))
    firsts = source[source["Unit sequence in call dispatch"] == "1"]
    assert len(calls) == len(firsts) == 1_213 and calls["call_id"].is_unique
    assert calls.attrs["dropped"] == 1_390  # the second, third ... units sent
    never_there = firsts["On Scene DtTm"].eq("null").to_numpy()
    assert never_there.any() and (calls["arrived_at"].to_numpy()[never_there] == "").all()
    first = calls.iloc[0]  # 02/01/2018 02:39:08 AM, Pacific Standard Time
    assert first["received_at"] == "2018-02-01T02:39:08-08:00"
    assert not calls["summary"].str.contains("null").any()


def test_the_dry_run_loads_every_call() -> None:
    checked = dry_run(EXPORT, load_profile("sf_fire"))
    assert (checked.rows, checked.would_load, checked.dropped) == (1_213, 1_213, 1_390)
    assert checked.reasons == []


def test_an_unspaced_corner_is_a_crossing_either_way_round() -> None:
    assert normalise_address("24TH ST/VALENCIA ST") == normalise_address("VALENCIA ST / 24TH ST")


def test_the_review_measures_dispatch_and_arrival(engine: Engine, tmp_path: Path) -> None:
    profile = load_profile("sf_fire")
    with session_scope() as s:
        load_jurisdiction(s, profile_jurisdiction(EXPORT, profile, tmp_path / "j"), actor="person:test")
        assert coverage(s).covered
    ingest(convert_file(EXPORT, profile, tmp_path / "calls.csv"))
    figures = review_of("7d:2018-02-05", as_of="2018-02-06")["figures"]
    assert figures["incidents"]["current"] > 500
    for name in ("dispatch_median_s", "arrival_median_s", "response_on_target_pct"):
        assert figures[name]["current"] is not None, name  # measured, not "—"
    assert 60 < figures["dispatch_median_s"]["current"] < 300  # about two minutes, as DataSF's own
