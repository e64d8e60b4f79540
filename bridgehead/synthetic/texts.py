"""Short summaries, in Chinese with a few in English, written the way a duty desk would.

Each channel has its own phrasing per category. A template may hold one ``{n}`` slot (a count
or an amount) filled from its range. A small share of rows get a weapon, threat or self-harm
clause, so the red grading rules have something real to match.
"""

from __future__ import annotations

import numpy as np

from models.common import Category

CATEGORIES = tuple(c.value for c in Category)  # the enum's order fixes the random draws
CAT = {code: i for i, code in enumerate(CATEGORIES)}
DISPUTES = (CAT["labor_debt"], CAT["family_neighbor"], CAT["marriage_romance"], CAT["land_property"])

Template = tuple[str, int, int]
Table = dict[str, list[Template]]


def _t(*items: str | Template) -> list[Template]:
    return [(i, 0, 0) if isinstance(i, str) else i for i in items]


CALL: Table = {
    "labor_debt": _t(
        "讨要工资未果，与老板发生争执",
        ("{n}名工人聚集讨要工资", 10, 40),
        ("{n}名工人讨薪，堵在公司门口", 10, 30),
        ("工地拖欠{n}名工人工资，工人情绪激动", 3, 25),
        "借款到期未还，双方发生争吵",
        "装修款结算纠纷，双方互不相让",
        ("讨要欠款{n}元，对方拒不归还", 2000, 80000),
        ("老板拖欠工资{n}个月，报警求助", 2, 8),
        "务工人员称被拖欠工钱，要求民警处理",
    ),
    "family_neighbor": _t(
        "邻里因噪音发生争吵",
        "楼上漏水，邻居之间发生纠纷",
        "兄弟因赡养老人问题发生争吵",
        "邻居因楼道堆放杂物发生口角",
        "家庭成员因琐事争吵，互相推搡",
        "母子因家务事争吵，请求民警调解",
        "邻居之间因停车位发生纠纷",
        "邻里因宠物狗扰民发生争执",
        "婆媳矛盾激化，报警求助",
    ),
    "marriage_romance": _t(
        "夫妻因琐事吵架，女方报警",
        "男子纠缠前女友，女方报警",
        "夫妻闹离婚，因孩子抚养问题争吵",
        "情侣分手后发生纠纷，一方索要财物",
        "丈夫酒后与妻子争吵，砸坏家具",
        "因彩礼返还问题两家人发生争执",
    ),
    "land_property": _t(
        "宅基地边界纠纷，双方发生争吵",
        "房东与租户因押金发生纠纷",
        "物业与业主因收费问题发生争执",
        "邻居因地界问题发生口角",
        "承包地流转费用纠纷",
        "因修路占地问题村民发生争执",
        ("租户拖欠房租{n}个月，房东报警", 2, 6),
    ),
    "public_order": _t(
        "烧烤店内有人酒后闹事",
        "KTV门口多人打架",
        "广场舞音响噪音扰民",
        "有人在网吧内寻衅滋事",
        "醉酒男子在路边滋事",
        ("{n}人在街头发生斗殴", 3, 8),
        "深夜有人在小区内大声喧哗",
        "商户之间因占道经营发生争吵",
        "发现可疑人员撬电动车",
        "电动车被盗",
        "家中被盗，门锁被撬",
    ),
    "violence": _t(
        "男子酒后殴打他人",
        "两人发生肢体冲突，一人受伤",
        "丈夫殴打妻子，女方报警求助",
        "有人持棍棒打人",
        "多人围殴一名男子",
        "因琐事发生打架，一方头部受伤",
    ),
    "missing_person": _t(
        ("{n}岁男孩走失，家长报警", 3, 12),
        ("{n}岁女孩放学未归", 6, 14),
        "八旬老人外出未归，家属报警",
        "患有老年痴呆的老人走失",
        "智力障碍人员走失，家属求助",
        ("{n}岁儿童在商场与家长走散", 3, 8),
    ),
    "fraud": _t(
        ("接到冒充公检法电话被骗{n}元", 3000, 200000),
        ("网络刷单被骗{n}元", 500, 50000),
        ("冒充客服退款诈骗，损失{n}元", 800, 60000),
        "网恋交友被骗，对方已失联",
        "投资理财平台无法提现，疑似被骗",
        ("冒充熟人借钱被骗{n}元", 1000, 30000),
    ),
    "traffic": _t(
        "两车追尾，无人员受伤",
        "电动车与轿车相撞，一人轻伤",
        "车辆乱停堵塞消防通道",
        "路口发生交通事故，道路拥堵",
        "货车侧翻，请求处置",
        "行人被车辆剐蹭",
    ),
    "other": _t(
        "求助开锁",
        "咨询户籍办理事宜",
        "捡到钱包求助寻找失主",
        "宠物走失求助",
        "家中老人身体不适求助",
        "醉酒人员躺在路边",
        "发现路面井盖缺失",
        "报警人称手机丢失",
        "误拨110",
        "求助寻找停放的车辆",
    ),
}

