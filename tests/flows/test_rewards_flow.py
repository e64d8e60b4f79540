"""The rewards flow through a real Prefect server: it pauses, a person decides through the API.

The run is started from the command line (`bridgehead rewards run`) against a server of its own,
found paused through the API, and resumed with a decision that approves some proposals and rejects
another — the call the UI's Resume form makes. Only the approved lines are approved, the approver is
in the audit trail, and a second run for the month adds nothing and does not wait.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from bridgehead.db import get_engine
from deployments.local_server import LocalServer, stop_process
from models.audit import AuditLog
from models.reward import RewardEntry
from models.signal import Signal
from models.tip import Tip
from tests.factories import BRIDGEHEAD, ingest, sweep_stages, wait_for, write_rows
from tests.tasks.follow_up.overdue import add_visit, open_risk
from tests.tasks.follow_up.scenario import at

pytestmark = pytest.mark.server

MARCH = date(2026, 3, 2)


def _month_of_records(tmp_path: Path) -> None:
    """March 2026: O000001 visits one risk on time and leaves another 7 days late; a tip is verified."""
    on_time = open_risk(tmp_path, "C1", address="宝桥新村1号楼")
    open_risk(tmp_path, "C2", address="宝桥新村2号楼")
    sweep_stages(MARCH)
    add_visit(tmp_path, "V1", at(MARCH, 15), on_time, "medium", officer_code="O000001")
    for n in range(1, 8):
        sweep_stages(MARCH + timedelta(days=n))
    tip = {"tip_id": "T1", "received_at": at(MARCH).isoformat(), "category": "labor_debt",
           "contact": "13912345678", "wants_reward": "true", "address": "宝桥新村3号楼"}  # fmt: skip
    ingest(write_rows(tmp_path / "tips" / "tips.csv", tip), "tip")
    with Session(get_engine()) as s:
        signal = s.execute(select(Signal.id).where(Signal.source_id == "T1")).scalar_one()
        s.execute(
            update(Tip)
            .where(Tip.signal_id == signal)
            .values(status="verified", outcome="risk_found", verified_by="O000001", verified_at=at(MARCH, 16))
        )
        s.commit()


def _ledger(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {
            f"{e.kind}:{e.beneficiary.split(':')[0]}": e.status
            for e in s.execute(select(RewardEntry)).scalars()
        }


def _form_saved(api: httpx.Client, run: dict) -> bool:
    """Prefect saves the approval form's schema a moment after the run turns PAUSED; the UI and
    `rewards approve` wait for it, and so does the test (a resume before it is refused)."""
    keyset = run["state"]["state_details"]["run_input_keyset"] or {}
    schema = keyset.get("schema")
    return bool(schema) and api.get(f"/flow_runs/{run['id']}/input/{schema}").status_code == 200


def test_the_rewards_flow_pauses_and_writes_only_what_a_person_approved(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    _month_of_records(tmp_path)
    with LocalServer(tmp_path / "prefect") as server:
        env = {**os.environ, "PREFECT_HOME": str(server.home), "PREFECT_API_URL": server.api_url}
        api = httpx.Client(base_url=server.api_url, timeout=10)
        run = subprocess.Popen(
            [BRIDGEHEAD, "rewards", "run", "--period", "2026-03"],
            env=env,
            stdout=(tmp_path / "run.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            paused = wait_for(
                "the rewards run to pause",
                lambda: [
                    r
                    for r in api.post(
                        "/flow_runs/filter", json={"flow_runs": {"name": {"any_": ["rewards-2026-03"]}}}
                    ).json()
                    if r["state_type"] == "PAUSED" and _form_saved(api, r)
                ],
            )[0]
            assert _ledger(engine) == {
                "officer_points:officer": "proposed",
                "tip_reward:tip": "proposed",
                "accountability_list:station": "proposed",
            }
            with Session(engine) as s:
                ids = {e.kind: e.id for e in s.execute(select(RewardEntry)).scalars()}
            answer = {
                "approver": "王所长",
                "decision": "each",
                "approve": [ids["officer_points"], ids["tip_reward"]],
                "reject": [ids["accountability_list"]],
                "reason": "checked against the station's records",
            }
            resumed = _post(api, f"/flow_runs/{paused['id']}/resume", {"run_input": answer})
            assert resumed["status"] == "ACCEPT", resumed
            assert run.wait(timeout=120) == 0, (tmp_path / "run.log").read_text()
        finally:
            stop_process(run)
        assert _ledger(engine) == {
            "officer_points:officer": "approved",
            "tip_reward:tip": "approved",
            "accountability_list:station": "rejected",
        }
        with Session(engine) as s:
            decisions = s.execute(
                select(AuditLog.actor, AuditLog.action).where(AuditLog.action.in_(["approve", "reject"]))
            ).all()
            assert sorted(decisions) == [
                ("person:王所长", "approve"),
                ("person:王所长", "approve"),
                ("person:王所长", "reject"),
            ]
            assert s.execute(select(Tip.status)).scalar_one() == "rewarded"
            before = [
                e.model_dump() for e in s.execute(select(RewardEntry).order_by(RewardEntry.id)).scalars()
            ]

        again = subprocess.run(
            [BRIDGEHEAD, "rewards", "run", "--period", "2026-03"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert "nothing waits for a decision" in again.stdout
        with Session(engine) as s:
            after = [
                e.model_dump() for e in s.execute(select(RewardEntry).order_by(RewardEntry.id)).scalars()
            ]
        assert after == before


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """A call to a just-started server, which under load may answer 503 (its database busy) at first."""
    for _ in range(20):
        reply = api.post(path, json=body)
        if reply.status_code < 500:
            reply.raise_for_status()
            return reply.json()
        time.sleep(0.5)
    reply.raise_for_status()


def test_approval_waits_for_the_form_prefect_saves_just_after_pausing(tmp_path: Path) -> None:
    """A run caught between PAUSED and its saved form is not resumed early (Prefect would refuse it)."""
    from prefect.input import keyset_from_paused_state
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.states import Paused

    from deployments.rewards_cli import approve_run
    from flows.rewards import RewardsApproval

    with LocalServer(tmp_path / "prefect") as server, temporary_settings({PREFECT_API_URL: server.api_url}):
        api = httpx.Client(base_url=server.api_url, timeout=10)
        flow = _post(api, "/flows/", {"name": "rewards"})
        run = _post(api, "/flow_runs/", {"flow_id": flow["id"], "name": "rewards-2026-03"})
        _post(api, f"/flow_runs/{run['id']}/set_state", {"state": {"type": "RUNNING"}, "force": True})
        paused = Paused(pause_key="1", timeout_seconds=600)
        keyset = keyset_from_paused_state(paused)
        paused.state_details.run_input_keyset = keyset
        state = paused.model_dump(mode="json", include={"type", "name", "state_details"})
        _post(api, f"/flow_runs/{run['id']}/set_state", {"state": state, "force": True})

        with pytest.raises(LookupError, match="form never appeared"):
            approve_run("2026-03", "王所长", "approve_all", [], [], "", wait_s=1)

        RewardsApproval.save(keyset, flow_run_id=run["id"])
        assert approve_run("2026-03", "王所长", "approve_all", [], [], "") == run["id"]
        assert api.get(f"/flow_runs/{run['id']}").json()["state_type"] != "PAUSED"
        answer = api.get(f"/flow_runs/{run['id']}/input/{keyset['response']}").json()
        assert answer["approver"] == "王所长"
