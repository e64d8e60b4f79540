"""Benchmark: a 10-row inbox against an empty register and a prepared city's register.

The daily inbox brings a few rows at a time; what intake does for them must cost what they bring, not
what the register holds. Each leg copies a register, then takes in `--reps` files of `--rows` new 110
calls (the city's own last calls, given new ids and received a few minutes ago), and times intake's six
stages as plain functions (`flows.intake.PLAIN`), median over the files. The floor is the least work
that reaches the same signals and links: the rows inserted and each attached to the risk its link key
names, by hand-written SQL; its end state is checked against the product's, signal by signal.
With `--server`, the `bridgehead ingest` command is also timed against a running Prefect server.

    .venv/bin/python bench/inbox.py --dir /work/city1          # a city prepared by bench/sweep.py
    .venv/bin/python bench/inbox.py --dir /work/city1 --server
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STAGES = ("validate", "load", "link", "grade", "open-incidents", "report")


def new_calls(city: Path, out: Path, rows: int, rep: int) -> Path:
    """The city's last `rows` calls as new ones: fresh ids, received minutes ago, times kept apart."""
    with (city / "calls.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        tail: list[dict[str, str]] = []
        for row in reader:
            tail = [*tail[-(rows - 1) :], row] if rows > 1 else [row]
    now = datetime.now().astimezone()
    for i, row in enumerate(tail):
        received = datetime.fromisoformat(row["received_at"])
        shift = now - timedelta(minutes=rows - i) - received
        row["call_id"] = f"BX{rep:03d}{i:04d}"
        for k in ("received_at", "dispatched_at", "arrived_at", "closed_at"):
            if row.get(k):
                row[k] = (datetime.fromisoformat(row[k]) + shift).isoformat()
    path = out / f"inbox_{rep:03d}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(tail)
    return path


def stages_leg(files: list[Path]) -> dict[str, Any]:
    """In its own process: each file through the six stages, each stage timed."""
    from flows.intake import PLAIN

    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for path in files:
        t = time.perf_counter()
        validated = PLAIN["validate"]({"call": [path]})
        times["validate"].append(time.perf_counter() - t)
        args: dict[str, tuple[Any, ...]] = {"load": (validated,)}
        results: dict[str, Any] = {}
        for stage in STAGES[1:]:
            if stage == "report":
                args[stage] = (results["load"], results["link"], results["grade"])
            t = time.perf_counter()
            results[stage] = PLAIN[stage](*args.get(stage, ()))
            times[stage].append(time.perf_counter() - t)
    med = {s: statistics.median(v) for s, v in times.items()}
    return {"stages": med, "total": sum(med.values()), "files": len(files)}


def floor_leg(files: list[Path]) -> dict[str, Any]:
    """In its own process: the least work to the same links: insert each row, look its address key up,
    attach it, or open a blue risk with that key where the product would (not a traffic or other call)."""
    from sqlalchemy import text

    from bridgehead.db import get_engine
    from bridgehead.rules import get_rules
    from tasks.intake.linking import address_key

    red_only = {c.value for c in get_rules().grading.red_only_categories}
    totals = []
    engine = get_engine()
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        t = time.perf_counter()
        with engine.begin() as conn:
            for r in rows:
                norm, at = _norm(r["address"]), datetime.fromisoformat(r["received_at"])
                key = address_key(r["community_code"], norm, r["category"])
                risk = conn.execute(
                    text("SELECT risk_id FROM risk_link_key WHERE kind = 'address' AND key = :k"), {"k": key}
                ).scalar()
                if risk is None and r["category"] not in red_only:
                    risk = conn.execute(
                        text(
                            "INSERT INTO risk (community_code, category, address_norm, level, status, "
                            "reasons, opened_at, first_signal_at, first_channel, last_signal_at, "
                            "level_since, calm_streak, reopened_count) VALUES (:c, :cat, :n, 'blue', "
                            "'open', '[]', :at, :at, 'call', :at, :at, 0, 0) RETURNING id"
                        ),
                        {"c": r["community_code"], "cat": r["category"], "n": norm, "at": at},
                    ).scalar()
                    conn.execute(
                        text("INSERT INTO risk_link_key VALUES ('address', :k, :r, :at)"),
                        {"k": key, "r": risk, "at": at},
                    )
                conn.execute(
                    text(
                        "INSERT INTO signal (channel, source_id, community_code, address, address_norm, "
                        "category, occurred_at, priority, risk_id, loaded_at, linked_at) VALUES ('call', "
                        ":id, :c, :a, :n, :cat, :at, :p, :r, :now, :now)"
                    ),
                    {
                        "id": r["call_id"],
                        "c": r["community_code"],
                        "a": r["address"],
                        "n": norm,
                        "cat": r["category"],
                        "at": at,
                        "p": int(r["priority"]),
                        "r": risk,
                        "now": datetime.now().astimezone(),
                    },
                )
                conn.execute(
                    text("UPDATE risk SET last_signal_at = :at WHERE id = :r AND last_signal_at < :at"),
                    {"at": at, "r": risk},
                )
        totals.append(time.perf_counter() - t)
    return {"total": statistics.median(totals), "files": len(files)}


def _norm(address: str) -> str:
    from bridgehead.addresses import normalise_address

    return normalise_address(address)


def links(url: str, before: int) -> dict[str, Any]:
    """Each new call's risk: an existing one by id, a new one by its place and kind (ids may differ)."""
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.source_id, r.id, r.community_code, r.address_norm, r.category FROM signal s "
                "LEFT JOIN risk r ON r.id = s.risk_id WHERE s.source_id LIKE 'BX%'"
            )
        ).all()
    return {sid: rid if rid is None or rid <= before else ("new", c, a, k) for sid, rid, c, a, k in rows}