VISIT: Table = {
    "labor_debt": _t(
        "走访中了解到工地拖欠工人工资，工人情绪不稳",
        ("走访发现{n}名工人工资未结清", 10, 30),
        "企业与务工人员存在欠薪纠纷，已提醒劳动部门介入",
        "走访了解到村民之间存在借款纠纷",
        ("走访了解到老板拖欠{n}名工人工资", 3, 9),
    ),
    "family_neighbor": _t(
        "入户走访，两户邻居因琐事长期不和",
        "走访发现兄弟之间因赡养老人有矛盾",
        "邻里因排水问题存在积怨，现场调解",
        "走访了解到婆媳关系紧张",
        "邻居反映楼上长期噪音扰民",
    ),
    "marriage_romance": _t(
        "走访了解到夫妻感情不和，经常争吵",
        "女方反映前夫多次纠缠",
        "夫妻分居，因孩子抚养存在矛盾",
    ),
    "land_property": _t(
        "村民因宅基地界线存在纠纷",
        "承包地流转费用未结清，双方有矛盾",
        "物业与业主因停车收费存在矛盾",
        "租户与房东因退租押金有矛盾",
    ),
    "public_order": _t(
        "走访发现小区周边夜间有人聚集饮酒",
        "沿街商铺反映有人强行收费",
        "出租屋人员流动频繁，已登记核查",
    ),
    "violence": _t("走访了解到一男子酒后常殴打家人", "居民反映有人多次打人，情绪不稳"),
    "missing_person": _t("走访患有痴呆症老人家庭，提醒家属看护", "走访留守儿童家庭，提醒注意看护"),
    "fraud": _t("入户开展反诈宣传，发现老人接到可疑电话", "走访中提醒群众防范刷单诈骗"),
    "traffic": _t("发现路口缺少减速带，存在交通隐患", "村道急弯处缺少警示标志"),
    "other": _t(
        "例行走访，未发现异常",
        "走访独居老人，情况良好",
        "入户核查流动人口信息",
        "走访辖区商户，开展安全防范宣传",
        "检查出租屋消防安全",
    ),
}

TIP: Table = {
    "labor_debt": _t(("举报某工地拖欠{n}名农民工工资", 10, 40), "反映老板拖欠工资后失联"),
    "family_neighbor": _t("反映邻居两家经常吵架，担心闹出事", "反映一户人家经常传出打骂声"),
    "marriage_romance": _t("反映一男子长期骚扰前妻", "反映一对夫妻经常打架"),
    "land_property": _t("反映有人强占他人宅基地", "反映村里有人因地界问题准备打架"),
    "public_order": _t(
        "举报有人聚众赌博",
        "举报出租屋内疑似吸毒",
        "举报夜市有人强买强卖",
        "举报有人收取保护费",
    ),
    "violence": _t("举报有人持刀威胁他人", "反映有人扬言要报复邻居"),
    "missing_person": _t("提供走失老人线索", "称在车站见到疑似走失儿童"),
    "fraud": _t("举报有人收购银行卡", "举报疑似电诈窝点", "举报有人出租出借手机卡"),
    "traffic": _t("举报有人经常酒后驾车", "举报有人无证驾驶"),
    "other": _t("举报非法经营", "反映路灯损坏存在安全隐患", "举报有人私拉电线存在隐患"),
}

ANALYSIS: Table = {
    "labor_debt": _t(("{n}名工人多次讨薪警情，存在群体性风险", 10, 35), "同一企业反复出现欠薪警情"),
    "family_neighbor": _t("同一地址30日内多次报警，纠纷可能升级", "同一当事人反复报警，矛盾未化解"),
    "marriage_romance": _t("婚恋纠纷当事人反复报警，存在激化风险"),
    "land_property": _t("土地纠纷警情集中，存在群体冲突风险"),
    "public_order": _t("该区域夜间警情较上月明显上升", "近30日同一地点多次接报打架"),
    "violence": _t("重点人员有暴力倾向，近期情绪异常"),
    "missing_person": _t("走失警情多发区域，建议加强巡逻"),
    "fraud": _t("预警：疑似电诈受害人，近期接到境外来电", "资金流水异常，疑似被骗", "疑似涉诈银行卡交易"),
    "traffic": _t("事故多发路段，近期事故上升"),
    "other": _t("流动人口聚集，信息未登记", "重点人员动态异常"),
}

