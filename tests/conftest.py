"""One suite, two databases: SQLite always, PostgreSQL when BRIDGEHEAD_TEST_DATABASE_URL is set.

The schema comes from the Alembic migrations (as `bridgehead init` makes it), once per database
per session; each test starts from empty tables and a genesis audit head.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bridgehead.db import get_engine, make_engine
from bridgehead.settings import get_settings
from tests.factories import empty_tables

PG_ENV = "BRIDGEHEAD_TEST_DATABASE_URL"


ROOT = Path(__file__).resolve().parents[1]
LOCAL_STATE = ("var", "reports", ".env")  # where a user's own demo and reports live


def _reset_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()


def _state_of(root: Path) -> dict[str, float]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime
        for name in LOCAL_STATE
        for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
        if p.exists()
    }


@pytest.fixture(scope="session", autouse=True)
def nothing_written_outside_temporary_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every folder setting points into a temporary folder, and the checkout's var/ and reports/ (a
    user's demo, reports and key) are the same after the suite as before it."""
    before = _state_of(ROOT)
    home = tmp_path_factory.mktemp("bridgehead")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("VAR_DIR", "DATA_DIR", "INBOX_DIR", "REPORTS_DIR"):
            mp.setenv(f"BRIDGEHEAD_{name}", str(home / name.lower()))
        _reset_caches()
        yield
    _reset_caches()
    changed = sorted(k for k, v in _state_of(ROOT).items() if before.get(k) != v)
    assert not changed, f"the suite wrote into the checkout: {changed[:10]}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    from bridgehead.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bridgehead.db'}"
    else:
        url = os.environ.get(PG_ENV, "")
        if not url:
            pytest.skip(f"{PG_ENV} is not set: the PostgreSQL leg of the suite is skipped")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The configured database for this test, emptied; commands and flows see the same one."""
    monkeypatch.setenv("BRIDGEHEAD_DATABASE_URL", migrated_url)
    for name in ("VAR_DIR", "DATA_DIR", "INBOX_DIR", "REPORTS_DIR"):
        monkeypatch.setenv(f"BRIDGEHEAD_{name}", str(tmp_path / name.lower()))
    _reset_caches()
    eng = get_engine()
    empty_tables(eng)
    yield eng
    eng.dispose()
    _reset_caches()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One real (temporary) Prefect server for the tests that run whole flows."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=90),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture
def jurisdiction(engine: Engine, tmp_path: Path) -> Path:
    """The small test jurisdiction (tests/factories.py), loaded."""
    from bridgehead.db import session_scope
    from tasks.jurisdiction import load_jurisdiction
    from tests.factories import write_jurisdiction

    folder = write_jurisdiction(tmp_path / "j")
    with session_scope() as s:
        load_jurisdiction(s, folder, actor="person:test")
    return folder
