"""The production layout end to end: `deployments/station_network.sh` on the local PostgreSQL.

A Prefect server on PostgreSQL with API auth, every deployment of prefect.yaml, the automations and
a process worker, all started by the script; then, through the authenticated API: (a) a review
started with parameters completes and its artifact is read back; (b) an urgent call taken in starts
its quick response by the trigger, which completes; (c) the daily sweep's next runs are at 06:00
Asia/Shanghai; (d) a sweep made to fail fires the "sweep failed" automation, whose webhook arrives
here. Everything the script started is stopped by process id, and checked gone; no process it started
ever had the API password on its command line. The script refuses the default password on a server
other machines can reach (no server needed to check that).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import subprocess
import threading
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from deployments.local_server import free_port
from models.common import utcnow
from tests.factories import BRIDGEHEAD, wait_for, write_rows

SCRIPT = Path(__file__).resolve().parents[2] / "deployments" / "station_network.sh"


class _Alerts(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        _Alerts.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _fresh_database(url: str, name: str) -> None:
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _finished(api: httpx.Client, run_id: str) -> dict:
    run = api.get(f"/flow_runs/{run_id}").json()
    return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED") else {}


def _runs(api: httpx.Client, **filters: object) -> list[dict]:
    return api.post("/flow_runs/filter", json=filters).json()


@pytest.mark.parametrize("auth", [None, "admin:change-me", "admin:", "admin"])
@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "station.example"])
def test_the_default_password_is_refused_beyond_loopback(tmp_path: Path, host: str, auth: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BRIDGEHEAD_API_AUTH"}
    env |= {"BRIDGEHEAD_STATE": str(tmp_path), "BRIDGEHEAD_PREFECT_HOST": host}
    if auth is not None:
        env["BRIDGEHEAD_API_AUTH"] = auth
    up = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=60)
    assert up.returncode == 2 and up.stdout == ""
    assert len(up.stderr.splitlines()) == 1 and "set BRIDGEHEAD_API_AUTH" in up.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started


def test_no_secret_is_put_on_a_command_line() -> None:
    """`ps` shows every process's arguments to every user: the password and URLs go another way."""
    code = "\n".join(line for line in SCRIPT.read_text().splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"(\s-u|--user)\s*\"?\$\{?AUTH", code)  # curl reads them from stdin
    assert "psql" not in code  # the server URL (and its password) reaches Python by the environment


def _command_lines_with(secret: bytes, stop: threading.Event, found: list[str]) -> None:
    """Every process's command line, read over and over until `stop`: those that hold `secret`."""
    while not stop.is_set():
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = cmdline.read_bytes()
            except OSError:
                continue
            if secret in args:
                found.append(args.replace(b"\0", b" ").decode(errors="replace"))
        stop.wait(0.02)


