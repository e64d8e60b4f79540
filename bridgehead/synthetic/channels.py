"""The four channels (110 calls, visits, data analysis, tips) for the two years.

Each channel is three parts put together: one-off signals drawn from the channel's volume,
category mix, seasons and hours; the signals of the recurring disputes (``threads``) that fall
to this channel; and the planted story rows. The parts are merged, sorted by time and given
day-serial ids. Story rows keep a ``_tag`` so the manifest can name them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import names, places
from .context import Context, stream
from .jurisdiction import RURAL, SMART, URBAN
from .params import ANALYSIS, ANALYSIS_MIX, CALL_MIX, CALLS, TIP_MIX, TIPS, VISIT_MIX, VISITS, scaled
from .rows import Part, by_category, by_time, concat, day_serial_ids, draw, no_thread
from .texts import ANALYSIS as ANALYSIS_TEXT
from .texts import CALL as CALL_TEXT
from .texts import CAT, CATEGORIES, DISPUTES, Table, add_danger, render
from .texts import TIP as TIP_TEXT
from .texts import VISIT as VISIT_TEXT
from .threads import ANALYSIS as ANALYSIS_CH
from .threads import CALL as CALL_CH
from .threads import TIP as TIP_CH
from .threads import VISIT as VISIT_CH
from .threads import community_weights
from .timeline import to_iso

CONCERNS = np.array(["none", "low", "medium", "high"], dtype=object)
DISPOSITIONS = np.array(
    ["resolved_on_scene", "mediated", "referred", "case_filed", "false_alarm", "advised"], dtype=object
)


def _addresses(
    rng: np.random.Generator,
    ctx: Context,
    comm: np.ndarray,
    cats: np.ndarray,
    site_share: dict[str, float],
) -> np.ndarray:
    """A dwelling, a public site or (for wage disputes) a workplace, by category."""
    j = ctx.j
    out = places.dwellings(rng, j, comm)
    share = np.array([site_share.get(c, site_share["default"]) for c in CATEGORIES])
    u = rng.random(comm.size)
    at_site = u < share[cats]
    out[at_site] = places.sites(rng, j, comm[at_site])
    work = (cats == CAT["labor_debt"]) & (rng.random(comm.size) < 0.7)
    out[work] = places.workplaces(rng, j, comm[work])
    return out


def _parties(
    rng: np.random.Generator,
    ctx: Context,
    comm: np.ndarray,
    cats: np.ndarray,
    counts: dict[str, list[float]],
) -> np.ndarray:
    """Joined party keys of one-off signals: 0-4 residents by category."""
    k = draw(rng, by_category(counts), cats)
    return ctx.keys.join(ctx.residents.draw(rng, comm, k))


def _thread_part(
    rng: np.random.Generator, ctx: Context, channel: int, hours: str
) -> tuple[Part, np.ndarray, np.ndarray]:
    """Thread signals of one channel: their base columns, thread index and escalation flag."""
    s, th = ctx.signals, ctx.threads
    m = s.channel == channel
    idx = s.thread[m]
    cats = s.category[m]
    part: Part = {
        "_t": ctx.times(rng, s.day[m], cats, hours),
        "_tag": np.full(idx.size, "", dtype=object),
        "_thread": idx,
        "comm": th.comm[idx],
        "address": th.address[idx],
        "category": cats,
        "parties": th.parties[idx],
    }
    return part, idx, s.escalated[m]


_AGAIN = {
    "call": ("再次报警：", "Again: "),
    "visit": ("回访：", "Follow-up: "),
    "tip": ("再次反映：", "Again: "),
    "analysis": ("", ""),
}


def _thread_summaries(
    rng: np.random.Generator, ctx: Context, table: Table, idx: np.ndarray, cats: np.ndarray, channel: str
) -> tuple[np.ndarray, np.ndarray]:
    """Summaries of thread signals: one wording per dispute and channel (with its headcount),
    marked as a repeat after the first; an escalation gets its own violence wording."""
    th = ctx.threads
    share = 0.03 if channel == "call" else 0.02
    base, base_en = render(rng, table, th.category, english_share=share, headcount=th.headcount)
    out, english = base[idx].copy(), base_en[idx].copy()
    escalated = cats != th.category[idx]
    if escalated.any():
        out[escalated], english[escalated] = render(rng, table, cats[escalated], english_share=share)
    repeat = np.ones(idx.size, dtype=bool)
    repeat[np.unique(idx, return_index=True)[1]] = False
    zh, en = _AGAIN[channel]
    again = repeat & ~escalated & (rng.random(idx.size) < 0.6)
    out[again] = np.where(english[again], en, zh) + out[again]
    return out, english


def _fill(ctx: Context, targets: tuple[int, int], *fixed: np.ndarray) -> tuple[int, int]:
    """How many one-off rows each year needs so the totals hit ``targets``."""
    taken = np.zeros(2, dtype=np.int64)
    for t in fixed:
        taken += np.bincount(ctx.windows.window_of(t), minlength=2)
    return int(max(targets[0] - taken[0], 0)), int(max(targets[1] - taken[1], 0))


# --- 110 calls ------------------------------------------------------------------------------------

_CALL_SITES = {
    "public_order": 0.7,
    "violence": 0.5,
    "missing_person": 0.6,
    "traffic": 0.35,
    "other": 0.45,
    "fraud": 0.05,
    "default": 0.12,
}
_CALL_PARTIES = {
    "labor_debt": [0, 0.4, 0.3, 0.2, 0.1],
    "public_order": [0.45, 0.3, 0.25, 0, 0],
    "violence": [0.1, 0.4, 0.5, 0, 0],
    "missing_person": [0.2, 0.5, 0.3, 0, 0],
    "fraud": [0.15, 0.85, 0, 0, 0],
    "traffic": [0.4, 0.3, 0.3, 0, 0],
    "other": [0.7, 0.3, 0, 0, 0],
    "default": [0.05, 0.3, 0.5, 0.15, 0],
}
_PRIORITY = by_category(
    {
        "violence": [0.8, 0.2, 0, 0],
        "missing_person": [0.85, 0.15, 0, 0],
        "public_order": [0.1, 0.45, 0.4, 0.05],
        "fraud": [0.02, 0.2, 0.6, 0.18],
        "traffic": [0.1, 0.4, 0.45, 0.05],
        "other": [0.01, 0.09, 0.4, 0.5],
        "default": [0.03, 0.35, 0.55, 0.07],
    }
)
_DANGER = np.array(
    [
        0.015 if CAT[c] in DISPUTES else 0.3 if c == "violence" else 0.02 if c == "public_order" else 0.0
        for c in CATEGORIES
    ]
)
# resolved_on_scene, mediated, referred, case_filed, false_alarm, advised
_DISPOSITION = by_category(
    {
        "violence": [0.25, 0.2, 0.1, 0.45, 0, 0],
        "missing_person": [0.85, 0, 0.1, 0, 0.05, 0],
        "public_order": [0.5, 0.1, 0.0, 0.1, 0.1, 0.2],
        "fraud": [0, 0, 0.2, 0.4, 0, 0.4],
        "traffic": [0.5, 0, 0.4, 0, 0, 0.1],
        "other": [0.3, 0, 0.2, 0, 0.15, 0.35],
        "default": [0.2, 0.55, 0.15, 0.03, 0, 0.07],
    }
)


_CALL_PART = (
    "_t",
    "_tag",
    "_thread",
    "comm",
    "address",
    "category",
    "parties",
    "summary",
    "phone",
    "danger",
    "s_priority",
    "s_disposition",
    "s_open",
)


def build_calls(ctx: Context, story: Part) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """110 call records: history, all closed except the lost-child call."""
    rng = stream(ctx.seed, "calls")
    j = ctx.j
    thread, t_idx, escalated = _thread_part(rng, ctx, CALL_CH, "call")
    targets = (scaled(CALLS[0], ctx.scale), scaled(CALLS[1], ctx.scale))
    t_bg, c_bg = ctx.background(rng, _fill(ctx, targets, thread["_t"], story["_t"]), CALL_MIX, "call")
    comm = rng.choice(j.n_communities, c_bg.size, p=community_weights(j, 1.5, 0.8))
    bg: Part = {
        "_t": t_bg,
        "_tag": np.full(c_bg.size, "", dtype=object),
        "comm": comm,
        "_thread": no_thread(c_bg.size),
        "address": _addresses(rng, ctx, comm, c_bg, _CALL_SITES),
        "category": c_bg,
        "parties": _parties(rng, ctx, comm, c_bg, _CALL_PARTIES),
    }
    bg["summary"], english = render(rng, CALL_TEXT, c_bg)
    danger = rng.random(c_bg.size) < _DANGER[c_bg]
    bg["summary"] = add_danger(rng, bg["summary"], english, c_bg, danger)
    bg["phone"] = names.phones(rng, c_bg.size)

    thread["summary"], english = _thread_summaries(rng, ctx, CALL_TEXT, t_idx, thread["category"], "call")
    t_danger = (escalated & (rng.random(t_idx.size) < 0.7)) | (rng.random(t_idx.size) < 0.01)
    thread["summary"] = add_danger(rng, thread["summary"], english, thread["category"], t_danger)
    thread["phone"] = ctx.threads.phone[t_idx]

    for part, flag in ((bg, danger), (thread, t_danger)):
        part["danger"] = flag
        part["s_priority"] = np.zeros(flag.size, dtype=np.int64)
        part["s_disposition"] = np.full(flag.size, "", dtype=object)
        part["s_open"] = np.zeros(flag.size, dtype=bool)
    story = story | {"danger": np.zeros(story["_t"].size, dtype=bool)}
    rows = by_time(concat([{k: p[k] for k in _CALL_PART} for p in (bg, thread, story)]))
    n = rows["_t"].size
    cats = rows["category"]
    priority = draw(rng, _PRIORITY, cats) + 1
    priority[rows["danger"]] = 1

    # response times: dispatch in about a minute when urgent; arrival by setting (1-3-5 rule)
    dispatched = rng.random(n) < np.array([1.0, 0.97, 0.85, 0.5])[priority - 1]
    median_dispatch = np.array([35.0, 70.0, 180.0, 360.0])[priority - 1]
    dispatch_s = np.maximum(5, rng.lognormal(np.log(median_dispatch), 0.5)).astype(np.int64)
    setting = j.comm_setting[rows["comm"]]
    median_travel = np.select([setting == SMART, setting == URBAN, setting == RURAL], [130.0, 220.0, 540.0])
    median_travel = median_travel * np.where(priority >= 3, 1.6, 1.0)
    travel_s = np.maximum(40, rng.lognormal(np.log(median_travel), 0.33)).astype(np.int64)
    dispute = np.isin(cats, DISPUTES)
    on_scene = rng.lognormal(np.log(np.where(dispute, 45 * 60.0, 30 * 60.0)), 0.6).astype(np.int64)
    desk = rng.lognormal(np.log(8 * 60.0), 0.5, n).astype(np.int64)
    t = rows["_t"]
    dispatched_at = t + dispatch_s
    arrived_at = dispatched_at + travel_s
    closed_at = np.where(dispatched, arrived_at + on_scene, t + desk)
    # the data ends at ``end``: a call near midnight is closed by then
    last = ctx.windows.end_sec - 1
    closed_at = np.minimum(closed_at, last)
    arrived_at = np.minimum(arrived_at, closed_at)
    dispatched_at = np.minimum(dispatched_at, arrived_at)
    disposition = DISPOSITIONS[draw(rng, _DISPOSITION, cats)]
    desk_only = DISPOSITIONS[np.where(rng.random(n) < 0.75, 5, np.where(rng.random(n) < 0.6, 2, 4))]
    disposition = np.where(dispatched, disposition, desk_only)

    # story rows bring their own priority and disposition; an open one has no response yet
    priority = np.where(rows["s_priority"] > 0, rows["s_priority"], priority)
    disposition = np.where(rows["s_disposition"] != "", rows["s_disposition"], disposition)
    closed = ~rows["s_open"]
    dispatched &= closed
    disposition = np.where(closed, disposition, "")

    frame = pd.DataFrame(
        {
            "call_id": day_serial_ids("C", t, 6),
            "received_at": to_iso(t),
            "community_code": j.comm_code[rows["comm"]],
            "address": rows["address"],
            "category": np.array(CATEGORIES, dtype=object)[cats],
            "priority": priority,
            "summary": rows["summary"],
            "party_keys": rows["parties"],
            "phone": rows["phone"],
            "dispatched_at": to_iso(dispatched_at, dispatched),
            "arrived_at": to_iso(arrived_at, dispatched),
            "closed_at": to_iso(closed_at, closed),
            "disposition": disposition,
        }
    )
    return frame, rows["_tag"], rows["_thread"]


# --- visits -----------------------------------------------------------------------------------------

_VISIT_SITES = {"public_order": 0.6, "traffic": 0.8, "other": 0.3, "default": 0.1}
_VISIT_PARTIES = {
    "other": [0.5, 0.5, 0, 0, 0],
    "public_order": [0.6, 0.3, 0.1, 0, 0],
    "traffic": [1, 0, 0, 0, 0],
    "fraud": [0.2, 0.8, 0, 0, 0],
    "violence": [0.1, 0.6, 0.3, 0, 0],
    "missing_person": [0.2, 0.8, 0, 0, 0],
    "default": [0.05, 0.25, 0.55, 0.15, 0],
}
_CONCERN = by_category(
    {
        "other": [0.88, 0.12, 0, 0],
        "public_order": [0.2, 0.5, 0.25, 0.05],
        "violence": [0, 0.2, 0.5, 0.3],
        "fraud": [0.4, 0.5, 0.1, 0],
        "traffic": [0.3, 0.6, 0.1, 0],
        "missing_person": [0.3, 0.5, 0.2, 0],
        "default": [0.1, 0.45, 0.35, 0.1],
    }
)
_THREAD_CONCERN = np.array([0.05, 0.25, 0.45, 0.25])


def build_visits(ctx: Context, story: Part) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Visits by each community's own officer or assistant; ``risk_id`` is always blank."""
    rng = stream(ctx.seed, "visits")
    j = ctx.j
    thread, t_idx, _ = _thread_part(rng, ctx, VISIT_CH, "visit")
    targets = (scaled(VISITS[0], ctx.scale), scaled(VISITS[1], ctx.scale))
    counts = _fill(ctx, targets, thread["_t"], story["_t"])
    t_bg, c_bg = ctx.background(rng, counts, VISIT_MIX, "visit", season="visit")
    rate = (j.comm_population / j.comm_population.mean()) ** 0.3
    w = rate * np.where(j.comm_kind == 0, 1.6, 1.0)
    comm = rng.choice(j.n_communities, c_bg.size, p=w / w.sum())
    bg: Part = {
        "_t": t_bg,
        "_tag": np.full(c_bg.size, "", dtype=object),
        "comm": comm,
        "_thread": no_thread(c_bg.size),
        "address": _addresses(rng, ctx, comm, c_bg, _VISIT_SITES),
        "category": c_bg,
        "parties": _parties(rng, ctx, comm, c_bg, _VISIT_PARTIES),
    }
    bg["summary"], english = render(rng, VISIT_TEXT, c_bg, english_share=0.02)
    danger = np.isin(c_bg, DISPUTES) & (rng.random(c_bg.size) < 0.005)
    bg["summary"] = add_danger(rng, bg["summary"], english, c_bg, danger)
    bg["concern"] = CONCERNS[draw(rng, _CONCERN, c_bg)]
    bg["concern"][danger] = "high"

    thread["summary"], _ = _thread_summaries(rng, ctx, VISIT_TEXT, t_idx, thread["category"], "visit")
    thread["concern"] = CONCERNS[rng.choice(4, t_idx.size, p=_THREAD_CONCERN)]

    for part in (bg, thread):
        part["officer"] = np.full(part["_t"].size, "", dtype=object)
    base = [
        "_t",
        "_tag",
        "_thread",
        "comm",
        "address",
        "category",
        "parties",
        "summary",
        "concern",
        "officer",
    ]
    rows = by_time(concat([{k: p[k] for k in base} for p in (bg, thread, story)]))
    officer = np.where(rows["officer"] != "", rows["officer"], j.comm_officer[rows["comm"]])
    t = rows["_t"]
    frame = pd.DataFrame(
        {
            "visit_id": day_serial_ids("V", t, 5),
            "visited_at": to_iso(t),
            "officer_code": officer,
            "community_code": j.comm_code[rows["comm"]],
            "address": rows["address"],
            "category": np.array(CATEGORIES, dtype=object)[rows["category"]],
            "summary": rows["summary"],
            "party_keys": rows["parties"],
            "concern": rows["concern"],
            "risk_id": np.full(t.size, "", dtype=object),
            "outcome": _outcomes(stream(ctx.seed, "visit-outcomes"), rows),
        }
    )
    return frame, rows["_tag"], rows["_thread"]


