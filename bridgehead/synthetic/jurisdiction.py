"""Baoji's police jurisdiction: stations, communities, villages, estates, officers and units.

The jurisdiction is the seed report's city, with its published figures held exactly: 182 urban
communities that all have a police office, 1,158 administrative villages that all have an
officer or police assistant, and 519 smart-security estates. It is reference data, so it is
drawn from a fixed stream (``JURISDICTION_SEED``) and is the same for every seed and scale:
datasets generated with different seeds can be loaded into the same database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import names

JURISDICTION_SEED = 610300  # Baoji's administrative code
N_COMMUNITIES = 182
N_VILLAGES = 1158
N_SMART_ESTATES = 519
RESIDENTS_PER_ASSISTANT = 2000  # an urban police office's assistants (辅警), by its population

KM_PER_DEG_LAT = 111.0
KM_PER_DEG_LON = 92.0  # at 34.4° N

#: (code, name, centre lat, centre lon, stations as (base name, setting)); setting is
#: ``urban`` (city streets), ``seat`` (county seat or district town) or ``rural``.
# fmt: off
DISTRICTS: tuple[tuple[str, str, float, float, tuple[tuple[str, str], ...]], ...] = (
    ("610302", "渭滨区", 34.350, 107.190, (
        ("经二路", "urban"), ("清姜", "urban"), ("姜谭", "urban"), ("桥南", "urban"),
        ("神农", "urban"), ("金陵", "urban"), ("红旗路", "urban"), ("火炬路", "urban"),
        ("马营", "rural"), ("石鼓", "rural"), ("高家", "rural"), ("八鱼", "rural"))),
    ("610303", "金台区", 34.375, 107.230, (
        ("陈仓", "urban"), ("中山东路", "urban"), ("中山西路", "urban"), ("西关", "urban"),
        ("东风路", "urban"), ("群众路", "urban"), ("十里铺", "urban"), ("卧龙寺", "urban"),
        ("金台观", "urban"), ("硖石", "rural"), ("金河", "rural"), ("蟠龙", "rural"))),
    ("610304", "陈仓区", 34.355, 107.380, (
        ("虢镇", "seat"), ("千渭", "seat"), ("东关", "seat"), ("阳平", "rural"), ("千河", "rural"),
        ("周原", "rural"), ("贾村", "rural"), ("县功", "rural"), ("坪头", "rural"),
        ("赤沙", "rural"))),
    ("610305", "凤翔区", 34.521, 107.400, (
        ("城关", "seat"), ("东湖", "seat"), ("虢王", "rural"), ("彪角", "rural"), ("横水", "rural"),
        ("柳林", "rural"), ("陈村", "rural"), ("长青", "rural"))),
    ("610323", "岐山县", 34.443, 107.621, (
        ("凤鸣", "seat"), ("蔡家坡", "seat"), ("麦禾营", "rural"), ("益店", "rural"),
        ("蒲村", "rural"), ("青化", "rural"), ("京当", "rural"))),
    ("610324", "扶风县", 34.375, 107.900, (
        ("城关", "seat"), ("绛帐", "rural"), ("法门", "rural"), ("杏林", "rural"), ("天度", "rural"),
        ("召公", "rural"))),
    ("610326", "眉县", 34.274, 107.750, (
        ("首善", "seat"), ("常兴", "rural"), ("槐芽", "rural"), ("横渠", "rural"), ("汤峪", "rural"),
        ("金渠", "rural"))),
    ("610327", "陇县", 34.893, 106.864, (
        ("城关", "seat"), ("东风", "rural"), ("八渡", "rural"), ("温水", "rural"), ("固关", "rural"),
        ("曹家湾", "rural"))),
    ("610328", "千阳县", 34.642, 107.132, (
        ("城关", "seat"), ("崔家头", "rural"), ("南寨", "rural"), ("草碧", "rural"))),
    ("610329", "麟游县", 34.678, 107.794, (("九成宫", "seat"), ("崔木", "rural"), ("招贤", "rural"))),
    ("610330", "凤县", 33.911, 106.525, (
        ("双石铺", "seat"), ("凤州", "rural"), ("留凤关", "rural"), ("红花铺", "rural"))),
    ("610331", "太白县", 34.058, 107.319, (("咀头", "seat"), ("鹦鸽", "rural"))),
)
# fmt: on

#: The seed's stories, pinned to named places.
STORY_PLACES = {
    "lost_child": ("610303", "陈仓", "盛世广场社区", "陈仓大道盛世广场"),
    "melon_field": ("610323", "麦禾营", "南营村", "雍川镇南营村西瓜地"),
    "neighbour_feud": ("610302", "神农", "宝桥新村社区", "宝桥新村36号楼2单元"),
}
LOST_CHILD_PATROL = "王志英"
FEUD_OFFICER = "孙宪河"

COMMUNITY, VILLAGE = 0, 1
SMART, URBAN, RURAL = 0, 1, 2  # response setting of a community (1-3-5 minute targets)


@dataclass
class Jurisdiction:
    """Reference tables plus the per-community arrays the channel generators sample from."""

    stations: pd.DataFrame
    communities: pd.DataFrame
    officers: pd.DataFrame
    units: pd.DataFrame
    comm_station: np.ndarray
    comm_kind: np.ndarray
    comm_setting: np.ndarray
    comm_population: np.ndarray
    comm_name: np.ndarray
    comm_code: np.ndarray
    comm_officer: np.ndarray
    comm_road: np.ndarray
    estate_name: np.ndarray
    estate_smart: np.ndarray
    estate_offsets: np.ndarray
    site_name: np.ndarray
    site_offsets: np.ndarray
    special: dict[str, int] = field(default_factory=dict)

    @property
    def n_communities(self) -> int:
        return int(self.comm_kind.size)

    def counts(self) -> dict[str, int]:
        """Figures for the manifest."""
        kind = self.comm_kind
        n_est = np.diff(self.estate_offsets)
        all_smart = (kind == COMMUNITY) & (self.communities["smart_security"].to_numpy())
        return {
            "stations": len(self.stations),
            "communities": int((kind == COMMUNITY).sum()),
            "villages": int((kind == VILLAGE).sum()),
            "communities_with_police_office": int(self.communities["has_police_office"].sum()),
            "villages_with_officer_or_assistant": int(
                self.officers.loc[self.officers["community_code"] != "", "community_code"]
                .isin(self.comm_code[kind == VILLAGE])
                .sum()
            ),
            "estates": int(n_est.sum()),
            "smart_security_estates": int(self.estate_smart.sum()),
            "communities_all_estates_smart": int(all_smart.sum()),
            "officers": len(self.officers),
            "patrol_units": len(self.units),
            "population": int(self.comm_population.sum()),
        }


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, stable)."""
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def _jitter(rng: np.random.Generator, lat: float, lon: float, km: float, n: int) -> np.ndarray:
    """``n`` points around (lat, lon), normally spread with ``km`` standard deviation."""
    d = rng.normal(0.0, km, (n, 2))
    return np.column_stack([lat + d[:, 0] / KM_PER_DEG_LAT, lon + d[:, 1] / KM_PER_DEG_LON])


