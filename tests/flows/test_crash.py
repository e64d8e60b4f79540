"""Killed at random points and run again, intake and the sweep end where an uninterrupted run ends.

The small version of `bench/crash.py` (which kills each stage 20 times): two kills per stage on a
tiny city, on each database of the suite. The script prints a line per kill; any digest that
differs from the uninterrupted run's, or an audit chain that no longer verifies, fails it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.server

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "crash.py"


def test_intake_and_the_sweep_killed_at_random_points_end_like_uninterrupted_runs(migrated_url: str) -> None:
    args = [sys.executable, str(SCRIPT), "--kills", "2", "--scale", "0.005", "--seed", "18"]
    url = make_url(migrated_url)
    if url.get_backend_name() == "postgresql":  # a database of its own beside the suite's
        args += [
            "--database-url",
            url.set(database=f"{url.database}_crash").render_as_string(hide_password=False),
        ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "crash: 4 of 4 killed runs ended equal" in done.stdout, done.stdout
    assert done.stdout.count(": equal") == 4
