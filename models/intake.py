"""Intake bookkeeping: which files arrived, and the rows that could not be loaded (隔离)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.common import utcnow


class SourceFile(SQLModel, table=True):
    """A file taken in; its content hash makes a second delivery of the same bytes a no-op."""

    __tablename__ = "source_file"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True, unique=True)
    path: str
    channel: str
    rows_total: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    received_at: datetime = Field(default_factory=utcnow)


class QuarantinedRow(SQLModel, table=True):
    """A row that failed validation: kept with file, line and a reason a person understands.

    The raw row is stored with contacts and phone numbers redacted.
    """

    __tablename__ = "quarantined_row"
    __table_args__ = (UniqueConstraint("file_sha256", "line"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(index=True)
    file: str
    file_sha256: str
    line: int
    reason: str
    raw: str | None = None
    quarantined_at: datetime = Field(default_factory=utcnow)
    released_at: datetime | None = None
