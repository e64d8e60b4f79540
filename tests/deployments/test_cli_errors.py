"""Every `bridgehead` command given a bad argument, or a database it cannot use, answers in one line.

One line naming the argument (or the database) and what to do, a non-zero exit, never a traceback;
a FIFO given as a file is refused, not read (which would hang); a mistyped SQLite path is not created.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from deployments.cli import app
from tests.factories import write_jurisdiction

runner = CliRunner()

BIG = "99999999999999999999"
CALL = ["ingest", "--channel", "call"]
PROFILE = ["jurisdiction", "from-profile"]

# {dir} a folder, {fifo} a named pipe, {missing} nothing, {file} an empty regular file, {out} a fresh path
BAD_FILES = ["{dir}", "", "{missing}", "{fifo}"]
ARGUMENT_CASES: list[list[str]] = [
    *([*CALL, f] for f in BAD_FILES),
    *(["incidents", "update", f] for f in BAD_FILES),
    *([*PROFILE, f, "--profile", "sacramento", "--out", "{out}"] for f in BAD_FILES),
    *([*PROFILE, "{file}", "--profile", f, "--out", "{out}"] for f in BAD_FILES),
    *([*CALL, "{file}", "--profile", f] for f in BAD_FILES),
    *(["jurisdiction", "load", f] for f in ["{file}", "", "{missing}", "{fifo}"]),
    ["jurisdiction", "load", "{fifo_inside}"],
    ["generate", "--out", "{file}"],
    ["generate", "--out", ""],
    ["demo", "--dir", "{file}"],
    ["demo", "--dir", ""],
    [*PROFILE, "{file}", "--profile", "sacramento", "--out", "{file}"],
    # numbers
    *(["generate", "--out", "{out}", "--scale", s] for s in ["nan", "inf", "-inf", "-1", "0", "1e6", "x"]),
    *(["demo", "--dir", "{out}", "--scale", s] for s in ["nan", "inf", "-1", "1e6"]),
    ["generate", "--out", "{out}", "--seed", "-1"],
    ["generate", "--out", "{out}", "--seed", BIG],
    ["demo", "--dir", "{out}", "--replay-days", "0"],
    ["demo", "--dir", "{out}", "--replay-days", "366"],
    ["serve", "--port", "0"],
    ["serve", "--port", "70000"],
    ["risks", "show", BIG],
    ["risks", "show", "0"],
    ["risks", "show", "-1"],
    ["risks", "show", "1e3"],
    ["risks", "raise", BIG, "--to", "red", "--by", "王", "--reason", "打架"],
    ["risks", "list", "--limit", BIG],
    ["quarantine", "list", "--limit", BIG],
    ["incidents", "list", "--limit", BIG],
    ["rewards", "approve", "--period", "2026-01", "--by", "王", "--approve", "1,x"],
    ["rewards", "approve", "--period", "2026-01", "--by", "王", "--reject", BIG],
    # days and times
    *(["generate", "--out", "{out}", "--end", d] for d in ["2026-02-30", "0001-01-01", "9999-12-31", "x"]),
    ["sweep", "--date", "2026-02-30"],
    ["sweep", "--date", "0001-01-01"],
    ["sweep", "--date", "9999-12-31"],
    ["sweep", "--from", "0001-01-01", "--to", "2026-01-01"],
    ["sweep", "--from", "2026-01-01", "--to", "2026-02-30"],
    ["sweep", "--from", "2026-01-01"],
    ["sweep", "--from", "2026-01-02", "--to", "2026-01-01"],
    ["followups", "due", "--officer", "O000001", "--date", "2026-02-30"],
    ["followups", "due", "--officer", "O000001", "--date", "0001-01-01"],
    ["incidents", "respond", "INC-1", "--as-of", "2026-02-30T10:00"],
    ["incidents", "watch", "--as-of", "0001-01-01T00:00"],
    ["incidents", "watch", "--as-of", "9999-12-31T23:59:59"],
    ["incidents", "close", "INC-1", "--outcome", "mediated", "--by", "王", "--at", "9999-12-31T23:59"],
    [
        "tips",
        "verify",
        "ABCDEFGHIJKL",
        "--by",
        "O000001",
        "--outcome",
        "unfounded",
        "--at",
        "2026-02-30T10:00",
    ],
    ["review", "--period", "0001-W01"],
    ["review", "--period", "ytd:0001-01-01"],
    ["review", "--period", "9999-12"],
    ["review", "--period", "28d:2026-02-30"],
    ["rewards", "show", "--period", "0001-01"],
    ["rewards", "pay", "--period", "9999-12", "--by", "王"],
    # values of other kinds
    [*CALL[:-1], "bogus", "{file}"],
    ["risks", "list", "--level", "purple"],
    ["review", "--lang", "fr"],
    ["incidents", "close", "INC-1", "--outcome", "bogus", "--by", "王"],
]

# Commands that read or write the register, for the database cases.
DATABASE_COMMANDS: list[list[str]] = [
    ["risks", "list"],
    ["risks", "show", "1"],
    ["risks", "raise", "1", "--to", "red", "--by", "王", "--reason", "打架"],
    ["quarantine", "list"],
    ["incidents", "list"],
    ["incidents", "show", "INC-1"],
    ["incidents", "watch"],
    ["followups", "due", "--officer", "O000001"],
    ["audit", "verify"],
    ["tips", "status", "ABCDEFGHIJKL"],
    ["rewards", "show", "--period", "2026-01"],
    ["jurisdiction", "load", "{jurisdiction}"],
    [*CALL, "{file}"],
    ["sweep", "--date", "2025-01-01"],
    ["review", "--period", "2025-W10"],
]
UNREACHABLE = "postgresql://postgres:s3cret@127.0.0.1:1/x"


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    regular = tmp_path / "a-file.csv"
    regular.write_text("", encoding="utf-8")
    jurisdiction = write_jurisdiction(tmp_path / "j")
    inside = write_jurisdiction(tmp_path / "j-fifo")
    (inside / "units.csv").unlink()
    os.mkfifo(inside / "units.csv")
    return {
        "dir": str(folder),
        "fifo": str(fifo),
        "missing": str(tmp_path / "not-there.csv"),
        "file": str(regular),
        "out": str(tmp_path / "out"),
        "jurisdiction": str(jurisdiction),
        "fifo_inside": str(inside),
    }


def fill(args: list[str], places: dict[str, str]) -> list[str]:
    return [a.format(**places) if "{" in a else a for a in args]


def assert_one_line(args: list[str], output: str, exit_code: int) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert exit_code != 0, (args, output)
    assert "Traceback" not in output and "╭" not in output, (args, output)
    assert len(lines) == 1, (args, output)
    return lines[0]


def _case_id(args: list[str]) -> str:
    return " ".join(a or "''" for a in args)[:80]


@pytest.mark.parametrize("args", ARGUMENT_CASES, ids=_case_id)
def test_a_bad_argument_is_one_line(engine: Engine, places: dict[str, str], args: list[str]) -> None:
    result = runner.invoke(app, fill(args, places))
    assert_one_line(args, result.output, result.exit_code)
    assert not Path(places["out"]).exists()  # nothing written for a refused command


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=_case_id)
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_an_uninitialised_sqlite_database_is_one_line(
    places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], state: str
) -> None:
    import sqlite3

    db = tmp_path / "typo" / "bridgehead.db"
    if state == "empty":
        db.parent.mkdir()
        sqlite3.connect(db).close()
    _use(monkeypatch, f"sqlite:///{db}", tmp_path)
    result = runner.invoke(app, fill(args, places))
    line = assert_one_line(args, result.output, result.exit_code)
    assert line.startswith("bridgehead: ") and "bridgehead init" in line, line
    assert db.exists() == (state == "empty")  # a mistyped path is not created


@pytest.mark.parametrize("args", [*DATABASE_COMMANDS, ["init"]], ids=_case_id)
def test_an_unreachable_database_is_one_line(
    places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _use(monkeypatch, UNREACHABLE, tmp_path)
    result = runner.invoke(app, fill(args, places))
    line = assert_one_line(args, result.output, result.exit_code)
    assert line.startswith("bridgehead: cannot reach the database at postgresql"), line
    assert "s3cret" not in result.output and "***" in line


@pytest.mark.parametrize("url", ["nonsense", "mysql://someone@127.0.0.1/x", "sqlite:///{dir}"])
def test_a_database_url_it_cannot_use_is_one_line(
    places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    _use(monkeypatch, url.format(**places), tmp_path)
    for args in (["risks", "list"], ["audit", "verify"]):
        result = runner.invoke(app, args)
        line = assert_one_line(args, result.output, result.exit_code)
        assert line.startswith("bridgehead: ") and "BRIDGEHEAD_DATABASE_URL" in line, line


def test_a_table_missing_mid_command_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check before a command looks for one table; a database missing another is caught after."""
    import sqlite3

    db = tmp_path / "half.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE risk (id INTEGER PRIMARY KEY)")
    _use(monkeypatch, f"sqlite:///{db}", tmp_path)
    result = runner.invoke(app, ["quarantine", "list"])
    line = assert_one_line(["quarantine", "list"], result.output, result.exit_code)
    assert "has no Bridgehead tables: run 'bridgehead init'" in line, line


def test_help_needs_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, UNREACHABLE, tmp_path)
    for args in (["--help"], ["risks", "list", "--help"], ["sweep", "--help"], ["init", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output, args


def test_generate_needs_no_database(
    places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, UNREACHABLE, tmp_path)
    result = runner.invoke(app, ["generate", "--out", places["out"], "--scale", "0.001"])
    assert result.exit_code == 0, result.output


def _use(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> None:
    from bridgehead.db import get_engine
    from bridgehead.settings import get_settings

    monkeypatch.setenv("BRIDGEHEAD_DATABASE_URL", url)
    monkeypatch.setenv("BRIDGEHEAD_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_the_cases_are_counted() -> None:
    """The issue counted 69 bad arguments; this file covers at least that many cases."""
    total = len(ARGUMENT_CASES) + 2 * len(DATABASE_COMMANDS) + len(DATABASE_COMMANDS) + 1 + 3 + 1
    assert total >= 69, total
