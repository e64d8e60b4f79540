"""Keeping tipsters and callers safe: encryption at rest, and scrubbing what leaves the database.

Contacts and phone numbers are sealed with Fernet (cryptography) before they are stored, and
anything written to the audit trail, a log or an artifact goes through `redact` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bridgehead.settings import get_settings

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


def _cipher() -> Fernet:
    """The key: a Prefect Secret block if one is named, else the environment, else a local key file."""
    settings = get_settings()
    secret = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    if settings.secret_block:
        secret = _block_secret(settings.secret_block)
    return _fernet(secret, settings.var_dir / "secret.key")


@lru_cache(maxsize=4)
def _block_secret(name: str) -> str:
    from prefect.blocks.system import Secret  # only when configured: reading commands stay Prefect-free

    return str(Secret.load(name).get())


@lru_cache(maxsize=4)
def _fernet(secret: str | None, key_file: Path) -> Fernet:
    """The key from settings, else one made once for this installation (mode 0600)."""
    if secret is not None:
        return Fernet(secret.encode())
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
    return Fernet(key_file.read_bytes().strip())


def seal(value: str | None) -> bytes | None:
    """Encrypt a contact or phone number for storage (None stays None)."""
    return None if value is None else _cipher().encrypt(value.encode())


def unseal(token: bytes | None) -> str | None:
    return None if token is None else _cipher().decrypt(token).decode()
