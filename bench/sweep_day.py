"""Benchmark: an ordinary day's sweep, the product's four stages beside their floor, checked equal.

Takes a city that `bench/sweep.py --dir DIR` prepared and swept (its `bench.db`, or the PostgreSQL
database it filled), or prepares a small one (`--scale`, no day swept), copies it fresh for every run,
and sweeps `--days` days on each copy in a process of its own, from the day after the last one swept
(on a city never swept, the data's last days, its first morning included): the product's stages as the
sweep runs them (`flows.follow_up.PLAIN`, a transaction each, no Prefect), then the floor
(`bench/sweep_floor.py`), each copy going on from its own previous day, runs interleaved. Prints each
run's seconds by stage, the best of each and their ratio, and whether the two end states are equal
(`end_state`: every table the sweep writes, digested row by row; the audit trail verified and counted).

    .venv/bin/python bench/sweep.py --scale 1 --dir /work/city1 --days 1       # once: prepare, sweep a day
    .venv/bin/python bench/sweep_day.py --url sqlite:////work/city1/bench.db
    .venv/bin/python bench/sweep_day.py --url postgresql+psycopg://…/city          # a city swept by --pg-url
    .venv/bin/python bench/sweep_day.py --scale 0.005 --days 3 --runs 1            # the suite's small check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def leg(kind: str, first: date, days: int) -> dict[str, Any]:
    """In a process of its own (the database from `BRIDGEHEAD_DATABASE_URL`), after every import: `days`
    days from `first`, each by the product's stages or by the floor and its commit; seconds."""
    from bench.sweep_floor import sweep_day
    from bridgehead.db import session_scope
    from flows.follow_up import PLAIN, STAGES

    phases: dict[str, float] = {}
    started = time.perf_counter()
    for day in (first + timedelta(days=n) for n in range(days)):
        if kind == "product":
            for name in STAGES:
                t = time.perf_counter()
                PLAIN[name](day)
                phases[name] = phases.get(name, 0) + time.perf_counter() - t
        else:
            with session_scope() as session:
                for name, seconds in sweep_day(session, day).items():
                    phases[name] = phases.get(name, 0) + seconds
                t = time.perf_counter()
            phases["commit"] = phases.get("commit", 0) + time.perf_counter() - t
    seconds = round(time.perf_counter() - started, 3)
    return {"seconds": seconds, "phases": {name: round(x, 3) for name, x in phases.items()}}


def end_state(url: str) -> dict[str, Any]:
    """Every table the sweep writes, digested (count and sha256): a follow-up by (risk, due day) and a
    notice or entry by what it cites, never by ids the two runs gave in their own order; the times the
    code stamps with its clock left out; the audit trail verified and counted by what it records."""
    from sqlalchemy import create_engine, select
    from sqlmodel import Session

    from bench.bulk_floor import _plain
    from bench.sweep_floor import T
    from bridgehead import audit
    from bridgehead.db import normalise_url, table_of
    from models.audit import AuditLog

    out: dict[str, Any] = {}

    def digest(name: str, rows: Any) -> None:
        lines = sorted(json.dumps([_plain(v) for v in row], default=str) for row in rows)
        out[name] = (len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16])

    engine = create_engine(normalise_url(url))
    with Session(engine) as session:
        conn, f, n, a, h = session.connection(), T.follow_up, T.notice, T.entry, T.history
        natural = {
            i: (rid, due.isoformat()) for i, rid, due in conn.execute(select(f.c.id, f.c.risk_id, f.c.due_on))
        }
        rest = [c for c in f.c if c.name not in ("id", "risk_id", "due_on")]
        digest("follow_up", ((natural[i], *row) for i, *row in conn.execute(select(f.c.id, *rest))))
        notices = {
            i: (natural.get(fid), level, breach)
            for i, fid, level, breach in conn.execute(
                select(n.c.id, n.c.follow_up_id, n.c.level, n.c.breach_id)
            )
        }
        columns = (n.c.station_code, n.c.recipient_officer_code, n.c.days_late, n.c.issued_on)
        digest(
            "supervision_notice", ((notices[i], *row) for i, *row in conn.execute(select(n.c.id, *columns)))
        )
        cited = {"follow_up": natural, "supervision_notice": notices}
        entries = select(
            a.c.kind,
            a.c.source_entity,
            a.c.source_id,
            a.c.station_code,
            a.c.officer_code,
            a.c.recorded_on,
            a.c.reason,
        )
        digest(
            "accountability_entry",
            (
                (kind, entity, cited[entity][int(source)] if entity in cited else source, *row)
                for kind, entity, source, *row in conn.execute(entries)
            ),
        )
        digest("capacity_notice", conn.execute(select(*(c for c in T.capacity.c if c.name != "id"))))
        digest(
            "risk",
            conn.execute(
                select(*(c for c in T.risk.c if c.name != "graded_at"), T.risk.c.graded_at.is_(None))
            ),
        )
        graded = h.c.cause.in_(["place", "rule"])  # stamped with the moment of grading: compared without it
        digest("risk_level_change", conn.execute(select(*(c for c in h.c if c.name != "id")).where(~graded)))
        digest(
            "risk_level_change, graded",
            conn.execute(select(*(c for c in h.c if c.name not in ("id", "at"))).where(graded)),
        )
        digest("sweep_day", conn.execute(select(T.day.c.day, T.day.c.actor, T.day.c.summary)))
        digest("sweep_stage", conn.execute(select(T.stage.c.day, T.stage.c.stage)))
        log = table_of(AuditLog)
        out["audit"] = dict(
            sorted(Counter(f"{x} {e}" for x, e in conn.execute(select(log.c.action, log.c.entity))).items())
        )
        out["audit verified"] = audit.verify(session).ok
    engine.dispose()
    return out