ENGLISH: Table = {
    "labor_debt": _t(
        "Workers demanding unpaid wages from the site boss",
        ("{n} workers gathered to demand unpaid wages", 10, 30),
    ),
    "family_neighbor": _t("Neighbours quarrelling over noise", "Family argument over care of a parent"),
    "marriage_romance": _t("Couple arguing, wife called police"),
    "land_property": _t("Landlord and tenant dispute over deposit"),
    "public_order": _t("Drunk man causing trouble outside a bar", "Fight among several people"),
    "violence": _t("Man beat another man after drinking"),
    "missing_person": _t(("{n}-year-old boy missing, parents called police", 3, 10)),
    "fraud": _t(("Caller lost {n} yuan to a fake customer-service scam", 500, 50000)),
    "traffic": _t("Two cars collided, no injuries"),
    "other": _t("Locked out, asking for help"),
}

WEAPON = np.array(
    ["，一方持刀", "，对方扬言要杀了他", "，有人手持菜刀", "，一方扬言要同归于尽", "，对方持棍棒威胁"],
    dtype=object,
)
WEAPON_EN = np.array(["; one man had a knife", "; he threatened to kill the neighbour"], dtype=object)
#: self-harm threats, only where they make sense (跳楼讨薪 is a known pattern of wage disputes)
SELF_HARM = {
    "labor_debt": ("，工人扬言要跳楼讨薪",),
    "family_neighbor": ("，一方扬言轻生",),
    "marriage_romance": ("，女方扬言要跳楼", "，一方扬言轻生"),
}
#: public-order trouble with a weapon is a different sentence, not a clause
PUBLIC_ORDER_DANGER = np.array(
    ["有人在烧烤店持刀闹事", "醉酒男子持刀在街头滋事", "KTV门口有人持棍棒斗殴", "有人在网吧扬言要杀人"],
    dtype=object,
)


def _headcount(text: str) -> bool:
    return "名工人" in text or "workers" in text


def _fit_headcount(
    rng: np.random.Generator, templates: list[Template], pick: np.ndarray, heads: np.ndarray
) -> np.ndarray:
    """Groups of 10 or more take the first template stating the headcount; smaller groups
    never take one that states a crowd (a "群体性" wording for two workers would be wrong)."""
    counted = [k for k, t in enumerate(templates) if _headcount(t[0])]
    crowd = [k for k in counted if templates[k][1] >= 10]
    small = [k for k in range(len(templates)) if k not in crowd]
    if crowd:
        pick = np.where(heads >= 10, crowd[0], pick)
    if crowd and small:
        wrong = (heads < 10) & np.isin(pick, crowd)
        pick[wrong] = np.array(small)[rng.integers(0, len(small), int(wrong.sum()))]
    return pick


def render(
    rng: np.random.Generator,
    table: Table,
    cats: np.ndarray,
    english_share: float = 0.03,
    headcount: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick and fill a template per row by category; returns (summaries, is_english).

    ``headcount`` (per row, 0 = unknown) makes groups of 10 or more use a template that states
    the number of workers, filled with that number.
    """
    cats = np.asarray(cats, dtype=np.int64)
    out = np.full(cats.size, "", dtype=object)
    english = rng.random(cats.size) < english_share
    for source, mask in ((table, ~english), (ENGLISH, english)):
        for ci, code in enumerate(CATEGORIES):
            idx = np.flatnonzero((cats == ci) & mask)
            if idx.size == 0:
                continue
            templates = source[code]
            pick = rng.integers(0, len(templates), idx.size)
            if headcount is not None:
                pick = _fit_headcount(rng, templates, pick, headcount[idx])
            for ti, (text, lo, hi) in enumerate(templates):
                rows = idx[pick == ti]
                if rows.size == 0:
                    continue
                if "{n}" not in text:
                    out[rows] = text
                    continue
                nums = rng.integers(lo, hi + 1, rows.size)
                if headcount is not None and _headcount(text):
                    nums = np.where(headcount[rows] > 0, headcount[rows], nums)
                head, tail = text.split("{n}")
                out[rows] = head + nums.astype(str).astype(object) + tail
    return out, english


def add_danger(
    rng: np.random.Generator,
    summary: np.ndarray,
    english: np.ndarray,
    cats: np.ndarray,
    mask: np.ndarray,
    self_harm: float = 0.2,
) -> np.ndarray:
    """Give the rows in ``mask`` a weapon or threat (sometimes self-harm, in disputes where it
    fits): a clause appended, or for public-order trouble a sentence of its own."""
    out = summary.copy()
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    zh = WEAPON[rng.integers(0, WEAPON.size, idx.size)]
    harm = rng.random(idx.size) < self_harm
    for code, phrases in SELF_HARM.items():
        m = harm & (cats[idx] == CAT[code])
        zh[m] = np.array(phrases, dtype=object)[rng.integers(0, len(phrases), int(m.sum()))]
    en = WEAPON_EN[rng.integers(0, WEAPON_EN.size, idx.size)]
    out[idx] = out[idx] + np.where(english[idx], en, zh)
    order = idx[(cats[idx] == CAT["public_order"]) & ~english[idx]]
    out[order] = PUBLIC_ORDER_DANGER[rng.integers(0, PUBLIC_ORDER_DANGER.size, order.size)]
    return out
