"""The jurisdiction refresh as a real Prefect flow run: audited as the run, reported as an artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from flows.jurisdiction import jurisdiction_refresh
from tests.factories import OFFICERS, write_jurisdiction

pytestmark = pytest.mark.prefect


def _artifact(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    assert found, f"no artifact {key}"
    return str(found[0].data)


def test_the_flow_loads_audits_as_its_run_and_publishes_gaps(
    prefect_server: None, engine: Engine, tmp_path: Path
) -> None:
    officers = [o for o in OFFICERS if o[4] != "61032301002"]
    cov = jurisdiction_refresh(write_jurisdiction(tmp_path / "j", officers=officers))
    assert cov.villages_without_officer == [("61032301002", "北营村")]
    with engine.connect() as conn:
        actors = conn.execute(text("SELECT DISTINCT actor FROM audit_log")).scalars().all()
    assert len(actors) == 1 and actors[0].startswith("flow-run:")
    markdown = _artifact("jurisdiction-coverage")
    assert "gap: village 61032301002 北营村 has no officer" in markdown
