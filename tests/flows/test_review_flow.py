"""Monday's review through Prefect: the city, then each district of the jurisdiction, each its own run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from models.review import ReviewSnapshot
from tests.factories import ingest, write_rows
from tests.tasks.review import ends_story

story = ends_story.story  # the fixture: the hand-counted May of tests/tasks/review/ends_story.py

pytestmark = pytest.mark.prefect


def test_mondays_review_covers_the_city_and_every_district(
    prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridgehead.settings import get_settings
    from flows.review import districts, weekly_review

    monkeypatch.setenv("BRIDGEHEAD_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    ingest(write_rows(tmp_path / "calls.csv", {"call_id": "C1", "received_at": "2026-03-03T10:00:00+08:00"}))
    done = weekly_review(period="2026-W10", lang="en")
    assert done == ["review-city-2026-w10", *(f"review-district-{d}-2026-w10" for d in districts())]
    assert len(districts()) >= 2  # the test jurisdiction has more than one district
    with Session(engine) as s:
        scopes = sorted(
            s.execute(select(ReviewSnapshot.scope).where(ReviewSnapshot.period == "2026-W10")).scalars()
        )
    assert scopes == sorted(["city", *(f"district:{d}" for d in districts())])
    assert all((tmp_path / "reports" / f"{slug}.html").exists() for slug in done)


def test_a_review_publishes_its_hotspots_as_a_table(
    prefect_server: None, story: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review flow publishes the top places by calls as the `-hotspots` table artifact."""
    from prefect.artifacts import Artifact

    from bridgehead.settings import get_settings
    from flows.review import review

    monkeypatch.setenv("BRIDGEHEAD_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    result = review(scope="city", period="2026-05", lang="zh")
    assert [h["calls_current"] for h in result["hotspots"]] == [5, 2, 1]
    artifact = Artifact.get("review-city-2026-05-hotspots")
    assert artifact is not None
    rows = json.loads(str(artifact.data))
    assert [(r["place"], r["kind"], r["calls_current"]) for r in rows] == [
        ("幸福路200号", "shop", 5),
        ("南营村200号", "school", 2),
        ("和平街200号", "crossing", 1),
    ]