def prepare_small(folder: Path, scale: float, url: str) -> str:
    """A small generated city taken in through intake's stages, no day swept yet: the base."""
    os.environ["BRIDGEHEAD_DATABASE_URL"], os.environ["BRIDGEHEAD_VAR_DIR"] = url, str(folder)
    from bench.sweep import prepare

    prepare(folder, scale)
    return url


def first_day(url: str, days: int) -> date:
    """The day after the last one swept; on a city never swept, the first of the data's last `days`
    days (so the register's first morning is one of those compared)."""
    from sqlalchemy import create_engine, func, select

    from bench.sweep import END
    from bench.sweep_floor import T
    from bridgehead.db import normalise_url

    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        last = conn.execute(select(func.max(T.day.c.day))).scalar()
    engine.dispose()
    return (
        END - timedelta(days=days - 1) if last is None else date.fromisoformat(str(last)) + timedelta(days=1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--url", help="a swept city: sqlite:///…/bench.db, or a PostgreSQL URL (copied, not changed)"
    )
    source.add_argument(
        "--scale", type=float, help="prepare a small city at this scale instead (the suite's check)"
    )
    parser.add_argument(
        "--database-url", help="with --scale: a PostgreSQL database to prepare it in (emptied)"
    )
    parser.add_argument("--days", type=int, default=1, help="days swept one after another (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each (default 3)")
    parser.add_argument("--leg", choices=["product", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--first", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.leg:
        print(json.dumps(leg(args.leg, args.first, args.days)))
        return
    from bench.crash import Databases

    seconds: dict[str, list[float]] = {"product": [], "floor": []}
    states = {}
    with tempfile.TemporaryDirectory(prefix="bridgehead-sweep-day-") as tmp:
        folder = Path(tmp)
        base = args.url or prepare_small(
            folder, args.scale, args.database_url or f"sqlite:///{folder}/base.db"
        )
        first, dbs = first_day(base, args.days), Databases(base, folder)
        try:
            for run in range(1, args.runs + 1):
                for kind in seconds:
                    url = dbs.copy(base, kind)
                    os.sync()  # the copy's pages on disk, not left for the leg's commits to wait behind
                    env = {**os.environ, "BRIDGEHEAD_DATABASE_URL": url, "PREFECT_LOGGING_LEVEL": "WARNING"}
                    argv = [sys.executable, __file__, "--url", url, "--first", str(first), "--leg", kind]
                    argv += ["--days", str(args.days)]
                    out = subprocess.run(argv, capture_output=True, text=True, env=env)
                    if out.returncode:
                        sys.exit(f"the {kind} leg failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    seconds[kind].append(result["seconds"])
                    print(f"run {run}, {kind}: {result['seconds']:.2f} s {result['phases']}", flush=True)
                    if run == args.runs:
                        states[kind] = end_state(url)
        finally:
            dbs.drop_all()
    product, floor = min(seconds["product"]), min(seconds["floor"])
    equal = states["product"] == states["floor"]
    days = f"{first}" + (f" to {first + timedelta(days=args.days - 1)}" if args.days > 1 else "")
    print(
        f"{days}: product {product:.2f} s, floor {floor:.2f} s (best of {args.runs}): "
        f"{product / floor:.2f}x; end states {'equal' if equal else 'DIFFER'}"
    )
    print(json.dumps(states["product"]))
    for key in states["product"]:
        if states["product"][key] != states["floor"].get(key):
            print(f"  {key}: product {states['product'][key]}, floor {states['floor'].get(key)}")
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
