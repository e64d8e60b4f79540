"""Benchmark: ingest N generated 110 call rows through intake's stages, on SQLite and PostgreSQL.

Prints rows per second for each stage (validate, load, link, grade) and the peak memory of the
process. Each database runs in its own subprocess so its peak memory is its own.

    .venv/bin/python bench/ingest_calls.py --rows 1000000
    .venv/bin/python bench/ingest_calls.py --rows 200000 --database sqlite

PostgreSQL uses the database named by --pg-url (default: bridgehead_bench on the local server,
created if missing) and empties it first: never point it at a database you care about.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CALLS_AT_SCALE_1 = 500_000  # both years of the synthetic city


def prepare(rows: int, folder: Path) -> Path:
    """Generate the city with enough calls, then keep exactly `rows` of them."""
    from bridgehead.synthetic import generate

    generate(folder, seed=7, scale=rows / CALLS_AT_SCALE_1 * 1.001, end=date(2026, 11, 29))
    calls = folder / "calls.csv"
    with calls.open(encoding="utf-8") as src, (folder / "bench_calls.csv").open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > rows:
                break
            dst.write(line)
    return folder / "bench_calls.csv"


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bridgehead.db import make_engine, normalise_url
    from bridgehead.migrate import upgrade

    u = make_url(normalise_url(url))
    if u.get_backend_name() == "postgresql":
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": u.database}
            ).first():
                conn.execute(text(f'CREATE DATABASE "{u.database}"'))
        admin.dispose()
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(make_engine(url))


def run_leg(url: str, data: Path, calls: Path) -> dict[str, object]:
    """One database: fresh schema, jurisdiction, then the four stages, timed."""
    os.environ["BRIDGEHEAD_DATABASE_URL"] = url
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from tasks.intake.grading_stage import grade_pending
    from tasks.intake.linking_stage import link_pending
    from tasks.intake.load import load_file, validate_file
    from tasks.jurisdiction import load_jurisdiction

    reset(url)
    with session_scope() as s:
        load_jurisdiction(s, data, actor="person:bench")
    timings: dict[str, float] = {}
    peaks: dict[str, int] = {"jurisdiction": _peak_mib()}
    started = time.perf_counter()
    with session_scope() as s:
        validated = validate_file(s, "call", calls)
    timings["validate"] = time.perf_counter() - started
    peaks["validate"] = _peak_mib()
    for stage, work in (
        ("load", lambda s: load_file(s, validated)),
        ("link", lambda s: link_pending(s, get_rules())),
        ("grade", lambda s: grade_pending(s, get_rules())),
    ):
        t = time.perf_counter()
        with session_scope() as s:
            work(s)
        timings[stage] = time.perf_counter() - t
        peaks[stage] = _peak_mib()
    total = time.perf_counter() - started
    rows = validated.kept
    return {
        "rows": rows,
        "quarantined": validated.quarantined,
        "seconds": {k: round(v, 1) for k, v in timings.items()} | {"total": round(total, 1)},
        "rows_per_second": {k: round(rows / v) for k, v in timings.items()} | {"total": round(rows / total)},
        "peak_memory_mib": _peak_mib(),
        "peak_after_mib": peaks,
    }


def floor_leg(url: str, data: Path, calls: Path) -> dict[str, object]:
    """One database by the floor (`bench/bulk_floor.py`): fresh schema, jurisdiction, then the file, timed."""
    os.environ["BRIDGEHEAD_DATABASE_URL"] = url
    from sqlmodel import select

    from bench.bulk_floor import read_calls, take_in
    from bridgehead.db import session_scope
    from models.jurisdiction import Community
    from tasks.jurisdiction import load_jurisdiction

    reset(url)
    with session_scope() as s:
        load_jurisdiction(s, data, actor="person:bench")
        communities = set(s.exec(select(Community.community_code)))
    started = time.perf_counter()
    frame = read_calls(calls, communities)
    read = time.perf_counter() - started
    with session_scope() as s:
        counts = take_in(s, calls, frame)
    total = time.perf_counter() - started
    return {
        "rows": len(frame),
        "seconds": {"read": round(read, 1)} | counts.pop("seconds") | {"total": round(total, 1)},
        "rows_per_second": {"total": round(len(frame) / total)},
        "peak_memory_mib": _peak_mib(),
        "counts": counts,
    }


def _peak_mib() -> int:
    """The process's peak resident memory so far: read after each stage, it says which stage raised it."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bridgehead_bench")
    parser.add_argument(
        "--data", type=Path, help="keep the generated city here and reuse it when it has the rows asked for"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also take the file in by the floor (bench/bulk_floor.py) into a database of its own, check "
        "the two end states equal and print the ratio",
    )
    parser.add_argument("--leg", nargs=4, metavar=("KIND", "URL", "DATA", "CALLS"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=2, metavar=("ROWS", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(int(args.prepare[0]), Path(args.prepare[1]))
        return
    if args.leg:
        kind, url, folder, calls = args.leg
        if kind == "end-state":  # of the database at `url`, whose sealing key this process must derive
            from bench.bulk_floor import end_state

            print(json.dumps(end_state(url)))
            return
        leg = {"product": run_leg, "floor": floor_leg}[kind]
        print(json.dumps(leg(url, Path(folder), Path(calls))))
        return
    with tempfile.TemporaryDirectory(prefix="bridgehead-bench-") as tmp:
        data = args.data or Path(tmp) / "data"
        calls = data / "bench_calls.csv"
        if not _has_rows(calls, args.rows):
            # in its own process: Linux carries a process's peak memory over to the children it starts
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--prepare", str(args.rows), str(data)], check=True)
            print(f"generated {args.rows:,} call rows in {time.perf_counter() - t:.1f} s")
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}", "postgresql": args.pg_url}
        for name in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
            result = _leg("product", urls[name], data, calls, tmp)
            rates = ", ".join(f"{k} {v:,}/s" for k, v in result["rows_per_second"].items())
            print(
                f"{name}: {result['rows']:,} rows in {result['seconds']['total']} s ({rates}); "
                f"peak memory {result['peak_memory_mib']:,} MiB; stages {result['seconds']}; "
                f"peak after each stage (MiB) {result['peak_after_mib']}",
                flush=True,
            )
            if args.floor:
                _against_floor(name, urls[name], result, data, calls, tmp)


PARTS_ONLY = "audit link rows"  # the product's, where a risk's signals span two of its parts


def _leg(kind: str, url: str, data: Path, calls: Path, tmp: str) -> dict[str, Any]:
    """A leg in a process of its own, so that its peak memory is its own; its last line is its result."""
    out = subprocess.run(
        [sys.executable, __file__, "--leg", kind, url, str(data), str(calls)],
        capture_output=True,
        text=True,
        env={**os.environ, "BRIDGEHEAD_VAR_DIR": tmp, "BRIDGEHEAD_DATABASE_URL": url},
    )
    if out.returncode:
        sys.exit(f"the benchmark's {kind} leg failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _against_floor(name: str, url: str, product: dict[str, Any], data: Path, calls: Path, tmp: str) -> None:
    """The floor on a database of its own, its end state checked against the product's, and the ratio."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    floor_url = str(
        u.set(database=f"{u.database}_floor")
        if name == "postgresql"
        else f"sqlite:///{Path(tmp) / 'floor.db'}"
    )
    floor = _leg("floor", floor_url, data, calls, tmp)
    ours, theirs = (_leg("end-state", u, data, calls, tmp) for u in (url, floor_url))
    differ = [k for k in ours if ours[k] != theirs.get(k) and k != PARTS_ONLY]
    ratio = product["seconds"]["total"] / floor["seconds"]["total"]
    print(
        f"{name} floor: {floor['rows']:,} rows in {floor['seconds']['total']} s "
        f"({floor['seconds']}), "
        f"peak memory {floor['peak_memory_mib']:,} MiB; product/floor {ratio:.2f}x; end states "
        + (
            "equal"
            if not differ
            else "DIFFER in " + ", ".join(f"{k}: {ours[k]} vs {theirs.get(k)}" for k in differ)
        ),
        flush=True,
    )


def _has_rows(calls: Path, rows: int) -> bool:
    """A kept file of exactly `rows` calls (and its header)."""
    if not calls.exists():
        return False
    with calls.open("rb") as fh:
        return sum(1 for _ in fh) == rows + 1


if __name__ == "__main__":
    main()
