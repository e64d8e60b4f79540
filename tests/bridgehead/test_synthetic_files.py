"""Generated files take the same path as real ones: the brief's contracts, zero rejects, full cover."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from typer.testing import CliRunner

from bridgehead.synthetic import generate
from deployments.cli import app
from models import AuditLog
from models.contracts import INPUT_CONTRACTS
from tasks.intake.checks import check_file
from tasks.jurisdiction import coverage, load_jurisdiction

END = date(2026, 11, 29)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate(out, seed=7, scale=0.05, end=END)
    return out


def _codes(path: Path, column: str) -> set[str]:
    with path.open(encoding="utf-8") as fh:
        return {row[column] for row in csv.DictReader(fh)}


@pytest.mark.parametrize("channel", sorted(INPUT_CONTRACTS))
def test_every_channel_file_passes_its_contract(city: Path, channel: str) -> None:
    spec = INPUT_CONTRACTS[channel]
    checked = check_file(city / spec.default_file, spec.contract, key=spec.key)
    assert checked.rejects == []
    assert checked.rows, f"{spec.default_file} is empty"
    communities = _codes(city / "communities.csv", "community_code")
    assert {m.community_code for _, m in checked.rows} <= communities
    if channel == "visit":
        assert {m.officer_code for _, m in checked.rows} <= _codes(city / "officers.csv", "officer_code")


def test_the_generated_city_loads_whole_and_covered(engine: Engine, city: Path) -> None:
    with Session(engine) as s:
        results = load_jurisdiction(s, city, actor="person:tester")
        s.commit()
        cov = coverage(s)
        audited = s.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    assert [len(r.rejects) for r in results] == [0] * 5  # stations, communities, officers, units, places
    assert (cov.communities, cov.villages, cov.covered) == (182, 1158, True)
    assert audited == sum(r.created for r in results)
    with Session(engine) as s:  # a second load changes nothing and audits nothing
        again = load_jurisdiction(s, city, actor="person:tester")
        s.commit()
        assert s.execute(select(func.count()).select_from(AuditLog)).scalar_one() == audited
    assert sum(r.created + r.updated for r in again) == 0


def test_generate_command_is_reproducible(tmp_path: Path) -> None:
    args = ["generate", "--seed", "11", "--scale", "0.02", "--end", END.isoformat(), "--out"]
    for name in ("a", "b"):
        result = CliRunner().invoke(app, [*args, str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "calls.csv" in files and "manifest.json" in files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
