"""The intake flow on a real Prefect server: six task runs whatever the size, nothing personal logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from flows.intake import intake
from tests.factories import TIP, write_csv, write_rows
from tests.flows.runs import task_runs
from tests.tasks.intake.rows import CALL_HEADER, call_row

pytestmark = pytest.mark.prefect


def test_task_runs_do_not_grow_with_the_file_and_nothing_personal_is_logged(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    small = write_csv(tmp_path / "small.csv", CALL_HEADER, [call_row(i) for i in range(20)])
    large = write_csv(tmp_path / "large.csv", CALL_HEADER, [call_row(i) for i in range(20, 3_020)])
    tips = write_rows(tmp_path / "tips.csv", TIP)
    caplog.set_level(logging.DEBUG)
    runs, reports = [], []
    for channel, path in (("call", small), ("call", large), ("tip", tips)):
        state = intake(channel, [str(path)], return_state=True)
        assert state.is_completed()
        runs.append(task_runs(state.state_details.flow_run_id))
        reports.append(state.result())
    assert runs[0] == runs[1] == ["grade", "link", "load", "open-incidents", "report", "validate"]
    # each report tells what its own files brought, not the register's running total
    assert [(r.signals_by_channel["call"], r.signals_by_channel["tip"]) for r in reports] == [
        (20, 0),
        (3_000, 0),
        (0, 1),
    ]
    logged = caplog.text
    assert "wxid_secret_li" not in logged
    assert not any(f"139{i:08d}" in logged for i in range(3_020))
    with engine.connect() as conn:
        actors = set(
            conn.execute(text("SELECT DISTINCT actor FROM audit_log WHERE action = 'ingest'")).scalars()
        )
    assert all(a.startswith("flow-run:intake-") for a in actors)