# What a visit achieved, by its concern: calm dispute visits often settle (the melon field was
# "mediated on the spot"), a worried one is sometimes referred, a dangerous one escalated. The
# stories keep theirs: the melon field settles, the feud's visits are ongoing (its ending is the
# evidence rule's). A stream of its own, so every other column is as before for the same seed.
_OUTCOME_BY_CONCERN = {  # concern -> (outcomes, probabilities) for dispute categories
    "none": (["settled", ""], [0.5, 0.5]),
    "low": (["settled", ""], [0.4, 0.6]),
    "medium": (["referred", ""], [0.05, 0.95]),
    "high": (["escalated", "referred", ""], [0.3, 0.1, 0.6]),
}


def _outcomes(rng: np.random.Generator, rows: Part) -> np.ndarray:
    dispute = np.isin(rows["category"], DISPUTES)
    out = np.full(rows["_t"].size, "", dtype=object)
    for concern, (values, p) in _OUTCOME_BY_CONCERN.items():
        pick = dispute & (rows["concern"] == concern) & (rows["_tag"] == "")
        out[pick] = rng.choice(np.array(values, dtype=object), int(pick.sum()), p=p)
    out[rows["_tag"] == "melon_field"] = "settled"
    return out


# --- data analysis ----------------------------------------------------------------------------------

