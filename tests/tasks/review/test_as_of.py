"""A past week's colours are those of that week's end, whenever its signals were taken in.

A month of history imported at once was graded with everything at once: the review of a past week
said red 400 / orange 393 where, as of that week's end, it was 308 / 344. Colours at a window's end
are now read in event time (`tasks.review.colours`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.factories import ingest, review_of, write_rows


def _calls(address: str, days: list[int]) -> list[dict[str, str]]:
    return [
        {"call_id": f"{address}-{d}", "received_at": f"2026-03-{d:02d} 20:00", "address": address,
         "category": "family_neighbor", "priority": "3", "summary": "邻里纠纷"}
        for d in days
    ]  # fmt: skip


def test_a_past_week_taken_in_a_month_later_shows_its_colours_as_of_its_end(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    rows = (
        _calls("幸福路1号", [2, 4, 6])  # three in the week: orange then; two more after it made it red
        + _calls("幸福路1号", [20, 22])
        + _calls("幸福路2号", [2, 3, 4, 5, 6])  # five in the week: red then already
        + _calls("幸福路3号", [3])  # one: below orange
    )
    ingest(write_rows(tmp_path / "calls.csv", *rows), "call")  # all at once, long after the week
    review = review_of("2026-W10", "en", as_of="2026-04-10")
    colours = ("red", "orange", "yellow", "blue")
    found = {c: review["figures"][f"risks_found.colour.{c}"]["current"] for c in colours}
    assert (found["red"], found["orange"]) == (1, 1)  # not red 2: 幸福路1号 was orange on 8 March
    assert sum(found.values()) == review["figures"]["risks_found"]["current"] == 3