@pytest.mark.server
def test_the_station_network_layout_runs_reviews_triggers_schedules_and_alerts(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the production layout is PostgreSQL's")
    listener = http.server.HTTPServer(("127.0.0.1", free_port()), _Alerts)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    port, auth = free_port(), f"admin:{secrets.token_urlsafe(8)}"
    # Prefect's database, named after the test database: two suites on one server do not share it
    prefect_db = f"{make_url(os.environ['BRIDGEHEAD_DATABASE_URL']).database}_prefect_e2e"
    _fresh_database(os.environ["BRIDGEHEAD_DATABASE_URL"], prefect_db)
    state = tmp_path / "station-network"
    env = {
        **os.environ,
        "BRIDGEHEAD_STATE": str(state),
        "BRIDGEHEAD_PREFECT_PORT": str(port),
        "BRIDGEHEAD_PREFECT_DB": prefect_db,
        "BRIDGEHEAD_API_AUTH": auth,
        "BRIDGEHEAD_ALERT_WEBHOOK": f"http://127.0.0.1:{listener.server_port}/alerts",
        "BRIDGEHEAD_REPORTS_DIR": str(tmp_path / "reports"),
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    }
    env.pop("PREFECT_API_URL", None)
    stop, on_command_lines = threading.Event(), []
    watcher = threading.Thread(
        target=_command_lines_with, args=(auth.split(":", 1)[1].encode(), stop, on_command_lines)
    )
    watcher.start()
    try:
        up = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        stop.set()
        watcher.join()
    assert on_command_lines == []  # the health checks' curl, psql, prefect: none had the password
    pids = {f.stem: int(f.read_text()) for f in state.glob("*.pid")}
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert set(pids) == {"server", "worker-1"}
        api_url = f"http://127.0.0.1:{port}/api"
        assert httpx.get(f"{api_url}/deployments/name/review/review").status_code == 401  # auth is on
        user, password = auth.split(":", 1)
        api = httpx.Client(base_url=api_url, auth=(user, password), timeout=30)

        # (a) a review started with parameters through the API
        review = api.get("/deployments/name/review/review").json()
        params = {"scope": "station:61030301", "period": "2026-W10", "lang": "en"}
        run = api.post(f"/deployments/{review['id']}/create_flow_run", json={"parameters": params}).json()
        done = wait_for("the review run", lambda: _finished(api, run["id"]), timeout_s=180)
        assert done["state_type"] == "COMPLETED", (state / "worker-1.log").read_text()[-3000:]
        assert done["name"] == "review-station-61030301-2026-W10"
        artifact = api.get("/artifacts/review-station-61030301-2026-w10/latest").json()
        assert "110 calls" in artifact["data"]

        # (b) an urgent call starts its quick response by the trigger
        calls = write_rows(
            tmp_path / "calls.csv",
            {"call_id": "C9101", "received_at": utcnow().isoformat(), "category": "violence", "priority": 1},
        )
        client_env = {**env, "PREFECT_API_URL": api_url, "PREFECT_API_AUTH_STRING": auth}
        ingest = subprocess.run(
            [BRIDGEHEAD, "ingest", str(calls), "--channel", "call"],
            env=client_env,
            capture_output=True,
            text=True,
        )
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        responded = wait_for(
            "the triggered quick response to complete",
            lambda: [
                r
                for r in _runs(api, flow_runs={"name": {"any_": ["quick-response-INC-C9101"]}})
                if r["state_type"] == "COMPLETED"
            ],
            timeout_s=180,
        )[0]
        assert responded["deployment_id"] is not None and responded["parameters"] == {
            "incident_code": "INC-C9101"
        }

        # (c) the daily sweep's next runs, at 06:00 Asia/Shanghai
        scheduled = wait_for(
            "the daily sweep's scheduled runs",
            lambda: _runs(
                api,
                deployments={"name": {"any_": ["daily-sweep"]}},
                flow_runs={"state": {"type": {"any_": ["SCHEDULED"]}}},
                sort="EXPECTED_START_TIME_ASC",
            ),
        )
        local = [
            datetime.fromisoformat(r["expected_start_time"]).astimezone(ZoneInfo("Asia/Shanghai"))
            for r in scheduled
        ]
        assert {(t.hour, t.minute) for t in local} == {(6, 0)} and len({t.date() for t in local}) == len(
            local
        )

        # (d) a sweep made to fail fires the "sweep failed" automation
        sweep = api.get("/deployments/name/daily-sweep/daily-sweep").json()
        api.post(f"/deployments/{sweep['id']}/create_flow_run", json={"parameters": {"day": "not-a-date"}})
        alert = wait_for(
            "the sweep-failed alert",
            lambda: [a for a in _Alerts.received if "daily sweep" in a.get("subject", "")],
            timeout_s=120,
        )[0]
        assert "Failed" in alert["subject"] and "Rerun it" in alert["body"]
    finally:
        down = subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, text=True, timeout=120)
        listener.shutdown()
    assert down.returncode == 0, down.stdout + down.stderr
    for name, pid in pids.items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # stopped by process id: nothing left running
        assert name in down.stdout
