"""Four-colour grading, written from the brief's table ("Risks and their colours"), one test per rule.

Each test builds a few signals of one or more risks and checks the colour and the reason codes
that `grade` returns. Days are counted from one fixed instant; "within D days" means the latest
minus the earliest signal is at most D days, so exactly D days counts and D days + 1 second does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridgehead.rules import Rules, get_rules, load_rules
from models.common import Colour
from tasks.intake.grading import SIGNAL_COLUMNS, grade, opens_risk, people_named

RULES = get_rules()
T0 = pd.Timestamp("2026-03-01 08:00", tz="UTC")
DAY = pd.Timedelta(days=1)


def sig(
    day: float = 0,
    *,
    risk: int = 1,
    channel: str = "call",
    category: str = "other",
    summary: str = "",
    parties: int = 0,
    score: float | None = None,
    seconds: int = 0,
    follow_up: bool = False,
) -> dict[str, Any]:
    """One signal, `day` days (plus `seconds`) after T0. Category `other` alone matches no rule."""
    return {
        "risk_id": risk,
        "occurred_at": T0 + day * DAY + pd.Timedelta(seconds=seconds),
        "channel": channel,
        "category": category,
        "summary": summary,
        "party_count": parties,
        "score": score,
        "counted": not follow_up,
    }


def frame(*signals: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(signals), columns=SIGNAL_COLUMNS)


def graded(*signals: dict[str, Any], rules: Rules = RULES) -> pd.DataFrame:
    return grade(frame(*signals), rules)


def level(*signals: dict[str, Any], risk: int = 1, rules: Rules = RULES) -> str | None:
    return graded(*signals, rules=rules).loc[risk, "level"]


def reasons(*signals: dict[str, Any], risk: int = 1, rules: Rules = RULES) -> list[str]:
    return list(graded(*signals, rules=rules).loc[risk, "reasons"])


def rank(colour: str | None) -> int:
    return Colour(colour).rank if isinstance(colour, str) else -1


# --- red ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "summary",
    [
        "邻居持刀威胁",
        "他拿着菜刀在楼道里",
        "He waved a knife at the neighbour",
        "a man with a GUN at the gate",
    ],
)
def test_red_when_a_summary_mentions_a_weapon_in_chinese_or_english(summary: str) -> None:
    assert level(sig(category="family_neighbor", summary=summary)) == "red"
    assert "red.weapon" in reasons(sig(category="family_neighbor", summary=summary))


@pytest.mark.parametrize(
    "summary", ["男子扬言要杀了前妻", "说要弄死对方", "He threatened to kill his brother", "I will kill you"]
)
def test_red_when_a_summary_reports_a_threat_to_kill_in_chinese_or_english(summary: str) -> None:
    assert level(sig(category="marriage_romance", summary=summary)) == "red"
    assert "red.threat_to_kill" in reasons(sig(category="marriage_romance", summary=summary))


@pytest.mark.parametrize(
    "summary", ["当事人有轻生念头", "女子欲跳楼", "talked about suicide", "history of self-harm"]
)
def test_red_when_a_summary_reports_self_harm_in_chinese_or_english(summary: str) -> None:
    assert level(sig(category="family_neighbor", summary=summary)) == "red"
    assert "red.self_harm" in reasons(sig(category="family_neighbor", summary=summary))


def test_red_for_a_missing_child_or_vulnerable_person() -> None:
    assert reasons(sig(category="missing_person", summary="老人走失")) == ["red.missing_person"]
    assert level(sig(category="missing_person")) == "red"


def test_red_for_violence_with_another_signal_on_the_risk_within_30_days() -> None:
    for other_day in (1, 30):  # exactly 30 days apart still counts
        signals = (sig(0, category="violence"), sig(other_day, category="family_neighbor"))
        assert level(*signals) == "red", other_day
        assert "red.violence_repeat" in reasons(*signals)
    # the other signal may come first, too
    assert "red.violence_repeat" in reasons(sig(0, category="other"), sig(20, category="violence"))


def test_one_fight_called_in_twice_is_not_violence_repeated() -> None:
    """Two callers about one assault minutes apart (or on one day, where a source keeps dates only)."""
    assert "red.violence_repeat" not in reasons(
        sig(0, category="violence"), sig(0, seconds=600, category="violence")
    )
    assert "red.violence_repeat" not in reasons(sig(0, category="violence"), sig(0, category="violence"))
    assert "red.violence_repeat" in reasons(
        sig(0, category="violence"), sig(0, seconds=7200, category="violence")
    )
    three = (sig(0, category="violence"), sig(0, seconds=5400, category="other"), sig(0, seconds=10800))
    assert "red.violence_repeat" in reasons(*three)  # 3 hours from the first, though 1.5 from the next


def test_violence_with_the_other_signal_31_days_away_is_only_orange() -> None:
    signals = (sig(0, category="violence"), sig(31, category="family_neighbor"))
    assert level(*signals) == "orange"
    assert "red.violence_repeat" not in reasons(*signals)
    # and 30 days plus one second is already outside
    signals = (sig(0, category="violence"), sig(30, seconds=1, category="family_neighbor"))
    assert "red.violence_repeat" not in reasons(*signals)


def test_red_for_five_signals_within_30_days_latest_minus_earliest_exactly_30_days_counts() -> None:
    signals = [sig(d) for d in (0, 7, 14, 21, 30)]
    assert level(*signals) == "red"
    assert reasons(*signals)[0] == "red.signals_5_in_30d"


def test_five_signals_spread_over_31_days_are_not_red() -> None:
    signals = [sig(d) for d in (0, 7, 14, 21, 31)]
    assert "red.signals_5_in_30d" not in reasons(*signals)
    assert level(*signals) == "orange"  # four of them still fit in 30 days
    signals = [sig(0), sig(7), sig(14), sig(21), sig(30, seconds=1)]
    assert "red.signals_5_in_30d" not in reasons(*signals)


def test_four_signals_within_30_days_are_not_red() -> None:
    assert "red.signals_5_in_30d" not in reasons(*[sig(d) for d in (0, 1, 2, 3)])


# --- orange ------------------------------------------------------------------------------------


def test_orange_for_any_single_violence_signal() -> None:
    assert level(sig(category="violence", summary="两人推搡")) == "orange"
    assert reasons(sig(category="violence", summary="两人推搡")) == ["orange.violence"]


def test_orange_for_three_signals_within_30_days() -> None:
    signals = [sig(0), sig(15), sig(30)]
    assert level(*signals) == "orange"
    assert reasons(*signals) == ["orange.signals_3_in_30d"]


def test_three_signals_spread_over_31_days_are_not_orange() -> None:
    assert level(sig(0), sig(15), sig(31)) is None
    assert level(sig(0, category="public_order"), sig(15), sig(31)) == "blue"


def test_orange_for_signals_from_two_channels_within_90_days() -> None:
    for gap in (0, 45, 90):
        signals = (sig(0, channel="call"), sig(gap, channel="visit"))
        assert level(*signals) == "orange", gap
        assert reasons(*signals) == ["orange.channels_2_in_90d"]


def test_signals_from_two_channels_91_days_apart_are_not_orange() -> None:
    assert level(sig(0, channel="call"), sig(91, channel="tip")) is None
    assert level(sig(0, channel="analysis"), sig(90, seconds=1, channel="visit")) is None


def test_two_signals_from_one_channel_are_not_the_channel_rule() -> None:
    assert level(sig(0, channel="visit"), sig(1, channel="visit")) is None


def test_orange_for_a_labour_debt_signal_with_ten_party_keys() -> None:
    assert level(sig(category="labor_debt", parties=10)) == "orange"
    assert reasons(sig(category="labor_debt", parties=10)) == ["orange.labor_debt_crowd", "yellow.dispute"]
    assert level(sig(category="labor_debt", parties=9)) == "yellow"


@pytest.mark.parametrize("summary", ["20名工人讨要工资", "12 workers unpaid since March", "项目拖欠10人工资"])
def test_orange_for_a_labour_debt_summary_stating_ten_or_more_people(summary: str) -> None:
    assert level(sig(category="labor_debt", summary=summary)) == "orange"
    assert "orange.labor_debt_crowd" in reasons(sig(category="labor_debt", summary=summary))


@pytest.mark.parametrize("summary", ["9名工人讨要工资", "9 workers unpaid", "欠款2万元"])
def test_a_labour_debt_summary_stating_fewer_than_ten_people_is_only_yellow(summary: str) -> None:
    assert level(sig(category="labor_debt", summary=summary)) == "yellow"


def test_a_crowd_in_another_dispute_category_is_not_the_labour_debt_rule() -> None:
    assert level(sig(category="land_property", summary="20名村民", parties=12)) == "yellow"


@pytest.mark.parametrize(
    "summary",
    [
        pytest.param(
            "30余名工人讨薪",
        ),
        pytest.param(
            "二十名工人讨薪",
        ),
        pytest.param(
            "12 migrant workers unpaid",
        ),
    ],
)
def test_a_labour_debt_summary_stating_ten_or_more_people_in_other_common_wordings(summary: str) -> None:
    assert level(sig(category="labor_debt", summary=summary)) == "orange"


def test_people_named_reads_the_largest_headcount_or_zero() -> None:
    found = people_named(pd.Series(["20名工人", "12 workers", "9名工人", "无", "3人，后来又来了15人"]))
    assert found.tolist() == [20, 12, 9, 0, 15]


# --- yellow and blue ---------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["labor_debt", "family_neighbor", "marriage_romance", "land_property"])
def test_yellow_for_every_dispute_category(category: str) -> None:
    assert level(sig(category=category, summary="双方因琐事争吵")) == "yellow"
    assert reasons(sig(category=category, summary="双方因琐事争吵")) == ["yellow.dispute"]


@pytest.mark.parametrize("category", ["public_order", "fraud"])
def test_blue_for_public_order_and_fraud(category: str) -> None:
    assert level(sig(category=category)) == "blue"
    assert reasons(sig(category=category)) == [f"blue.{category}"]


@pytest.mark.parametrize(
    "summary", ["楼道堆放杂物存在消防隐患", "老旧燃气管道漏气", "a fire hazard in the stairwell"]
)
def test_blue_for_a_hidden_hazard(summary: str) -> None:
    assert reasons(sig(category="other", summary=summary)) == ["blue.hazard"]


def test_blue_for_an_analysis_score_under_one_half_but_not_at_one_half() -> None:
    assert reasons(sig(channel="analysis", score=0.49)) == ["blue.low_score_analysis"]
    assert level(sig(channel="analysis", score=0.5)) is None
    assert level(sig(channel="analysis", score=None)) is None


def test_a_signal_no_rule_matches_has_no_colour() -> None:
    assert graded(sig(category="traffic", summary="两车剐蹭")).loc[1].to_dict() == {
        "level": None,
        "reasons": [],
    }


# --- how matches combine -----------------------------------------------------------------------


def test_the_highest_match_wins_and_every_matched_reason_is_kept_highest_first() -> None:
    signals = (
        sig(0, channel="call", category="violence", summary="持刀伤人"),
        sig(1, channel="visit", category="labor_debt", summary="20名工人讨薪"),
        sig(2, channel="call", category="public_order", summary="消防通道被堵，存在隐患"),
    )
    got = reasons(*signals)
    assert level(*signals) == "red"
    assert set(got) == {
        "red.weapon",
        "red.violence_repeat",
        "orange.violence",
        "orange.signals_3_in_30d",
        "orange.channels_2_in_90d",
        "orange.labor_debt_crowd",
        "yellow.dispute",
        "blue.public_order",
        "blue.hazard",
    }
    ranks = [Colour(code.split(".")[0]).rank for code in got]
    assert ranks == sorted(ranks, reverse=True)


def test_risks_graded_in_one_call_are_graded_independently() -> None:
    # risk 1: four quiet calls in four days; risk 2: one violent call and one visit among them
    signals = [sig(d, risk=1) for d in (0, 1, 2, 3)]
    signals += [sig(1.5, risk=2, category="violence"), sig(2.5, risk=2, channel="visit", category="other")]
    signals += [sig(2, risk=3, channel="tip")]
    result = grade(frame(*signals), RULES)
    assert sorted(result.index) == [1, 2, 3]
    # counted together, risk 1 would have 5+ signals within 30 days and two channels
    assert result.loc[1, "reasons"] == ["orange.signals_3_in_30d"]
    assert result.loc[2, "level"] == "red"  # its own violence with its own visit
    assert "orange.signals_3_in_30d" not in result.loc[2, "reasons"]
    assert result.loc[3, "reasons"] == []  # a lone tip next to other risks' calls


def test_a_risk_no_rule_matches_has_level_none_even_beside_a_coloured_risk() -> None:
    result = grade(frame(sig(risk=1, category="labor_debt"), sig(risk=2, category="traffic")), RULES)
    assert result.loc[1, "level"] == "yellow"
    assert result.loc[2, "level"] is None


def test_a_lone_violence_signal_next_to_another_risks_signal_stays_orange() -> None:
    result = grade(frame(sig(0, risk=1), sig(0, seconds=60, risk=2, category="violence")), RULES)
    assert result.loc[2, "reasons"] == ["orange.violence"]


def test_grading_nothing_returns_an_empty_frame() -> None:
    result = grade(frame(), RULES)
    assert result.empty and list(result.columns) == ["level", "reasons"]


def test_the_order_of_the_input_rows_does_not_matter() -> None:
    signals = [sig(d, risk=1 + d % 2, channel=["call", "visit"][d % 3 == 0]) for d in range(8)]
    forward = grade(frame(*signals), RULES)
    backward = grade(frame(*reversed(signals)), RULES)
    pd.testing.assert_frame_equal(forward.sort_index(), backward.sort_index())


# --- keywords ----------------------------------------------------------------------------------


def test_english_keywords_match_whole_words_only() -> None:
    assert level(sig(summary="The repairs have begun")) is None  # 'gun' inside 'begun'
    assert level(sig(summary="Skill yourself up")) is None  # "kill you" inside "Skill yourself"
    assert level(sig(summary="gun")) == "red"
    assert level(sig(summary="Shots from a Gun, police called")) == "red"  # any case


def test_chinese_keywords_match_inside_a_sentence() -> None:
    assert reasons(sig(summary="邻居之间因停车纠纷，一方持刀威胁")) == ["red.weapon"]


@pytest.mark.parametrize(
    ("summary", "code"),
    [
        pytest.param(
            "He was threatening to kill his neighbour",
            "red.threat_to_kill",
        ),
        pytest.param(
            "男子酒后扬言杀人",
            "red.threat_to_kill",
        ),
        pytest.param(
            "He keeps two guns at home",
            "red.weapon",
        ),
    ],
)
def test_common_wordings_of_a_red_keyword_are_red(summary: str, code: str) -> None:
    assert code in reasons(sig(summary=summary))


def test_haggling_over_a_price_is_not_a_threat_to_kill() -> None:
    assert level(sig(category="public_order", summary="买菜时要杀价，双方发生口角")) == "blue"


# --- which signals may open a risk -------------------------------------------------------------


def test_traffic_and_other_open_a_risk_only_when_a_red_rule_matches() -> None:
    signals = frame(
        sig(category="traffic", summary="两车剐蹭"),
        sig(category="traffic", summary="司机下车持刀威胁"),
        sig(category="other", summary="咨询户口"),
        sig(category="other", summary="He threatened to kill the landlord"),
        sig(category="other", summary="the work has begun"),
    )
    assert opens_risk(signals, RULES).tolist() == [False, True, False, True, False]


def test_every_other_category_opens_a_risk_without_a_red_rule() -> None:
    categories = ["labor_debt", "family_neighbor", "marriage_romance", "land_property"]
    categories += ["public_order", "violence", "missing_person", "fraud"]
    signals = frame(*[sig(category=c, summary="") for c in categories])
    assert opens_risk(signals, RULES).all()


# --- the rules file ----------------------------------------------------------------------------


def _default_rules_dict() -> dict[str, Any]:
    path = Path(__file__).parents[3] / "bridgehead" / "rulesets" / "default.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_default_rules_are_the_brief_defaults() -> None:
    g = RULES.grading
    assert (g.red.signals.count, g.red.signals.days, g.red.violence_repeat_days) == (5, 30, 30)
    assert (g.orange.signals.count, g.orange.signals.days) == (3, 30)
    assert (g.orange.channels.count, g.orange.channels.days) == (2, 90)
    assert (g.orange.labor_debt_people, g.blue.analysis_score_below) == (10, 0.5)
    assert RULES.linking.window_days == 365


def test_an_edited_rules_file_changes_the_grading(tmp_path: Path) -> None:
    data = _default_rules_dict()
    data["version"] = "station-edit-1"
    data["grading"]["orange"]["signals"]["count"] = 4
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    edited = load_rules(path)
    assert edited.version == "station-edit-1"
    three = [sig(d) for d in (0, 1, 2)]
    assert level(*three) == "orange"
    assert level(*three, rules=edited) is None
    assert reasons(*three, sig(3), rules=edited) == ["orange.signals_4_in_30d"]


def test_a_rules_dict_can_move_a_keyword_and_a_threshold() -> None:
    data = _default_rules_dict()
    data["grading"]["red"]["keywords"]["weapon"].append("crossbow")
    data["grading"]["blue"]["analysis_score_below"] = 0.3
    edited = Rules.model_validate(data)
    assert reasons(sig(summary="a crossbow in the car"), rules=edited) == ["red.weapon"]
    assert level(sig(channel="analysis", score=0.4), rules=edited) is None


def test_a_typo_in_the_rules_file_is_refused_naming_the_key(tmp_path: Path) -> None:
    data = _default_rules_dict()
    data["grading"]["orange"]["labour_debt_people"] = data["grading"]["orange"].pop("labor_debt_people")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="labour_debt_people"):
        load_rules(path)


def test_a_wrong_category_in_the_rules_file_is_refused(tmp_path: Path) -> None:
    data = _default_rules_dict()
    data["grading"]["yellow"]["categories"].append("labour_debt")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="labour_debt"):
        load_rules(path)


# --- properties --------------------------------------------------------------------------------

SUMMARIES = [
    "",
    "争吵",
    "持刀",
    "扬言要杀",
    "20名工人",
    "9 workers",
    "消防隐患",
    "begun",
    "knife",
    "12 workers",
]
CATEGORIES = [
    "labor_debt",
    "family_neighbor",
    "marriage_romance",
    "land_property",
    "public_order",
    "violence",
    "missing_person",
    "fraud",
    "traffic",
    "other",
]

signals_st = st.builds(
    lambda risk, day, seconds, channel, category, summary, parties, score: sig(
        day,
        risk=risk,
        channel=channel,
        category=category,
        summary=summary,
        parties=parties,
        score=score if channel == "analysis" else None,
        seconds=seconds,
    ),
    risk=st.integers(1, 3),
    day=st.integers(0, 200),
    seconds=st.integers(0, 86_399),
    channel=st.sampled_from(["call", "visit", "analysis", "tip"]),
    category=st.sampled_from(CATEGORIES),
    summary=st.sampled_from(SUMMARIES),
    parties=st.integers(0, 12),
    score=st.none() | st.floats(0, 1),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signals=st.lists(signals_st, min_size=1, max_size=12), extra=signals_st)
def test_adding_a_signal_never_lowers_a_colour_and_the_level_is_the_first_reasons_colour(
    signals: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    before = grade(frame(*signals), RULES)
    after = grade(frame(*signals, extra), RULES)
    assert set(before.index) <= set(after.index)
    for risk in before.index:
        assert rank(after.loc[risk, "level"]) >= rank(before.loc[risk, "level"]), risk
        assert set(before.loc[risk, "reasons"]) <= set(after.loc[risk, "reasons"]), risk
    for result in (before, after):
        for lvl, codes in zip(result["level"], result["reasons"], strict=True):
            assert lvl == (codes[0].split(".")[0] if codes else None)
            ranks = [Colour(code.split(".")[0]).rank for code in codes]
            assert ranks == sorted(ranks, reverse=True)


def test_follow_up_visits_finding_trouble_are_not_counted_as_new_signals() -> None:
    """The visits the cadence asks for (a visit naming its risk) must not raise the cadence: an orange
    risk visited every three days and not yet settled stays orange, a yellow one stays yellow."""
    visits = [sig(d, channel="visit", category="family_neighbor", follow_up=True) for d in (2, 5, 8, 11, 14)]
    assert level(sig(0, category="family_neighbor"), *visits) == "yellow"  # not 2 channels, not 5 in 30 days
    violence = [sig(0, category="violence"), sig(3, channel="visit", category="violence", follow_up=True)]
    assert level(*violence) == "orange"  # not red.violence_repeat: the second "signal" is the officer's
    assert level(*[sig(d, channel="visit", category="family_neighbor") for d in (0, 2, 5)]) == "orange"


def test_a_follow_up_visit_is_still_graded_for_what_it_reports() -> None:
    found = sig(
        3, channel="visit", category="family_neighbor", summary="发现刘某持刀威胁邻居", follow_up=True
    )
    assert level(sig(0, category="family_neighbor"), found) == "red"
