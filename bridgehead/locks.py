"""One runner at a time, for work started outside Prefect's concurrency limits (a cron, two shells).

`exclusive` spans a whole run. PostgreSQL: a session advisory lock on a connection of its own.
SQLite: an OS file lock beside the database file. Both are released by the operating system or the
server when the holder dies, so a sweep killed half-way never blocks the rerun that completes it.

`hold_register` spans one transaction: whoever changes the risk register (link, grade, open
incidents, a disposal, the evidence rule, a raise by hand) reads it only after every other such
writer has committed, so two intakes at once make the same register as one after the other.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from bridgehead.db import get_engine
from bridgehead.settings import get_settings


def _key(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)


@contextmanager
def exclusive(name: str) -> Iterator[None]:
    """Hold the named lock for the block; wait for whoever holds it now."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _key(name)})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
                conn.commit()
        return
    database = engine.url.database
    folder = Path(database).parent if database and database != ":memory:" else get_settings().var_dir
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


REGISTER = "risk-register"


def hold_register(session: Session) -> None:
    """Take the register's lock for the rest of this transaction; call it before the first read.

    PostgreSQL: a transaction advisory lock, released at commit or rollback. SQLite: its one write
    lock, taken now by a write that changes nothing, so the reads that follow see every committed
    change and no other writer can commit until this transaction ends.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _key(REGISTER)})
    else:
        session.execute(text("UPDATE audit_head SET seq = seq WHERE 0"))
