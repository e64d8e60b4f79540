"""Many rows in or changed at the driver's speed (批量写入): intake's inserts, the stages' updates by id.

SQLAlchemy converts every value of every row in Python on its way to the driver (UTCDateTime,
AutoString: 12 s of a 200,000-row call file's 19 s load here). A frame's columns are converted here
once each, as columns, to what SQLAlchemy would have stored, and the rows go straight to the driver:
one executemany, or on PostgreSQL for many rows COPY into a scratch table and one statement from it.
Fewer than `BULK_FROM` rows go by SQLAlchemy Core, which the conversions here match value for value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any, cast

import pandas as pd
from sqlalchemy import JSON, Connection, DateTime, Integer, Table, bindparam, func, select
from sqlalchemy import update as sa_update
from sqlmodel import Session, SQLModel

from bridgehead.db import dialect_insert, table_of

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite (UTC here)
COPY_FROM = 2_000  # rows from which PostgreSQL takes them by COPY rather than executemany


def insert_frame(
    session: Session,
    table: Table,
    frame: pd.DataFrame,
    skip_taken: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert the frame's rows (its columns named as the table's) in the session's transaction. A row
    whose `skip_taken` key another row already holds is skipped (`ON CONFLICT DO NOTHING`), or, with
    `update`, sets those columns of that row; with neither it fails the insert.

    `returning` (PostgreSQL only) gives those columns of the rows written, from the one statement that
    wrote them: a row read back by its key afterwards is a query the planner judges blind while the
    table grows inside the transaction (a million calls' load spent minutes in sequential scans).
    """
    if frame.empty:
        return []
    session.flush()
    conn = session.connection()
    if len(frame) < BULK_FROM:
        return _insert_core(session, table, _records(table, frame), skip_taken, update, returning)
    names, rows = _driver_rows(conn, table, _with_defaults(table, frame))
    columns = ", ".join(f'"{name}"' for name in names)
    conflict = ""
    if skip_taken:
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in update)
        conflict = f"ON CONFLICT ({', '.join(skip_taken)}) " + (
            f"DO UPDATE SET {sets}" if update else "DO NOTHING"
        )
    if returning and conn.dialect.name != "postgresql":
        raise ValueError("insert_frame: returning is for PostgreSQL (SQLite's executemany returns no rows)")
    if returning or _by_copy(conn, rows):
        back = f"RETURNING {', '.join(returning)}" if returning else ""
        with _staged(conn, table, names, rows) as stage:
            written = conn.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{stage}" {conflict} {back}'
            )
            return [tuple(row) for row in written] if returning else []
    marks = ", ".join([_mark(conn)] * len(names))
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) {conflict}', rows)
    return []


def insert_in_order(
    session: Session, table: Table, frame: pd.DataFrame, skip_taken: Sequence[str] = ()
) -> tuple[int, range | None]:
    """SQLite: insert the frame's rows and return the highest id before them and, when every row was
    written, their ids in the frame's order — each took the highest id plus one, as SQLite gives a rowid,
    and the caller holds the write lock. None when some were skipped (their key taken): the caller reads
    back which rows are above that id. No read of what was just written when nothing was skipped."""
    conn = session.connection()
    before = _highest_id(conn, table)
    insert_frame(session, table, frame, skip_taken)
    after = _highest_id(conn, table)
    return before, range(before + 1, after + 1) if after - before == len(frame) else None


def _highest_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows of one shape: a few by a Core insert (no frame to build), many by `insert_frame`."""
    if len(rows) < BULK_FROM:
        if rows:
            session.flush()
            _insert_core(session, table, rows)
        return
    insert_frame(session, table, pd.DataFrame(rows))


BULK_FROM = 500  # rows from which converting them as columns pays for building the frame


def _insert_core(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    skip_taken: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """A few rows by SQLAlchemy Core: the reference every faster path here stores exactly as."""
    stmt = dialect_insert(session, table)
    if skip_taken and update:
        stmt = stmt.on_conflict_do_update(
            index_elements=skip_taken, set_={c: stmt.excluded[c] for c in update}
        )
    elif skip_taken:
        stmt = stmt.on_conflict_do_nothing(index_elements=skip_taken)
    if returning:
        stmt = stmt.returning(*(table.c[c] for c in returning))
    result = session.connection().execute(stmt, rows)
    return [tuple(row) for row in result] if returning else []


def _update_core(session: Session, table: Table, keys: Sequence[str], rows: list[dict[str, Any]]) -> None:
    stmt = (
        sa_update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({k: bindparam(k, type_=table.c[k].type) for k in keys})
    )
    session.connection().execute(stmt, [{"row_id": row["id"], **{k: row[k] for k in keys}} for row in rows])


def _records(table: Table, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A small frame's rows as SQLAlchemy takes them: blanks as None, pandas' floats of an integer column
    as integers."""
    return cast(list[dict[str, Any]], _as_objects(table, frame.copy(deep=False)).to_dict("records"))


