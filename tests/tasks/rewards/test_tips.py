"""Citizen tips (线索举报): anonymous codes, sealed contacts, the status by code, the officer's verdict,
and the generator's planted wage tip taken in like any other."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlmodel import Session, SQLModel

from bridgehead import audit
from bridgehead.db import session_scope
from bridgehead.privacy import unseal
from bridgehead.rules import TipOutcome
from bridgehead.synthetic import generate
from models.audit import AuditHead, AuditLog
from models.common import utcnow
from models.risk import Risk
from models.signal import Signal
from models.tip import Tip
from tasks.jurisdiction import load_jurisdiction
from tasks.rewards.tips import NO_SUCH_TIP, tip_status, verify_tip
from tests.factories import TIP, ingest, write_rows

URL_SAFE = re.compile(r"[A-Za-z0-9_-]{10,}")
PHONE = "13687654329"
WECHAT = "wxid_tipster7q2k"


def take_in(folder: Path, *tips: dict[str, object]) -> dict[str, str]:
    """Ingest tip rows; the code each tip id was given."""
    ingest(write_rows(folder / "tips.csv", *tips), "tip")
    with session_scope() as s:
        rows = s.execute(select(Signal.source_id, Tip.tip_code).join(Tip, Tip.signal_id == Signal.id))
        return {tip_id: code for tip_id, code in rows}


def empty_tables(engine: Engine) -> None:
    """What the engine fixture does between tests, so the same file can be taken in afresh."""
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name != "audit_head":
                conn.execute(delete(table))
        conn.execute(update(AuditHead).values(seq=0, hash="0" * 64))


@pytest.fixture
def code(engine: Engine, jurisdiction: Path, tmp_path: Path) -> str:
    """One tip (TIP of the factories, contact PHONE), taken in on 1 March 2026."""
    return take_in(tmp_path, {**TIP, "contact": PHONE})["T1"]


# --- codes -------------------------------------------------------------------------------------------


def test_every_tip_gets_its_own_url_safe_code_not_derived_from_its_id(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    tips = [{**TIP, "tip_id": f"T{i}", "address": f"幸福路{i}号"} for i in range(1, 9)]
    first = take_in(tmp_path / "a", *tips)
    assert set(first) == {f"T{i}" for i in range(1, 9)}
    assert all(URL_SAFE.fullmatch(c) for c in first.values()), first
    assert len(set(first.values())) == len(first)
    # the same tips taken in again from scratch get new codes: nothing about the tip decides its code
    empty_tables(engine)
    with session_scope() as s:
        load_jurisdiction(s, jurisdiction, actor="person:test")
    load_again = take_in(tmp_path / "b", *tips)
    assert set(load_again) == set(first)
    assert not set(load_again.values()) & set(first.values())


# --- the contact at rest -----------------------------------------------------------------------------


def test_the_contact_is_unreadable_without_the_key(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    take_in(tmp_path, {**TIP, "contact": PHONE}, {**TIP, "tip_id": "T2", "contact": WECHAT})
    with engine.connect() as conn:
        sealed = [bytes(v) for v in conn.execute(text("SELECT contact_enc FROM tip ORDER BY id")).scalars()]
        dump = "\n".join(
            str(row)
            for table in ("signal", "tip", "audit_log", "quarantined_row", "source_file")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert len(sealed) == 2
    for contact in (PHONE, WECHAT):
        assert all(contact.encode() not in blob for blob in sealed)
        assert contact not in dump
    assert sorted(unseal(blob) for blob in sealed) == sorted([PHONE, WECHAT])
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database = Path(engine.url.database or "")
        assert TIP["summary"].encode() in database.read_bytes()  # the scan does see the tips' rows
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                raw = path.read_bytes()
                for contact in (PHONE, WECHAT):
                    assert contact.encode() not in raw, path.name


# --- the tipster's status ------------------------------------------------------------------------


def test_status_by_code_through_the_tips_life(engine: Engine, code: str) -> None:
    with Session(engine) as s:
        assert tip_status(s, code) == "received"
    with session_scope() as s:
        verify_tip(s, code, "O000001", TipOutcome.risk_found)
    with Session(engine) as s:
        assert tip_status(s, code) == "verified"
    for status in ("rewarded", "paid"):  # set as the reward stage will
        with session_scope() as s:
            s.execute(update(Tip).where(Tip.tip_code == code).values(status=status))
        with Session(engine) as s:
            assert tip_status(s, code) == status


def test_unknown_wrong_and_malformed_codes_are_all_just_unknown(engine: Engine, code: str) -> None:
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    with Session(engine) as s:
        for probe in ("nosuchcode12", wrong, code.lower() if code.lower() != code else code.upper(), "",
                      "' OR 1=1 --", "x" * 5000, code + "\x00", "码" * 12):  # fmt: skip
            assert tip_status(s, probe) is None, probe
        assert tip_status(s, code) == "received"


# --- the officer's verdict ----------------------------------------------------------------------


def test_verify_records_the_verdict_and_audits_it_under_the_officer(engine: Engine, code: str) -> None:
    at = utcnow().replace(microsecond=0)
    with session_scope() as s:
        result = verify_tip(s, code, "O000001", TipOutcome.risk_found, at=at)
    assert result["status"] == "verified" and result["tip_id"] == "T1"
    with Session(engine) as s:
        tip = s.execute(select(Tip).where(Tip.tip_code == code)).scalar_one()
        assert (tip.status, tip.verified_by, tip.verified_at, tip.outcome) == (
            "verified",
            "O000001",
            at,
            "risk_found",
        )
        signal = s.get(Signal, tip.signal_id)
        assert signal is not None and result["risk_id"] == signal.risk_id is not None
        rows = list(s.execute(select(AuditLog).where(AuditLog.entity == "tip")).scalars())
        everything = "\n".join(str(r.model_dump()) for r in s.execute(select(AuditLog)).scalars())
        assert audit.verify(s).ok
    assert len(rows) == 1
    row = rows[0]
    assert (row.actor, row.action, row.entity_id) == ("person:O000001", "verify", "T1")
    assert row.before == {"status": "received"}
    assert row.after is not None
    assert (row.after["outcome"], row.after["verified_by"]) == ("risk_found", "O000001")
    # no contact, and not the code either (the code is the tipster's claim to the reward)
    for secret in (PHONE, code, "contact"):
        assert secret not in everything


def test_a_tip_is_verified_once(engine: Engine, code: str) -> None:
    with session_scope() as s:
        verify_tip(s, code, "O000001", TipOutcome.case_solved)
    when_and_who = r"already verified on \d{4}-\d\d-\d\d \d\d:\d\d by O000001"
    with pytest.raises(ValueError, match=when_and_who) as err, session_scope() as s:
        verify_tip(s, code, "O000002", TipOutcome.unfounded)
    assert "case_solved" in str(err.value)
    with Session(engine) as s:
        assert s.execute(select(Tip.verified_by, Tip.outcome)).one() == ("O000001", "case_solved")
        assert len(s.execute(select(AuditLog).where(AuditLog.entity == "tip")).all()) == 1


def test_verify_refuses_an_unknown_officer_an_unknown_code_and_a_time_before_the_tip(
    engine: Engine, code: str
) -> None:
    with pytest.raises(ValueError, match="'O999999' is not a known officer"), session_scope() as s:
        verify_tip(s, code, "O999999", TipOutcome.risk_found)
    with pytest.raises(LookupError) as err, session_scope() as s:
        verify_tip(s, code[:-1] + ("A" if code[-1] != "A" else "B"), "O000001", TipOutcome.risk_found)
    assert str(err.value) == NO_SUCH_TIP
    with pytest.raises(ValueError, match="received at 2026-03-01 10:00"), session_scope() as s:
        verify_tip(s, code, "O000001", TipOutcome.risk_found, at=utcnow().replace(year=2025))
    with Session(engine) as s:
        assert tip_status(s, code) == "received"
        assert s.execute(select(AuditLog).where(AuditLog.entity == "tip")).first() is None


# --- the planted wage tip ------------------------------------------------------------------------


def test_the_planted_wage_tip_is_generated_and_taken_in_with_a_code(engine: Engine, tmp_path: Path) -> None:
    end = date(2026, 11, 29)
    out = tmp_path / "city"
    manifest = generate(out, seed=7, scale=0.002, end=end)
    story = manifest["stories"]["tip"]
    assert story["tip_id"] == "T202611199001" and story["outcome"] == "risk_found"
    assert story["received_at"].startswith((end - timedelta(days=10)).isoformat())
    with (out / "tips.csv").open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["tip_id"] == story["tip_id"])
    assert (row["received_at"], row["community_code"], row["address"]) == (
        story["received_at"],
        story["community_code"],
        story["address"],
    )
    assert row["category"] == "labor_debt" and "二十名工人" in row["summary"]
    assert row["wants_reward"] == "true" and re.fullmatch(r"1[358]\d{9}", row["contact"])
    assert row["contact"] not in (out / "manifest.json").read_text(encoding="utf-8")
    with (out / "officers.csv").open(encoding="utf-8") as fh:
        officer = next(r for r in csv.DictReader(fh) if r["officer_code"] == story["officer_code"])
    assert (officer["role"], officer["community_code"]) == ("community", story["community_code"])
    # the same seed gives the same story, byte for byte
    generate(tmp_path / "again", seed=7, scale=0.002, end=end)
    for name in ("tips.csv", "manifest.json"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name

    with session_scope() as s:
        load_jurisdiction(s, out, actor="person:test")
    ingest(out / "tips.csv", "tip")
    with session_scope() as s:
        planted = select(Tip, Signal).join(Signal, Signal.id == Tip.signal_id)
        tip, signal = s.execute(planted.where(Signal.source_id == story["tip_id"])).one()
        assert URL_SAFE.fullmatch(tip.tip_code) and tip.wants_reward
        assert unseal(tip.contact_enc) == row["contact"]
        risk = s.get(Risk, signal.risk_id)
        assert risk is not None and risk.level == "orange"  # twenty workers owed their wages
        verify_tip(s, tip.tip_code, story["officer_code"], TipOutcome(story["outcome"]))
    with session_scope() as s:
        assert tip_status(s, tip.tip_code) == "verified"
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stories"]["tip"] == story
