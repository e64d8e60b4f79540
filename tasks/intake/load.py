"""Intake's first two stages (线索汇聚): validate whole files, then load them once.

Validation applies the channel's contract and the references a row must name (a known
community; for visits a known officer and, if given, a known risk). Loading is keyed twice: a file
whose bytes were loaded before is skipped whole, and rows whose natural key is already in the
database are skipped one by one, so reruns and overlapping files add nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from bridgehead import audit
from bridgehead.addresses import normalise_addresses
from bridgehead.bulk import insert_frame, insert_in_order
from bridgehead.db import chunks, table_of
from bridgehead.privacy import seal
from models.case import CaseParty, CriminalCase
from models.contracts import INPUT_CONTRACTS, InputContract
from models.intake import SourceFile
from models.jurisdiction import Community, Officer
from models.risk import Risk
from models.signal import Signal, SignalParty
from models.tip import Tip
from tasks.intake.checks import check_parts
from tasks.intake.files import Reject, file_sha256
from tasks.intake.quarantine import quarantine
from tasks.intake.spool import Spool

TIP_CODE_BYTES = 9  # 12 URL-safe characters, 72 random bits


@dataclass
class ValidatedFile:
    """A file's good rows, spooled part by part (`tasks.intake.spool`); its rejects are in quarantine."""

    channel: str
    path: str
    sha256: str = ""
    spool: Spool = field(default_factory=Spool)
    quarantined: int = 0

    @property
    def kept(self) -> int:
        return self.spool.rows

    @property
    def total(self) -> int:
        return self.kept + self.quarantined


@dataclass
class LoadResult:
    channel: str
    path: str
    rows: int
    loaded: int
    duplicates: int
    quarantined: int
    skipped_file: bool = False
    source_file_id: int | None = None


def _known(session: Session, column: Any) -> set[Any]:
    return set(session.execute(select(column)).scalars())


def validate_file(session: Session, channel: str, path: Path) -> ValidatedFile:
    """Check every row of a file against its contract and the jurisdiction, a part at a time: the good
    rows are spooled (phones and contacts sealed), the rest quarantined."""
    spec = INPUT_CONTRACTS[channel]
    communities = _known(session, Community.community_code)
    officers = _known(session, Officer.officer_code) if channel == "visit" else set()
    out = ValidatedFile(channel, str(path))
    for checked in check_parts(path, spec.contract, key=spec.key):
        out.sha256 = checked.sha256
        named = {r["risk_id"] for _, r in checked.rows if r.get("risk_id") is not None}
        risks = _known_ids(session, named)
        kept = []
        for line, record in checked.rows:
            problem = None
            if record["community_code"] not in communities:
                problem = f"community_code: {record['community_code']!r} is not a known community or village"
            elif channel == "visit" and record["officer_code"] not in officers:
                problem = f"officer_code: {record['officer_code']!r} is not a known officer"
            elif channel == "visit" and record["risk_id"] is not None and record["risk_id"] not in risks:
                problem = f"risk_id: there is no risk {record['risk_id']}"
            if problem:
                raw = spec.contract.model_construct(**record).model_dump(mode="json")
                checked.rejects.append(Reject(checked.file, line, problem, raw))
            else:
                kept.append(_sealed(record))
        checked.rejects.sort(key=lambda r: r.line)
        quarantine(session, channel, checked)
        out.quarantined += len(checked.rejects)
        out.spool.write(kept)
    out.sha256 = out.sha256 or file_sha256(path)  # a file with no rows
    return out


def _sealed(record: dict[str, Any]) -> dict[str, Any]:
    """Phones and contacts as the database keeps them, before they touch the spool."""
    for name in SEALED:
        if name in record:
            record[f"{name}_enc"] = seal(record.pop(name))
    return record


SEALED = ("phone", "contact")


def _known_ids(session: Session, ids: set[int]) -> set[int]:
    found: set[int] = set()
    for part in chunks(sorted(ids)):
        found |= set(session.execute(select(col(Risk.id)).where(col(Risk.id).in_(part))).scalars())
    return found


def load_file(session: Session, file: ValidatedFile) -> LoadResult:
    """Load a validated file in the caller's transaction, a spooled part at a time; audit it once."""
    spec = INPUT_CONTRACTS[file.channel]
    result = LoadResult(file.channel, file.path, file.total, 0, 0, file.quarantined)
    if session.execute(select(col(SourceFile.id)).where(col(SourceFile.sha256) == file.sha256)).first():
        result.skipped_file = True
        result.duplicates = file.kept
        return result
    source_id: int = session.execute(
        insert(SourceFile).returning(col(SourceFile.id)),
        [
            {
                "sha256": file.sha256,
                "path": file.path,
                "channel": file.channel,
                "rows_total": file.total,
                "rows_loaded": 0,
                "rows_quarantined": file.quarantined,
            }
        ],
    ).scalar_one()
    result.source_file_id = source_id
    first_key = last_key = None
    for frame in file.spool.parts():
        ids = (_insert_cases if file.channel == "case" else _insert_signals)(session, spec, frame, source_id)
        if not ids:
            continue  # every row already loaded (an overlapping file)
        result.loaded += len(ids)
        first_key = first_key or next(iter(ids))
        last_key = next(reversed(ids))
    result.duplicates = file.kept - result.loaded
    if result.loaded:
        session.execute(
            update(SourceFile).where(col(SourceFile.id) == source_id).values(rows_loaded=result.loaded)
        )
    if result.loaded or file.quarantined:
        audit.append(
            session,
            [
                audit.Change(
                    "ingest",
                    "source_file",
                    str(source_id),
                    None,
                    {
                        "channel": file.channel,
                        "file": file.path,
                        "sha256": file.sha256,
                        "loaded": result.loaded,
                        "duplicates": result.duplicates,
                        "quarantined": file.quarantined,
                        "first_key": first_key,
                        "last_key": last_key,
                    },
                    f"{file.channel} file taken in",
                )
            ],
        )
    return result