def _as_objects(table: Table, values: pd.DataFrame) -> pd.DataFrame:
    """pandas' floats of an integer column (a blank made it float) as integers again, and blanks as None."""
    for name in values.columns:
        if isinstance(_kind(table, name), Integer) and values[name].dtype.kind == "f":
            values[name] = values[name].astype("Int64")
    return values.astype(object).where(values.notna(), None)


def _kind(table: Table, name: str) -> Any:
    """A column's type as the database sees it (a decorated type's own implementation)."""
    return getattr(table.c[name].type, "impl_instance", table.c[name].type)


def update_frame(session: Session, table: Table, frame: pd.DataFrame) -> None:
    """Set each row's columns of the frame on the row of the table with its `id`."""
    if frame.empty:
        return
    session.flush()
    conn = session.connection()
    if len(frame) < BULK_FROM:
        _update_core(session, table, [c for c in frame.columns if c != "id"], _records(table, frame))
        return
    names, rows = _driver_rows(conn, table, frame[[c for c in frame.columns if c != "id"] + ["id"]])
    columns = names[:-1]
    if _by_copy(conn, rows):
        # the ids' range as well: a part's ids are near each other (a file's rows, linked in time order),
        # and PostgreSQL then reads the part's rows by the primary key, not the whole table per part
        lo, hi = int(frame["id"].min()), int(frame["id"].max())
        with _staged(conn, table, names, rows) as stage:
            sets = ", ".join(f'"{c}" = s."{c}"' for c in columns)
            conn.exec_driver_sql(
                f'UPDATE "{table.name}" SET {sets} FROM "{stage}" s WHERE "{table.name}".id = s.id'
                f' AND "{table.name}".id BETWEEN {lo} AND {hi}'
            )
        return
    sets = ", ".join(f'"{c}" = {_mark(conn)}' for c in columns)
    conn.exec_driver_sql(f'UPDATE "{table.name}" SET {sets} WHERE id = {_mark(conn)}', rows)


def update_by_id(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """UPDATE rows by their `id`, one statement per shape of row (the set of columns it sets)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    table = table_of(model)
    for keys, part in shapes.items():
        if not keys:  # a row with nothing to set is left alone
            continue
        if len(part) < BULK_FROM:
            session.flush()
            _update_core(session, table, keys, part)
        else:
            update_frame(session, table, pd.DataFrame(part, columns=["id", *keys]))


def _with_defaults(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's Python-side defaults (a load time) for the columns the frame lacks, once for all rows."""
    values = frame.copy(deep=False)
    for column in table.c:
        if column.name not in values and column.default is not None and not column.primary_key:
            default = cast(Any, column.default)
            values[column.name] = default.arg(None) if default.is_callable else default.arg
    return values


def _driver_rows(
    conn: Connection, table: Table, frame: pd.DataFrame
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The frame's rows as the driver takes them: JSON as its text, times as SQLite's text (PostgreSQL takes
    aware datetimes), pandas' floats of an integer column with blanks as integers, blanks as None."""
    postgres = conn.dialect.name == "postgresql"
    values = frame.copy(deep=False)
    for name in values.columns:
        kind = _kind(table, name)
        if isinstance(kind, JSON):
            # None as JSON's null, as SQLAlchemy stores it; only a value the frame lacks (NaN) is NULL
            values[name] = [None if isinstance(v, float) and v != v else json.dumps(v) for v in values[name]]
        elif isinstance(kind, DateTime) and not postgres:
            values[name] = _sqlite_times(values[name])
    values = _as_objects(table, values)
    return list(values.columns), list(values.itertuples(index=False, name=None))


def _sqlite_times(values: pd.Series) -> pd.Series:
    try:
        times = pd.to_datetime(values, utc=True)
    except (ValueError, OverflowError):  # beyond pandas' years (1677-2262): one at a time
        return values.map(
            lambda v: None if v is None or pd.isna(v) else v.astimezone(UTC).strftime(SQLITE_TIME)
        )
    return times.dt.strftime(SQLITE_TIME).where(times.notna(), None)


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _by_copy(conn: Connection, rows: list[tuple[Any, ...]]) -> bool:
    return conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM


@contextmanager
def _staged(conn: Connection, table: Table, names: list[str], rows: list[tuple[Any, ...]]) -> Iterator[str]:
    """A scratch table of the table's named columns, filled by COPY, dropped after use (and with the
    transaction if it fails)."""
    import psycopg

    stage = f"{table.name}_staged"
    columns = ", ".join(f'"{name}"' for name in names)
    conn.exec_driver_sql(
        f'CREATE TEMPORARY TABLE "{stage}" AS SELECT {columns} FROM "{table.name}" WITH NO DATA'
    )
    raw = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
    try:
        with raw.cursor() as cur, cur.copy(f'COPY "{stage}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:  # its message and context quote the row's values: a phone, a summary
        exc.args = (
            f"COPY into {table.name} failed (SQLSTATE {exc.sqlstate}); the row's values are not repeated",
        )
        raise
    yield stage
    conn.exec_driver_sql(f'DROP TABLE "{stage}"')
