"""Bulk intake holds one part of a file at a time (validate, load, link, grade): taken in small parts,
a city's calls and tips end in the register exactly as in one pass over them all."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bridgehead.db import session_scope
from bridgehead.rules import get_rules
from bridgehead.synthetic import generate
from tasks.intake import checks, grading_stage, linking_stage
from tasks.intake.grading_stage import grade_pending
from tasks.intake.linking_stage import link_pending
from tasks.intake.load import load_file, validate_file
from tasks.jurisdiction import load_jurisdiction
from tests.factories import empty_tables


def _take_in(city: Path) -> tuple[int, int]:
    with session_scope() as s:
        load_jurisdiction(s, city, actor="person:test")
    for channel, name in (("call", "calls.csv"), ("tip", "tips.csv")):
        with session_scope() as s:
            validated = validate_file(s, channel, city / name)
        with session_scope() as s:
            load_file(s, validated)
    with session_scope() as s:
        linked = link_pending(s, get_rules())
    with session_scope() as s:
        graded = grade_pending(s, get_rules())
    return linked.new_risks, graded.graded


def _register(engine: Engine) -> dict[str, Any]:
    """Each risk named by its first signal: the signals on it, its colour, reasons, place and history."""
    with engine.connect() as conn:
        signals = conn.execute(
            text("SELECT channel || ':' || source_id, risk_id FROM signal ORDER BY channel, source_id")
        ).all()
        risks = {
            rid: (level, str(reasons), place, status)
            for rid, level, reasons, place, status in conn.execute(
                text("SELECT id, level, reasons, place_kind, status FROM risk")
            )
        }
        history: dict[int, list[tuple[Any, ...]]] = {}
        for rid, before, after, cause in conn.execute(
            text("SELECT risk_id, from_level, to_level, cause FROM risk_level_change ORDER BY id")
        ):
            history.setdefault(rid, []).append((before, after, cause))
    members: dict[int | None, list[str]] = {}
    for source, rid in signals:
        members.setdefault(rid, []).append(source)
    return {
        tuple(names): (risks.get(rid), history.get(rid)) if rid is not None else None
        for rid, names in members.items()
    }


def test_a_city_taken_in_small_parts_ends_as_in_one_pass(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = tmp_path / "city"
    generate(city, seed=7, scale=0.01, end=date(2026, 11, 29))  # 5,000 calls, 60 tips
    whole = _take_in(city)
    one_pass = _register(engine)

    empty_tables(engine)
    monkeypatch.setattr(checks, "BATCH_ROWS", 499)
    monkeypatch.setattr(linking_stage, "LINK_PART", 333)
    monkeypatch.setattr(grading_stage, "GRADE_PART", 250)
    parts = _take_in(city)

    assert parts == whole
    new_risks, graded = whole
    assert new_risks > 3 * 333 and graded > 3 * 250  # several parts of each stage
    assert sum(1 for names in one_pass if len(names) > 1) > 100  # risks that signals of many parts share
    assert _register(engine) == one_pass
