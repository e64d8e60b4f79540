"""`bridgehead profile check`: a new user sees what a profile makes of an export before taking it in.

Sacramento's export once lost 96% of its rows to a template nobody could see into; the dry run says
how many rows would load, the reasons for the rest with a sample line, and a few converted rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import SACRAMENTO

pytestmark = pytest.mark.skipif(not SACRAMENTO.exists(), reason=f"{SACRAMENTO} is not here")


def _check(*args: str, zone: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGEHEAD_")}
    if zone:
        env["BRIDGEHEAD_TIMEZONE"] = zone
    command = [sys.executable, "-m", "deployments.cli", "profile", "check", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_the_dry_run_of_sacramento_counts_what_would_load_and_why_the_rest_would_not() -> None:
    started = time.monotonic()
    done = _check(
        "sacramento", str(SACRAMENTO), "--format", "json", "--rows", "3", zone="America/Los_Angeles"
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert (found["rows"], found["would_load"], found["would_quarantine"]) == (25_000, 24_853, 147)
    [why] = found["reasons"]
    assert why["rows"] == 147 and "address: required but blank" in why["reason"]
    line = why["sample_line"]
    raw = SACRAMENTO.read_text(encoding="utf-8").splitlines()[line - 1]
    assert ",," in raw  # the sample line is the source's own line, with its location withheld
    assert [r["call_id"] for r in found["sample"]] == ["SAC-7303185", "SAC-7304328", "SAC-7303206"]
    assert found["sample"][0]["received_at"] == "2019-01-01 00:00:00"  # the city's own time
    assert found["zone_note"] is None
    assert took < 30  # the brief asks under 10 s; the suite's machine may be busy


def test_a_profile_read_in_another_zone_than_the_jurisdiction_says_what_to_set() -> None:
    done = _check("sacramento", str(SACRAMENTO), "--rows", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "BRIDGEHEAD_TIMEZONE=America/Los_Angeles" in " ".join(done.stdout.split())


def test_a_file_without_the_profiles_columns_is_one_line_naming_them(tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    done = _check("sacramento", str(bad))
    assert done.returncode == 2
    said = " ".join(done.stdout.split())
    assert "lacks columns the profile 'sacramento' reads: 'Record_ID' (named by columns.call_id)" in said
    assert "Traceback" not in done.stdout + done.stderr