def build_jurisdiction() -> Jurisdiction:
    """Build the whole reference city (deterministic, independent of the dataset seed)."""
    rng = np.random.default_rng(JURISDICTION_SEED)

    # Stations -----------------------------------------------------------------------------
    st_rows: list[dict[str, object]] = []
    st_setting: list[str] = []
    for code, district, lat, lon, stations in DISTRICTS:
        for serial, (base, setting) in enumerate(stations, start=1):
            if setting == "urban":
                p = _jitter(rng, lat, lon, 2.0, 1)[0]
            elif setting == "seat":
                p = _jitter(rng, lat, lon, 1.5, 1)[0]
            else:
                angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(8.0, 24.0)
                p = (
                    lat + radius * np.sin(angle) / KM_PER_DEG_LAT,
                    lon + radius * np.cos(angle) / KM_PER_DEG_LON,
                )
            st_rows.append(
                {
                    "station_code": f"{code}{serial:02d}",
                    "name": f"{base}派出所",
                    "district": district,
                    "lat": round(float(p[0]), 6),
                    "lon": round(float(p[1]), 6),
                    "_district_code": code,
                }
            )
            st_setting.append(setting)
    stations = pd.DataFrame(st_rows)
    setting = np.array(st_setting)
    n_st = len(stations)

    def station_index(district_code: str, base: str) -> int:
        hit = (stations["_district_code"] == district_code) & (stations["name"] == f"{base}派出所")
        return int(np.flatnonzero(hit.to_numpy())[0])

    story_station = {k: station_index(v[0], v[1]) for k, v in STORY_PLACES.items()}

    # How many communities and villages each station owns ------------------------------------
    comm_w = np.where(setting == "urban", 7.5, np.where(setting == "seat", 3.85, 0.0))
    vill_w = np.where(setting == "rural", 21.0, np.where(setting == "seat", 8.0, 0.0))
    n_comm = apportion(comm_w * rng.uniform(0.7, 1.3, n_st), N_COMMUNITIES)
    n_vill = apportion(vill_w * rng.uniform(0.7, 1.3, n_st), N_VILLAGES)

    # Names -----------------------------------------------------------------------------------
    reserved = {v[2] for v in STORY_PLACES.values()}
    comm_pool = [b + s for s in names.COMMUNITY_SUFFIXES for b in names.COMMUNITY_BASES]
    comm_pool = [n for n in comm_pool if n not in reserved and not n.startswith(("宝桥", "盛世"))]
    comm_names = list(np.array(comm_pool, dtype=object)[rng.permutation(len(comm_pool))])
    surnames = list(names.SURNAMES[:60])
    sfx = list(names.VILLAGE_SUFFIXES)
    vill_pool = (
        [s + "家" + x + "村" for s in surnames for x in sfx]
        + [d + x + "村" for d in names.VILLAGE_DIRECTIONS for x in sfx]
        + [s + x + "村" for s in surnames for x in sfx]
    )
    vill_pool = sorted(set(vill_pool) - reserved)
    vill_names = list(np.array(vill_pool, dtype=object)[rng.permutation(len(vill_pool))])

    # Communities and villages ------------------------------------------------------------
    c_rows: list[dict[str, object]] = []
    c_station: list[int] = []
    c_kind: list[int] = []
    for s in range(n_st):
        st = stations.iloc[s]
        for j in range(int(n_comm[s]) + int(n_vill[s])):
            is_comm = j < n_comm[s]
            if s == story_station["lost_child"] and j == 0:
                name = STORY_PLACES["lost_child"][2]
            elif s == story_station["neighbour_feud"] and j == 0:
                name = STORY_PLACES["neighbour_feud"][2]
            elif s == story_station["melon_field"] and j == n_comm[s]:
                name = STORY_PLACES["melon_field"][2]
            else:
                name = comm_names.pop() if is_comm else vill_names.pop()
            if is_comm:
                p = _jitter(rng, st["lat"], st["lon"], 1.2 if setting[s] == "urban" else 0.9, 1)[0]
                pop = 10 * round(float(rng.triangular(3000, 7000, 15000)) / 10)
            else:
                angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(1.5, 11.0)
                p = (
                    st["lat"] + radius * np.sin(angle) / KM_PER_DEG_LAT,
                    st["lon"] + radius * np.cos(angle) / KM_PER_DEG_LON,
                )
                pop = 10 * round(float(rng.triangular(500, 1300, 3000)) / 10)
            c_rows.append(
                {
                    "community_code": f"{st['station_code']}{j + 1:03d}",
                    "name": name,
                    "kind": "community" if is_comm else "village",
                    "station_code": st["station_code"],
                    "has_police_office": bool(is_comm),
                    "smart_security": False,
                    "population": pop,
                    "lat": round(float(p[0]), 6),
                    "lon": round(float(p[1]), 6),
                }
            )
            c_station.append(s)
            c_kind.append(COMMUNITY if is_comm else VILLAGE)
    communities = pd.DataFrame(c_rows)
    comm_station = np.array(c_station, dtype=np.int64)
    comm_kind = np.array(c_kind, dtype=np.int64)
    comm_name = communities["name"].to_numpy(dtype=object)
    n_c = len(communities)
    special = {f"{k}_station": v for k, v in story_station.items()}
    for key, place in STORY_PLACES.items():
        special[key] = int(np.flatnonzero(comm_name == place[2])[0])

    # Estates (小区) of urban communities, exactly 519 of them smart-security ----------------
    urban_station = setting[comm_station] == "urban"
    n_est = np.where(
        comm_kind == VILLAGE,
        0,
        np.where(urban_station, rng.integers(3, 7, n_c), rng.integers(1, 5, n_c)),
    )
    est_pool = [
        b + s
        for s in names.ESTATE_SUFFIXES
        for b in names.ESTATE_BASES
        if b[-1] != s[0] and not b.startswith(("宝桥", "盛世"))
    ]
    est_pool = list(np.array(est_pool, dtype=object)[rng.permutation(len(est_pool))])
    estate_name: list[str] = []
    for c in range(n_c):
        for j in range(int(n_est[c])):
            if c == special["neighbour_feud"] and j == 0:
                estate_name.append("宝桥新村")
            elif c == special["lost_child"] and j == 0:
                estate_name.append("盛世华庭")
            else:
                estate_name.append(est_pool.pop())
    estate_offsets = np.concatenate([[0], np.cumsum(n_est)]).astype(np.int64)
    estate_smart = _smart_estates(rng, n_est, urban_station & (comm_kind == COMMUNITY))
    all_smart = np.array(
        [n_est[c] > 0 and estate_smart[estate_offsets[c] : estate_offsets[c + 1]].all() for c in range(n_c)]
    )
    communities["smart_security"] = all_smart
    comm_setting = np.where(comm_kind == VILLAGE, RURAL, np.where(all_smart, SMART, URBAN))

    # Address sites: hot spots first, so a skewed draw makes repeat addresses ------------------
    comm_road = np.empty(n_c, dtype=object)
    sites: list[str] = []
    site_counts = np.zeros(n_c, dtype=np.int64)
    roads = names.ROADS
    for c in range(n_c):
        if comm_kind[c] == COMMUNITY:
            own = [roads[i] for i in rng.choice(len(roads), 2, replace=False)]
            if c == special["lost_child"]:
                own = ["陈仓大道", own[0] if own[0] != "陈仓大道" else own[1]]
            comm_road[c] = own[0]
            places = rng.choice(names.URBAN_PLACES, 10, replace=False)
            numbers = rng.integers(1, 300, 10)
            these = [f"{own[k % 2]}{numbers[k]}号{places[k]}" for k in range(10)]
            if c == special["lost_child"]:
                these.insert(0, STORY_PLACES["lost_child"][3])
        else:
            comm_road[c] = comm_name[c]
            these = [f"{comm_name[c]}{p}" for p in names.VILLAGE_PLACES]
            order = rng.permutation(len(these))
            these = [these[i] for i in order]
        sites.extend(these)
        site_counts[c] = len(these)
    site_offsets = np.concatenate([[0], np.cumsum(site_counts)]).astype(np.int64)

    officers, comm_officer = _officers(rng, stations, setting, communities, comm_station, special)
    units = _units(rng, stations, setting, communities, special)

    return Jurisdiction(
        stations=stations.drop(columns="_district_code"),
        communities=communities,
        officers=officers,
        units=units,
        comm_station=comm_station,
        comm_kind=comm_kind,
        comm_setting=comm_setting,
        comm_population=communities["population"].to_numpy(dtype=np.int64),
        comm_name=comm_name,
        comm_code=communities["community_code"].to_numpy(dtype=object),
        comm_officer=comm_officer,
        comm_road=comm_road,
        estate_name=np.array(estate_name, dtype=object),
        estate_smart=estate_smart,
        estate_offsets=estate_offsets,
        site_name=np.array(sites, dtype=object),
        site_offsets=site_offsets,
        special=special,
    )


