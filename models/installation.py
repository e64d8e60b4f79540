"""Facts about the installation a database belongs to, one row per name.

`key_fingerprint` is an HMAC of a fixed label under the Fernet key that sealed the database's
contacts and phones (never the key): a process holding another key is refused (bridgehead.privacy).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.common import utcnow


class InstallationFact(SQLModel, table=True):
    __tablename__ = "installation"

    name: str = Field(primary_key=True)
    value: str
    recorded_at: datetime = Field(default_factory=utcnow)
