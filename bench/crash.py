"""Kill intake and the sweep at random points; each rerun must end where an uninterrupted run ends.

    .venv/bin/python bench/crash.py [--database-url URL] [--kills 20] [--seed 1]

A small generated city is prepared once (its jurisdiction loaded). The reference takes in the calls
and visits with `bridgehead ingest`, then sweeps two weeks with `bridgehead sweep`, uninterrupted.
Then, `--kills` times for each stage, a fresh copy of the database runs the same command, is sent
SIGKILL after a random share of the reference's time, and the command is run again to the end. The
register's digest must equal the reference's every time, and the audit chain must verify.

The digest names rows by natural keys (a risk by its first signal, a follow-up by its risk and due
day), not by ids: a killed PostgreSQL transaction still uses up sequence numbers. Times Bridgehead
stamps with the clock (graded, created) are left out; times from the data and the sweep day are in.
A local Prefect server is started once for all commands. SQLite by default; `--database-url` takes a
PostgreSQL URL, whose database is copied with CREATE DATABASE … TEMPLATE. Prints one line a kill
and a summary line; exits 1 if any digest differed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridgehead.db import normalise_url  # noqa: E402
from deployments.local_server import LocalServer  # noqa: E402

BRIDGEHEAD = str(Path(sys.executable).with_name("bridgehead"))
END = date(2026, 11, 1)  # the generated data runs up to this day; the sweep covers the last two weeks
SWEEP_FROM, SWEEP_TO = END - timedelta(days=14), END - timedelta(days=1)

RISK_KEY = (
    "WITH rk AS (SELECT risk_id AS id, min(channel || ':' || source_id) AS k FROM signal "
    "WHERE risk_id IS NOT NULL GROUP BY risk_id) "
)
DIGEST = {
    "source_file": "SELECT sha256, channel, rows_total, rows_loaded, rows_quarantined FROM source_file",
    "quarantined_row": "SELECT file_sha256, line, reason FROM quarantined_row",
    "signal": RISK_KEY + "SELECT s.channel, s.source_id, rk.k, s.linked_at IS NULL FROM signal s "
    "LEFT JOIN rk ON rk.id = s.risk_id",
    "risk": RISK_KEY + "SELECT rk.k, r.level, r.status, r.reasons, r.rules_version, r.category, "
    "r.community_code, r.address_norm, r.party_pair, r.officer_code, r.opened_at, r.first_signal_at, "
    "r.first_channel, "
    "r.last_signal_at, r.level_since, r.calm_streak, r.resolved_at, r.reopened_count, r.place_kind, "
    "r.settled_at FROM risk r "
    "LEFT JOIN rk ON rk.id = r.id",
    "risk_level_change": RISK_KEY + "SELECT rk.k, c.from_level, c.to_level, c.cause, c.reasons, "
    "c.rules_version FROM risk_level_change c LEFT JOIN rk ON rk.id = c.risk_id",
    "incident": RISK_KEY + "SELECT i.incident_code, rk.k, i.station_code, i.category, i.status, "
    "i.opened_at, i.closed_at, i.outcome FROM incident i LEFT JOIN rk ON rk.id = i.risk_id",
    "follow_up": RISK_KEY + "SELECT rk.k, f.officer_code, f.due_on, f.basis_at, f.why, f.status, f.done_at, "
    "f.recorded_on, v.source_id, f.calm, f.planned_on FROM follow_up f "
    "LEFT JOIN rk ON rk.id = f.risk_id LEFT JOIN signal v ON v.id = f.visit_signal_id",
    "supervision_notice": RISK_KEY + "SELECT rk.k, f.due_on, n.station_code, n.recipient_officer_code, "
    "n.level, n.days_late, n.issued_on FROM supervision_notice n LEFT JOIN follow_up f "
    "ON f.id = n.follow_up_id LEFT JOIN rk ON rk.id = f.risk_id",
    "accountability_entry": "SELECT station_code, officer_code, kind, source_entity, recorded_on, reason "
    "FROM accountability_entry",
    "capacity_notice": "SELECT station_code, officer_code, recipient_officer_code, issued_on, owed, "
    "capacity, overflow FROM capacity_notice",
    "sweep_day": "SELECT day, summary FROM sweep_day",
    "audit_log": "SELECT action, entity, reason FROM audit_log",
}


def table_rows(url: str) -> dict[str, list[str]]:
    """Each table's rows by natural key, as sorted (order-free) JSON lines."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return {
                table: sorted(
                    json.dumps([str(v) for v in row], ensure_ascii=False) for row in conn.execute(text(sql))
                )
                for table, sql in DIGEST.items()
            }
    finally:
        engine.dispose()


