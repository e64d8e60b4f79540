"""The audit trail: chained, redacted, serialised, and loud when tampered with."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session

from bridgehead import audit
from models import AuditLog


def _append(engine: Engine, n: int, actor: str = "person:tester") -> None:
    with Session(engine) as s:
        audit.append(
            s,
            [
                audit.Change("update", "risk", str(i), {"level": "yellow"}, {"level": "orange"}, "rule")
                for i in range(n)
            ],
            actor=actor,
        )
        s.commit()


def test_rows_chain_each_to_the_previous(engine: Engine) -> None:
    _append(engine, 3)
    _append(engine, 2)
    with Session(engine) as s:
        rows = s.execute(select(AuditLog).order_by(AuditLog.seq)).scalars().all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == audit.GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in pairwise(rows))
        assert audit.verify(s) == audit.Verdict(True, 5)


def test_an_edited_row_is_named(engine: Engine) -> None:
    _append(engine, 5)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3"))
    with Session(engine) as s:
        verdict = audit.verify(s)
    assert (verdict.ok, verdict.first_bad_seq, verdict.rows_checked) == (False, 3, 2)
    assert "altered" in verdict.problem


def test_a_deleted_row_is_named_by_the_row_after_it(engine: Engine) -> None:
    _append(engine, 5)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with Session(engine) as s:
        verdict = audit.verify(s)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 3)
    assert "row 2 removed" in verdict.problem


def test_a_removed_tail_is_caught_by_the_head(engine: Engine) -> None:
    _append(engine, 4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    with Session(engine) as s:
        verdict = audit.verify(s)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 4)
    assert "tail" in verdict.problem


def test_an_audit_row_commits_or_rolls_back_with_the_change(engine: Engine) -> None:
    with pytest.raises(RuntimeError), Session(engine) as s:
        audit.append(s, [audit.Change("create", "risk", "1")])
        raise RuntimeError("the change failed")
    with Session(engine) as s:
        assert s.execute(select(AuditLog)).first() is None
        assert audit.verify(s).ok


def test_personal_data_never_reaches_the_trail(engine: Engine) -> None:
    with Session(engine) as s:
        audit.append(
            s,
            [
                audit.Change(
                    "create",
                    "tip",
                    "7",
                    None,
                    {
                        "contact": "wx_zhang88",
                        "phone": "13912345678",
                        "contact_enc": b"x",
                        "summary": "请回电 139 1234 5678 或 0917-3212345",
                    },
                )
            ],
            actor="person:tester",
        )
        s.commit()
        row = s.execute(select(AuditLog)).scalar_one()
    assert row.after["contact"] == row.after["phone"] == row.after["contact_enc"] == "[redacted]"
    assert row.after["summary"] == "请回电 [phone] 或 [phone]"


def test_concurrent_appends_keep_one_line(engine: Engine) -> None:
    threads = [threading.Thread(target=_append, args=(engine, 20, f"person:w{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as s:
        assert audit.verify(s) == audit.Verdict(True, 80)


def test_the_actor_is_a_named_person_or_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    assert audit.current_actor("王警官") == "person:王警官"
    monkeypatch.setattr("getpass.getuser", lambda: "duty")
    assert audit.current_actor() == "person:duty"
