"""The audit trail (审计留痕): append-only, hash-chained, written in the caller's transaction.

Each row hashes its own content together with the previous row's hash, so editing or removing
any row breaks the chain from that point on, and `verify` names the first row that does not fit.
Appends lock the single `audit_head` row first, which serialises writers on PostgreSQL and
SQLite alike and keeps the chain linear. The head is part of the evidence: a missing head, or one
that disagrees with the last row, is a break. Whoever can rewrite the database can rewrite the head
too, so `anchor` gives a line to keep elsewhere, and `verify` checks the chain against it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from bridgehead.db import table_of
from bridgehead.privacy import REDACTED, redact
from bridgehead.settings import get_settings
from models.audit import AuditHead, AuditLog
from models.common import utcnow

GENESIS_HASH = "0" * 64


class AuditHeadMissing(RuntimeError):
    """The head row is gone: nothing can be chained until the trail is checked and restored."""

    def __init__(self) -> None:
        super().__init__(
            "the audit trail has no head row (audit_head id 1), so no change can be recorded: "
            "run `bridgehead audit verify` and restore the database from a backup"
        )


@dataclass(frozen=True)
class Anchor:
    """A position of the chain kept outside the database: row `seq` had hash `hash`."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(
                f"anchor: {text.strip()[:80]!r} is not SEQ:SHA256 as `bridgehead audit anchor` prints it"
            )
        return cls(int(seq), digest)


@dataclass(frozen=True)
class Change:
    """One change of state, as the code that made it describes it."""

    action: str
    entity: str
    entity_id: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str | None = None


def current_actor(person: str | None = None) -> str:
    """Who is acting: a named person, else the Prefect flow run we are in, else the OS user."""
    if person:
        return f"person:{person}"
    if "prefect" in sys.modules:
        from prefect.runtime import flow_run

        if flow_run.get_id():
            return f"flow-run:{flow_run.get_name()}/{flow_run.get_id()}"
    return f"person:{get_settings().actor or getpass.getuser()}"


_PLAIN = frozenset({str, int, float, bool, type(None)})  # exact types: an Enum of str is not plain


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case first: the trail writes a million of these a day
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def snapshot(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the trail keeps of a record: JSON-safe and redacted."""
    return None if values is None else _jsonable(redact(values))


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a row's content and its predecessor's hash."""
    content = {
        "seq": row["seq"],
        "at": row["at"].isoformat(),
        "actor": row["actor"],
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "before": row["before"],
        "after": row["after"],
        "reason": row["reason"],
        "prev_hash": row["prev_hash"],
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    session: Session,
    changes: Iterable[Change],
    *,
    actor: str | None = None,
    at: datetime | None = None,
) -> int:
    """Chain the changes onto the trail inside the session's transaction; returns how many."""
    changes = list(changes)
    if not changes:
        return 0
    actor = actor or current_actor()
    at = at or utcnow()
    # Taking the head row's write lock first is what keeps concurrent appends in one line.
    the_head = col(AuditHead.id) == 1
    session.execute(update(AuditHead).where(the_head).values(seq=AuditHead.seq))
    head = session.execute(select(col(AuditHead.seq), col(AuditHead.hash)).where(the_head)).one_or_none()
    if head is None:
        raise AuditHeadMissing()
    seq, prev = head.seq, head.hash
    rows: list[dict[str, Any]] = []
    for change in changes:
        seq += 1
        row = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": change.action,
            "entity": change.entity,
            "entity_id": str(change.entity_id),
            "before": snapshot(change.before),
            "after": snapshot(change.after),
            "reason": change.reason,
            "prev_hash": prev,
        }
        row["hash"] = prev = row_hash(row)
        rows.append(row)
    from bridgehead.bulk import insert_rows  # pandas, for long appends: not for a one-line command

    insert_rows(session, table_of(AuditLog), rows)
    session.execute(update(AuditHead).where(the_head).values(seq=seq, hash=prev))
    return len(rows)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def anchor(session: Session) -> Anchor:
    """The head as it stands: a line to keep outside the database (a ticket, a log, a notebook)."""
    head = session.get(AuditHead, 1)
    if head is None:
        raise AuditHeadMissing()
    return Anchor(head.seq, head.hash)


def verify(session: Session, batch: int = 5000, against: Anchor | None = None) -> Verdict:
    """Walk the chain in order and stop at the first row that does not fit; then check the head,
    and the anchor kept outside the database if one is given."""
    expected_seq, prev = 1, GENESIS_HASH
    checked = 0
    anchored = GENESIS_HASH if against is not None and against.seq == 0 else None
    rows = session.scalars(select(AuditLog).order_by(col(AuditLog.seq)).execution_options(yield_per=batch))
    for row in rows:
        data = row.model_dump()
        if row.seq != expected_seq:
            missing = (
                f"row {expected_seq}" if row.seq == expected_seq + 1 else f"rows {expected_seq}-{row.seq - 1}"
            )
            return Verdict(False, checked, row.seq, f"row {row.seq} follows a gap: {missing} removed")
        if row.prev_hash != prev:
            return Verdict(False, checked, row.seq, f"row {row.seq} does not follow row {row.seq - 1}'s hash")
        if row_hash(data) != row.hash:
            return Verdict(
                False,
                checked,
                row.seq,
                f"row {row.seq} was altered: its content no longer matches its hash",
            )
        if against is not None and row.seq == against.seq:
            anchored = row.hash
        prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is None:
        return Verdict(
            False, checked, checked + 1, f"the audit head is missing: the chain ends at row {checked}, "
            "and without the head a removed tail cannot be told from none"
        )  # fmt: skip
    if head.seq != checked or head.hash != prev:
        return Verdict(
            False,
            checked,
            checked + 1,
            f"the chain ends at row {checked} but its head records row {head.seq}: the tail was removed"
            if head.seq > checked
            else f"the head records row {head.seq} with another hash than the chain's last row {checked}",
        )
    if against is not None and against.seq > checked:
        return Verdict(
            False, checked, checked + 1,
            f"the chain ends at row {checked} but the anchor you kept records row {against.seq}: "
            "rows were removed and the head rewritten",
        )  # fmt: skip
    if against is not None and anchored != against.hash:
        return Verdict(
            False, checked, against.seq, f"row {against.seq} is not the row the anchor you kept records"
        )  # fmt: skip
    return Verdict(True, checked)


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, for compact before/after pairs."""
    diff = [f for f in fields if before.get(f) != after.get(f)]
    return {f: before.get(f) for f in diff}, {f: after.get(f) for f in diff}
