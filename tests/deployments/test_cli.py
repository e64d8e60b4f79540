"""The command line as a duty officer uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from bridgehead.db import session_scope
from deployments.cli import app
from deployments.options import EXIT_QUARANTINED
from models.signal import Signal
from tests.factories import COMMUNITIES, OFFICERS, write_jurisdiction

runner = CliRunner()


def test_jurisdiction_load_reports_coverage(engine: Engine, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["jurisdiction", "load", str(write_jurisdiction(tmp_path / "j")), "--by", "李"]
    )
    assert result.exit_code == 0, result.output
    assert "Covered" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT actor FROM audit_log")).scalars().all() == ["person:李"]


def test_gaps_are_listed(engine: Engine, tmp_path: Path) -> None:
    officers = [o for o in OFFICERS if o[4] != "61032301002"]
    result = runner.invoke(
        app, ["jurisdiction", "load", str(write_jurisdiction(tmp_path / "j", officers=officers))]
    )
    assert result.exit_code == 0, result.output
    assert "gap village 61032301002 北营村" in result.output
    assert "Not covered: 1 gap(s)" in result.output


def test_quarantined_rows_set_the_exit_status(engine: Engine, tmp_path: Path) -> None:
    bad = [*COMMUNITIES, ("61030301009", "x", "town", "61030301", "true", "false", 1, 34.0, 107.0)]
    result = runner.invoke(
        app, ["jurisdiction", "load", str(write_jurisdiction(tmp_path / "j", communities=bad))]
    )
    assert result.exit_code == EXIT_QUARANTINED
    assert "communities.csv:6: kind: Input should be 'community' or 'village'" in result.output


def test_a_missing_file_is_a_clear_error(engine: Engine, tmp_path: Path) -> None:
    folder = write_jurisdiction(tmp_path / "j")
    (folder / "units.csv").unlink()
    result = runner.invoke(app, ["jurisdiction", "load", str(folder)])
    assert result.exit_code == 1
    assert "units.csv is missing" in result.output and "Traceback" not in result.output


def test_audit_verify_passes_then_names_the_edited_row(engine: Engine, tmp_path: Path) -> None:
    runner.invoke(app, ["jurisdiction", "load", str(write_jurisdiction(tmp_path / "j"))])
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "Audit chain intact: 16 rows" in ok.output
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'person:nobody' WHERE seq = 7"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "broken at row 7" in broken.output


def test_audit_verify_names_the_row_after_a_deleted_one(engine: Engine, tmp_path: Path) -> None:
    runner.invoke(app, ["jurisdiction", "load", str(write_jurisdiction(tmp_path / "j"))])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 10"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "broken at row 11" in broken.output and "row 10 removed" in broken.output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["init", "--help"],
        ["generate", "--help"],
        ["demo", "--help"],
        ["jurisdiction", "load", "--help"],
        ["audit", "verify", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output, args


@pytest.mark.prefect
def test_demo_runs_the_cycle_on_a_small_city(prefect_server: None, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bridgehead.db import get_engine
    from bridgehead.settings import get_settings

    # the demo points its own process at its database; keep that from leaking into other tests
    monkeypatch.setenv("BRIDGEHEAD_DATABASE_URL", "sqlite:///unused.db")
    monkeypatch.setenv("BRIDGEHEAD_VAR_DIR", str(tmp_path / "var"))
    try:
        result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--scale", "0.02"])
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Covered: all 182 communities have a police office and all 1158 villages" in out
    for channel in ("call", "visit", "analysis", "tip", "case"):
        assert f"{channel}: " in out and "0 quarantined" in out
    feud = next(line for line in out.splitlines() if line.startswith("Risk "))
    assert "family_neighbor in 61030205001" in feud
    # under the product the feud is followed up on its cadence and ends by the evidence rule
    story = next(line for line in out.splitlines() if line.startswith("The 刘/曹 feud"))
    assert story.endswith("now resolved"), story
    assert "Audit chain intact" in out
    assert "Cycle health to " in out and "follow-ups on time" in out
    assert "conversions (民转刑)" in out and "without follow-up" in out
    assert out.rstrip().splitlines()[-1].startswith("Covered: all 182 communities have a police office")


def test_exports_never_carry_phone_numbers_or_contacts(jurisdiction: Path, tmp_path: Path) -> None:
    from models.contracts import FILE_COLUMNS
    from tests.factories import ingest, write_csv

    call = [
        "C1",
        "2026-03-01 20:00",
        "61030301001",
        "幸福路1号",
        "family_neighbor",
        "2",
        "邻居吵架，请回电13912345678",
        "PKa;PKb",
        "13912345678",
        "",
        "",
        "",
        "",
    ]
    tip = [
        "T1",
        "2026-03-02 09:00",
        "61030301001",
        "幸福路1号",
        "family_neighbor",
        "还在吵",
        "wxid_secret_li",
        "true",
    ]
    for channel, name, row in (("call", "calls.csv", call), ("tip", "tips.csv", tip)):
        ingest(write_csv(tmp_path / name, FILE_COLUMNS[name], [row]), channel)
    with session_scope() as s:  # the id a database gave it (PostgreSQL sequences outlive emptied tables)
        rid = str(s.execute(select(Signal.risk_id).where(Signal.source_id == "C1")).scalar_one())
    outputs = [
        runner.invoke(app, args).output
        for args in (
            ["risks", "list", "--format", "json"],
            ["risks", "list", "--format", "csv"],
            ["risks", "show", rid, "--format", "json"],
            ["risks", "show", rid],
            ["quarantine", "list", "--format", "json"],
            ["risks", "show", rid, "--format", "csv"],
        )
    ]
    assert "邻居吵架" in outputs[2]  # the summary is there, its number is not
    import csv
    import io

    records = list(csv.DictReader(io.StringIO(outputs[-1])))  # one valid CSV, signals then colour changes
    assert [r["record"] for r in records][:2] == ["signal", "signal"]
    assert {r["record"] for r in records[2:]} == {"level_change"}
    assert records[0]["summary"].startswith("邻居吵架") and records[2]["to"]
    for out in outputs:
        assert "13912345678" not in out and "wxid_secret_li" not in out


def test_every_command_the_readme_shows_exists() -> None:
    """The README is what a new user types from: each `bridgehead X Y` it shows must answer --help."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"`bridgehead ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", readme))
    assert {"tips status", "tips verify", "rewards approve", "incidents close"} <= shown
    for command in sorted(shown):
        words = command.split()
        result = runner.invoke(app, [*words, "--help"])
        if result.exit_code != 0 and len(words) == 2:  # the second word is an argument, not a command
            result = runner.invoke(app, [words[0], "--help"])
        assert result.exit_code == 0, f"bridgehead {command}: {result.output}"


def test_a_jurisdiction_folder_that_is_not_there_is_one_line(engine: Engine, tmp_path: Path) -> None:
    result = runner.invoke(app, ["jurisdiction", "load", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert f"'{tmp_path / 'nowhere'}' does not exist" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_responding_to_an_unknown_incident_is_one_line(engine: Engine) -> None:
    result = runner.invoke(app, ["incidents", "respond", "INC-NOPE"])
    assert result.exit_code == 1
    assert result.output.strip() == "there is no incident INC-NOPE"


@pytest.mark.parametrize(
    "args",
    [
        ["risks", "raise", "1", "--to", "red", "--by", " ", "--reason", "打架"],
        ["risks", "raise", "1", "--to", "red", "--by", "王所长", "--reason", ""],
        ["rewards", "pay", "--period", "2026-03", "--by", ""],
        ["rewards", "approve", "--period", "2026-03", "--by", "  ", "--all"],
        ["incidents", "close", "INC-1", "--outcome", "mediated", "--by", ""],
        ["tips", "verify", "ABCDEFGHIJKL", "--by", "", "--outcome", "unfounded"],
    ],
)
def test_an_audited_act_needs_a_name_and_a_reason(engine: Engine, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "must not be blank" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["risks", "list", "--level", "purple"], "'purple' is not one of"),
        (["risks", "list", "--status", "closed"], "'closed' is not one of"),
        (["risks", "list", "--category", "bogus"], "use one of labor_debt"),
        (["risks", "list", "--limit", "-5"], "greater than or equal to 0"),
        (["incidents", "list", "--status", "bogus"], "'bogus' is not one of"),
    ],
)
def test_a_filter_value_that_cannot_match_is_refused(engine: Engine, args: list[str], says: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert says in " ".join(result.output.replace("│", " ").split())


def test_filters_take_what_intake_takes(jurisdiction: Path) -> None:
    assert runner.invoke(app, ["risks", "list", "--category", "家庭邻里", "--level", "red"]).exit_code == 0
    unknown = runner.invoke(app, ["followups", "due", "--officer", "NOBODY", "--date", "2026-03-01"])
    assert unknown.exit_code == 1 and "'NOBODY' is not a known officer code" in unknown.output


def test_a_chief_reassigns_from_the_command_line(jurisdiction: Path) -> None:
    """Nothing overflowed on an empty register: the chief's command says so, and names the stations."""
    result = runner.invoke(app, ["followups", "reassign", "--by", "O000004", "--date", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "2026-03-01: 0 risks reassigned with their visits in 0 stations" in result.output


def test_a_table_shows_the_phone_redaction_rather_than_swallowing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from deployments.console import emit

    emit([{"summary": "举报人电话[phone]请回电"}], "table", "signals")
    assert "举报人电话[phone]请回电" in capsys.readouterr().out
