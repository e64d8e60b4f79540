"""The one place that makes engines: SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bridgehead.db import make_engine, normalise_url, session_scope
from bridgehead.settings import Settings


def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x' / 'b.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    engine.dispose()


def test_default_database_is_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGEHEAD_DATABASE_URL", raising=False)
    monkeypatch.delenv("BRIDGEHEAD_VAR_DIR", raising=False)
    assert Settings(_env_file=None).resolved_database_url == "sqlite:///var/bridgehead.db"
    monkeypatch.setenv("BRIDGEHEAD_DATABASE_URL", "postgresql://u@h/db")
    assert Settings(_env_file=None).resolved_database_url == "postgresql://u@h/db"


def test_plain_postgresql_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalise_url("sqlite:///var/x.db") == "sqlite:///var/x.db"


def test_session_scope_rolls_back_on_error(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), session_scope() as s:
        s.execute(
            text(
                "INSERT INTO community (community_code, name, kind, station_code, has_police_office,"
                " smart_security, population, lat, lon)"
                " VALUES ('c', 'n', 'village', 'no-such-station', false, false, 1, 0, 0)"
            )
        )
    with session_scope() as s:
        assert s.execute(text("SELECT count(*) FROM community")).scalar() == 0
