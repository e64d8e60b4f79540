"""Jurisdiction loading (辖区底数): upsert the four reference files and report coverage gaps.

A reload that brings nothing new writes nothing, not even an audit row; a row whose station or
community is unknown is quarantined like any other bad row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, SQLModel, col, func

from bridgehead import audit
from bridgehead.addresses import normalise_address
from models.jurisdiction import (
    CARRIER_ROLES,
    Community,
    CommunityIn,
    CommunityKind,
    Officer,
    OfficerIn,
    OfficerRole,
    PatrolUnit,
    PatrolUnitIn,
    Place,
    PlaceIn,
    Station,
    StationIn,
)
from tasks.intake.checks import check_file
from tasks.intake.files import Checked, Reject
from tasks.intake.quarantine import quarantine


@dataclass(frozen=True)
class ReferenceFile:
    name: str
    table: type[SQLModel]
    contract: type[SQLModel]
    key: str
    parents: tuple[tuple[str, str], ...] = ()  # (field, file whose keys it must name)


REFERENCE_FILES: tuple[ReferenceFile, ...] = (
    ReferenceFile("stations.csv", Station, StationIn, "station_code"),
    ReferenceFile(
        "communities.csv",
        Community,
        CommunityIn,
        "community_code",
        (("station_code", "stations.csv"),),
    ),
    ReferenceFile(
        "officers.csv",
        Officer,
        OfficerIn,
        "officer_code",
        (("station_code", "stations.csv"), ("community_code", "communities.csv")),
    ),
    ReferenceFile("units.csv", PatrolUnit, PatrolUnitIn, "unit_code", (("station_code", "stations.csv"),)),
)


@dataclass
class FileResult:
    name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class Coverage:
    """覆盖: a jurisdiction is covered when no community lacks an office and no village an officer."""

    stations: int
    communities: int
    villages: int
    officers_by_role: dict[str, int]
    units: int
    smart_security_communities: int
    communities_without_office: list[tuple[str, str]]
    villages_without_officer: list[tuple[str, str]]

    @property
    def covered(self) -> bool:
        return not self.communities_without_office and not self.villages_without_officer


def _officer_rules(model: OfficerIn) -> str | None:
    needs_community = model.role in CARRIER_ROLES
    if needs_community and not model.community_code:
        return f"community_code: required for a {model.role.value} officer"
    if not needs_community and model.community_code:
        return f"community_code: must be blank for a {model.role.value} officer"
    return None


def _check_parents(spec: ReferenceFile, checked: Checked[Any], known: dict[str, set[str]]) -> None:
    kept = []
    for line, model in checked.rows:
        problem = None
        for fld, parent in spec.parents:
            value = getattr(model, fld)
            if value is not None and value not in known[parent]:
                problem = f"{fld}: {value!r} is not in {parent} nor already loaded"
                break
        if problem is None and isinstance(model, OfficerIn):
            problem = _officer_rules(model)
        if problem:
            checked.rejects.append(Reject(checked.file, line, problem, model.model_dump(mode="json")))
        else:
            kept.append((line, model))
    checked.rows = kept


def upsert_reference(
    session: Session, table: type[SQLModel], key: str, records: Sequence[dict[str, Any]]
) -> tuple[int, int, list[audit.Change]]:
    """Insert new rows and update changed ones in bulk; return counts and the audit changes."""
    if not records:
        return 0, 0, []
    fields = list(records[0])
    existing = {
        row[key]: dict(row)
        for row in session.execute(select(*(getattr(table, f) for f in fields))).mappings()
    }
    entity = str(table.__tablename__)
    new, changed, changes = [], [], []
    for rec in records:
        old = existing.get(rec[key])
        if old is None:
            new.append(rec)
            changes.append(audit.Change("create", entity, rec[key], None, rec, "jurisdiction load"))
        elif any(old[f] != rec[f] for f in fields):
            changed.append(rec)
            before, after = audit.changed_fields(old, rec, fields)
            changes.append(audit.Change("update", entity, rec[key], before, after, "jurisdiction load"))
    if new:
        session.execute(insert(table), new)
    if changed:
        session.execute(update(table), changed)
    return len(new), len(changed), changes


def load_jurisdiction(session: Session, folder: Path, actor: str | None = None) -> list[FileResult]:
    """Load the four jurisdiction files of a folder in one transaction; quarantine bad rows."""
    results: list[FileResult] = []
    known: dict[str, set[str]] = {}
    all_changes: list[audit.Change] = []
    for spec in REFERENCE_FILES:
        path = folder / spec.name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: a jurisdiction folder needs {spec.name}")
        table_keys: set[str] = set(session.execute(select(getattr(spec.table, spec.key))).scalars())
        checked = check_file(path, spec.contract, key=spec.key)
        _check_parents(spec, checked, known)
        known[spec.name] = table_keys | {getattr(m, spec.key) for _, m in checked.rows}
        records = [m.model_dump() for _, m in checked.rows]
        created, updated, changes = upsert_reference(session, spec.table, spec.key, records)
        all_changes.extend(changes)
        quarantine(session, f"jurisdiction:{spec.name.removesuffix('.csv')}", checked)
        results.append(
            FileResult(
                spec.name,
                checked.total,
                created,
                updated,
                len(records) - created - updated,
                checked.rejects,
            )
        )
    places = folder / "places.csv"
    if places.exists():  # optional: places that draw calls from many unrelated people (hotspots)
        result, changes = _load_places(session, places, known)
        results.append(result)
        all_changes.extend(changes)
    audit.append(session, all_changes, actor=actor)
    return results


PLACES = ReferenceFile("places.csv", Place, PlaceIn, "address", (("community_code", "communities.csv"),))


def _load_places(
    session: Session, path: Path, known: dict[str, set[str]]
) -> tuple[FileResult, list[audit.Change]]:
    """places.csv, keyed like risks by community and normalised address."""
    checked = check_file(path, PlaceIn)
    _check_parents(PLACES, checked, known)
    records = []
    for _, model in checked.rows:
        norm = normalise_address(model.address)
        records.append(
            {**model.model_dump(), "address_norm": norm, "place_key": f"{model.community_code}|{norm}"}
        )
    records = list({r["place_key"]: r for r in records}.values())  # the same place twice: once
    created, updated, changes = upsert_reference(session, Place, "place_key", records)
    quarantine(session, "jurisdiction:places", checked)
    result = FileResult(
        PLACES.name, checked.total, created, updated, len(records) - created - updated, checked.rejects
    )
    return result, changes


def coverage(session: Session) -> Coverage:
    """Who covers what: counts, and every community or village left without cover."""

    def count(stmt: Any) -> int:
        return int(session.execute(stmt).scalar_one())

    covered_villages = (
        select(col(Officer.community_code))
        .where(col(Officer.role).in_(CARRIER_ROLES))
        .where(col(Officer.community_code).is_not(None))
    )
    no_office: Sequence[tuple[str, str]] = session.execute(
        select(col(Community.community_code), col(Community.name))
        .where(col(Community.kind) == CommunityKind.community, col(Community.has_police_office).is_(False))
        .order_by(col(Community.community_code))
    ).all()
    no_officer: Sequence[tuple[str, str]] = session.execute(
        select(col(Community.community_code), col(Community.name))
        .where(col(Community.kind) == CommunityKind.village)
        .where(col(Community.community_code).not_in(covered_villages))
        .order_by(col(Community.community_code))
    ).all()
    roles = dict(session.execute(select(col(Officer.role), func.count()).group_by(col(Officer.role))).all())
    return Coverage(
        stations=count(select(func.count()).select_from(Station)),
        communities=count(select(func.count()).where(col(Community.kind) == CommunityKind.community)),
        villages=count(select(func.count()).where(col(Community.kind) == CommunityKind.village)),
        officers_by_role={str(k): int(v) for k, v in sorted(roles.items())},
        units=count(select(func.count()).select_from(PatrolUnit)),
        smart_security_communities=count(select(func.count()).where(col(Community.smart_security).is_(True))),
        communities_without_office=[(c, n) for c, n in no_office],
        villages_without_officer=[(c, n) for c, n in no_officer],
    )


def station_chiefs(session: Session) -> dict[str, str]:
    """Each station's chief (所长), who supervision notices go to; the first by code if there are two."""
    rows = session.execute(
        select(col(Officer.station_code), func.min(Officer.officer_code))
        .where(col(Officer.role) == OfficerRole.chief.value)
        .group_by(col(Officer.station_code))
    ).tuples()
    return {station: officer for station, officer in rows}