def _smart_estates(rng: np.random.Generator, n_est: np.ndarray, urban: np.ndarray) -> np.ndarray:
    """Mark exactly ``N_SMART_ESTATES`` estates smart: whole communities first, then a
    scattering inside the rest (each of which keeps at least one ordinary estate)."""
    offsets = np.concatenate([[0], np.cumsum(n_est)])
    smart = np.zeros(int(n_est.sum()), dtype=bool)
    has = np.flatnonzero(n_est > 0)
    # urban-street communities are upgraded first, in a seeded order
    order = has[np.lexsort((rng.random(has.size), ~urban[has]))]
    budget = round(N_SMART_ESTATES * 0.78)
    full: list[int] = []
    used = 0
    for c in order:
        if used + n_est[c] <= budget:
            full.append(int(c))
            used += int(n_est[c])
    for c in full:
        smart[offsets[c] : offsets[c + 1]] = True
    chosen = set(full)
    rest = [c for c in has if c not in chosen]
    candidates = np.concatenate(
        [np.arange(offsets[c] + 1, offsets[c + 1]) for c in rest] or [np.empty(0, np.int64)]
    )
    need = N_SMART_ESTATES - used
    if need > candidates.size:
        raise RuntimeError("not enough estates to place the smart-security estates")
    smart[np.sort(rng.choice(candidates, need, replace=False))] = True
    return smart


