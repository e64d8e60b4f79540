"""Monday's review through Prefect: the city, then each district of the jurisdiction, each its own run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from models.review import ReviewSnapshot
from tests.factories import ingest, write_rows

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
