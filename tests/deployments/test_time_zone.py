"""The jurisdiction's time zone: a US city's export reviewed in its own days and weeks.

Sacramento's calls were shown 16 hours ahead of the city, and its review weeks ran from Sunday 08:00
to Sunday 08:00 local (Monday 00:00 in Asia/Shanghai). With BRIDGEHEAD_TIMEZONE set, every command
cuts days and weeks and shows times in the city's zone. Commands run as a user runs them (the zone is
read once per process)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import SACRAMENTO, write_rows

pytestmark = pytest.mark.skipif(not SACRAMENTO.exists(), reason=f"{SACRAMENTO} is not here")


def _bridgehead(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "deployments.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 3), done.stdout[-2000:] + done.stderr[-2000:]
    return done


def _first_week_of_sacramento(path: Path) -> int:
    """Rows of the export's first days, written to `path`; how many were received in 2019-W01."""
    with SACRAMENTO.open(encoding="utf-8") as source, path.open("w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, reader.fieldnames or [])
        writer.writeheader()
        kept = [r for r in reader if r["Received_Date"][:10] <= "2019-01-08"]
        writer.writerows(kept)
    return sum(r["Received_Date"][:10] <= "2019-01-06" and r["Location"] != "" for r in kept)


def test_a_sacramento_review_cuts_weeks_at_monday_midnight_local_and_shows_local_times(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGEHEAD_")}
    env |= {
        "BRIDGEHEAD_TIMEZONE": "America/Los_Angeles",
        "BRIDGEHEAD_VAR_DIR": str(tmp_path / "var"),
        "BRIDGEHEAD_REPORTS_DIR": str(tmp_path / "reports"),
    }
    export = tmp_path / "sacramento.csv"
    in_week = _first_week_of_sacramento(export)
    _bridgehead(env, "init")
    _bridgehead(
        env,
        "jurisdiction",
        "from-profile",
        str(export),
        "--profile",
        "sacramento",
        "--out",
        str(tmp_path / "j"),
    )
    _bridgehead(env, "jurisdiction", "load", str(tmp_path / "j"))
    _bridgehead(env, "ingest", "--channel", "call", "--profile", "sacramento", str(export))
    with (tmp_path / "j" / "communities.csv").open(encoding="utf-8") as fh:
        community = next(csv.DictReader(fh))["community_code"]
    late = [  # Sunday evening in Sacramento: Monday noon in Asia/Shanghai, still the city's week 1
        {"call_id": "SUN-EVENING", "received_at": "2019-01-06T20:00:00-08:00", "category": "family_neighbor",
         "summary": "neighbours arguing", "community_code": community, "address": "9999 TIMEZONE WAY"},
        {"call_id": "MON-EARLY", "received_at": "2019-01-07T00:30:00-08:00", "category": "family_neighbor",
         "summary": "neighbours arguing", "community_code": community, "address": "9999 TIMEZONE WAY"},
    ]  # fmt: skip
    taken = _bridgehead(
        env, "ingest", "--channel", "call", str(write_rows(tmp_path / "late" / "calls.csv", *late))
    )
    why = [
        q
        for q in json.loads(_bridgehead(env, "quarantine", "list", "--format", "json").stdout)
        if "late" in q["file"]
    ]
    assert "2 loaded" in taken.stdout, why

    review = json.loads(
        _bridgehead(
            env, "review", "--scope", "city", "--period", "2019-W01", "--lang", "en", "--format", "json"
        ).stdout
    )
    assert review["windows"]["current"]["first"] == "2018-12-31"  # a Monday
    # Sunday 20:00 local is in the week; Monday 00:30 is not
    assert review["figures"]["calls"]["current"] == in_week + 1
    risks = json.loads(_bridgehead(env, "risks", "list", "--format", "json", "--status", "open").stdout)
    ours = [r for r in risks if "TIMEZONE" in (r["address"] or "").upper()]
    assert len(ours) == 1 and ours[0]["signals"] == 2, risks[:3]
    assert ours[0]["last_signal"].startswith("2019-01-07 00:30")  # the city's time, not 2019-01-07 16:30