def digest(rows: dict[str, list[str]]) -> dict[str, str]:
    """One hash per table: its row count and a short hash of its sorted rows."""
    return {t: f"{len(r)}:{hashlib.sha256(''.join(r).encode()).hexdigest()[:16]}" for t, r in rows.items()}


def differences(expected: dict[str, list[str]], got: dict[str, list[str]], shown: int = 3) -> str:
    """The rows one run has and the other lacks, a few a table, so a failure says what differs."""
    lines = []
    for table, want in expected.items():
        have = got.get(table, [])
        missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        if want == have:
            continue
        lines.append(
            f"    {table}: {len(missing)} rows only in the reference, {len(extra)} only in the rerun"
        )
        lines += [f"      - {row}" for row in missing[:shown]] + [f"      + {row}" for row in extra[:shown]]
        if not missing and not extra:
            lines.append("      (the same rows, some repeated a different number of times)")
    return "\n".join(lines)


class Databases:
    """Copies of a prepared database: a file copy for SQLite, a template copy for PostgreSQL."""

    def __init__(self, base_url: str, folder: Path) -> None:
        self.base, self.folder = make_url(normalise_url(base_url)), folder
        self.sqlite = self.base.get_backend_name() == "sqlite"
        self.made: list[str] = []

    def copy(self, source: str, name: str) -> str:
        src = make_url(normalise_url(source))
        if self.sqlite:
            target = self.folder / f"{name}.db"
            target.unlink(missing_ok=True)
            engine = create_engine(src)
            with engine.connect() as conn:
                conn.execute(text(f"VACUUM INTO '{target}'"))
            engine.dispose()
            return f"sqlite:///{target}"
        db = f"{self.base.database}_{name}"
        admin = create_engine(self.base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                {"d": src.database},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{db}" TEMPLATE "{src.database}"'))
        admin.dispose()
        self.made.append(db)
        return self.base.set(database=db).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if self.sqlite or not self.made:
            return
        admin = create_engine(self.base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def _run(args: list[str], url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([BRIDGEHEAD, "--database-url", url, *args], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 3):  # 3: rows were quarantined, which is an answer, not a failure
        raise RuntimeError(f"bridgehead {' '.join(args)} failed ({done.returncode}): {done.stderr[-1500:]}")
    return done


def _killed(args: list[str], url: str, env: dict[str, str], after_s: float) -> tuple[bool, float]:
    """Run a command and SIGKILL its whole process group after `after_s`; (killed, seconds it ran)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [BRIDGEHEAD, "--database-url", url, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(after_s)
        return False, time.monotonic() - started
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        return True, after_s


@contextmanager
def environment(folder: Path) -> Iterator[dict[str, str]]:
    """A Prefect server of our own and one sealing key for every copy of the database."""
    with LocalServer(folder / "prefect") as server:
        yield {
            **os.environ,
            "PREFECT_API_URL": server.api_url,
            "PREFECT_HOME": str(server.home),
            "BRIDGEHEAD_SECRET_KEY": Fernet.generate_key().decode(),
            "BRIDGEHEAD_VAR_DIR": str(folder / "var"),
            "BRIDGEHEAD_REPORTS_DIR": str(folder / "reports"),
        }


def trial(
    stage: str,
    commands: list[list[str]],
    before: str,
    dbs: Databases,
    env: dict[str, str],
    kills: int,
    rng: random.Random,
) -> int:
    """Kill `commands` at random points `kills` times; return how many reruns ended unlike the reference."""
    reference = dbs.copy(before, f"{stage}_ref")
    took = []
    for args in commands:
        started = time.monotonic()
        _run(args, reference, env)
        took.append(time.monotonic() - started)
    expected_rows = table_rows(reference)
    expected = digest(expected_rows)
    print(
        f"{stage}: reference {sum(took):.1f} s, "
        + ", ".join(f"{t} {v.split(':')[0]}" for t, v in expected.items())
    )
    differed = 0
    for k in range(kills):
        url = dbs.copy(before, f"{stage}_k")
        at = rng.uniform(0.02, 0.98) * sum(took)
        target = next(i for i, end in enumerate(accumulate(took)) if at < end)
        offset = at - sum(took[:target])
        for args in commands[:target]:
            _run(args, url, env)
        killed, _ = _killed(commands[target], url, env, offset)
        where = f"{offset:.2f} s into command {target + 1}" + ("" if killed else ", which had already ended")
        for args in commands:
            _run(args, url, env)
        verify = _run(["audit", "verify"], url, env)
        got_rows = table_rows(url)
        got = digest(got_rows)
        same = got == expected and verify.returncode == 0
        differed += not same
        diff = "" if same else " DIFFERS: " + ", ".join(t for t in expected if expected[t] != got.get(t))
        verdict = "equal" if same else "NOT equal"
        print(f"  {stage} kill {k + 1}/{kills} {where}: {verdict}{diff}", flush=True)
        if not same:
            print(differences(expected_rows, got_rows), flush=True)
    return differed


def prepare(folder: Path, dbs: Databases, env: dict[str, str], scale: float) -> tuple[str, Path]:
    data = folder / "data"
    gen = [BRIDGEHEAD, "generate", "--out", str(data), "--scale", str(scale), "--end", str(END)]
    subprocess.run(gen, env=env, check=True, capture_output=True)
    base = dbs.base.render_as_string(hide_password=False)
    if not dbs.sqlite:
        admin = create_engine(dbs.base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbs.base.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{dbs.base.database}"'))
        admin.dispose()
    _run(["init"], base, env)
    _run(["jurisdiction", "load", str(data), "--by", "crash-bench"], base, env)
    return base, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (its database is recreated); default SQLite")
    parser.add_argument("--kills", type=int, default=20, help="kills per stage (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.01, help="the generated city's scale")
    parser.add_argument("--stages", default="intake,sweep")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bridgehead-crash-") as tmp:
        folder = Path(tmp)
        dbs = Databases(args.database_url or f"sqlite:///{folder / 'base.db'}", folder)
        try:
            with environment(folder) as env:
                base, data = prepare(folder, dbs, env, args.scale)
                intake = [
                    ["ingest", "--channel", "call", str(data / "calls.csv")],
                    ["ingest", "--channel", "visit", str(data / "visits.csv")],
                ]
                sweep = [["sweep", "--from", str(SWEEP_FROM), "--to", str(SWEEP_TO)]]
                stages = args.stages.split(",")
                differed, runs = 0, 0
                if "intake" in stages:
                    differed += trial("intake", intake, base, dbs, env, args.kills, rng)
                    runs += args.kills
                if "sweep" in stages:
                    taken = dbs.copy(base, "taken")
                    for command in intake:
                        _run(command, taken, env)
                    differed += trial("sweep", sweep, taken, dbs, env, args.kills, rng)
                    runs += args.kills
        finally:
            dbs.drop_all()
    print(f"crash: {runs - differed} of {runs} killed runs ended equal to the uninterrupted run")
    return 1 if differed else 0


if __name__ == "__main__":
    sys.exit(main())
