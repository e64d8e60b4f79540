"""Quarantine (隔离): rows that could not be loaded, kept with file, line and reason.

A file's rejects are kept once: the same file content's same line is never quarantined twice, so
reloading a bad file changes nothing. The raw row is stored with contacts and phones redacted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from bridgehead import audit
from models.intake import QuarantinedRow
from tasks.intake.files import Checked


def quarantine(session: Session, channel: str, checked: Checked[Any]) -> int:
    """Keep the rejects of a file (once: the same file's same line is never quarantined twice)."""
    if not checked.rejects:
        return 0
    already = set(
        session.scalars(
            select(col(QuarantinedRow.line)).where(col(QuarantinedRow.file_sha256) == checked.sha256)
        )
    )
    rows: list[dict[str, Any]] = [
        {
            "channel": channel,
            "file": r.file,
            "file_sha256": checked.sha256,
            "line": r.line,
            "reason": r.reason,
            "raw": r.safe_raw(),
        }
        for r in checked.rejects
        if r.line not in already
    ]
    if rows:
        session.execute(insert(QuarantinedRow), rows)
        audit.append(
            session,
            [
                audit.Change(
                    "quarantine",
                    "quarantined_row",
                    f"{r['file']}:{r['line']}",
                    None,
                    {"channel": channel, "reason": r["reason"]},
                    r["reason"],
                )
                for r in rows
            ],
        )
    return len(rows)
