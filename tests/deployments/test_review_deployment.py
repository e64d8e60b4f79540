"""A review started by hand through the Prefect API: a real server, the served `review` deployment.

What an operations officer does from the UI's "Run" form (scope, period, language), done through
the API: the run is named after its scope and period, completes, and its keyed artifact can be read
back; a bad parameter fails the run at once with the forms allowed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from deployments.local_server import LocalServer, stop_process
from models.common import utcnow
from tests.factories import ingest, served, wait_for, write_rows

pytestmark = pytest.mark.server


def _start(api: httpx.Client, deployment_id: str, params: dict) -> dict:
    """A run of the deployment; the test server (SQLite, busy with the runner) may answer 5xx at first."""

    def create() -> dict:
        response = api.post(f"/deployments/{deployment_id}/create_flow_run", json={"parameters": params})
        assert response.status_code == 201 or response.status_code >= 500, response.text
        return response.json() if response.status_code == 201 else {}

    return wait_for("the flow run to be created", create, timeout_s=60)


def _finished(api: httpx.Client, run_id: str) -> dict:
    run = api.get(f"/flow_runs/{run_id}").json()
    return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED") else {}


def test_a_review_started_through_the_api_publishes_its_keyed_artifact(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    week_ago = utcnow() - timedelta(days=7)
    ingest(write_rows(tmp_path / "calls.csv", {"call_id": "C1", "received_at": week_ago.isoformat()}))
    with LocalServer(tmp_path / "prefect") as server:
        env = {
            **os.environ,
            "PREFECT_HOME": str(server.home),
            "PREFECT_API_URL": server.api_url,
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "BRIDGEHEAD_REPORTS_DIR": str(tmp_path / "reports"),
        }
        runner = served("review", env, tmp_path / "serve.log")
        try:
            api = httpx.Client(base_url=server.api_url, timeout=10)
            deployment = wait_for(
                "the review deployment",
                lambda: (r := api.get("/deployments/name/review/review")).status_code == 200 and r.json(),
            )
            params = {"scope": "station:61030301", "period": "28d:2026-03-31", "lang": "en"}
            run = _start(api, deployment["id"], params)
            done = wait_for("the review run", lambda: _finished(api, run["id"]))
            assert done["state_type"] == "COMPLETED", (tmp_path / "serve.log").read_text()
            assert done["name"] == "review-station-61030301-28d-2026-03-31"
            artifact = api.get("/artifacts/review-station-61030301-28d-2026-03-31/latest")
            assert artifact.status_code == 200, artifact.text
            assert artifact.json()["type"] == "markdown"
            text = artifact.json()["data"]
            assert "2026-03-04 – 2026-03-31" in text and "110 calls" in text
            assert (tmp_path / "reports" / "review-station-61030301-28d-2026-03-31.html").exists()

            bad = _start(api, deployment["id"], {"scope": "station:61030301", "period": "last-tuesday"})
            failed = wait_for("the bad review run", lambda: _finished(api, bad["id"]))
            assert failed["state_type"] == "FAILED"
            assert "2026-W47" in failed["state"]["message"]  # the forms allowed are named
        finally:
            stop_process(runner)