_SOURCES = np.array(
    [
        "call_mining",
        "risk_model",
        "fraud_model",
        "hotspot_model",
        "population_check",
        "video_analytics",
        "traffic_model",
    ],
    dtype=object,
)
_SOURCE = by_category(
    {
        "fraud": [0, 0, 1, 0, 0, 0, 0],
        "public_order": [0, 0, 0, 0.7, 0, 0.3, 0],
        "violence": [0, 1, 0, 0, 0, 0, 0],
        "missing_person": [0, 0, 0, 0, 0, 1, 0],
        "traffic": [0, 0, 0, 0, 0, 0, 1],
        "other": [0, 0, 0, 0, 1, 0, 0],
        "default": [0.7, 0.3, 0, 0, 0, 0, 0],
    }
)
_ANALYSIS_SITES = {"public_order": 0.9, "traffic": 0.9, "other": 0.5, "missing_person": 0.9, "default": 0.05}
_ANALYSIS_PARTIES = {
    "fraud": [0, 1, 0, 0, 0],
    "violence": [0, 1, 0, 0, 0],
    "public_order": [0.7, 0.2, 0.1, 0, 0],
    "traffic": [1, 0, 0, 0, 0],
    "other": [0.6, 0.4, 0, 0, 0],
    "missing_person": [0.5, 0.5, 0, 0, 0],
    "default": [0, 0.2, 0.7, 0.1, 0],
}


