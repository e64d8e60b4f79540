"""The one place that makes engines and sessions.

SQLite is the embedded default (WAL, foreign keys and a busy timeout on every connection);
PostgreSQL is the production database. Both take the same models and migrations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, Table, event, text, type_coerce
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

from bridgehead.settings import Settings, get_settings


def normalise_url(url: str) -> str:
    """Let users write postgresql:// and still get the psycopg 3 driver we ship."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine whose errors never carry the statement's parameters (phones, contacts) into logs."""
    settings = get_settings()
    url = normalise_url(url or settings.resolved_database_url)
    u = make_url(url)
    kwargs["hide_parameters"] = True
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_s}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # an unreachable host answers in seconds, not at the operating system's connect timeout
    connect: dict[str, Any] = {} if "connect_timeout" in u.query else {"connect_timeout": 10}
    if "options" not in u.query and (options := _planner_options(settings)):
        connect["options"] = options
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect, **kwargs)
    event.listen(engine, "handle_error", _without_row_values)
    return engine


def _planner_options(settings: Settings) -> str:
    """libpq `options` for the planner settings Bridgehead sets on its PostgreSQL connections."""
    options = []
    if settings.postgres_random_page_cost is not None:
        options.append(f"-c random_page_cost={settings.postgres_random_page_cost}")
    if settings.postgres_jit is not None:
        options.append(f"-c jit={'on' if settings.postgres_jit else 'off'}")
    return " ".join(options)


def _without_row_values(context: Any) -> None:
    """PostgreSQL repeats values in an error's DETAIL (`Failing row contains (…)`, `Key (…)=(…)`):
    drop it from the message, as hide_parameters does for the parameters (`.orig.diag` keeps it)."""
    orig = context.original_exception
    message = str(orig)
    if "\nDETAIL:" not in message:
        return
    primary = message.split("\nDETAIL:", 1)[0]
    orig.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None and wrapped.args and isinstance(wrapped.args[0], str):
        wrapped.args = (wrapped.args[0].replace(message, primary), *wrapped.args[1:])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    busy_ms = int(get_settings().sqlite_busy_timeout_s * 1000)
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_MIB * 1024}")
    cur.close()


# SQLite's page cache per connection (its default is 2 MiB). A bulk stage writes a whole file in one
# transaction; with the default cache the dirty pages of the register's indexes spill and are read back
# again and again (200,000 calls, time in statements: link 12.1 s with 2 MiB, 8.5 s with 64 MiB, 7.6 s
# with 256 MiB; grade 5.0 s, 2.6 s, 2.6 s). Pages are taken as they are used: a small register or a
# short command never holds this much.
SQLITE_CACHE_MIB = 128


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for a URL (default: the configured database)."""
    return make_engine(url)


def refresh_statistics(session: Session, *tables: str) -> None:
    """Let PostgreSQL plan by what a bulk stage has written so far in its transaction. Without statistics
    it guesses each value of an IN list of 5,000 to match 0.5% of the table and reads the whole table
    (a risk's signals at a million calls: 0.26 s a list; analysed, with a random page at 1.1, by the index:
    0.01 s). ANALYZE counts the transaction's own rows; SQLite has no such guess to correct."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(tables)}"))


def refreshes_before(part: int) -> bool:
    """A bulk stage's statistics are refreshed before its parts 1, 2, 4, 8, …: as its tables double."""
    return part > 0 and part & (part - 1) == 0


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            session.rollback()
            interrupt = interrupt_behind(exc)
            if interrupt is not None:
                raise interrupt from None
            raise


def interrupt_behind(exc: BaseException) -> BaseException | None:
    """The signal or exit (SIGTERM, Ctrl-C) behind an error, if there is one. A signal handler may raise
    in the middle of SQLAlchemy's commit; its cleanup then fails ("This transaction is closed") and the
    interrupt hides behind an ordinary error, which Prefect logs as a failure with a traceback and the
    command would not end as it was told to."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if not isinstance(current, Exception):
            return None if current is exc else current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def dialect_insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, for ON CONFLICT upserts on SQLite and PostgreSQL alike."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core table, for set-based statements (`model.__table__`: SQLModel's types omit it)."""
    return model.__table__  # type: ignore[attr-defined]  # set by SQLAlchemy's declarative mapping


def chunks(values: list[Any], size: int = 5000) -> Iterator[list[Any]]:
    """Bound the parameters of an IN (...) query (SQLite and drivers have limits)."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def read(session: Session, stmt: Any) -> Any:
    """The result of a plain read (columns, not ORM objects) through Core, after the flush the ORM would
    make: the ORM builds each row of a column select again, in Python (0.2 s of a 3 s review's 240,000
    rows at scale 1)."""
    session.flush()
    return session.connection().execute(stmt)


def frame_of(rows: Iterable[Any], columns: list[str]) -> Any:
    """A DataFrame of result rows. pandas inspects SQLAlchemy's `Row` objects one at a time (0.47 s for
    100,000 rows of ten columns here); as plain tuples the same frame takes 0.07 s."""
    import pandas as pd

    return pd.DataFrame([tuple(row) for row in rows], columns=columns)


def tuples_of(frame: Any, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    """A frame's rows as plain tuples of these columns: pandas' own iteration (`itertuples`, `zip` of
    columns) fetches each value of a text column one call at a time (pandas 3's str dtype); a column's
    `tolist()` is one call."""
    return zip(*(frame[c].tolist() for c in columns), strict=True)


def stored_time(column: Any) -> Any:
    """A timestamp column as the driver returns it (SQLite: its UTC text; PostgreSQL: a datetime), for
    `pd.to_datetime(..., utc=True)` to convert a whole column at once: SQLAlchemy parses SQLite's text
    one value at a time in Python (0.3 s per 200,000 rows here)."""
    return type_coerce(column, String).label(column.key)


def frame_in(session: Session, stmt: Any, column: Any, values: list[Any], columns: list[str]) -> Any:
    """A DataFrame of `stmt`'s rows whose `column` is one of `values`, asked in parts (bounded IN lists)."""
    rows: list[Any] = []
    for part in chunks(values):
        rows += read(session, stmt.where(column.in_(part))).all()
    return frame_of(rows, columns)
