"""The one place that makes engines: SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bridgehead.bulk import update_by_id
from bridgehead.db import make_engine, normalise_url, session_scope
from bridgehead.settings import Settings
from models.intake import SourceFile
from models.jurisdiction import Station


def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x' / 'b.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    engine.dispose()


def test_postgresql_connections_plan_for_solid_state_storage(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each connection costs a random page read at 1.1 (the server's 4 reads whole tables for an IN list)
    and compiles no statement just in time; unset, the server's own settings stand; analysing inside a
    stage's transaction is allowed."""
    from bridgehead.db import refresh_statistics, refreshes_before
    from bridgehead.settings import get_settings

    assert [n for n in range(20) if refreshes_before(n)] == [1, 2, 4, 8, 16]
    with session_scope() as s:
        refresh_statistics(s, "signal", "risk")
        if s.get_bind().dialect.name != "postgresql":
            return
        assert s.execute(text("SHOW random_page_cost")).scalar() == "1.1"
        assert s.execute(text("SHOW jit")).scalar() == "off"
    # blank: the server's own (4, and JIT on since PostgreSQL 12); set: what is asked
    for cost, jit, shown in (("", "", ("4", "on")), ("2", "true", ("2", "on"))):
        monkeypatch.setenv("BRIDGEHEAD_POSTGRES_RANDOM_PAGE_COST", cost)
        monkeypatch.setenv("BRIDGEHEAD_POSTGRES_JIT", jit)
        get_settings.cache_clear()
        other = make_engine()
        with other.connect() as conn:
            assert (
                conn.execute(text("SHOW random_page_cost")).scalar(),
                conn.execute(text("SHOW jit")).scalar(),
            ) == shown
        other.dispose()
    get_settings.cache_clear()


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


PHONE = "13912345678"


@pytest.mark.parametrize(
    ("why", "second"),
    [
        ("a missing value", {"sha256": None, "path": f"来电{PHONE}.csv"}),
        ("a duplicate key", {"sha256": PHONE, "path": "b.csv"}),
    ],
)
def test_a_failed_load_never_carries_its_values_into_the_error(engine, why: str, second: dict) -> None:  # type: ignore[no-untyped-def]
    """The regression: a failed load's `[parameters: …]` put phone numbers in Prefect's logs and states.

    Neither the statement's parameters nor PostgreSQL's DETAIL (`Failing row contains (…)`,
    `Key (…)=(…)`) reach the error's text, or a traceback as a log prints it.
    """
    import traceback

    from models.common import utcnow
    from models.intake import SourceFile

    rows = [
        {"sha256": PHONE, "path": f"来电{PHONE}.csv", "channel": "call", "received_at": utcnow()},
        {"channel": "call", "received_at": utcnow(), **second},
    ]
    with pytest.raises(IntegrityError) as failed, session_scope() as s:
        s.execute(SourceFile.__table__.insert(), rows)
    logged = "".join(traceback.format_exception(failed.value))
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(failed.value)
    assert PHONE not in logged, why
    assert failed.value.orig is not None  # the driver's own error is still there, with its type


def test_update_by_id_sets_each_row_its_own_fields_whatever_their_shape(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as s:
        s.add_all(SourceFile(sha256=f"h{i}", path=f"{i}.csv", channel="call") for i in range(3))
    with session_scope() as s:
        ids = sorted(s.execute(select(SourceFile.id)).scalars())
        update_by_id(
            s,
            SourceFile,
            [
                {"id": ids[0], "path": "a.csv"},
                {"id": ids[1], "path": "b.csv", "rows_loaded": 7},
                {"id": ids[2]},  # nothing to set
            ],
        )
    with session_scope() as s:
        rows = s.execute(select(SourceFile.path, SourceFile.rows_loaded).order_by(SourceFile.id)).all()
    assert [tuple(r) for r in rows] == [("a.csv", 0), ("b.csv", 7), ("2.csv", 0)]


def test_an_interrupt_inside_commit_comes_out_as_itself(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM or Ctrl-C landing inside SQLAlchemy's flush makes its cleanup fail with "This transaction
    is closed"; the command must still see the interrupt (CI saw a traceback instead, once)."""
    from sqlalchemy.orm.session import SessionTransaction

    close = SessionTransaction.close
    fired: list[bool] = []

    def interrupted_close(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        close(self, *args, **kwargs)
        if not fired and self._parent is not None:  # just after the flush's subtransaction closed, as in CI
            fired.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(SessionTransaction, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt), session_scope() as s:
        s.add(Station(station_code="s1", name="One", district="D", lat=34.4, lon=107.1))
        s.flush()
    assert fired
    monkeypatch.setattr(SessionTransaction, "close", close)
    with session_scope() as s:
        assert s.execute(text("SELECT count(*) FROM station")).scalar() == 0
