"""What a review says in words (复盘结论): figure names and findings, in Chinese or English.

Each finding is one sentence a station chief can act on, and a change is called real only when the
Poisson test says so; a big swing in a small count is named as chance, not as progress.
"""

from __future__ import annotations

from typing import Any, cast

from tasks.review.document import Figure, Review, Value, unknowns
from tasks.review.stats import shown_cell, shown_pct

LABELS: dict[str, tuple[str, str]] = {
    "calls": ("110接警", "110 calls"),
    "cases_filed": ("刑事立案", "Criminal cases filed"),
    "telecom_fraud_filed": ("电诈立案", "Telecom-fraud cases filed"),
    "telecom_fraud_solved": ("电诈破案", "Telecom-fraud cases solved"),
    "risks_found": ("发现风险", "Risks found"),
    "risks_found.channel.call": ("发现风险·110接警", "Risks found by 110 calls"),
    "risks_found.channel.visit": ("发现风险·走访", "Risks found by visits"),
    "risks_found.channel.analysis": ("发现风险·数据研判", "Risks found by data analysis"),
    "risks_found.channel.tip": ("发现风险·群众举报", "Risks found by citizen tips"),
    "risks_found.colour.red": ("发现风险·红色", "Risks found, red"),
    "risks_found.colour.orange": ("发现风险·橙色", "Risks found, orange"),
    "risks_found.colour.yellow": ("发现风险·黄色", "Risks found, yellow"),
    "risks_found.colour.blue": ("发现风险·蓝色", "Risks found, blue"),
    "risks_resolved": ("化解风险", "Risks resolved"),
    "settlement_rate_pct": ("化解率（%，30天内）", "Settlement rate (%, disputes within 30 days)"),
    "risks_back": ("化解后复发风险", "Risks back after resolution"),
    "open_risks_per_officer": (
        "人均在册风险（社区民警、警务助理）",
        "Open risks per community officer or assistant",
    ),
    "conversions": ("民转刑", "Disputes turned criminal (民转刑)"),
    "conversions_homicide": ("刑转命", "Disputes turned homicide (刑转命)"),
    "incidents": ("快反警情", "Urgent incidents"),
    "response_targets_met": ("快反达标（1-3-5）", "Incidents on target (1-3-5)"),
    "response_on_target_pct": ("快反达标率（%）", "On-target rate (%)"),
    "dispatch_median_s": ("派警用时中位数（秒）", "Dispatch time, median (s)"),
    "dispatch_p90_s": ("派警用时90%分位（秒）", "Dispatch time, 90th percentile (s)"),
    "arrival_median_s": ("到场用时中位数（秒）", "Arrival time, median (s)"),
    "arrival_p90_s": ("到场用时90%分位（秒）", "Arrival time, 90th percentile (s)"),
    "follow_ups_due": ("应跟进", "Follow-ups due"),
    "follow_ups_on_time": ("按时跟进", "Follow-ups on time"),
    "follow_up_on_time_pct": ("按时跟进率（%）", "Follow-up on-time rate (%)"),
    "supervision_notices": ("督促通知", "Supervision notices"),
    "capacity_notices": ("力量不足通知", "Capacity notices"),
    "accountability_entries": ("问责", "Accountability entries"),
    "tips_received": ("群众举报", "Tips received"),
    "tips_verified": ("举报核实", "Tips verified"),
    "tips_rewarded": ("举报奖励", "Tips rewarded"),
}

HEADLINES = (
    "cases_filed",
    "telecom_fraud_filed",
    "telecom_fraud_solved",
    "calls",
    "conversions",
    "risks_found",
    "risks_resolved",
)
SWING_PCT = 20  # a change this large in a small count is named as chance...
SMALL = 10  # ...unless the count is too small to say anything about at all


