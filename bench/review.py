"""Benchmark: the review (复盘问效) of a generated province for a year to date.

Takes a city prepared by `bench/sweep.py --dir DIR` (its swept `bench.db`, else `prepared.db`), or
prepares one at `--scale`, then runs the review flow for the city's year to date in a process of its
own and prints the seconds (the figures alone, and the whole flow with its report and artifacts),
the peak memory of that process, and the number of task runs.

    .venv/bin/python bench/sweep.py --scale 10 --dir /tmp/city10     # once: prepare and sweep
    .venv/bin/python bench/review.py --dir /tmp/city10 --scale 10
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sweep import END, run_leg, task_runs_of


def review_leg(period: str, scope: str) -> dict[str, object]:
    """In its own process: incidents opened if intake's last stage never ran, then the review, timed."""
    from sqlalchemy import func, select

    from bridgehead.db import session_scope
    from bridgehead.migrate import upgrade
    from bridgehead.rules import get_rules
    from flows.review import resolve, review
    from models import Incident, Risk, Signal
    from tasks.quick_response.incidents import open_incidents
    from tasks.review.build import build_review

    upgrade()  # a city prepared by an older Bridgehead gets the newer tables, as `bridgehead init` does
    with session_scope() as s:
        if not s.execute(select(func.count()).select_from(Incident)).scalar_one():
            open_incidents(s, get_rules())
        size = {
            "signals": s.execute(select(func.count()).select_from(Signal)).scalar_one(),
            "risks": s.execute(select(func.count()).select_from(Risk)).scalar_one(),
            "incidents": s.execute(select(func.count()).select_from(Incident)).scalar_one(),
        }
    where, when, lang = resolve(scope, period, "zh")
    started = time.perf_counter()
    with session_scope() as s:
        build_review(s, where, when, lang)
    figures_s = time.perf_counter() - started
    started = time.perf_counter()
    state = review(scope=scope, period=period, return_state=True)
    flow_s = time.perf_counter() - started
    runs = task_runs_of(state)
    return {
        **size,
        "figures_seconds": round(figures_s, 1),
        "flow_seconds": round(flow_s, 1),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "task_runs": len(runs),
        "findings": state.result()["findings"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--dir", type=Path, help="a city prepared by bench/sweep.py --dir (reused)")
    parser.add_argument("--scope", default="city")
    parser.add_argument("--period", default=f"ytd:{END - timedelta(days=1)}")
    parser.add_argument("--leg", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if args.leg:
        print(json.dumps(review_leg(args.period, args.scope), ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory(prefix="bridgehead-review-") as tmp:
        folder = args.dir or Path(tmp)
        db = next((folder / n for n in ("bench.db", "prepared.db") if (folder / n).exists()), None)
        if db is None:
            from bench.sweep import prepare

            os.environ["BRIDGEHEAD_VAR_DIR"] = str(folder)
            os.environ["BRIDGEHEAD_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
            prepare(folder, args.scale)
            db = folder / "bench.db"
        env = {
            **os.environ,
            "BRIDGEHEAD_VAR_DIR": str(folder),
            "BRIDGEHEAD_DATABASE_URL": f"sqlite:///{db}",
            "BRIDGEHEAD_REPORTS_DIR": str(Path(tmp) / "reports"),
        }
        r = run_leg(
            [__file__, "--leg", "--scope", args.scope, "--period", args.period], env, Path(tmp) / "prefect"
        )
        print(
            f"scale {args.scale}: review of {args.scope} for {args.period} over {r['signals']:,} signals, "
            f"{r['risks']:,} risks, {r['incidents']:,} incidents: figures {r['figures_seconds']} s, "
            f"whole flow {r['flow_seconds']} s, peak memory {r['peak_memory_mib']:,} MiB, "
            f"{r['task_runs']} task runs"
        )
        for line in r["findings"]:
            print(f"  - {line}")


if __name__ == "__main__":
    main()
