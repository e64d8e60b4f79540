"""Many rows in at the driver's speed (批量写入): bulk intake's inserts.

SQLAlchemy converts every value of every row in Python on its way to the driver (UTCDateTime,
AutoString: 12 s of a 200,000-row call file's 19 s load here). A frame's columns are converted here
once each, as columns, to what SQLAlchemy would have stored, and the rows go straight to the driver:
one executemany on SQLite, COPY into a scratch table and one INSERT ... SELECT on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any, cast

import pandas as pd
from sqlalchemy import JSON, Connection, DateTime, Integer, Table
from sqlmodel import Session

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite (UTC here)


def insert_frame(session: Session, table: Table, frame: pd.DataFrame, skip_taken: list[str]) -> None:
    """Insert the frame's rows (its columns named as the table's) in the session's transaction; a row whose
    `skip_taken` key another row already holds is skipped, as `ON CONFLICT DO NOTHING` would (none given:
    such a row fails the insert)."""
    if frame.empty:
        return
    session.flush()
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    values = frame.copy(deep=False)
    for column in table.c:  # the model's Python-side defaults (a load time), once for the frame
        if column.name not in values and column.default is not None and not column.primary_key:
            default = cast(Any, column.default)
            values[column.name] = default.arg(None) if default.is_callable else default.arg
    for name in values.columns:
        kind = getattr(table.c[name].type, "impl_instance", table.c[name].type)
        if isinstance(kind, JSON):
            values[name] = [None if v is None else json.dumps(v) for v in values[name]]
        elif isinstance(kind, DateTime) and not postgres:
            values[name] = _sqlite_times(values[name])
        elif isinstance(kind, Integer) and values[name].dtype.kind == "f":  # pandas' ints with a blank
            values[name] = values[name].astype("Int64")
    values = values.astype(object).where(values.notna(), None)
    rows = list(values.itertuples(index=False, name=None))
    columns = ", ".join(f'"{name}"' for name in values.columns)
    conflict = f"ON CONFLICT ({', '.join(skip_taken)}) DO NOTHING" if skip_taken else ""
    if postgres:
        _copy(conn, table, columns, rows, conflict)
    else:
        marks = ", ".join("?" * len(values.columns))
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) {conflict}', rows)


def _sqlite_times(values: pd.Series) -> pd.Series:
    try:
        times = pd.to_datetime(values, utc=True)
    except (ValueError, OverflowError):  # beyond pandas' years (1677-2262): one at a time
        return values.map(
            lambda v: None if v is None or pd.isna(v) else v.astimezone(UTC).strftime(SQLITE_TIME)
        )
    return times.dt.strftime(SQLITE_TIME).where(times.notna(), None)


def _copy(conn: Connection, table: Table, columns: str, rows: list[tuple[Any, ...]], conflict: str) -> None:
    import psycopg

    stage = f"{table.name}_incoming"
    conn.exec_driver_sql(
        f'CREATE TEMPORARY TABLE "{stage}" AS SELECT {columns} FROM "{table.name}" WITH NO DATA'
    )
    raw = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
    with raw.cursor() as cur, cur.copy(f'COPY "{stage}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{stage}" {conflict}')
    conn.exec_driver_sql(f'DROP TABLE "{stage}"')
