"""The sweep's floor reaches the product's end state: the small version of `bench/sweep_day.py`.

The floor is what issue 17's ratio for an ordinary day is measured against, so it must stay the same
work as the product: a small generated city, its first three mornings (the register's first included)
swept by the product's four stages on one copy and by the floor on another, on each database of the
suite. Every table the sweep writes is digested row by row, and the audit trail verified; any
difference fails (a wrong days-late on a notice, or a dormant end without its calm visit, does).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "sweep_day.py"


def test_the_floor_of_a_days_sweep_ends_where_the_product_ends(migrated_url: str) -> None:
    args = [sys.executable, str(SCRIPT), "--scale", "0.005", "--days", "3", "--runs", "1"]
    url = make_url(migrated_url)
    if url.get_backend_name() == "postgresql":  # a database of its own beside the suite's
        base = url.set(database=f"{url.database}_sweepday")
        args += ["--database-url", base.render_as_string(hide_password=False)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    verdict = next(line for line in done.stdout.splitlines() if line.startswith("2026-11-27 to 2026-11-29:"))
    assert verdict.endswith("end states equal"), done.stdout
    assert '"audit verified": true' in done.stdout
    assert '"notice follow_up": ' in done.stdout  # the ladder was climbed: the day had work to compare