def highest_risk(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM risk").fetchone()[0])


def leg(kind: str, url: str, files: list[Path], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--leg", kind, *map(str, files)],
        capture_output=True,
        text=True,
        env={**env, "BRIDGEHEAD_DATABASE_URL": url},
    )
    if out.returncode:
        sys.exit(f"the {kind} leg failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def empty_register(folder: Path, env: dict[str, str]) -> Path:
    """The city's jurisdiction with nothing taken in."""
    db = folder / "empty.db"
    if not db.exists():
        leg("empty", f"sqlite:///{db}", [folder / "data"], env)
    return db


def jurisdiction_leg(data: Path) -> dict[str, Any]:
    from bridgehead.db import session_scope
    from tasks.jurisdiction import load_jurisdiction

    with session_scope() as s:
        load_jurisdiction(s, data, actor="person:bench")
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, help="a city prepared by bench/sweep.py --dir (required)")
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--leg", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.leg:
        from bridgehead.migrate import upgrade

        upgrade()  # a city prepared by an older version takes the newest schema, untimed
        fn = {"stages": stages_leg, "floor": floor_leg}.get(args.leg[0])
        if fn is None:
            print(json.dumps(jurisdiction_leg(Path(args.leg[1]))))
            return
        print(json.dumps(fn([Path(p) for p in args.leg[1:]])))
        return
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    key = str((args.dir / "secret.key").resolve())  # the registers copied keep their key
    env = {**os.environ, "BRIDGEHEAD_VAR_DIR": str(args.dir), "BRIDGEHEAD_SECRET_KEY_FILE": key}
    work = args.dir / "inbox"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    files = [new_calls(args.dir / "data", work, args.rows, rep) for rep in range(args.reps)]
    registers = {"empty": empty_register(args.dir, env), "city": args.dir / "prepared.db"}
    for name, source in registers.items():
        result = {}
        for kind in ("stages", "floor"):
            db = work / f"{name}-{kind}.db"
            shutil.copyfile(source, db)
            result[kind] = leg(kind, f"sqlite:///{db}", files, env)
            result[kind]["links"] = links(f"sqlite:///{db}", highest_risk(source))
        same = result["stages"]["links"] == result["floor"]["links"]
        stages = ", ".join(f"{s} {v * 1000:.1f}" for s, v in result["stages"]["stages"].items())
        product, floor = result["stages"]["total"], result["floor"]["total"]
        print(
            f"{name} register: {args.rows} rows, median of {args.reps}: stages {product:.3f} s "
            f"({stages} ms); floor {floor:.4f} s; ratio {product / floor:.0f}x; "
            f"each call's risk {'the same' if same else 'DIFFERS'} in both"
        )


if __name__ == "__main__":
    main()
