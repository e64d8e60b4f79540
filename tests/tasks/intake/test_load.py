"""Intake's validate and load stages: bad rows kept with line and reason, reruns add nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from bridgehead.db import session_scope
from models import AuditLog, QuarantinedRow, Signal, SignalParty, SourceFile, Tip
from tasks.intake import checks
from tasks.intake.load import load_file, validate_file
from tests.factories import TIP, write_csv, write_rows
from tests.tasks.intake.rows import CALL_HEADER, call_row

BAD_KINDS = {
    0: ({"address": ""}, "address: required but blank"),
    1: ({"received_at": "31/02/2026"}, "received_at: Input should be a valid datetime"),
    2: ({"community_code": "99999999999"}, "community_code: '99999999999' is not a known community"),
    3: ({"category": "野猪"}, "category: Input should be"),
    4: ({"priority": 7}, "priority: Input should be less than or equal to 4"),
    5: ({"priority": 0}, "priority: Input should be greater than or equal to 1"),
}


def _ingest(channel: str, path: Path):  # type: ignore[no-untyped-def]
    with session_scope() as s:
        validated = validate_file(s, channel, path)
    with session_scope() as s:
        return load_file(s, validated)


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_ten_thousand_rows_with_a_thousand_bad(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    rows, expected = [], {}
    for i in range(10_000):
        if i % 10 == 9:  # every tenth row is bad, in one of eight ways
            kind = (i // 10) % 8
            line = len(rows) + 2
            if kind in BAD_KINDS:
                overrides, reason = BAD_KINDS[kind]
                rows.append(call_row(i, **overrides))
                expected[line] = reason
            elif kind == 6:  # an id repeated inside the file
                rows.append(call_row(i, call_id="C000000"))
                expected[line] = "call_id 'C000000' repeats line 2 of the same file"
            else:  # bytes that are not UTF-8
                rows.append(None)
                expected[line] = "the line is not valid UTF-8"
        else:
            rows.append(call_row(i))
    path = tmp_path / "calls.csv"
    write_csv(path, CALL_HEADER, [r for r in rows if r is not None])
    # put the undecodable lines back where they belong
    lines = path.read_bytes().split(b"\n")
    good = iter(lines[1:])
    out = [lines[0]]
    for r in rows:
        out.append("幸福路,坏".encode("gb18030") if r is None else next(good))
    path.write_bytes(b"\n".join(out) + b"\n")

    result = _ingest("call", path)
    assert (result.rows, result.loaded, result.quarantined) == (10_000, 9_000, 1_000)
    with Session(engine) as s:
        kept = dict(s.execute(select(QuarantinedRow.line, QuarantinedRow.reason)).all())
    assert set(kept) == set(expected)
    for line, reason in expected.items():
        assert kept[line].startswith(reason), (line, kept[line])
    counts = {m: _count(engine, m) for m in (Signal, QuarantinedRow, AuditLog, SourceFile)}
    again = _ingest("call", path)
    assert again.skipped_file and again.loaded == 0
    assert {m: _count(engine, m) for m in counts} == counts


def test_an_overlapping_file_adds_only_new_rows(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", CALL_HEADER, [call_row(i) for i in range(0, 60)])
    second = write_csv(tmp_path / "b.csv", CALL_HEADER, [call_row(i) for i in range(40, 100)])
    assert _ingest("call", first).loaded == 60
    audit_rows = _count(engine, AuditLog)
    result = _ingest("call", second)
    assert (result.loaded, result.duplicates) == (40, 20)
    assert _count(engine, Signal) == 100
    assert _count(engine, AuditLog) == audit_rows + 1  # the one "ingest" row of the new file


def test_a_file_with_nothing_new_writes_no_audit(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    _ingest("call", write_csv(tmp_path / "a.csv", CALL_HEADER, [call_row(i) for i in range(10)]))
    audit_rows = _count(engine, AuditLog)
    # same rows, different bytes (reordered): every row is already loaded
    result = _ingest(
        "call", write_csv(tmp_path / "b.csv", CALL_HEADER, [call_row(i) for i in reversed(range(10))])
    )
    assert (result.loaded, result.duplicates) == (0, 10)
    assert _count(engine, AuditLog) == audit_rows


def test_analysis_scores_and_visit_references_are_checked(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    analysis = write_rows(
        tmp_path / "analysis.csv",
        *(
            {
                "signal_id": sid,
                "produced_at": "2026-03-01 10:00",
                "source": "model",
                "category": "fraud",
                "summary": "资金异常",
                "score": score,
            }
            for sid, score in (("A1", "0.7"), ("A2", "1.5"))
        ),
    )
    result = _ingest("analysis", analysis)
    assert (result.loaded, result.quarantined) == (1, 1)
    visit = {"visited_at": "2026-03-02 09:00", "category": "家庭邻里", "summary": "走访", "concern": "low"}
    visits = write_rows(
        tmp_path / "visits.csv",
        {**visit, "visit_id": "V1"},
        {**visit, "visit_id": "V2", "officer_code": "O999999"},
        {**visit, "visit_id": "V3", "risk_id": "424242"},
    )
    result = _ingest("visit", visits)
    assert (result.loaded, result.quarantined) == (1, 2)
    with Session(engine) as s:
        reasons = set(s.execute(select(QuarantinedRow.reason)).scalars())
    assert "score: Input should be less than or equal to 1 (got '1.5')" in reasons
    assert "officer_code: 'O999999' is not a known officer" in reasons
    assert "risk_id: there is no risk 424242" in reasons


def test_phones_and_contacts_are_sealed_and_tips_get_codes(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    _ingest("call", write_csv(tmp_path / "calls.csv", CALL_HEADER, [call_row(1)]))
    tips = write_rows(tmp_path / "tips.csv", TIP)
    _ingest("tip", tips)
    with engine.connect() as conn:
        dump = "\n".join(
            str(row)
            for table in ("signal", "tip", "audit_log", "quarantined_row")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
        code = conn.execute(select(Tip.tip_code)).scalar_one()
    assert "13900000001" not in dump and "wxid_secret_li" not in dump
    assert len(code) >= 10


def test_a_file_longer_than_a_part_loads_every_row_its_parties_and_tips(
    engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are checked, spooled and inserted a part at a time (memory holds one part, not the file):
    rows, the parties they name and the tips' codes all arrive whatever the part a row falls in, and
    an id repeated in a later part is still a repeat."""
    monkeypatch.setattr(checks, "BATCH_ROWS", 7)
    rows = [call_row(i) for i in range(30)] + [call_row(3)]  # line 32 repeats line 5, four parts on
    result = _ingest("call", write_csv(tmp_path / "calls.csv", CALL_HEADER, rows))
    assert (result.loaded, result.quarantined) == (30, 1)
    tips = write_rows(tmp_path / "tips.csv", *({**TIP, "tip_id": f"T{i}"} for i in range(10)))
    assert _ingest("tip", tips).loaded == 10
    with Session(engine) as s:
        calls = s.execute(select(Signal.source_id).where(Signal.channel == "call")).scalars().all()
        named = s.execute(
            select(func.count()).select_from(SignalParty).join(Signal).where(Signal.channel == "call")
        ).scalar_one()
        codes = s.execute(select(Tip.tip_code)).scalars().all()
    assert sorted(calls) == [f"C{i:06d}" for i in range(30)]
    assert named == sum(len({f"PK{i % 97:04d}", f"PK{i % 89:04d}"}) for i in range(30))
    assert len(set(codes)) == 10
    with Session(engine) as s:
        kept = s.execute(select(QuarantinedRow.line, QuarantinedRow.reason)).one()
    assert tuple(kept) == (32, "call_id 'C000003' repeats line 5 of the same file")