def _frame(frame: pd.DataFrame, spec: InputContract) -> pd.DataFrame:
    frame = frame.assign(address_norm=normalise_addresses(frame["address"]))
    if "party_keys" in frame:
        frame["party_keys"] = frame["party_keys"].map(lambda keys: ";".join(keys) if keys else None)
    else:
        frame["party_keys"] = None
    return frame.rename(columns={spec.key: "source_id", spec.time_field: "occurred_at"})


def _insert_new(
    session: Session, table: Any, key: str, rows: pd.DataFrame, source_file_id: int
) -> dict[str, int]:
    """Insert a part, skipping rows already loaded (by this file's overlap or another loader first);
    return natural key -> id of the rows it wrote, in the order written.

    PostgreSQL says which rows it wrote (`RETURNING` of one INSERT ... SELECT). SQLite holds the write
    lock from the load's first write, so the rows above the highest id before the insert are this
    part's: all of them in order when none was skipped, else read by rowid range, never by a key lookup
    the planner might scan for.
    """
    t = table.__table__
    unique = ["channel", "source_id"] if key == "source_id" else [key]
    if session.get_bind().dialect.name == "postgresql":
        written = insert_frame(session, t, rows, unique, returning=["id", key])
        return {natural: rid for rid, natural in sorted(written)}
    before, ids = insert_in_order(session, t, rows, unique)
    if ids is not None:  # every row written, in order
        return dict(zip(rows[key], ids, strict=True))
    back = session.connection().execute(
        select(t.c.id, t.c[key], t.c.source_file_id).where(t.c.id > before).order_by(t.c.id)
    )
    return {natural: rid for rid, natural, source in back.tuples() if source == source_file_id}


def _parties(session: Session, table: Any, ids: dict[str, int], named: pd.DataFrame, id_field: str) -> None:
    """The rows naming each party, from the (natural key, "key;key") rows that name any."""
    pairs = [
        (ids[natural], party)
        for natural, keys in named.itertuples(index=False, name=None)
        if isinstance(keys, str) and keys and natural in ids
        for party in keys.split(";")
    ]
    insert_frame(session, table.__table__, pd.DataFrame(pairs, columns=[id_field, "party_key"]), [])


SIGNAL_FIELDS = (
    "source_id", "occurred_at", "community_code", "address", "address_norm", "category", "summary",
    "party_keys", "priority", "dispatched_at", "arrived_at", "closed_at", "disposition", "officer_code",
    "concern", "outcome", "source", "score", "phone_enc", "named_risk_id",
)  # fmt: skip


def new_tip_code() -> str:
    """An unguessable code the tipster keeps; never starting with '-', which a shell reads as an option."""
    while (code := secrets.token_urlsafe(TIP_CODE_BYTES)).startswith("-"):
        pass
    return code


def _insert_signals(
    session: Session, spec: InputContract, part: pd.DataFrame, source_file_id: int
) -> dict[str, int]:
    frame = _frame(part, spec).rename(columns={"risk_id": "named_risk_id"})
    rows = frame.reindex(columns=list(SIGNAL_FIELDS))
    rows["category"] = rows["category"].map(str)
    rows["channel"] = spec.channel
    rows["source_file_id"] = source_file_id
    ids = _insert_new(session, Signal, "source_id", rows, source_file_id)
    _parties(session, SignalParty, ids, rows[["source_id", "party_keys"]], "signal_id")
    if spec.channel == "tip":
        tips = frame[frame["source_id"].isin(ids.keys())]
        insert_frame(
            session,
            table_of(Tip),
            pd.DataFrame(
                {
                    "signal_id": tips["source_id"].map(ids),
                    "tip_code": [new_tip_code() for _ in range(len(tips))],
                    "contact_enc": tips["contact_enc"],
                    "wants_reward": tips["wants_reward"].fillna(False).astype(bool),
                }
            ),
            [],
        )
    return ids


def _insert_cases(
    session: Session, spec: InputContract, part: pd.DataFrame, source_file_id: int
) -> dict[str, int]:
    frame = _frame(part, spec).rename(columns={"source_id": "case_id", "occurred_at": "filed_at"})
    rows = frame.reindex(
        columns=[
            "case_id",
            "filed_at",
            "solved_at",
            "community_code",
            "address",
            "address_norm",
            "offence",
            "party_keys",
        ]
    )
    rows["offence"] = rows["offence"].map(str)
    rows["source_file_id"] = source_file_id
    ids = _insert_new(session, CriminalCase, "case_id", rows, source_file_id)
    _parties(session, CaseParty, ids, rows[["case_id", "party_keys"]], "case_id")
    return ids
