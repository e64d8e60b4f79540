"""Benchmark: the follow-up sweep over a generated city, at any scale.

Generates the city at `--scale`, takes its year in through intake's stages (not timed), then runs
the follow-up sweep flow for the last `--days` days of the data in a process of its own and prints:
open risks, follow-ups created, seconds, peak memory of the sweep process, and the number of task
runs (four per day whatever the size of the register).

    .venv/bin/python bench/sweep.py --scale 1
    .venv/bin/python bench/sweep.py --scale 10 --days 7 --dir /tmp/city10

Input files are taken in in parts of `PART` rows, as a daily inbox would bring them, so preparing a
province does not need the memory of one five-million-row file. With `--dir` the prepared city is
kept there and a second run sweeps a fresh copy of it instead of preparing again.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

END = date(2026, 11, 29)
CHANNELS = ("case", "call", "visit", "analysis", "tip")
PART = 500_000


def split_csv(path: Path, rows: int) -> list[Path]:
    """The file as parts of at most `rows` records, each with the header (records, not lines)."""
    parts: list[Path] = []
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        header = next(reader)
        out = None
        for n, record in enumerate(reader):
            if n % rows == 0:
                if out is not None:
                    out.close()
                parts.append(path.with_name(f"{path.stem}.part{len(parts) + 1:03d}{path.suffix}"))
                out = parts[-1].open("w", newline="", encoding="utf-8")
                writer = csv.writer(out)
                writer.writerow(header)
            writer.writerow(record)
        if out is not None:
            out.close()
    return parts


def prepare(folder: Path, scale: float, resume: bool = False) -> None:
    from bench.ingest_calls import reset
    from bridgehead.db import session_scope
    from bridgehead.migrate import upgrade
    from bridgehead.rules import get_rules
    from bridgehead.synthetic import generate
    from models.contracts import INPUT_CONTRACTS
    from tasks.intake.grading_stage import grade_pending
    from tasks.intake.linking_stage import link_pending
    from tasks.intake.load import load_file, validate_file
    from tasks.jurisdiction import load_jurisdiction

    if resume and (folder / "data" / "manifest.json").exists():
        upgrade()  # taken-in parts are skipped below: intake recognises a file it has seen
    else:
        generate(folder / "data", seed=7, scale=scale, end=END)
        reset(os.environ["BRIDGEHEAD_DATABASE_URL"])
    with session_scope() as s:
        load_jurisdiction(s, folder / "data", actor="person:bench")
    for channel in CHANNELS:
        for part in split_csv(folder / "data" / INPUT_CONTRACTS[channel].default_file, PART):
            with session_scope() as s:
                validated = validate_file(s, channel, part)
            with session_scope() as s:
                load_file(s, validated)
            with session_scope() as s:
                link_pending(s, get_rules())
            with session_scope() as s:
                grade_pending(s, get_rules())
            print(f"  {part.name}: taken in", flush=True)


def keep(db: Path, copy: Path) -> None:
    """A consistent copy of the SQLite file (its write-ahead log folded in first)."""
    import sqlite3

    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)


def task_runs_of(state: Any) -> list[Any]:
    """The task runs of a finished flow run, read back from the server (counted, not assumed)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    assert state.is_completed(), state
    time.sleep(3)  # task runs are recorded from events, a moment after they finish
    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )


def sweep_leg(days: int) -> dict[str, object]:
    """In its own process: the flow run, timed, with its task runs counted through the API."""
    from sqlalchemy import func, select

    from bridgehead.db import session_scope
    from flows.follow_up import follow_up_sweep
    from models import FollowUp, Risk

    last = END - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    with session_scope() as s:
        open_risks = s.execute(select(func.count()).where(Risk.status == "open")).scalar_one()
    started = time.perf_counter()
    state = follow_up_sweep(first, last, return_state=True)
    seconds = time.perf_counter() - started
    runs = task_runs_of(state)
    with session_scope() as s:
        created = s.execute(select(func.count()).select_from(FollowUp)).scalar_one()
    return {
        "open_risks": open_risks,
        "days": days,
        "follow_ups_created": created,
        "seconds": round(seconds, 1),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "task_runs": len(runs),
    }


def run_leg(argv: list[str], env: dict[str, str], prefect_home: Path) -> dict[str, Any]:
    """Run a timed leg in a process of its own against a Prefect server of its own (a temporary one may
    not start in time on a busy machine, and two on the default home lock each other's SQLite file);
    its last line of output is its JSON result; a failed leg ends the benchmark with its error."""
    from deployments.local_server import LocalServer

    with LocalServer(prefect_home) as server:
        env = {**env, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(server.home)}
        out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"the benchmark's leg failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=7, help="days swept, ending on the data's last day")
    parser.add_argument("--pg-url", help="PostgreSQL database to use instead of SQLite (it is emptied)")
    parser.add_argument("--dir", type=Path, help="keep the prepared city (SQLite) here and reuse it")
    parser.add_argument("--resume", action="store_true", help="finish an interrupted preparation in --dir")
    parser.add_argument("--leg", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if args.leg:
        print(json.dumps(sweep_leg(args.leg)))
        return
    with tempfile.TemporaryDirectory(prefix="bridgehead-sweep-") as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["BRIDGEHEAD_VAR_DIR"] = str(folder)
        prepared, db = folder / "prepared.db", folder / "bench.db"
        os.environ["BRIDGEHEAD_DATABASE_URL"] = args.pg_url or f"sqlite:///{db}"
        if args.pg_url or not prepared.exists():
            t = time.perf_counter()
            prepare(folder, args.scale, resume=args.resume)
            took = time.perf_counter() - t
            print(f"scale {args.scale}: generated and taken in in {took:.0f} s", flush=True)
            if not args.pg_url and args.dir:
                keep(db, prepared)
        else:
            for stale in folder.glob("bench.db*"):
                stale.unlink()
            shutil.copyfile(prepared, db)
            print(f"scale {args.scale}: the city prepared in {folder}, copied fresh", flush=True)
        r = run_leg([__file__, "--leg", str(args.days)], dict(os.environ), folder / "prefect")
        print(
            f"scale {args.scale}: {r['open_risks']:,} open risks; "
            f"{r['days']} days swept in {r['seconds']} s; "
            f"{r['follow_ups_created']:,} follow-ups created; peak memory {r['peak_memory_mib']:,} MiB; "
            f"{r['task_runs']} task runs"
        )


if __name__ == "__main__":
    main()
