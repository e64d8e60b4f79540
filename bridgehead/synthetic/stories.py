"""The seed report's three stories, planted on known dates as acceptance scenarios.

1. Lost child (走失): a 110 call at about 20:15 on the last 7 August before ``end``, from
   陈仓大道盛世广场 (陈仓派出所, 金台区). It is the one open urgent call in the file (no
   dispatch, arrival, closing or disposition), for a later stage to replay as a quick response.
2. Melon field (瓜地纠纷): a visit on the last 10 August before ``end`` by the officer of 南营村
   (麦禾营派出所, 岐山县) who mediated a payment quarrel between farmers and a buyer on the spot.
3. Neighbour feud (邻里积怨): the 刘 and 曹 families of 宝桥新村 (神农派出所, 渭滨区) call the
   police every few weeks for two years; 孙宪河 follows up each call; in the last seven weeks six
   visits find the feud settled, with no call in between (enough for the evidence rule to take it
   from orange to yellow, blue and resolved).
4. Unpaid wages (欠薪举报): ten days before ``end`` a citizen tip, reward wanted, reports a building
   site in an urban community that owes twenty workers their wages. Its tip id is fixed
   (``T<YYYYMMDD>9001``, beside the day's serials), so the tip-verification scenario can name it; the
   community's officer is the one to verify it (outcome ``risk_found``).

The stories' people get person ids above the resident range, so no one-off row shares them.
The feud's calls are at least 20 days apart and each is followed by one visit within 3 days,
so it never has 5 signals within 30 days: it grades orange, as in the report, not red.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from . import names
from .context import Context, stream
from .jurisdiction import COMMUNITY, STORY_PLACES
from .texts import CAT
from .timeline import DAY, last_before, local_seconds

LOST_CHILD_AT = time(20, 15)
MELON_AT = time(10, 30)
WAGE_TIP_AT = time(9, 40)
WAGE_TIP_DAYS_BEFORE_END = 10
WAGE_TIP_SERIAL = "9001"  # far above a day's serials, so the fixed id never meets a generated one
WAGE_TIP_SUMMARY = "举报某建筑工地拖欠二十名工人工资，工人多次讨要无果"

FEUD_CALLS = (
    "刘家与邻居曹家因琐事再次发生口角，互相辱骂",
    "曹某报警称邻居刘某一家辱骂其家人",
    "刘、曹两家因楼道堆放杂物发生争吵",
    "两户邻居见面互相辱骂，请求民警处理",
    "刘某报警称邻居曹某在门口叫骂",
)
FEUD_VISITS = (
    "上门走访刘、曹两家，双方仍有积怨，做调解工作",
    "回访刘、曹两家，曹某仍对刘家不满，继续疏导",
    "走访刘家，了解与曹家矛盾起因，劝其克制",
    "与社区网格员一同走访刘、曹两家，调解邻里矛盾",
)
FEUD_CALM = (
    "回访刘、曹两家，双方已和好，近期无争吵",
    "再次回访，刘、曹两家关系缓和，矛盾已化解",
)


@dataclass
class StoryRows:
    """Rows for the call and visit builders, plus what the manifest says about them."""

    calls: list[dict[str, object]] = field(default_factory=list)
    visits: list[dict[str, object]] = field(default_factory=list)
    tips: list[dict[str, object]] = field(default_factory=list)
    people: dict[str, list[str]] = field(default_factory=dict)

    def call_part(self) -> dict[str, np.ndarray]:
        return _part(self.calls, CALL_FIELDS)

    def visit_part(self) -> dict[str, np.ndarray]:
        return _part(self.visits, VISIT_FIELDS)

    def tip_part(self) -> dict[str, np.ndarray]:
        return _part(self.tips, TIP_FIELDS)


_SHARED_FIELDS = {
    "_t": np.int64,
    "_tag": object,
    "_thread": np.int64,
    "comm": np.int64,
    "address": object,
    "category": np.int64,
    "parties": object,
    "summary": object,
}
CALL_FIELDS = _SHARED_FIELDS | {
    "phone": object,
    "s_priority": np.int64,
    "s_disposition": object,
    "s_open": bool,
}
VISIT_FIELDS = _SHARED_FIELDS | {"concern": object, "officer": object}
TIP_FIELDS = _SHARED_FIELDS | {"tip_id": object, "contact": object, "wants_reward": bool}


def _part(rows: list[dict[str, object]], fields: dict[str, type]) -> dict[str, np.ndarray]:
    return {k: np.array([r[k] for r in rows], dtype=dt) for k, dt in fields.items()}


def _at(day: int, seconds: int, ctx: Context) -> int:
    return ctx.windows.start_sec + day * DAY + seconds


def build_stories(ctx: Context) -> StoryRows:
    rng = stream(ctx.seed, "stories")
    j = ctx.j
    base = ctx.residents.total
    ids = np.arange(base, base + 13)
    keys = ctx.keys.keys(ids).tolist()
    parents, farmers, buyer = keys[0:2], keys[2:6], keys[6]
    liu, cao = keys[7:10], keys[10:13]
    out = StoryRows(
        people={
            "lost_child_parents": parents,
            "melon_farmers": farmers,
            "melon_buyer": [buyer],
            "liu_family": liu,
            "cao_family": cao,
        }
    )
    phone = names.phones(rng, 3).tolist()
    end = ctx.windows.end

    # 1. lost child --------------------------------------------------------------------------
    day = last_before(end, 8, 7)
    out.calls.append(
        {
            "_t": local_seconds(datetime.combine(day, LOST_CHILD_AT)),
            "_tag": "lost_child",
            "_thread": -1,
            "comm": j.special["lost_child"],
            "address": STORY_PLACES["lost_child"][3],
            "category": CAT["missing_person"],
            "parties": ";".join(parents),
            "summary": "三岁男孩在盛世广场走失，家长报警",
            "phone": phone[0],
            "s_priority": 1,
            "s_disposition": "",
            "s_open": True,
        }
    )

    # 2. melon field ------------------------------------------------------------------------
    day = last_before(end, 8, 10)
    melon = j.special["melon_field"]
    out.visits.append(
        {
            "_t": local_seconds(datetime.combine(day, MELON_AT)),
            "_tag": "melon_field",
            "_thread": -1,
            "comm": melon,
            "address": STORY_PLACES["melon_field"][3],
            "category": CAT["labor_debt"],
            "parties": ";".join([*farmers, buyer]),
            "summary": "瓜农与瓜商因收购西瓜价格发生争吵，瓜农拦车，民警现场调解，双方达成和解",
            "concern": "low",
            "officer": j.comm_officer[melon],
        }
    )

    # 3. neighbour feud ---------------------------------------------------------------------
    feud = j.special["neighbour_feud"]
    address = STORY_PLACES["neighbour_feud"][3]
    officer = j.comm_officer[feud]
    n = ctx.windows.n_days
    last_call_day = n - 50
    # six calm visits, on time for each colour's cadence: orange -> yellow -> blue -> resolved
    calm_days = (n - 46, n - 43, n - 37, n - 31, n - 22, n - 8)
    call_days = [int(rng.integers(5, 20))]
    while True:
        nxt = call_days[-1] + int(rng.integers(20, 46))
        if nxt > last_call_day:
            break
        call_days.append(nxt)

    def members() -> str:
        extra = [k for k in (*liu[1:], *cao[1:]) if rng.random() < 0.3]
        return ";".join([liu[0], cao[0], *extra])

    for i, d in enumerate(call_days):
        out.calls.append(
            {
                "_t": _at(d, int(rng.integers(17 * 3600, 22 * 3600 + 1800)), ctx),
                "_tag": "feud_call",
                "_thread": -1,
                "comm": feud,
                "address": address,
                "category": CAT["family_neighbor"],
                "parties": members(),
                "summary": FEUD_CALLS[int(rng.integers(0, len(FEUD_CALLS)))],
                "phone": phone[1 + i % 2],
                "s_priority": 2,
                "s_disposition": "mediated",
                "s_open": False,
            }
        )
        visit_days = [d + int(rng.integers(1, 4))]
        if i + 1 < len(call_days) and call_days[i + 1] - d >= 40:
            visit_days.append((d + call_days[i + 1]) // 2)  # a routine visit in a long lull
        for vd in visit_days:
            out.visits.append(
                _feud_visit(rng, ctx, vd, "feud_visit", feud, address, officer, members(), FEUD_VISITS, None)
            )
    for vd in calm_days:
        out.visits.append(
            _feud_visit(
                rng, ctx, vd, "feud_calm", feud, address, officer, f"{liu[0]};{cao[0]}", FEUD_CALM, "none"
            )
        )

    # 4. unpaid wages: drawn last, so the stories above keep their rows -----------------------
    out.tips.append(_wage_tip(rng, ctx))
    return out


def _wage_tip(rng: np.random.Generator, ctx: Context) -> dict[str, object]:
    """A tip about a building site's unpaid wages, in an urban community with its own officer."""
    j = ctx.j
    story_places = {j.special[key] for key in STORY_PLACES}
    urban = [c for c in np.flatnonzero(j.comm_kind == COMMUNITY).tolist() if c not in story_places]
    comm = int(urban[int(rng.integers(0, len(urban)))])
    day = ctx.windows.end - timedelta(days=WAGE_TIP_DAYS_BEFORE_END)
    return {
        "_t": local_seconds(datetime.combine(day, WAGE_TIP_AT)),
        "_tag": "wage_tip",
        "_thread": -1,
        "comm": comm,
        "address": f"{j.comm_road[comm]}{int(rng.integers(1, 400))}号建筑工地",
        "category": CAT["labor_debt"],
        "parties": "",
        "summary": WAGE_TIP_SUMMARY,
        "tip_id": f"T{day:%Y%m%d}{WAGE_TIP_SERIAL}",
        "contact": str(names.phones(rng, 1)[0]),
        "wants_reward": True,
    }


def _feud_visit(
    rng: np.random.Generator,
    ctx: Context,
    day: int,
    tag: str,
    comm: int,
    address: str,
    officer: str,
    parties: str,
    texts: tuple[str, ...],
    concern: str | None,
) -> dict[str, object]:
    if concern is None:
        concern = str(rng.choice(["high", "medium", "low"], p=[0.45, 0.45, 0.10]))
    return {
        "_t": _at(day, int(rng.integers(9 * 3600, 17 * 3600 + 1800)), ctx),
        "_tag": tag,
        "_thread": -1,
        "comm": comm,
        "address": address,
        "category": CAT["family_neighbor"],
        "parties": parties,
        "summary": texts[int(rng.integers(0, len(texts)))],
        "concern": concern,
        "officer": officer,
    }