def _officers(
    rng: np.random.Generator,
    stations: pd.DataFrame,
    setting: np.ndarray,
    communities: pd.DataFrame,
    comm_station: np.ndarray,
    special: dict[str, int],
) -> tuple[pd.DataFrame, np.ndarray]:
    """A chief and patrol officers per station, one responsible officer per community or village (a
    police assistant in many villages: 一村一警), and the urban police offices' assistants."""
    n_patrol = np.where(
        setting == "urban",
        rng.integers(8, 13, len(stations)),
        np.where(setting == "seat", rng.integers(6, 10, len(stations)), rng.integers(3, 6, len(stations))),
    )
    n_people = len(stations) * 1 + int(n_patrol.sum()) + len(communities)
    pool = names.person_names(rng, n_people, exclude={LOST_CHILD_PATROL, FEUD_OFFICER})
    rows: list[tuple[str, str, str, str]] = []
    codes = stations["station_code"].tolist()
    for s, code in enumerate(codes):
        rows.append((pool.pop(), "chief", code, ""))
        for j in range(int(n_patrol[s])):
            first_patrol = s == special["lost_child_station"] and j == 0
            rows.append((LOST_CHILD_PATROL if first_patrol else pool.pop(), "patrol", code, ""))
    kinds = communities["kind"].to_numpy()
    assistant = rng.random(len(communities)) < 0.55
    comm_row = np.zeros(len(communities), dtype=np.int64)
    for c, ccode in enumerate(communities["community_code"].tolist()):
        if c == special["neighbour_feud"]:
            name, role = FEUD_OFFICER, "community"
        elif kinds[c] == "village" and assistant[c] and c != special["melon_field"]:
            name, role = pool.pop(), "assistant"
        else:
            name, role = pool.pop(), "community"
        comm_row[c] = len(rows)
        rows.append((name, role, codes[comm_station[c]], ccode))
    rows += _urban_assistants(communities, codes, comm_station, {name for name, *_ in rows})
    officers = pd.DataFrame(rows, columns=["name", "role", "station_code", "community_code"])
    officers.insert(0, "officer_code", [f"O{i:06d}" for i in range(1, len(officers) + 1)])
    comm_officer = officers["officer_code"].to_numpy(dtype=object)[comm_row]
    return officers, comm_officer


