"""`bridgehead tips status|verify`: one line for the tipster, nothing to tell a guesser; the officer's
verdict recorded once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update
from sqlmodel import Session
from typer.testing import CliRunner

from bridgehead.db import session_scope
from deployments.cli import app
from models.audit import AuditLog
from models.signal import Signal
from models.tip import Tip
from tasks.rewards.tips import NO_SUCH_TIP
from tests.factories import TIP, ingest, write_rows

runner = CliRunner()
PHONE = "13687654329"


@pytest.fixture
def code(engine: Engine, jurisdiction: Path, tmp_path: Path) -> str:
    ingest(write_rows(tmp_path / "tips.csv", {**TIP, "contact": PHONE}), "tip")
    with Session(engine) as s:
        return s.execute(select(Tip.tip_code)).scalar_one()


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["tips", *args])  # as the tipster and the officer type it


def one_char_wrong(code: str) -> str:
    return code[:-1] + ("A" if code[-1] != "A" else "B")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs (by any engine: the command
    makes its own, as `bridgehead` does on every start)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_status_is_one_line_through_the_tips_life(engine: Engine, code: str) -> None:
    result = invoke("status", code)
    assert (result.exit_code, result.output) == (0, f"Tip {code}: received (已受理)\n")
    assert invoke("verify", code, "--by", "O000001", "--outcome", "risk_found").exit_code == 0
    assert invoke("status", code).output == f"Tip {code}: verified (已核实)\n"
    for status, word in (("rewarded", "已奖励"), ("paid", "已兑付")):
        with session_scope() as s:
            s.execute(update(Tip).values(status=status))
        result = invoke("status", code)
        assert (result.exit_code, result.output) == (0, f"Tip {code}: {status} ({word})\n")


def test_wrong_and_unknown_codes_look_the_same_and_cost_the_same(engine: Engine, code: str) -> None:
    invoke("status", "warm-up-the-pool")  # the first connection's set-up is not part of the lookup
    probes = {
        "valid": code,
        "wrong": one_char_wrong(code),
        "unknown": "Zx9_unknown-code",
        "malformed": "not a code!",
        "short": "x",
        "empty": "",
    }
    results, sent = {}, {}
    for name, probe in probes.items():
        with statements(engine) as seen:
            results[name] = invoke("status", probe)
        sent[name] = seen
    assert results["valid"].exit_code == 0
    missing = [name for name in probes if name != "valid"]
    for name in missing:
        assert results[name].exit_code == 1, name
        assert results[name].output.encode() == f"{NO_SUCH_TIP}\n".encode(), name
        assert probes[name] == "" or probes[name] not in results[name].output
    # the same statements each, whatever was typed (and the same as for a real code): the command's
    # check that the database has its tables (deployments/cli_checks.py), then one lookup of the tip
    assert len({tuple(s) for s in sent.values()}) == 1
    assert all(sum("tip" in q.lower() for q in s) == 1 for s in sent.values()), sent


def test_a_code_that_starts_with_a_dash_is_read_as_the_code(engine: Engine, code: str) -> None:
    for dashed in ("-" + code[1:], "--" + code[2:]):  # token_urlsafe starts one code in 64 with "-"
        with session_scope() as s:
            s.execute(update(Tip).values(tip_code=dashed, status="received"))
        assert invoke("status", dashed).output == f"Tip {dashed}: received (已受理)\n"
        wrong = invoke("status", one_char_wrong(dashed))
        assert (wrong.exit_code, wrong.output) == (1, f"{NO_SUCH_TIP}\n")
        verified = invoke("verify", dashed, "--by", "O000001", "--outcome", "risk_found")
        assert verified.exit_code == 0, verified.output
        with session_scope() as s:
            s.execute(update(Tip).values(status="received", verified_by=None, verified_at=None, outcome=None))


def test_verify_prints_one_line_and_refuses_a_second_verdict(engine: Engine, code: str) -> None:
    result = invoke("verify", code, "--by", "O000001", "--outcome", "case_solved", "--at", "2026-03-02T09:00")
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        risk_id = s.execute(select(Signal.risk_id)).scalar_one()
    assert result.output == f"Tip T1: verified (已核实) by O000001 as case_solved, risk {risk_id}.\n"

    again = invoke("verify", code, "--by", "O000002", "--outcome", "unfounded")
    assert again.exit_code == 2
    assert "already verified on 2026-03-02 09:00 by O000001" in again.output
    with Session(engine) as s:
        audit_rows = list(s.execute(select(AuditLog).where(AuditLog.entity == "tip")).scalars())
    assert [(r.actor, r.action) for r in audit_rows] == [("person:O000001", "verify")]
    assert PHONE not in str([r.model_dump() for r in audit_rows])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "O999999", "--outcome", "risk_found"], "'O999999' is not a known officer"),
        (["--by", "O000001", "--outcome", "risk_found", "--at", "yesterday"], "is not an ISO 8601 time"),
    ],
)
def test_verify_errors_are_red_and_exit_2(engine: Engine, code: str, args: list[str], message: str) -> None:
    result = invoke("verify", code, *args)
    assert result.exit_code == 2 and message in result.output
    with Session(engine) as s:
        assert s.execute(select(Tip.status)).scalar_one() == "received"


def test_verify_an_unknown_code_or_outcome(engine: Engine, code: str) -> None:
    result = invoke("verify", one_char_wrong(code), "--by", "O000001", "--outcome", "risk_found")
    assert (result.exit_code, result.output) == (2, f"{NO_SUCH_TIP}\n")
    assert invoke("verify", code, "--by", "O000001", "--outcome", "great").exit_code == 2
