"""The quick response starts by itself: a real Prefect server, the served deployment, an urgent call.

Slower than the rest (a server of its own and a served runner, about 30 s per database), so it runs
once per database and checks everything on the way: the event, the run named after the incident,
and the dispatch committed by that run.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from bridgehead.db import session_scope
from deployments.local_server import LocalServer, stop_process
from models.common import utcnow
from models.incident import Dispatch, Incident
from tests.factories import BRIDGEHEAD, served, wait_for, write_rows

pytestmark = pytest.mark.server


def _dispatches(code: str) -> list[str]:
    with session_scope() as s:
        return list(
            s.execute(
                select(Dispatch.unit_code).join(Incident).where(Incident.incident_code == code)
            ).scalars()
        )


def test_an_urgent_call_starts_its_quick_response_by_event(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls = write_rows(
        tmp_path / "calls.csv",
        # older than intake answers itself (`live_call_within_min`), as from a late export: the run sends
        {
            "call_id": "C9001",
            "received_at": (utcnow() - timedelta(minutes=40)).isoformat(),
            "category": "violence",
            "priority": 1,
        },
    )
    with LocalServer(tmp_path / "prefect") as server:
        env = {
            **os.environ,
            "PREFECT_HOME": str(server.home),
            "PREFECT_API_URL": server.api_url,
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        }
        runner = served("quick-response", env, tmp_path / "serve.log")
        try:
            api = httpx.Client(base_url=server.api_url, timeout=10)
            wait_for(
                "the quick-response deployment",
                lambda: api.get("/deployments/name/quick-response/quick-response").status_code == 200,
            )
            ingest = subprocess.run(
                [BRIDGEHEAD, "ingest", str(calls), "--channel", "call"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert ingest.returncode == 0, ingest.stdout + ingest.stderr
            units = wait_for("a dispatch by the triggered run", lambda: _dispatches("INC-C9001"))
            assert units == ["U6103030102", "U6103030101"] or sorted(units) == ["U6103030101", "U6103030102"]
            run = wait_for(
                "the completed run",
                lambda: [
                    r
                    for r in api.post(
                        "/flow_runs/filter",
                        json={"flow_runs": {"name": {"any_": ["quick-response-INC-C9001"]}}},
                    ).json()
                    if r["state_type"] == "COMPLETED"
                ],
            )[0]
            assert run["parameters"]["incident_code"] == "INC-C9001"
            assert run["deployment_id"] is not None  # started by the deployment's trigger, not by hand
        finally:
            stop_process(runner)
    assert runner.returncode is not None