def _urban_assistants(
    communities: pd.DataFrame, codes: list[str], comm_station: np.ndarray, taken: set[str]
) -> list[tuple[str, str, str, str]]:
    """The police assistants (辅警) of each urban community's police office, one per
    ``RESIDENTS_PER_ASSISTANT`` residents: the seed's 182 offices are all staffed with officers and
    assistants (民辅警全配备), and a community of 15,000 brings a village's work several times over.

    Drawn from a stream of their own and listed after everyone else, so the officers before them keep
    their codes and names. The community officer stays the responsible officer (new risks are theirs);
    the assistants take what the community officer's day cannot hold when the chief reassigns it."""
    urban = np.flatnonzero(communities["kind"].to_numpy() == "community")
    per = communities["population"].to_numpy()[urban] // RESIDENTS_PER_ASSISTANT
    rng = np.random.default_rng([JURISDICTION_SEED, 2])
    pool = names.person_names(rng, int(per.sum()), exclude=taken | {LOST_CHILD_PATROL, FEUD_OFFICER})
    pool.reverse()
    ccodes = communities["community_code"].to_numpy()
    return [
        (pool.pop(), "assistant", codes[comm_station[c]], ccodes[c])
        for c, n in zip(urban.tolist(), per.tolist(), strict=True)
        for _ in range(n)
    ]


def _units(
    rng: np.random.Generator,
    stations: pd.DataFrame,
    setting: np.ndarray,
    communities: pd.DataFrame,
    special: dict[str, int],
) -> pd.DataFrame:
    """2-6 patrol units per station near the station; 陈仓派出所 has the seed's six people
    on the square in three units of two."""
    rows: list[dict[str, object]] = []
    for s, st in enumerate(stations.itertuples(index=False)):
        if s == special["lost_child_station"]:
            square = communities.iloc[special["lost_child"]]
            n, members = 3, [2, 2, 2]
            points = _jitter(rng, square["lat"], square["lon"], 0.15, n)
        else:
            lo, hi = {"urban": (4, 7), "seat": (3, 6), "rural": (2, 4)}[str(setting[s])]
            n = int(rng.integers(lo, hi))
            members = rng.integers(2, 5, n).tolist()
            points = _jitter(rng, st.lat, st.lon, 1.5 if setting[s] == "urban" else 3.0, n)
        for j in range(n):
            rows.append(
                {
                    "unit_code": f"U{st.station_code}{j + 1:02d}",
                    "station_code": st.station_code,
                    "members": int(members[j]),
                    "lat": round(float(points[j, 0]), 6),
                    "lon": round(float(points[j, 1]), 6),
                }
            )
    return pd.DataFrame(rows)