def label(key: str, lang: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


def _n(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else "—"


def findings(review: Review, lang: str) -> list[str]:
    """The sentences at the top of the review, most telling first."""
    zh = lang == "zh"
    out: list[str] = []
    if review.get("unfinished"):
        last = review["windows"]["current"]["last"]
        out.append(
            f"本期至{last}尚未结束，数字仍在增长，与上期、去年同期比较时须注意。"
            if zh
            else f"This period runs to {last} and has not ended: its figures are still growing, "
            "so compare them with care."
        )
    figures = review["figures"]
    real, chance = [], []
    for key in HEADLINES:
        f = figures.get(key)
        if f is None or f["change_vs_last_year_pct"] is None:
            continue
        what, change = f["label"], shown_pct(f["change_vs_last_year_pct"])
        pair = f"{_n(f['current'])} / {_n(f['last_year'])}"
        now, then = cast(float, f["current"]), cast(float, f["last_year"])  # known: a change is computed
        if f["significant_vs_last_year"]:
            real.append(
                f"{what}同比{change}（本期{_n(f['current'])}，去年同期{_n(f['last_year'])}），变化显著。"
                if zh
                else f"{what}: {change} year on year ({pair}), a real change (Poisson test, 5% level)."
            )
        elif abs(f["change_vs_last_year_pct"]) >= SWING_PCT and max(now, then) >= SMALL:
            chance.append(
                f"{what}同比{change}（{pair}），但数量小，属正常波动，不宜据此下结论。"
                if zh
                else f"{what}: {change} year on year ({pair}), but the counts are small: chance, not a trend."
            )
    out += real + chance[:2]
    rising = [r for r in review["rankings"] if (r["change_pct"] or 0) > 0 and r["significant"]]
    if rising:
        r = rising[0]
        out.append(
            f"{r['name']}刑事立案同比{shown_pct(r['change_pct'])}（{r['cases_current']}起，去年同期"
            f"{r['cases_last_year']}起），升幅最大且显著，应复盘其风险台账。"
            if zh
            else f"{r['name']}: criminal cases {shown_pct(r['change_pct'])} year on year "
            f"({r['cases_current']} / {r['cases_last_year']}), the largest real rise: review its risks."
        )
    out += _ends(review, zh)
    if review["risk_communities"]:
        h = review["risk_communities"][0]
        out.append(
            f"{h['community']}（{h['station']}）在册红色风险{h['red']}个、橙色{h['orange']}个，为本范围最多，"
            "应逐一落实包案跟进。"
            if zh
            else f"{h['community']} ({h['station']}) has the most open risks: {h['red']} red and "
            f"{h['orange']} orange; give each a named officer and a visit this week."
        )
    if review["late_officers"]:
        o = review["late_officers"][0]
        out.append(
            f"{o['officer']}（{o['officer_code']}，{o['station']}）本期逾期跟进{o['late']}次，为最多，所长应督促整改。"
            if zh
            else f"Officer {o['officer']} ({o['officer_code']}, {o['station']}) missed "
            f"{_count(o['late'], 'follow-up date')} this period, the most: the station chief should go "
            "through the list with them."
        )
    if review["hotspots"]:
        p = review["hotspots"][0]  # a place
        out.append(
            f"热点{p['place']}（{p['community']}）本期接警{p['calls_current']}次（上期{p['calls_previous']}次），"
            "为本范围最多，应加强巡逻。"
            if zh
            else f"The hotspot with the most calls is {p['place']} ({p['community']}): "
            f"{p['calls_current']} this period against {p['calls_previous']} the period before; patrol it."
        )
    converted, homicides = figures["conversions"]["current"], figures["conversions_homicide"]["current"]
    if converted:
        out.append(
            f"本期{converted}起刑事案件由矛盾纠纷转化而来（民转刑），其中命案{homicides}起（刑转命），见转化清单。"
            if zh
            else f"{_count(converted, 'criminal case')} this period grew out of dispute risks (民转刑), "
            f"{homicides} of them homicide (刑转命): see the list of conversions."
        )
    rate = figures["response_on_target_pct"]["current"]
    if rate is not None:
        incidents = cast(int, figures["incidents"]["current"])  # counted: the rate is over them
        arrive, p90 = figures["arrival_median_s"]["current"], figures["arrival_p90_s"]["current"]
        out.append(
            f"快反达标率{rate:.1f}%（{incidents:,}起警情），到场用时中位数{_n(arrive)}秒、90%分位{_n(p90)}秒。"
            if zh
            else f"Quick response met the 1-3-5 targets in {rate:.1f}% of "
            f"{_count(incidents, 'incident')}; arrival took {_n(arrive)} s at the median and {_n(p90)} s "
            "at the 90th percentile."
        )
    elif figures["incidents"]["current"]:  # incidents, but none whose targets could be judged
        why = (figures["response_on_target_pct"].get("unknown") or {}).get("current", "")
        out.append(
            f"快反1-3-5达标率无法计算：{why}。"
            if zh
            else f"Quick response 1-3-5 compliance is unknown: {why}."
        )
    if not out:
        out.append("本期各项指标无显著变化。" if zh else "No figure changed by more than chance this period.")
    return out


def _ends(review: Review, zh: bool) -> list[str]:
    """化解: the settlement rate (or why it is unknown), the risks back, the capacity notices."""
    figures, out = review["figures"], []
    rate = figures.get("settlement_rate_pct")
    if rate is not None:
        parts = rate["parts"]["current"]
        if rate["current"] is None:
            reason = rate["unknown"]["current"]
            out.append(f"化解率未知：{reason}。" if zh else f"Settlement rate unknown: {reason}.")
        else:
            n, d = parts["numerator"], parts["denominator"]
            out.append(
                f"化解率{rate['current']:.1f}%：本期满30天的矛盾纠纷风险{d}个，30天内化解{n}个。"
                if zh
                else f"Settlement rate {rate['current']:.1f}%: {n} of {_count(d, 'dispute risk')} "
                "whose 30 days ran out this period were resolved within them."
            )
    back = _current(figures, "risks_back")
    if back:
        out.append(
            f"本期{back}个已化解风险再次出现，应复查其化解质量。"
            if zh
            else f"{_count(back, 'resolved risk')} came back this period: check how they were settled."
        )
    notices = _current(figures, "capacity_notices")
    if notices:
        out.append(
            f"本期力量不足通知{notices}份：应访未能排入当日计划，所长应调配警力。"
            if zh
            else f"{_count(notices, 'capacity notice')} this period: visits owed did not fit an officer's "
            "day; the station chief should reassign or ask for help."
        )
    return out


def _current(figures: dict[str, Figure], key: str) -> Value:
    """A figure's value this period; None where the review has no such figure."""
    figure = figures.get(key)
    return None if figure is None else figure["current"]


def unknown_notes(review: Review) -> list[str]:
    """'labels (window): why they are unknown', once per window and reason."""
    zh = review.get("lang") == "zh"
    names = {"current": "本期", "previous": "上期", "last_year": "去年同期"} if zh else {}
    return [
        f"{'、'.join(labels)}（{names[window]}）：{reason}"
        if zh
        else f"{', '.join(labels)} ({window.replace('_', ' ')}): {reason}"
        for window, reason, labels in unknowns(review["figures"])
    ]


def markdown(review: Review, html: Any) -> str:
    """The review as the Prefect UI shows it: findings, the figures, the top of the rankings."""
    zh = review["lang"] == "zh"
    w = review["windows"]
    head = (
        ("本期", "上期", "去年同期", "环比", "同比")
        if zh
        else ("now", "previous", "last year", "vs previous", "vs last year")
    )
    lines = [
        f"# {'复盘问效' if zh else 'Review'}: {review['scope_name']} · {review['period']}",
        "",
        f"{w['current']['first']} – {w['current']['last']} · {head[1]} {w['previous']['first']} – "
        f"{w['previous']['last']} · {head[2]} {w['last_year']['first']} – {w['last_year']['last']}",
        "",
        *(f"- {f}" for f in review["findings"]),
        "",
        f"| {'指标' if zh else 'figure'} | {' | '.join(head)} |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in review["figures"].values():
        marks = [
            "**" if shown else "" for shown in (f["significant_vs_previous"], f["significant_vs_last_year"])
        ]
        lines.append(
            f"| {f['label']} | "
            + " | ".join(shown_cell(f, w) for w in ("current", "previous", "last_year"))
            + " | "
            f"{marks[0]}{shown_pct(f['change_vs_previous_pct'])}{marks[0]} | "
            f"{marks[1]}{shown_pct(f['change_vs_last_year_pct'])}{marks[1]} |"
        )
    lines += ["", *(f"- — {note}" for note in unknown_notes(review))] if unknown_notes(review) else []
    lines += [
        "",
        "**粗体**：泊松检验显著（5%）。"
        if zh
        else "**Bold**: a real change (exact conditional Poisson test, 5% level).",
        "",
        f"{'报告' if zh else 'Report'}: `{html}`",
    ]
    return "\n".join(lines)


def _count(n: float, noun: str) -> str:
    """'1 criminal case', '2 criminal cases'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
