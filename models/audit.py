"""The audit trail (审计): append-only rows chained by SHA-256.

`AuditHead` holds the chain's last position and hash; locking it serialises appends, and
comparing it with the last row shows a truncated tail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlmodel import JSON, Field, SQLModel

ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    seq: int = Field(sa_type=ID_TYPE, primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(index=True)
    actor: str
    action: str
    entity: str = Field(index=True)
    entity_id: str = Field(index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    reason: str | None = None
    prev_hash: str
    hash: str = Field(unique=True)


class AuditHead(SQLModel, table=True):
    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = Field(default=0, sa_type=ID_TYPE)
    hash: str
