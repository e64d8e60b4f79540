"""Keeping tipsters and callers safe: encryption at rest, and scrubbing what leaves the database.

Contacts and phone numbers are sealed with Fernet (cryptography) before they are stored, and
anything written to the audit trail, a log or an artifact goes through `redact` first.

One key per database, wherever the command runs: from settings (a Prefect Secret block, the key
itself, or an absolute key file), else a key file made once beside a SQLite database (for PostgreSQL,
under an absolute var_dir). The database records the key's fingerprint with its first sealed values,
and a process holding another key is refused rather than sealing under it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import URL, Select, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from bridgehead.db import get_engine
from bridgehead.settings import Settings, get_settings
from models.common import utcnow
from models.installation import InstallationFact

REDACTED = "[redacted]"
PERSONAL_FIELDS = frozenset({"contact", "phone", "raw"})
# Mainland mobiles (1[3-9] + 9 digits) and landlines (0917-1234567), also with spaces or dashes.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(?:1[3-9]\d(?:[ -]?\d){8}|0\d{2,3}[ -]?\d{7,8})(?!\d)")


def scrub_text(text: str) -> str:
    """Mask phone numbers a citizen may have typed into a free-text summary."""
    return _PHONE.sub("[phone]", text)


def redact(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy safe to log or audit: personal fields and sealed columns hidden, phones masked."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is not None and (key in PERSONAL_FIELDS or key.endswith("_enc")):
            out[key] = REDACTED
        elif isinstance(value, str):
            out[key] = scrub_text(value)
        else:
            out[key] = value
    return out


class KeyRefused(RuntimeError):
    """The key cannot seal or unseal this database's values; the message names the setting to fix."""


KEY_FINGERPRINT = "key_fingerprint"  # the row of `installation` that names the database's key
_FINGERPRINT_LABEL = b"bridgehead: the key that seals contacts and phones"
_SETTINGS = "BRIDGEHEAD_SECRET_KEY_FILE (or BRIDGEHEAD_SECRET_KEY, BRIDGEHEAD_SECRET_BLOCK)"


@dataclass(frozen=True)
class SealingKey:
    fernet: Fernet
    fingerprint: str  # HMAC-SHA256 of a fixed label under the key: names the key, reveals nothing of it
    origin: str  # where it came from, for messages
    database: str  # the database it is for (see `database_identity`)


def database_identity(url: str | URL) -> str:
    """One name per database: a SQLite file by absolute path, a server database by host, port and name."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        path = u.database or ":memory:"
        return f"sqlite:///{path if path == ':memory:' else os.path.abspath(path)}"
    return f"{backend}://{u.host or 'localhost'}:{_port(u)}/{u.database or ''}"


def _port(u: URL) -> int | str:
    return u.port or (5432 if u.get_backend_name() == "postgresql" else "")


def key_file_for(settings: Settings) -> Path:
    """Where the key file of the configured database is: never relative to the working directory.

    BRIDGEHEAD_SECRET_KEY_FILE if set (an absolute path); else `secret.key` in the folder of a SQLite
    database file; else (PostgreSQL) `keys/<host>-<port>-<database>.key` under an absolute var_dir.
    """
    if settings.secret_key_file is not None:
        if not settings.secret_key_file.is_absolute():
            raise KeyRefused(
                f"BRIDGEHEAD_SECRET_KEY_FILE must be an absolute path, not {settings.secret_key_file}"
            )
        return settings.secret_key_file
    u = make_url(settings.resolved_database_url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        return Path(os.path.abspath(u.database)).parent / "secret.key"
    if not settings.var_dir.is_absolute():
        raise KeyRefused(
            f"no key for {database_identity(u)}: set BRIDGEHEAD_SECRET_KEY_FILE (an absolute path), "
            "BRIDGEHEAD_SECRET_KEY or BRIDGEHEAD_SECRET_BLOCK, or an absolute BRIDGEHEAD_VAR_DIR"
        )
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{u.get_backend_name()}-{u.host}-{_port(u)}-{u.database}")
    return settings.var_dir / "keys" / f"{name}.key"


def _read_or_make_key_file(path: Path) -> str:
    """The key in `path`, made once if missing (mode 0600) and published whole.

    A new key is written to a temporary file in the same folder, flushed to disk, then hard-linked
    to its name, which fails if another process got there first (its key is then the one used): a
    reader sees no file or a complete key, never a half-written one, and no key is ever replaced.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        with suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path.read_text().strip()


