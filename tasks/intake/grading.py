"""Four-colour grading (四色预警), set-based: every rule is a vectorised test over all signals.

`grade(signals, rules)` takes the signals of the risks to grade (those since each risk's floor:
its opening, or its last lowering by the evidence rule) and returns, per risk, the highest colour
any rule matched and every reason code that matched, e.g. `orange.signals_3_in_30d`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bridgehead.rules import Burst, Rules
from models.common import Colour

DAY_S = 86_400
REASON_COLOURS = {c.value: c for c in Colour}
_CN_DIGITS = {ch: n for n, ch in enumerate("零一二三四五六七八九")} | {"两": 2}
_PEOPLE = re.compile(
    r"(\d+|[零一二两三四五六七八九十百]+)\s*(?:多|余)?\s*(?:名|个|位)?\s*(?:[a-z]+\s+)?"
    r"(?:工人|农民工|民工|员工|村民|人|workers?|people|employees|labou?rers)",
    re.I,
)

SIGNAL_COLUMNS = [
    "risk_id",
    "occurred_at",
    "channel",
    "category",
    "summary",
    "party_count",
    "score",
    "counted",
]


def colour_of(reason: str) -> Colour:
    return REASON_COLOURS[reason.split(".", 1)[0]]


def chinese_number(text: str) -> int:
    """'二十' -> 20, '三十五' -> 35, '十二' -> 12, '一百' -> 100, '12' -> 12 (enough for headcounts)."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total, current = total + (current or 1) * 100, 0
        elif ch == "十":
            total, current = total + (current or 1) * 10, 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


def people_named(summary: pd.Series) -> pd.Series:
    """The largest headcount a summary states ('20名工人', '30余名', '二十名工人', '12 workers'), else 0."""
    found = summary.str.extractall(_PEOPLE)[0]
    if found.empty:
        return pd.Series(0, index=summary.index)
    counts = found.map(chinese_number).astype(int)
    return counts.groupby(level=0).max().reindex(summary.index, fill_value=0)