def build_analysis(ctx: Context) -> tuple[pd.DataFrame, np.ndarray]:
    """Hits from the data-analysis models, with a model score in [0, 1]."""
    rng = stream(ctx.seed, "analysis")
    j = ctx.j
    thread, t_idx, _ = _thread_part(rng, ctx, ANALYSIS_CH, "analysis")
    targets = (scaled(ANALYSIS[0], ctx.scale), scaled(ANALYSIS[1], ctx.scale))
    t_bg, c_bg = ctx.background(rng, _fill(ctx, targets, thread["_t"]), ANALYSIS_MIX, "analysis")
    comm = rng.choice(j.n_communities, c_bg.size, p=community_weights(j, 1.4, 0.8))
    bg: Part = {
        "_t": t_bg,
        "_tag": np.full(c_bg.size, "", dtype=object),
        "comm": comm,
        "_thread": no_thread(c_bg.size),
        "address": _addresses(rng, ctx, comm, c_bg, _ANALYSIS_SITES),
        "category": c_bg,
        "parties": _parties(rng, ctx, comm, c_bg, _ANALYSIS_PARTIES),
    }
    bg["summary"], _ = render(rng, ANALYSIS_TEXT, c_bg, english_share=0.02)
    fraud = c_bg == CAT["fraud"]
    bg["score"] = np.where(fraud, rng.beta(4, 2, c_bg.size), rng.beta(2.2, 2, c_bg.size))
    thread["summary"], _ = _thread_summaries(rng, ctx, ANALYSIS_TEXT, t_idx, thread["category"], "analysis")
    thread["score"] = rng.beta(5, 2, t_idx.size)

    base = ["_t", "_tag", "_thread", "comm", "address", "category", "parties", "summary", "score"]
    rows = by_time(concat([{k: p[k] for k in base} for p in (bg, thread)]))
    t = rows["_t"]
    frame = pd.DataFrame(
        {
            "signal_id": day_serial_ids("A", t, 4),
            "produced_at": to_iso(t),
            "source": _SOURCES[draw(rng, _SOURCE, rows["category"])],
            "community_code": j.comm_code[rows["comm"]],
            "address": rows["address"],
            "category": np.array(CATEGORIES, dtype=object)[rows["category"]],
            "summary": rows["summary"],
            "score": np.char.mod("%.3f", np.round(rows["score"], 3)).astype(object),
            "party_keys": rows["parties"],
        }
    )
    return frame, rows["_thread"]


