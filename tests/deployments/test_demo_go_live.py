"""The demo's go-live: four months back, a little earlier for the summer's stories, never much more."""

from datetime import date

from deployments.demo import REPLAY_DAYS, go_live


def test_the_summer_stories_pull_go_live_back_by_at_most_a_month() -> None:
    # 20 December: 120 days back is 22 August; the lost child (7 August) is worth 18 more days.
    assert go_live(date(2026, 12, 20), REPLAY_DAYS) == date(2026, 8, 4)


def test_a_demo_run_months_later_does_not_replay_them() -> None:
    # In March the summer is seven months back: the stories stay in the register's history.
    assert go_live(date(2027, 3, 1), REPLAY_DAYS) == date(2026, 11, 1)


def test_the_whole_year_starts_a_year_back() -> None:
    assert go_live(date(2026, 12, 2), 365) == date(2025, 12, 2)