def _sorted(signals: pd.DataFrame) -> pd.DataFrame:
    s = signals.sort_values(["risk_id", "occurred_at"], kind="stable").reset_index(drop=True)
    # whole seconds since the epoch, whatever resolution pandas chose for the timestamps
    seconds = (s["occurred_at"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    s["_t"] = seconds.to_numpy(dtype="int64")
    # one sortable key per row: risks never overlap because each gets its own span of 2**40 seconds
    s["_k"] = pd.factorize(s["risk_id"], sort=True)[0].astype("int64") * (1 << 40) + (s["_t"] - s["_t"].min())
    return s


def _in_window(s: pd.DataFrame, days: int, mask: pd.Series | None = None) -> np.ndarray:
    """For each row: how many (masked) rows of its risk fall in [t, t + days]."""
    keys = s["_k"].to_numpy()
    pool = keys if mask is None else keys[mask.to_numpy()]
    start = np.searchsorted(pool, keys, side="left")
    end = np.searchsorted(pool, keys + days * DAY_S, side="right")
    return end - start


def counted(s: pd.DataFrame) -> pd.Series:
    """The signals the counting rules count: reports of what happened, not the follow-up visits the
    register asked for (a visit naming its risk) unless they found danger. Otherwise an officer
    visiting an orange risk every three days and finding it not yet settled would make it red by
    "5 signals within 30 days": the visits the cadence asks for would raise the cadence."""
    if "counted" not in s.columns:
        return pd.Series(True, index=s.index)
    return s["counted"].fillna(True).astype(bool)


def burst(s: pd.DataFrame, rule: Burst) -> np.ndarray:
    """Rows that start a run of `count` counted signals within `days` on the same risk."""
    mask = counted(s)
    return (_in_window(s, rule.days, mask) >= rule.count) & mask.to_numpy()


def channels_within(s: pd.DataFrame, rule: Burst) -> np.ndarray:
    """Rows that start a window of `days` holding counted signals from `count` or more channels."""
    mask = counted(s)
    seen = np.zeros(len(s), dtype=int)
    for channel in s["channel"].unique():
        seen += _in_window(s, rule.days, (s["channel"] == channel) & mask) > 0
    return (seen >= rule.count) & mask.to_numpy()


def near_another(s: pd.DataFrame, days: int, apart_hours: float = 0) -> np.ndarray:
    """Rows with another counted signal of the same risk within `days` before or after, and at least
    `apart_hours` away: calls minutes apart (or on one day, where a source keeps dates only) about one
    fight are one event called in several times, not violence repeated."""
    mask = counted(s)
    keys = s["_k"].to_numpy()
    pool = keys[mask.to_numpy()]
    near, far = int(apart_hours * 3600), days * DAY_S
    later = np.searchsorted(pool, keys + far, side="right") - np.searchsorted(pool, keys + near, side="left")
    earlier = np.searchsorted(pool, keys - near, side="right") - np.searchsorted(
        pool, keys - far, side="left"
    )
    if near == 0:  # the row itself sits in both windows
        later, earlier = later - mask.to_numpy(), earlier - mask.to_numpy()
    return mask.to_numpy() & ((later > 0) | (earlier > 0))


def signal_reasons(s: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One boolean column per reason code, one row per signal (sorted by risk and time)."""
    g = rules.grading
    text = s["summary"].fillna("").astype(str)
    category = s["category"].astype(str)
    flags: dict[str, np.ndarray] = {}
    for code, pattern in rules.keyword_patterns.items():
        flags[code] = text.str.contains(pattern).to_numpy()
    for cat in g.red.categories:
        flags[f"red.{cat.value}"] = (category == cat.value).to_numpy()
    violence = category.isin([c.value for c in g.orange.categories])
    flags["red.violence_repeat"] = violence.to_numpy() & near_another(
        s, g.red.violence_repeat_days, g.red.violence_repeat_apart_hours
    )
    flags[f"red.signals_{g.red.signals.count}_in_{g.red.signals.days}d"] = burst(s, g.red.signals)
    flags["orange.violence"] = violence.to_numpy()
    flags[f"orange.signals_{g.orange.signals.count}_in_{g.orange.signals.days}d"] = burst(s, g.orange.signals)
    flags[f"orange.channels_{g.orange.channels.count}_in_{g.orange.channels.days}d"] = channels_within(
        s, g.orange.channels
    )
    labor = category == "labor_debt"
    people = np.zeros(len(s), dtype=int)
    if labor.any():
        people[labor.to_numpy()] = people_named(text[labor]).to_numpy()
    crowd = np.maximum(people, s["party_count"].fillna(0).astype(int).to_numpy())
    flags["orange.labor_debt_crowd"] = labor.to_numpy() & (crowd >= g.orange.labor_debt_people)
    flags["yellow.dispute"] = category.isin([c.value for c in g.yellow.categories]).to_numpy()
    for cat in g.blue.categories:
        flags[f"blue.{cat.value}"] = (category == cat.value).to_numpy()
    low = (s["channel"] == "analysis") & (s["score"].astype(float) < g.blue.analysis_score_below)
    flags["blue.low_score_analysis"] = low.fillna(False).to_numpy(dtype=bool)
    return pd.DataFrame(flags, index=s.index)


def grade(signals: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per risk_id: `level` (highest colour matched, or None) and `reasons` (codes, red first)."""
    if signals.empty:
        return pd.DataFrame({"level": pd.Series(dtype=object), "reasons": pd.Series(dtype=object)})
    s = _sorted(signals)
    matched = signal_reasons(s, rules).groupby(s["risk_id"]).any()
    order = sorted(matched.columns, key=lambda code: -colour_of(code).rank)
    matched = matched[order]
    codes = np.array(order, dtype=object)
    reasons = [list(codes[row]) for row in matched.to_numpy()]
    levels = [colour_of(r[0]).value if r else None for r in reasons]
    # object columns: a risk no rule matches keeps None, not the NaN of a pandas string column
    return pd.DataFrame(
        {"level": pd.Series(levels, dtype=object), "reasons": pd.Series(reasons, dtype=object)}
    ).set_axis(matched.index)


def opens_risk(signals: pd.DataFrame, rules: Rules) -> np.ndarray:
    """Whether each signal may open a risk: anything but `traffic`/`other`, unless a red rule matches."""
    category = signals["category"].astype(str)
    red_only = category.isin([c.value for c in rules.grading.red_only_categories]).to_numpy()
    text = signals["summary"].fillna("").astype(str)
    red = np.zeros(len(signals), dtype=bool)
    for code, pattern in rules.keyword_patterns.items():
        if code.startswith("red."):
            red |= text.str.contains(pattern).to_numpy()
    red |= category.isin([c.value for c in rules.grading.red.categories]).to_numpy()
    return ~red_only | red