def _sealing_key(secret: str, origin: str, database: str) -> SealingKey:
    secret = secret.strip()
    try:
        fernet = Fernet(secret.encode())
    except ValueError:
        raise KeyRefused(
            f"the key from {origin} is not a Fernet key (32 url-safe base64-encoded bytes): fix {_SETTINGS}"
        ) from None
    fingerprint = hmac.new(secret.encode(), _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()
    return SealingKey(fernet, fingerprint, origin, database)


_current: tuple[Settings, SealingKey] | None = None
_checked: dict[tuple[str, str], bool] = {}  # (database, fingerprint): recorded there, or none yet
_pending: dict[str, SealingKey] = {}  # database: the key to record with the next commit to it


def _cipher() -> SealingKey:
    """The key: a Prefect Secret block if one is named, else BRIDGEHEAD_SECRET_KEY, else the key file."""
    global _current
    settings = get_settings()
    current = _current
    if current is not None and current[0] is settings:
        return current[1]
    database = database_identity(settings.resolved_database_url)
    if settings.secret_block:
        secret = _block_secret(settings.secret_block)
        origin = f"the Prefect Secret block {settings.secret_block} (BRIDGEHEAD_SECRET_BLOCK)"
    elif settings.secret_key is not None:
        secret, origin = settings.secret_key.get_secret_value(), "BRIDGEHEAD_SECRET_KEY"
    else:
        path = key_file_for(settings)
        secret, origin = _read_or_make_key_file(path), str(path)
    key = _sealing_key(secret, origin, database)
    _current = (settings, key)
    return key


@lru_cache(maxsize=4)
def _block_secret(name: str) -> str:
    from prefect.blocks.system import Secret  # only when configured: reading commands stay Prefect-free

    secret = cast("Secret[str]", Secret.load(name))  # called in sync code: the block, not a coroutine
    return str(secret.get())


def _mismatch(key: SealingKey, recorded: str) -> KeyRefused:
    return KeyRefused(
        f"the key from {key.origin} (fingerprint {key.fingerprint[:12]}) is not the key of {key.database} "
        f"(fingerprint {recorded[:12]}): set {_SETTINGS} to this database's key"
    )


def _fingerprint_query() -> Select[str]:
    return select(col(InstallationFact.value)).where(col(InstallationFact.name) == KEY_FINGERPRINT)


def _check(key: SealingKey, *, sealing: bool) -> None:
    """Refuse a key that is not the database's; a first seal records it with the next commit."""
    state = _checked.get((key.database, key.fingerprint))
    if state is None:
        with get_engine().connect() as conn:  # a reader of its own: never waits for the caller's writes
            if not inspect(conn).has_table(InstallationFact.__tablename__):
                raise KeyRefused(
                    f"{key.database} does not record its key yet: run `bridgehead init` to upgrade its schema"
                )
            recorded = conn.execute(_fingerprint_query()).scalar_one_or_none()
        if recorded is not None and recorded != key.fingerprint:
            raise _mismatch(key, recorded)
        state = _checked[(key.database, key.fingerprint)] = recorded is not None
    if sealing:
        if state:
            _pending.pop(key.database, None)  # none of another key's (settings changed in this process)
        else:
            _pending[key.database] = key


@event.listens_for(Session, "before_commit")
def _record_fingerprint(session: Session) -> None:
    """Record the key of a database's first sealed values in the transaction that stores them.

    A database that already holds sealed values (from before fingerprints) must open under this key.
    Another process that recorded a different key first makes this commit fail instead.
    """
    if not _pending:
        return
    try:
        url = session.get_bind().engine.url
    except UnboundExecutionError:  # a session with no engine of its own: nothing sealed through it
        return
    key = _pending.get(database_identity(url))
    if key is None:
        return
    conn = session.connection()
    try:
        recorded = conn.execute(_fingerprint_query()).scalar_one_or_none()
        if recorded is None:
            _refuse_values_sealed_by_another_key(conn, key)
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(
                insert(InstallationFact)
                .values(name=KEY_FINGERPRINT, value=key.fingerprint, recorded_at=utcnow())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            recorded = conn.execute(_fingerprint_query()).scalar_one()
        if recorded != key.fingerprint:
            raise _mismatch(key, recorded)
    except KeyRefused:
        _checked.pop((key.database, key.fingerprint), None)  # the next seal asks again, and is refused
        raise
    finally:
        _pending.pop(key.database, None)  # this commit fails or records the key
    _checked[(key.database, key.fingerprint)] = True


def _refuse_values_sealed_by_another_key(conn: Any, key: SealingKey) -> None:
    import models  # noqa: F401  (every table, to find every sealed column)

    for table in SQLModel.metadata.sorted_tables:
        for column in (c for c in table.columns if c.name.endswith("_enc")):
            first = conn.execute(
                select(column).where(column.isnot(None)).order_by(*table.primary_key.columns).limit(1)
            ).scalar_one_or_none()
            if first is None:
                continue
            try:
                key.fernet.decrypt(bytes(first))
            except InvalidToken:
                raise KeyRefused(
                    f"{key.database} holds values sealed under another key than the one from {key.origin}: "
                    f"set {_SETTINGS} to the key they were sealed with"
                ) from None


def seal(value: str | None) -> bytes | None:
    """Encrypt a contact or phone number for storage (None stays None), with the database's key."""
    if value is None:
        return None
    key = _cipher()
    _check(key, sealing=True)
    return key.fernet.encrypt(value.encode())


def unseal(token: bytes | None) -> str | None:
    if token is None:
        return None
    key = _cipher()
    _check(key, sealing=False)
    return key.fernet.decrypt(bytes(token)).decode()
