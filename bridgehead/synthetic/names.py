"""Name pools and identifier makers for the synthetic city.

Everything a person could read in the generated files (people, places, phone numbers, WeChat ids,
pseudonymous person keys) comes from here, so the look of the data can be changed in one place.
All randomness comes from the numpy generator passed in, never from ``hash()`` or the clock.
"""

from __future__ import annotations

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    """Space-separated words of a long literal (keeps the pools readable)."""
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾"
    "丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷"
    "钱汤尹黎易常武乔贺赖龚文屈党雒惠权"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌鹏辉宁波林亮俊峰欣鑫浩宇轩博"
    "凯健婷雪琳晨阳飞海龙玲萍梅兰春东新宏永立生安成荣庆德卫民利兵群彬锋帅晓旭昊然佳悦瑞睿泽涵"
    "怡诗雨梓嘉子思育宪河振录秦岭渭川"
)

#: Two-character bases for urban community names (社区); "宝桥" and "盛世" are kept for the stories.
COMMUNITY_BASES = _words(
    "经二路 宝光 红旗 清姜 姜谭 桥南 金陵 火炬 石坝河 英达 宝钛 长岭 新建 广元 公园 滨河 渭工 铁路 "
    "胜利 东风 群众 卧龙 十里铺 西关 东关 北坡 中山 金台 蟠龙 高新 姜城 福临堡 联盟 斗鸡 太平 福谭 "
    "宝平 宝福 东岭 和平 光明 幸福 团结 繁荣 兴隆 新华 长寿 南坡 北关 南关 西街 东街 半坡 上马营 "
    "河堤 渭河 秦岭 宝成 西秦 车站 大庆 峪泉 玉涧 益门 代家湾 斗鸡台 店子街 五里庙 烽火 陈仓园 "
    "石鼓 周原 雍城 东湖 凤鸣 周公 首善 美阳 法门 汧阳 杜阳 九成宫 双石铺 咀头 千渭 虢镇 阳平 "
    "蔡家坡 虢王 城关 文化 建设 人民 解放 工人 友谊 振兴 育才 园丁 锦绣 翠屏 龙泉 凤凰 金城 银河 "
    "华夏 南塬 北塬 渭阳 马营 钢管 电厂 纺织 机床 石油 桥梁 车辆 烟厂 农机 水电"
)
COMMUNITY_SUFFIXES = ("社区", "路社区", "新村社区", "东社区", "西社区", "北社区", "南社区", "苑社区")

#: Parts of administrative village names (行政村); "南营村" is kept for the melon-field story.
VILLAGE_DIRECTIONS = "东西南北上下前后中新"
VILLAGE_SUFFIXES = "庄营堡沟塬坡湾河寨坪店铺岭峪头台滩坊"

#: Residential estate (小区) name parts.
ESTATE_BASES = _words(
    "金色 阳光 翠苑 锦华 御景 丽都 滨江 紫薇 秦岭 绿洲 天安 世纪 新城 名门 龙湖 瑞祥 福苑 怡和 "
    "嘉园 宏泰 华厦 恒信 银座 中央 东方 西城 南山 北辰 泰和 康居 和谐 富源 欣园 兴华 明珠 春天 "
    "金桥 渭水 宝钛 长青 玉泉 清华 雍州 凤凰 丽景 金鼎 馨苑 宜居 书香 悦湖 鼎盛 荣华 安泰 锦江 "
    "枫林 桂园 梧桐 蓝湾 香榭 星河 海棠 盛华 北苑 南苑 学府 御园 福星 金泰 泰安 嘉禾 丰华 润泽"
)
ESTATE_SUFFIXES = ("花园", "小区", "家园", "苑", "华庭", "名邸", "公寓", "佳苑", "新村", "家属院", "雅居")

