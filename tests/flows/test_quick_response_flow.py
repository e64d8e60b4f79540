"""The quick-response flows on a real (test) Prefect server: named runs, one task whatever the load,
two responses at once that never share a unit, and a replayed night judged by its records."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bridgehead.db import session_scope
from flows.quick_response import quick_response, response_watch, unit_status
from models.common import utcnow
from models.follow_up import SupervisionNotice
from models.incident import Dispatch, ResponseBreach
from models.jurisdiction import PatrolUnit
from tests.factories import ingest, write_jurisdiction, write_rows
from tests.flows.runs import task_runs

pytestmark = pytest.mark.prefect

# 陈仓派出所 with four units, so two violence incidents (two units each) can both be served.
FOUR_UNITS = [
    ("U6103030101", "61030301", 2, 34.370, 107.150),
    ("U6103030102", "61030301", 2, 34.371, 107.151),
    ("U6103030103", "61030301", 2, 34.380, 107.160),
    ("U6103030104", "61030301", 2, 34.390, 107.170),
    ("U6103230101", "61032301", 3, 34.450, 107.620),
]


def _load_jurisdiction(tmp_path: Path) -> None:
    from tasks.jurisdiction import load_jurisdiction

    with session_scope() as s:
        load_jurisdiction(s, write_jurisdiction(tmp_path / "j4", units=FOUR_UNITS), actor="person:test")


def test_a_missing_child_takes_every_free_unit_and_its_named_run_finds_them_sent(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    now = utcnow()
    calls = write_rows(
        tmp_path / "calls.csv",
        {"call_id": "C1", "received_at": now.isoformat(), "category": "missing_person", "priority": 1},
    )
    opened = ingest(calls)["incidents"]
    assert [i["incident_code"] for i in opened.live] == ["INC-C1"]
    sent = sorted(u["unit_code"] for d in opened.dispatched for u in d.units)
    assert sent == ["U6103030101", "U6103030102"]  # in the step that opened the incident
    state = quick_response("INC-C1", now + timedelta(seconds=20), return_state=True)  # what its event starts
    assert state.is_completed()
    result = state.result()
    assert result.already_dispatched and not result.units
    assert task_runs(state.state_details.flow_run_id, expected=1) == ["dispatch"]
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == "quick-response-INC-C1"


def test_two_responses_started_at_once_never_share_a_unit(
    prefect_server: None, engine: Engine, tmp_path: Path
) -> None:
    _load_jurisdiction(tmp_path)
    now = utcnow()
    received = (now - timedelta(minutes=40)).isoformat()  # older than intake answers itself: the runs send
    calls = write_rows(
        tmp_path / "calls.csv",
        {"call_id": "A", "received_at": received, "category": "violence", "priority": 1},
        {
            "call_id": "B",
            "received_at": received,
            "category": "violence",
            "priority": 1,
            "address": "二号",
        },
    )
    ingest(calls)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda code: quick_response(code, now), ["INC-A", "INC-B"]))
    sent = [u["unit_code"] for r in results for u in r.units]
    assert len(sent) == 4 and len(set(sent)) == 4
    with session_scope() as s:
        busy = s.execute(select(PatrolUnit.unit_code).where(PatrolUnit.status == "dispatched")).scalars()
        assert sorted(busy) == sorted(sent)


def test_a_replayed_night_is_judged_by_its_records_and_escalated(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    opened = utcnow() - timedelta(hours=2)  # replayed: nothing depends on when the flows run
    calls = write_rows(
        tmp_path / "calls.csv",
        {"call_id": "N1", "received_at": opened.isoformat(), "category": "violence", "priority": 1},
    )
    ingest(calls)
    quick_response("INC-N1", opened + timedelta(seconds=30))  # dispatch target (60 s) met
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "unit_code,incident_id,status,at\n"
        f"U6103030101,INC-N1,en_route,{(opened + timedelta(seconds=45)).isoformat()}\n"
        "U9999999999,INC-N1,en_route,2026-01-01T00:00:00+08:00\n",
        encoding="utf-8",
    )
    [fed] = unit_status([str(feed)])
    assert (fed.applied, fed.quarantined) == (1, 1)
    early = response_watch(opened + timedelta(seconds=170))  # 3 min target in a smart-security estate
    assert early.breaches == []
    late = response_watch(opened + timedelta(seconds=200))
    assert [(b["target"], b["escalated_unit"]) for b in late.breaches] == [("arrival", "U6103230101")]
    assert response_watch(opened + timedelta(seconds=260)).breaches == []  # recorded once
    with session_scope() as s:
        assert s.execute(select(func.count()).select_from(ResponseBreach)).scalar_one() == 1
        notice = s.execute(select(SupervisionNotice)).scalar_one()
        assert (notice.recipient_officer_code, notice.level) == ("O000004", "chief")
        pulled = s.execute(select(Dispatch).where(Dispatch.escalation.is_(True))).scalar_one()
        assert pulled.unit_code == "U6103230101"
