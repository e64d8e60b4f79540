"""The intake report tells each station what a run brought it, from that run's files only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from tasks.intake.report import by_station, intake_markdown, intake_report, station_line
from tests.factories import ingest, write_rows
from tests.tasks.quick_response.calls import SMART, URBAN, VILLAGE, call

MARCH = datetime(2026, 3, 1, 9)


def test_a_run_is_counted_per_station_from_its_own_files(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    first = ingest(
        write_rows(
            tmp_path / "a" / "calls.csv",
            call("A1", MARCH, address="幸福路1号"),
            call("A2", MARCH.replace(hour=10), address="幸福路1号"),
            call("A3", MARCH, community_code=URBAN, address="陈仓大道2号", category="family_neighbor"),
            call("A4", MARCH, community_code=VILLAGE, address="南营村3组", category="family_neighbor"),
        )
    )["loaded"]
    second = ingest(
        write_rows(tmp_path / "b" / "calls.csv", call("B1", MARCH, community_code=SMART, address="幸福路9号"))
    )["loaded"]
    with Session(engine) as s:
        stations = by_station(s, [first.source_file_id])
        later = by_station(s, [second.source_file_id])
    assert [(r["station"], r["signals"]) for r in stations] == [("61030301", 3), ("61032301", 1)]
    assert stations[0]["risks"] == 2  # two violence calls at one address are one risk
    assert stations[1]["risks"] == 1
    assert [(r["station"], r["signals"]) for r in later] == [("61030301", 1)]
    assert station_line(stations, top=1) == (
        f"2 stations: 61030301 3 signals on 2 risks ({stations[0]['red_or_orange']} red/orange); and 1 more"
    )


def test_a_file_seen_before_brings_no_station_anything(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "calls.csv", call("A1", MARCH))
    ingest(path)
    again = ingest(path)
    with Session(engine) as s:
        report = intake_report(s, [again["loaded"]], again["linked"], again["graded"])
    assert again["loaded"].skipped_file
    assert report.by_station == []
    assert "By station" not in intake_markdown(report)
    assert station_line(report.by_station) == "no station"


def test_the_markdown_shows_the_station_table(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    done = ingest(
        write_rows(tmp_path / "calls.csv", call("A1", MARCH), call("A2", MARCH, community_code=VILLAGE))
    )
    with Session(engine) as s:
        report = intake_report(s, [done["loaded"]], done["linked"], done["graded"])
    text = intake_markdown(report)
    assert "| 61030301 | 1 | 1 |" in text
    assert "| 61032301 | 1 | 1 |" in text