ROADS = _words(
    "经二路 宝光路 红旗路 中山东路 中山西路 陈仓大道 渭滨大道 清姜路 公园路 东风路 大庆路 高新大道 "
    "滨河大道 英达路 火炬路 金陵路 广元路 新建路 西宝路 群众路 行政大道 宝福路 姜谭路 引渭路 "
    "川陕路 益门路 店子街 人民路 建设路 文化路 雍城路 凤鸣路 周公路 美阳街 首善路 汧阳路"
)
URBAN_PLACES = _words(
    "烧烤店 KTV 网吧 超市 农贸市场 酒吧 饭店 菜市场 公交站 小学门口 医院门口 停车场 洗浴中心 宾馆 "
    "夜市 商场 广场"
)
URBAN_WORKPLACES = ("建筑工地", "装修工地", "物流园", "餐馆", "工厂", "汽修厂", "商场", "劳务公司")
VILLAGE_PLACES = ("村委会", "文化广场", "村口", "小卖部", "果园", "砖厂", "养殖场", "集市", "学校门口")
VILLAGE_WORKPLACES = ("砖厂", "养殖场", "果园", "建筑工地", "苗木基地", "预制板厂", "合作社")

PHONE_PREFIXES = np.array(
    [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190)], dtype=np.int64
)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ALNUM = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
_MASK40 = np.uint64((1 << 40) - 1)


def person_names(rng: np.random.Generator, n: int, exclude: set[str]) -> list[str]:
    """Draw ``n`` distinct Chinese names (surname plus one or two characters), in draw order."""
    surnames = np.array(list(SURNAMES), dtype=object)
    chars = np.array(list(GIVEN_CHARS), dtype=object)
    seen = set(exclude)
    out: list[str] = []
    while len(out) < n:
        m = 3 * (n - len(out)) + 16
        s = surnames[rng.integers(0, surnames.size, m)]
        g1 = chars[rng.integers(0, chars.size, m)]
        g2 = np.where(rng.random(m) < 0.65, chars[rng.integers(0, chars.size, m)], "")
        for name in s + g1 + g2:  # small loop: officers only, a couple of thousand at most
            if name not in seen:
                seen.add(name)
                out.append(name)
                if len(out) == n:
                    break
    return out


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic mainland mobile numbers: 11 digits starting 13x, 15x or 18x (object array)."""
    prefix = PHONE_PREFIXES[rng.integers(0, PHONE_PREFIXES.size, n)]
    number = prefix * 100_000_000 + rng.integers(0, 100_000_000, n)
    return number.astype(str).astype(object)


def wechat_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic WeChat ids shaped like ``wxid_`` plus 12 lowercase letters and digits."""
    body = _ALNUM[rng.integers(0, _ALNUM.size, (n, 12))]
    text = np.ascontiguousarray(body).view("S12").ravel().astype("U12").astype(object)
    return "wxid_" + text


class PersonKeys:
    """Pseudonymous person keys: ``PK`` plus 10 hex characters, one per synthetic person.

    A person is an integer id; its key is a seeded bijection of that id on 40 bits, so two
    people never share a key and the same person has the same key in every file without a
    lookup table of millions of rows.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        draws = rng.integers(0, 1 << 40, 4, dtype=np.uint64)
        self._xor_in = draws[0]
        self._mul1 = draws[1] | np.uint64(1)
        self._mul2 = draws[2] | np.uint64(1)
        self._xor_out = draws[3]

    def keys(self, ids: np.ndarray) -> np.ndarray:
        """Keys of the given person ids (object array of ``PK…`` strings)."""
        x = np.asarray(ids, dtype=np.uint64) ^ self._xor_in
        x = (x * self._mul1) & _MASK40
        x ^= x >> np.uint64(19)
        x = (x * self._mul2) & _MASK40
        x ^= x >> np.uint64(21)
        x ^= self._xor_out
        shifts = np.arange(36, -1, -4, dtype=np.uint64)
        nibbles = (x[:, None] >> shifts) & np.uint64(15)
        chars = np.ascontiguousarray(_HEX[nibbles.astype(np.intp)])
        return "PK" + chars.view("S10").ravel().astype("U10").astype(object)

    def join(self, ids: np.ndarray) -> np.ndarray:
        """Join a padded (rows, k) id matrix (``-1`` = no one) into ``;``-separated key strings."""
        ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
        rows, width = ids.shape
        out = np.full(rows, "", dtype=object)
        if rows == 0 or width == 0:
            return out
        valid = ids >= 0
        text = np.full(ids.shape, "", dtype=object)
        if valid.any():
            text[valid] = self.keys(ids[valid])
        out = text[:, 0].copy()
        for j in range(1, width):  # loop over columns, not rows
            m = valid[:, j]
            out[m] = out[m] + ";" + text[m, j]
        return out
