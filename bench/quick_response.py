"""Benchmark: from taking in an urgent 110 call to its dispatch being committed.

A live call (received now) is dispatched inside intake's open-incidents stage, in the transaction that
opens its incident; a call older than the rules' `live_call_within_min` (a late export, a replayed
night) waits for its quick-response run. Each path runs against a real local Prefect server and a
fresh database:
  in-process  the intake flow; then the quick-response flow called directly (it finds the units sent);
  trigger     the intake flow emits `bridgehead.incident.opened`; the served quick-response
              deployment's trigger starts a run: for a live call it records that intake sent the
              units, for an old call it dispatches (what red risks and other systems' events take).
For the old-call trigger path the time is split by the flow run's own timestamps: intake, event to run
created (the trigger), run created to started (the runner's poll and a new process), and started to
dispatch committed.

    .venv/bin/python bench/quick_response.py                 # SQLite, 5 calls per path
    .venv/bin/python bench/quick_response.py --pg-url postgresql://postgres@127.0.0.1:5432/bridgehead_bench

A PostgreSQL database named by --pg-url is emptied first: never point it at one you care about.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_calls import reset

CALL_HEADER = "call_id,received_at,community_code,address,category,priority,summary\n"


def _call_file(folder: Path, call_id: str, community: str, age_min: int = 0) -> Path:
    path = folder / f"{call_id}.csv"
    received = datetime.now().astimezone() - timedelta(minutes=age_min)
    path.write_text(
        CALL_HEADER + f"{call_id},{received.isoformat()},{community},人民路1号,violence,1,持刀斗殴\n",
        encoding="utf-8",
    )
    return path


def _dispatched(code: str) -> datetime | None:
    from sqlalchemy import func, select

    from bridgehead.db import session_scope
    from models.incident import Dispatch, Incident

    with session_scope() as s:
        return s.execute(
            select(func.min(Dispatch.dispatched_at)).join(Incident).where(Incident.incident_code == code)
        ).scalar()


def _free_units(code: str) -> None:
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from models.incident import IncidentOutcome
    from tasks.quick_response.disposal import close_incident

    with session_scope() as s:
        close_incident(s, get_rules(), code, IncidentOutcome.resolved_on_scene, by="bench")


def in_process(folder: Path, community: str, n: int) -> list[dict[str, float]]:
    from flows.intake import intake
    from flows.quick_response import quick_response

    out = []
    for i in range(n):
        call = _call_file(folder, f"BIP{i}", community)
        t0, wall0 = time.perf_counter(), datetime.now().astimezone()
        intake("call", [str(call)])
        t1 = time.perf_counter()
        quick_response(f"INC-BIP{i}")
        t2 = time.perf_counter()
        dispatched = _dispatched(f"INC-BIP{i}")
        assert dispatched is not None
        out.append(
            {
                "dispatch_recorded_after": (dispatched - wall0).total_seconds(),
                "intake_flow": t1 - t0,
                "quick_response_flow": t2 - t1,
                "total": t2 - t0,
            }
        )
        _free_units(f"INC-BIP{i}")
    return out


def through_trigger(
    folder: Path, community: str, n: int, api_url: str, poll_s: str, age_min: int
) -> list[dict[str, float]]:
    import httpx

    from deployments.local_server import stop_process
    from flows.intake import intake

    env = {**os.environ, "PREFECT_RUNNER_POLL_FREQUENCY": poll_s}
    runner = subprocess.Popen(
        [str(Path(sys.executable).with_name("bridgehead")), "serve", "--only", "quick-response"],
        env=env,
        stdout=(folder / f"serve-{poll_s}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    api = httpx.Client(base_url=api_url, timeout=10)
    try:
        while api.get("/deployments/name/quick-response/quick-response").status_code != 200:
            time.sleep(0.2)
        time.sleep(5)  # let the runner register its trigger and start polling
        out = []
        for i in range(n):
            code = f"INC-BTR{poll_s}a{age_min}x{i}"
            call = _call_file(folder, code.removeprefix("INC-"), community, age_min)
            t0, wall0 = time.perf_counter(), datetime.now().astimezone()
            intake("call", [str(call)])
            t1, wall1 = time.perf_counter(), datetime.now().astimezone()
            while (done := _dispatched(code)) is None:
                time.sleep(0.05)
                if time.perf_counter() - t0 > 180:
                    tail = (folder / f"serve-{poll_s}.log").read_text(errors="replace")[-3000:]
                    raise TimeoutError(f"no dispatch for {code} after 180 s; the runner said:\n{tail}")
            r = _completed_run(api, code, t0)
            t2 = time.perf_counter()
            created = datetime.fromisoformat(r["created"])
            started = datetime.fromisoformat(r["start_time"]) if r.get("start_time") else created
            timing = {
                "dispatch_recorded_after": (done - wall0).total_seconds(),
                "intake": t1 - t0,
                "event_to_run_created": (created - wall1).total_seconds(),
                "created_to_started": (started - created).total_seconds(),
                "started_to_dispatch": (done - started).total_seconds(),
                "run_completed_after": t2 - t0,
                "total": (done - wall0).total_seconds(),
            }
            if not age_min:  # intake sent the units before the run existed
                del timing["started_to_dispatch"]
            out.append(timing)
            _free_units(code)
        return out
    finally:
        stop_process(runner)


def _completed_run(api: Any, code: str, t0: float) -> dict[str, Any]:
    """The quick-response run the trigger started for `code`, once it has completed."""
    while True:
        runs = api.post(
            "/flow_runs/filter", json={"flow_runs": {"name": {"any_": [f"quick-response-{code}"]}}}
        ).json()
        if runs and runs[0]["state_type"] == "COMPLETED":
            return dict(runs[0])
        if time.perf_counter() - t0 > 180:
            raise TimeoutError(f"the quick-response run of {code} did not complete in 180 s: {runs}")
        time.sleep(0.1)


def _summary(name: str, runs: list[dict[str, float]]) -> None:
    parts = ", ".join(f"{k} {statistics.median(r[k] for r in runs):.2f} s" for k in runs[0])
    totals = sorted(r["total"] for r in runs)
    print(
        f"{name}: median {statistics.median(totals):.2f} s, "
        f"min {totals[0]:.2f} s, max {totals[-1]:.2f} s ({parts})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5, help="urgent calls per path")
    parser.add_argument("--pg-url", help="run on this PostgreSQL database instead of SQLite (it is emptied)")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="bridgehead-qr-") as tmp:
        folder = Path(tmp)
        os.environ["BRIDGEHEAD_VAR_DIR"] = tmp
        url = args.pg_url or f"sqlite:///{folder / 'bench.db'}"
        os.environ["BRIDGEHEAD_DATABASE_URL"] = url
        from bridgehead.synthetic import generate
        from deployments.local_server import LocalServer

        generate(folder / "data", seed=7, scale=0.001, end=date(2026, 11, 29))
        reset(url)
        from bridgehead.db import session_scope
        from tasks.jurisdiction import load_jurisdiction

        with session_scope() as s:
            load_jurisdiction(s, folder / "data", actor="person:bench")
        community = "61030301001"  # 盛世广场社区, 陈仓派出所
        with LocalServer(folder / "prefect") as server:
            os.environ["PREFECT_API_URL"] = server.api_url
            os.environ["PREFECT_HOME"] = str(server.home)
            print(
                f"database {url.split('://')[0]}, Prefect server {server.api_url}, "
                f"{args.calls} calls per path"
            )
            from flows.intake import intake

            intake("call", [str(_call_file(folder, "WARMUP", community))])  # imports and first-run costs
            _free_units("INC-WARMUP")
            _summary(
                "in-process (intake, then the flow called directly)",
                in_process(folder, community, args.calls),
            )
            for poll in ("10", "1"):
                for age, what in ((0, "live call"), (40, "call 40 min old")):
                    runs = through_trigger(folder, community, args.calls, server.api_url, poll, age)
                    _summary(f"trigger, {what} (served deployment, runner poll {poll} s)", runs)


if __name__ == "__main__":
    main()
