"""`bridgehead review`: the figures a person asks for on the command line, as a table or exact JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from deployments.cli import app
from tests.tasks.review.story import CITY, PERIOD, Story, load_story, pct

pytestmark = pytest.mark.prefect
runner = CliRunner()


@pytest.fixture
def story(prefect_server: None, engine: Engine, jurisdiction: Path, tmp_path: Path) -> Story:
    """The hand-counted month of tests/tasks/review/story.py; the review runs as a flow."""
    return load_story(tmp_path)


def test_the_json_gives_every_figure_exactly(story: Story) -> None:
    result = runner.invoke(app, ["review", "--scope", "city", "--period", PERIOD, "--format", "json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["figures"]
    calls = figures["calls"]
    assert (calls["current"], calls["previous"], calls["last_year"]) == CITY["calls"]
    assert calls["change_vs_previous_pct"] == pct(30, 12) == 150.0
    assert calls["change_vs_last_year_pct"] == 200.0
    assert isinstance(calls["significant"], bool)
    cases = figures["cases_filed"]
    assert cases["change_vs_last_year_pct"] == pct(11, 8)  # 37.5, not rounded
    for figure in figures.values():
        assert {"current", "previous", "last_year", "change_vs_previous_pct", "change_vs_last_year_pct",
                "significant"} <= set(figure)  # fmt: skip


def test_the_table_shows_changes_as_percentages(story: Story) -> None:
    result = runner.invoke(app, ["review", "--scope", "city", "--period", PERIOD])
    assert result.exit_code == 0, result.output
    assert "+150%" in result.output  # calls against February
    assert "Ranked by the year-on-year rise in criminal cases, all 2" in result.output
    assert "33333" not in result.output  # a ranking's change is shown rounded, not as a raw float


def test_a_bad_period_says_what_is_allowed(story: Story) -> None:
    result = runner.invoke(app, ["review", "--scope", "city", "--period", "last-week"])
    assert result.exit_code == 2
    assert "2026-W47" in result.output and "ytd:" in result.output


def test_a_language_not_offered_names_the_ones_that_are() -> None:
    result = runner.invoke(app, ["review", "--period", PERIOD, "--lang", "fr"])
    assert result.exit_code == 2
    assert "'fr' is not one of 'zh', 'en'" in " ".join(result.output.split()).replace("│", "")


def test_a_period_that_has_not_begun_is_refused(engine: Engine, jurisdiction: Path) -> None:
    result = runner.invoke(app, ["review", "--period", "2030-01"])
    assert result.exit_code == 2
    assert "2030-01 has not begun" in result.output
