"""How risks end, in a review (化解), counted by hand: the settlement rate, risks back after resolution,
open risks per officer, capacity notices and the hotspots (places by calls).

The period is May 2026 (31 days), against April 2026 (30 days) and May 2025. The risks are opened by
calls taken in through intake's real stages; their ends are written as the end rules write them (a
level-history row with its rule code, and the risk's status); the reopenings come from later signals,
by linking. Each row's comment says what it counts for.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from bridgehead.db import get_engine, session_scope
from deployments.review_cli import print_review
from models.audit import AuditLog
from models.common import LOCAL_TZ
from models.jurisdiction import Officer
from tasks.review.build import build_review
from tasks.review.figures import NO_RECORD
from tasks.review.period import parse_period, parse_scope
from tasks.review.report import write_report
from tests.tasks.review import ends_story
from tests.tasks.review.ends_story import risk_of

PERIOD = "2026-05"
AS_OF = datetime(2026, 6, 2, 9, 0, tzinfo=LOCAL_TZ)
WINDOWS = ("current", "previous", "last_year")

story = ends_story.story  # the fixture: the hand-counted May of tests/tasks/review/ends_story.py


def review_of(scope: str, lang: str = "zh") -> dict[str, Any]:
    with Session(get_engine()) as s:
        return build_review(s, parse_scope(s, scope), parse_period(PERIOD), lang, as_of=AS_OF)


def values(figure: dict[str, Any]) -> tuple[Any, Any, Any]:
    return tuple(figure[w] for w in WINDOWS)  # type: ignore[return-value]


def test_the_settlement_rate_counts_the_disputes_whose_30_days_ran_out(story: None) -> None:
    rate = review_of("city")["figures"]["settlement_rate_pct"]
    # May: D1, D2, D3, D4, D5, D8 were opened 1 April - 1 May; D1, D2, D5 resolved within 30 days
    # April: P1 (opened 10 March), resolved in 10 days; its coming back later does not undo that
    # May 2025: nothing opened 1 April - 1 May 2025
    assert values(rate) == (50.0, 100.0, None)
    assert rate["parts"] == {
        "current": {"numerator": 3, "denominator": 6},
        "previous": {"numerator": 1, "denominator": 1},
        "last_year": {"numerator": 0, "denominator": 0},
    }
    assert rate["kind"] == "rate" and rate["label"] == "化解率（%，30天内）"
    assert rate["change_vs_previous_pct"] == -50.0
    assert rate["change_vs_last_year_pct"] is None
    assert (rate["significant"], rate["p_vs_previous"]) == (None, None)  # a rate is shown, not tested
    assert rate["unknown"] == {"last_year": "本期到期（开立已满30天）的矛盾纠纷风险为0：无可计算的化解率"}


def test_a_scope_without_disputes_due_has_an_unknown_rate_with_its_reason(story: None) -> None:
    for lang, reason in (
        ("en", "no dispute risk opened 30+ days before the window's end "
               "(none whose 30 days ran out in the window)"),
        ("zh", "本期到期（开立已满30天）的矛盾纠纷风险为0：无可计算的化解率"),
    ):  # fmt: skip
        review = review_of("station:61032301", lang)  # 麦禾营: a place, no dispute
        rate = review["figures"]["settlement_rate_pct"]
        assert values(rate) == (None, None, None)  # never 0
        assert rate["unknown"] == dict.fromkeys(WINDOWS, reason)
        assert all(p == {"numerator": 0, "denominator": 0} for p in rate["parts"].values())
        assert (
            f"化解率未知：{reason}。" if lang == "zh" else f"Settlement rate unknown: {reason}."
        ) in review["findings"]


def test_risks_back_after_resolution_by_the_signal_that_reopened_them(story: None, engine: Engine) -> None:
    city = review_of("city")["figures"]
    # D5 back on 10 May | P1 on 15 April | -; D8 was settled, not resolved; D1's calm visit wakes nothing
    # the story holds nothing a year back: that window is unknown, and the 同比 verdict with it
    assert values(city["risks_back"]) == (1, 1, None)
    assert city["risks_back"]["kind"] == "count" and city["risks_back"]["significant"] is None
    assert city["risks_back"]["significant_vs_previous"] is False
    assert values(review_of("station:61030301")["figures"]["risks_back"]) == (1, 1, None)
    assert values(review_of("community:61030301002")["figures"]["risks_back"]) == (0, 1, None)  # P1's
    assert values(review_of("station:61032301")["figures"]["risks_back"]) == (0, 0, None)
    with Session(engine) as s:  # the audit trail records the same two, as linking ran
        reopened = s.execute(
            select(AuditLog.entity_id, AuditLog.before).where(
                AuditLog.action == "reopen", AuditLog.entity == "risk"
            )
        ).all()
    assert sorted((int(e), b["status"]) for e, b in reopened) == sorted(
        [(risk_of("P1"), "resolved"), (risk_of("D5"), "resolved"), (risk_of("D8"), "settled or referred")]
    )


def test_open_risks_per_officer_at_the_windows_end(story: None, engine: Engine) -> None:
    city = review_of("city")["figures"]["open_risks_per_officer"]
    # 31 May: P1, D4, D5, D6, D7, D8 and H1-H4 (10) | 30 April: P1, D1, D2, D3, D4, D8, H1-H3 (9) | none;
    # over 孙宪河, 李明, 张伟 and 刘芳
    assert values(city) == (10 / 4, 9 / 4, None)  # nothing on record a year back: unknown, not 0.0
    assert city["parts"]["current"] == {"numerator": 10, "denominator": 4}
    assert city["kind"] == "ratio" and city["unknown"] == {"last_year": NO_RECORD[0]}
    station = review_of("station:61030301")["figures"]["open_risks_per_officer"]
    assert values(station) == (9 / 2, 9 / 2, None)  # all but H4, over 孙宪河 and 李明
    village = review_of("station:61032301")["figures"]["open_risks_per_officer"]
    assert values(village) == (1 / 2, 0.0, None)  # H4, over 张伟 and 刘芳; April had data: a real 0
    with session_scope() as s:  # 北营村's assistant moves to patrol: nobody left to carry its risks
        s.execute(update(Officer).where(Officer.officer_code == "O000006").values(role="patrol"))
    alone = review_of("community:61032301002", "en")["figures"]["open_risks_per_officer"]
    assert values(alone) == (None, None, None)
    assert alone["unknown"] == dict.fromkeys(WINDOWS, "no community officer or assistant in the scope")
    assert alone["parts"]["current"] == {"numerator": 0, "denominator": 0}


def test_capacity_notices_beside_supervision_notices(story: None) -> None:
    city = review_of("city")
    keys = list(city["figures"])
    assert keys[keys.index("supervision_notices") + 1] == "capacity_notices"
    assert values(city["figures"]["capacity_notices"]) == (3, 1, None)
    assert values(review_of("station:61030301")["figures"]["capacity_notices"]) == (2, 1, None)
    assert values(review_of("community:61030301002")["figures"]["capacity_notices"]) == (0, 1, None)  # 李明's
    assert values(review_of("community:61032301001")["figures"]["capacity_notices"]) == (1, 0, None)  # 张伟's
    assert "本期力量不足通知3份：应访未能排入当日计划，所长应调配警力。" in city["findings"]


def hotspot(
    place: str, kind: str, community: str, now: int, before: int, pct: float | None
) -> dict[str, Any]:
    return {"place": place, "kind": kind, "community": community, "calls_current": now,
            "calls_previous": before, "change": now - before, "change_vs_previous_pct": pct}  # fmt: skip


def test_hotspots_are_the_places_with_the_most_calls(story: None) -> None:
    review = review_of("city")
    keep = (
        "place",
        "kind",
        "community",
        "calls_current",
        "calls_previous",
        "change",
        "change_vs_previous_pct",
    )
    got = [{k: h[k] for k in keep} for h in review["hotspots"]]
    assert got == [  # H3 had no call in May: not in the table; D5's calls are no place's
        hotspot("幸福路200号", "shop", "盛世广场社区", 5, 2, 150.0),
        hotspot("南营村200号", "school", "南营村", 2, 0, None),
        hotspot("和平街200号", "crossing", "陈仓大道社区", 1, 4, -75.0),
    ]
    first = review["hotspots"][0]
    assert (first["risk_id"], first["station"]) == (risk_of("H1-0"), "陈仓派出所")
    assert first["significant"] is False  # 5 against 2 over 31 and 30 days: chance
    assert (
        "热点幸福路200号（盛世广场社区）本期接警5次（上期2次），为本范围最多，应加强巡逻。"
        in review["findings"]
    )
    assert [h["place"] for h in review_of("station:61032301")["hotspots"]] == ["南营村200号"]
    assert review_of("community:61032301002")["hotspots"] == []  # 北营村: no place, so no hotspot
    # the old ranking stays, under its own name: the communities with the most red and orange risks
    assert {"community", "station", "red", "orange"} <= set(review["risk_communities"][0])


def test_the_findings_in_english(story: None) -> None:
    findings = review_of("city", "en")["findings"]
    for line in (
        "Settlement rate 50.0%: 3 of 6 dispute risks whose 30 days ran out this period were resolved "
        "within them.",
        "1 resolved risk came back this period: check how they were settled.",
        "3 capacity notices this period: visits owed did not fit an officer's day; the station chief should "
        "reassign or ask for help.",
        "The hotspot with the most calls is 幸福路200号 (盛世广场社区): 5 this period against 2 the period "
        "before; patrol it.",
    ):  # fmt: skip
        assert line in findings


def test_the_report_and_the_table_show_parts_reasons_and_hotspots(
    story: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = review_of("city")
    paths = write_report(review, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert '<td class="n">50% (3/6)</td>' in page and '<td class="n">100% (1/1)</td>' in page
    assert '<td class="n">2.50 (10/4)</td>' in page  # open risks per officer
    reason = "本期到期（开立已满30天）的矛盾纠纷风险为0：无可计算的化解率"
    assert f'<td class="n" title="{reason}">—</td>' in page
    assert f"化解率（%，30天内） · 去年同期: {reason}" in page
    assert "热点：接警最多的场所（前10）" in page and "<th>环比</th>" in page
    assert "<td>幸福路200号</td><td>shop</td><td>盛世广场社区</td>" in page
    assert '<td class="n">+3</td><td class="n ns" title="p = 0.4805">+150%</td>' in page
    with paths["csv"].open(encoding="utf-8", newline="") as f:
        rows = {row["figure"]: row for row in csv.DictReader(f)}
    rate = rows["settlement_rate_pct"]
    assert (rate["current_numerator"], rate["current_denominator"], rate["current"]) == ("3", "6", "50.0")
    assert (rate["last_year_denominator"], rate["last_year"]) == ("0", "")
    assert rate["unknown"] == f"last_year: {reason}"
    assert rows["calls"]["current_numerator"] == ""
    assert rows["calls"]["unknown"] == f"last_year: {NO_RECORD[0]}"  # the story holds nothing a year back

    print_review({**review, "files": {"html": str(paths["html"])}})
    out = capsys.readouterr().out
    assert "50.0 (3/6)" in out and "2.50 (10/4)" in out
    assert f"— 化解率（%，30天内）（去年同期）：{reason}" in out
    assert "Hotspots: the top places by 110 calls" in out and "幸福路200号" in out

    print_review({**review_of("community:61032301002"), "files": {"html": "x.html"}})
    assert "Hotspots: no hotspot in the scope" in capsys.readouterr().out
    quiet = write_report(review_of("community:61032301002", "en"), tmp_path / "en")["html"]
    assert "no hotspot in the scope (no place with a call this period)" in quiet.read_text(encoding="utf-8")