# --- tips -------------------------------------------------------------------------------------------

_TIP_SITES = {"public_order": 0.6, "fraud": 0.3, "traffic": 0.8, "other": 0.6, "default": 0.15}
_TIP_PART = (
    "_t", "_tag", "_thread", "comm", "address", "category", "summary", "tip_id", "contact", "wants_reward",
)  # fmt: skip


def build_tips(ctx: Context, story: Part) -> tuple[pd.DataFrame, np.ndarray]:
    """Citizen tips; contact is a phone number, a WeChat id or blank (anonymous).

    Story rows bring their own id, contact and reward wish; the other rows are numbered around them.
    """
    rng = stream(ctx.seed, "tips")
    j = ctx.j
    thread, t_idx, _ = _thread_part(rng, ctx, TIP_CH, "tip")
    targets = (scaled(TIPS[0], ctx.scale), scaled(TIPS[1], ctx.scale))
    t_bg, c_bg = ctx.background(rng, _fill(ctx, targets, thread["_t"], story["_t"]), TIP_MIX, "tip")
    comm = rng.choice(j.n_communities, c_bg.size, p=community_weights(j, 1.4, 0.9))
    bg: Part = {
        "_t": t_bg,
        "_tag": np.full(c_bg.size, "", dtype=object),
        "comm": comm,
        "_thread": no_thread(c_bg.size),
        "address": _addresses(rng, ctx, comm, c_bg, _TIP_SITES),
        "category": c_bg,
        "parties": np.full(c_bg.size, "", dtype=object),
    }
    bg["summary"], _ = render(rng, TIP_TEXT, c_bg, english_share=0.02)
    thread["summary"], _ = _thread_summaries(rng, ctx, TIP_TEXT, t_idx, thread["category"], "tip")
    for part in (bg, thread):
        size = part["_t"].size
        part["tip_id"] = np.full(size, "", dtype=object)
        part["contact"] = np.full(size, "", dtype=object)
        part["wants_reward"] = np.zeros(size, dtype=bool)
    rows = by_time(concat([{k: p[k] for k in _TIP_PART} for p in (bg, thread, story)]))
    t = rows["_t"]
    n = t.size
    planted = rows["tip_id"] != ""
    tip_id = rows["tip_id"].copy()
    tip_id[~planted] = day_serial_ids("T", t[~planted], 4)
    if len(set(tip_id.tolist())) != n:
        raise ValueError("a planted tip id is also a generated one: raise its serial above the day's tips")
    u = rng.random(n)
    contact = np.where(u < 0.55, names.phones(rng, n), np.where(u < 0.92, names.wechat_ids(rng, n), ""))
    contact = np.where(planted, rows["contact"], contact)
    wants_reward = np.where(planted, rows["wants_reward"], rng.random(n) < 0.6)
    frame = pd.DataFrame(
        {
            "tip_id": tip_id,
            "received_at": to_iso(t),
            "community_code": j.comm_code[rows["comm"]],
            "address": rows["address"],
            "category": np.array(CATEGORIES, dtype=object)[rows["category"]],
            "summary": rows["summary"],
            "contact": contact.astype(object),
            "wants_reward": np.where(wants_reward, "true", "false").astype(object),
        }
    )
    return frame, rows["_thread"]
