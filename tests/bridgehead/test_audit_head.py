"""The audit head is evidence too (issue 18, item 5): cut tail plus deleted head is a break, not "intact"."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from bridgehead import audit
from deployments.cli import app


def _append(engine: Engine, n: int) -> None:
    with Session(engine) as s:
        audit.append(
            s, [audit.Change("update", "risk", str(i), None, {"level": "red"}, "rule") for i in range(n)]
        )
        s.commit()


def _cut_tail_and_head(engine: Engine, keep: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > :k"), {"k": keep})
        conn.execute(text("DELETE FROM audit_head"))


def test_a_cut_tail_with_its_head_deleted_is_a_break(engine: Engine) -> None:
    _append(engine, 5)
    _cut_tail_and_head(engine, 3)
    with Session(engine) as s:
        verdict = audit.verify(s)
    assert not verdict.ok
    assert "audit head is missing" in (verdict.problem or "")
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit head is missing" in result.output


def test_an_audited_write_without_a_head_says_so_in_one_line(engine: Engine) -> None:
    _cut_tail_and_head(engine, 0)
    with pytest.raises(audit.AuditHeadMissing) as caught, Session(engine) as s:
        audit.append(s, [audit.Change("update", "risk", "1", None, {"level": "red"}, "rule")])
    message = str(caught.value)
    assert "\n" not in message and "audit_head" in message and "bridgehead audit verify" in message


def test_a_head_rewritten_to_match_a_cut_tail_is_caught_by_the_anchor_kept(engine: Engine, tmp_path) -> None:
    _append(engine, 5)
    runner = CliRunner()
    kept = tmp_path / "anchor.txt"
    printed = runner.invoke(app, ["audit", "anchor", "--out", str(kept)])
    assert printed.exit_code == 0, printed.output
    assert printed.output.strip() == kept.read_text().strip()
    assert printed.output.startswith("5:")
    with Session(engine) as s:
        assert audit.verify(s, against=audit.Anchor.parse(kept.read_text())).ok
        three = audit.anchor(s)
    _append(engine, 1)  # the chain goes on: an older anchor still holds
    assert runner.invoke(app, ["audit", "verify", "--anchor", str(kept)]).exit_code == 0

    with engine.begin() as conn:  # an insider cuts rows 4-6 and rewrites the head to row 3
        conn.execute(text("DELETE FROM audit_log WHERE seq > 3"))
    with engine.begin() as conn, Session(bind=conn) as s:
        row3 = s.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = 3, hash = :h"), {"h": row3})
    assert three.seq == 5
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # the database alone cannot tell
    caught = runner.invoke(app, ["audit", "verify", "--anchor", str(kept)])
    assert caught.exit_code == 1
    assert "anchor you kept records row 5" in caught.output


def test_a_malformed_anchor_is_one_line_naming_the_option(engine: Engine) -> None:
    result = CliRunner().invoke(app, ["audit", "verify", "--anchor", "12:not-a-hash"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("--anchor:")
    assert len(result.output.strip().splitlines()) == 1
