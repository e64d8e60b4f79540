"""Benchmark: the review (复盘问效) of a generated province for a year to date.

Takes a city prepared by `bench/sweep.py --dir DIR` (its swept `bench.db`, else `prepared.db`), or
prepares one at `--scale`, then runs the review flow for the city's year to date in a process of its
own and prints the seconds (the figures alone, and the whole flow with its report and artifacts),
the peak memory of that process, and the number of task runs.

    .venv/bin/python bench/sweep.py --scale 10 --dir /tmp/city10     # once: prepare and sweep
    .venv/bin/python bench/review.py --dir /tmp/city10 --scale 10
    .venv/bin/python bench/review.py --dir /tmp/citypg --pg-url URL      # a city prepared with --pg-url URL
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

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
        built = build_review(s, where, when, lang)
    figures_s = time.perf_counter() - started
    with session_scope() as s:
        floor_s, counted = floor(s, when)
    differ = [k for k, by in counted.items() if _differs(built["figures"][k], by)]
    started = time.perf_counter()
    state = review(scope=scope, period=period, return_state=True)
    flow_s = time.perf_counter() - started
    runs = task_runs_of(state)
    return {
        **size,
        "figures_seconds": round(figures_s, 2),
        "floor_seconds": round(floor_s, 3),
        "floor_figures": len(counted),
        "floor_differs": differ,
        "flow_seconds": round(flow_s, 2),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "task_runs": len(runs),
        "findings": state.result()["findings"],
    }


FLOOR_SQL = {  # one hand-written statement per table, every window's counts at once (:{w}_s, :{w}_e)
    "signal": """SELECT {sums} FROM signal
        WHERE channel IN ('call', 'tip') AND occurred_at >= :lo AND occurred_at < :hi""",
    "criminal_case": "SELECT {sums} FROM criminal_case",
    "risk": "SELECT {sums} FROM risk",
    "incident": "SELECT {sums} FROM incident WHERE opened_at >= :lo AND opened_at < :hi",
}
FLOOR_FIGURES = {  # figure: (table, condition with {w} for the window)
    "calls": ("signal", "channel = 'call' AND occurred_at >= :{w}_s AND occurred_at < :{w}_e"),
    "tips_received": ("signal", "channel = 'tip' AND occurred_at >= :{w}_s AND occurred_at < :{w}_e"),
    "cases_filed": ("criminal_case", "filed_at >= :{w}_s AND filed_at < :{w}_e"),
    "telecom_fraud_filed": (
        "criminal_case",
        "offence = 'telecom_fraud' AND filed_at >= :{w}_s AND filed_at < :{w}_e",
    ),
    "telecom_fraud_solved": (
        "criminal_case",
        "offence = 'telecom_fraud' AND solved_at >= :{w}_s AND solved_at < :{w}_e",
    ),
    "risks_found": ("risk", "first_signal_at >= :{w}_s AND first_signal_at < :{w}_e"),
    "risks_resolved": ("risk", "resolved_at >= :{w}_s AND resolved_at < :{w}_e"),
    "incidents": ("incident", "opened_at >= :{w}_s AND opened_at < :{w}_e"),
}


def _differs(figure: Any, counted: dict[str, int]) -> bool:
    """A product's figure against the floor's count, window by window; a window the product shows as
    unknown, with its reason (before the follow-up cycle began, say), is not a count to compare."""
    unknown = figure.get("unknown") or {}
    return any(figure[w] != n and not (figure[w] is None and w in unknown) for w, n in counted.items())


def floor(session: Any, period: Any) -> tuple[float, dict[str, dict[str, int]]]:
    """The review's plain counts by minimal SQL (a sum per figure and window, one statement per table),
    timed; the product's same figures are checked equal to them."""
    from sqlalchemy import text

    windows = period.windows
    params = {}
    for w, window in windows.items():
        params[f"{w}_s"] = window.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        params[f"{w}_e"] = window.end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    params["lo"] = min(params[f"{w}_s"] for w in windows)
    params["hi"] = max(params[f"{w}_e"] for w in windows)
    started = time.perf_counter()
    out: dict[str, dict[str, int]] = {}
    for table, sql in FLOOR_SQL.items():
        keys = [(k, w) for k, (t, _) in FLOOR_FIGURES.items() if t == table for w in windows]
        cases = (FLOOR_FIGURES[k][1].format(w=w) for k, w in keys)
        sums = ", ".join(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in cases)
        row = session.execute(text(sql.format(sums=sums)), params).one()
        for (k, w), n in zip(keys, row, strict=True):
            out.setdefault(k, {})[w] = int(n or 0)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--dir", type=Path, help="a city prepared by bench/sweep.py --dir (reused)")
    parser.add_argument("--scope", default="city")
    parser.add_argument("--period", default=f"ytd:{END - timedelta(days=1)}")
    parser.add_argument(
        "--pg-url",
        help="review the city bench/sweep.py --dir DIR --pg-url URL prepared there, not DIR's SQLite",
    )
    parser.add_argument("--leg", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if args.leg:
        print(json.dumps(review_leg(args.period, args.scope), ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory(prefix="bridgehead-review-") as tmp:
        folder = args.dir or Path(tmp)
        db = next((folder / n for n in ("bench.db", "prepared.db") if (folder / n).exists()), None)
        if db is None and not args.pg_url:
            from bench.sweep import prepare

            os.environ["BRIDGEHEAD_VAR_DIR"] = str(folder)
            os.environ["BRIDGEHEAD_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
            prepare(folder, args.scale)
            db = folder / "bench.db"
        env = {
            **os.environ,
            "BRIDGEHEAD_VAR_DIR": str(folder),
            "BRIDGEHEAD_DATABASE_URL": args.pg_url or f"sqlite:///{db}",
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
        print(
            f"  floor: the {r['floor_figures']} plain counts by one hand-written statement per table in "
            f"{r['floor_seconds']} s (figures {r['figures_seconds'] / r['floor_seconds']:.0f}x); "
            + ("equal to the product's" if not r["floor_differs"] else f"DIFFER: {r['floor_differs']}")
        )
        for line in r["findings"]:
            print(f"  - {line}")


if __name__ == "__main__":
    main()
