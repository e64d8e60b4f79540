"""The follow-up sweep as operations depend on it: exactly once, and whole after a fault.

Run through Prefect on both databases: a day swept twice changes nothing the second time; two
sweeps started at once have one effect; a transient database error is retried and a real one
fails fast; a sweep killed with SIGKILL half-way and run again ends where an uninterrupted one does.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bridgehead.db import normalise_url, session_scope
from flows import follow_up as sweep_flow
from flows.follow_up import follow_up_sweep, sweep_days, sweep_one_day
from models.follow_up import FollowUp, SweepDay
from tests.factories import ingest, write_rows

pytestmark = pytest.mark.prefect

FIRST = date(2026, 3, 2)
BRIDGEHEAD = str(Path(sys.executable).with_name("bridgehead"))

# What a sweep writes, without the columns that say which run or when on the wall clock.
DIGEST = {
    "follow_up": "SELECT risk_id, officer_code, due_on, basis_at, why, status, created_at, done_at, "
    "visit_signal_id, calm FROM follow_up ORDER BY risk_id, due_on",
    "supervision_notice": "SELECT follow_up_id, station_code, recipient_officer_code, level, days_late, "
    "issued_on FROM supervision_notice ORDER BY follow_up_id, level",
    "accountability_entry": "SELECT station_code, officer_code, kind, source_entity, source_id, recorded_on, "
    "reason FROM accountability_entry ORDER BY kind, source_id",
    "risk": "SELECT id, level, status, reasons, level_since, calm_streak, resolved_at FROM risk ORDER BY id",
    "risk_level_change": "SELECT risk_id, from_level, to_level, cause, reasons, at FROM risk_level_change "
    "ORDER BY risk_id, id",
    "sweep_day": "SELECT day, summary FROM sweep_day ORDER BY day",
    "audit_log": "SELECT action, entity, entity_id, before, after, reason FROM audit_log ORDER BY seq",
}


def digest(engine: Engine) -> dict[str, str]:
    out = {}
    with engine.connect() as conn:
        for table, sql in DIGEST.items():
            rows = [[str(v) for v in row] for row in conn.execute(text(sql))]
            if table == "audit_log":
                rows = sorted(rows)  # the same changes; a rerun may commit them in another order
            out[table] = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
    return out


def city(tmp_path: Path) -> None:
    """A few risks of every colour and some visits over three weeks: work for every stage."""
    calls = [
        {"call_id": f"C{i}", "received_at": f"2026-03-0{1 + i % 3}T10:0{i % 10}:00+08:00", **kind}
        for i, kind in enumerate(
            [
                {"category": "family_neighbor", "summary": "邻里争吵", "address": f"幸福路{n}号"}
                for n in range(1, 7)
            ]
            + [
                {"category": "public_order", "summary": "醉酒滋事", "address": f"和平街{n}号"}
                for n in range(1, 4)
            ]
            + [{"category": "family_neighbor", "summary": "扬言持刀砍人", "address": "幸福路9号"}]
        )
    ]
    ingest(write_rows(tmp_path / "calls.csv", *calls))
    visits = [
        {
            "visit_id": f"V{n}",
            "visited_at": f"{FIRST + timedelta(days=n % 12)}T15:00:00+08:00",
            "address": f"幸福路{1 + n % 6}号",
            "category": "family_neighbor",
            "summary": "回访",
            "concern": ["none", "low", "medium"][n % 3],
        }
        for n in range(18)
    ]
    ingest(write_rows(tmp_path / "visits.csv", *visits), "visit")


def test_a_day_swept_twice_changes_nothing_the_second_time(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    city(tmp_path)
    follow_up_sweep(FIRST, FIRST + timedelta(days=3))
    before = digest(engine)
    [again] = follow_up_sweep(FIRST + timedelta(days=3))
    assert again["already_swept"] is True
    assert digest(engine) == before


def test_two_sweeps_started_at_once_have_one_effect(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    city(tmp_path)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: follow_up_sweep(FIRST, FIRST + timedelta(days=2)), range(2)))
    assert sorted(bool(r[0].get("already_swept")) for r in runs) == [False, True]
    with session_scope() as s:
        assert s.execute(select(func.count()).select_from(SweepDay)).scalar_one() == 3
        sweeps = s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'sweep'")).scalar_one()
    assert sweeps == 3


def test_a_transient_error_is_retried_and_a_real_one_fails_fast(
    prefect_server: None,
    engine: Engine,
    jurisdiction: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    city(tmp_path)
    calls: list[str] = []
    real = sweep_flow.schedule

    def locked_once(*args: Any) -> int:
        calls.append("try")
        if len(calls) == 1:
            raise OperationalError("UPDATE follow_up", {}, Exception("database is locked"))
        return real(*args)

    monkeypatch.setattr(sweep_flow, "schedule", locked_once)
    [day] = follow_up_sweep(FIRST)
    assert len(calls) == 2 and day["totals"]["assigned"] > 0

    def broken(*args: Any) -> int:
        calls.append("broken")
        raise ValueError("a bug, not the database")

    monkeypatch.setattr(sweep_flow, "schedule", broken)
    state = follow_up_sweep(FIRST + timedelta(days=1), return_state=True)
    assert state.is_failed()
    assert calls.count("broken") == 1  # no retry for a real error


def test_a_day_stopped_between_its_stages_resumes_after_the_last_one_that_committed(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    """The symptom (bench/crash.py): a sweep killed after a day's first stage had settled a risk, then
    rerun, recorded a later visit against the return visit that stage had just planned — a day before
    an uninterrupted sweep would — so the two registers differed."""
    place = {"address": "幸福路20号", "category": "family_neighbor", "summary": "邻里纠纷"}
    visits = [
        {"visit_id": "V1", "visited_at": f"{FIRST}T10:00:00+08:00", "concern": "low", "outcome": "settled"},
        {"visit_id": "V2", "visited_at": f"{FIRST + timedelta(days=6)}T15:00:00+08:00", "concern": "none"},
    ]
    ingest(write_rows(tmp_path / "visits.csv", *[{**place, **v} for v in visits]), "visit")
    day = FIRST + timedelta(days=10)  # the first day swept: V1 settles the risk, its return visit is owed
    assert sweep_flow.PLAIN["record-visits"](day).ends.settled  # ... and the process is killed here
    summary = sweep_one_day(day, sweep_flow.PLAIN)
    assert summary["totals"]["visits_recorded"] == 0, "V2 recorded against a return visit planned that day"
    [after] = sweep_days(day + timedelta(days=1), day + timedelta(days=1), sweep_flow.PLAIN)
    assert after["totals"]["visits_recorded"] == 1  # the next day, as an uninterrupted sweep does
    with session_scope() as s:
        done = s.execute(select(FollowUp.why, FollowUp.recorded_on).where(FollowUp.status == "done")).all()
    assert done == [("return_visit", day + timedelta(days=1))]


# --- SIGKILL half-way -------------------------------------------------------------------------------


@pytest.fixture
def twin_databases(migrated_url: str, engine: Engine, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two copies of the prepared database: one for the killed sweep, one for the uninterrupted."""
    url = make_url(normalise_url(migrated_url))
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        source = Path(str(url.database))
        copies = []
        for name in ("killed", "whole"):
            target = tmp_path / f"{name}.db"
            with create_engine(f"sqlite:///{source}").connect() as conn:
                conn.execute(text(f"VACUUM INTO '{target}'"))
            copies.append(f"sqlite:///{target}")
        yield copies[0], copies[1]
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    names = [f"{url.database}_killed", f"{url.database}_whole"]
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"
            ),
            {"d": url.database},
        )
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    yield tuple(url.set(database=n).render_as_string(hide_password=False) for n in names)  # type: ignore[misc]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _sweep_command(url: str, days: int) -> list[str]:
    last = FIRST + timedelta(days=days - 1)
    return [BRIDGEHEAD, "--database-url", url, "sweep", "--from", str(FIRST), "--to", str(last)]


def test_a_sweep_killed_half_way_and_rerun_ends_like_an_uninterrupted_one(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from prefect.settings import PREFECT_API_URL

    city(tmp_path)
    killed, whole = request.getfixturevalue("twin_databases")
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    days = 21
    proc = subprocess.Popen(
        _sweep_command(killed, days), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    watch = create_engine(normalise_url(killed))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with watch.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM sweep_day")).scalar_one()
            if done >= 3:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with watch.connect() as conn:
            done = conn.execute(text("SELECT count(*) FROM sweep_day")).scalar_one()
        assert 3 <= done < days, f"the kill landed after {done} of {days} days"
    finally:
        if proc.poll() is None:
            proc.kill()
        watch.dispose()
    for url in (killed, whole):
        rerun = subprocess.run(_sweep_command(url, days), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    a, b = create_engine(normalise_url(killed)), create_engine(normalise_url(whole))
    try:
        assert digest(a) == digest(b)
    finally:
        a.dispose()
        b.dispose()
