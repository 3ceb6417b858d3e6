"""The simulated world behind the demo exports: a fictional Ningxia dealer, its machines, failures and parts.

Everything here is canonical (English codes, integer day numbers, depot and part indices); :mod:`demo` turns it into
the Chinese ERP exports. All randomness comes from one ``numpy.random.Generator(PCG64(seed))``; work is vectorised
over machines, parts and rows, with Python loops only over models, components, depots, months or renewal rounds.

Day numbers count days since :data:`START` (2019-01-01 is day 0); :data:`END` (2026-10-31) is the last day of history.
Manufacturer, model and customer names are invented; none is a real brand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["END", "SCALES", "START", "ScaleSpec", "World", "simulate_world"]

START = np.datetime64("2019-01-01", "D")
END = np.datetime64("2026-10-31", "D")
HARVEST_MONTHS = (6, 7, 9, 10)
N_DAYS = int((END - START).astype(int)) + 1
_DAY_DATES = START + np.arange(N_DAYS)
_DAY_MONTH_IDX = (_DAY_DATES.astype("datetime64[M]") - START.astype("datetime64[M]")).astype(int)
_DAY_MONTH = _DAY_DATES.astype("datetime64[M]").astype(int) % 12 + 1
_DAY_YEAR = _DAY_DATES.astype("datetime64[Y]").astype(int) + 1970
N_MONTHS = int(_DAY_MONTH_IDX[-1]) + 1
_MONTH_START = np.searchsorted(_DAY_MONTH_IDX, np.arange(N_MONTHS))
_MONTH_LEN = np.diff(np.append(_MONTH_START, N_DAYS))
_MONTH_OF_YEAR = (np.arange(N_MONTHS) % 12) + 1


@dataclass(frozen=True)
class ScaleSpec:
    """Size of a demo world.

    Parameters
    ----------
    n_machines : int
        Machines sold 2019..2026 [machines].
    n_parts : int
        Part numbers in the parts master, before the superseding part is added [parts].
    n_customers : int
        Farms and cooperatives [customers].
    counter_lines_per_part_month : float
        Mean counter-sale lines per part per month over the whole network, at the full installed base [lines].
    """

    n_machines: int
    n_parts: int
    n_customers: int
    counter_lines_per_part_month: float


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(n_machines=300, n_parts=300, n_customers=160, counter_lines_per_part_month=0.8),
    "large": ScaleSpec(n_machines=5000, n_parts=20000, n_customers=2600, counter_lines_per_part_month=1.45),
}

# depot id, name, role, parent, latitude, longitude, counter-sale share
DEPOTS = (
    ("YC01", "银川中心库", "central", "", 38.4872, 106.2309, 0.45),
    ("PL01", "平罗分库", "branch", "YC01", 38.9066, 106.5446, 0.20),
    ("QT01", "青铜峡分库", "branch", "YC01", 38.0213, 106.0752, 0.20),
    ("GY01", "固原分库", "branch", "YC01", 36.0160, 106.2425, 0.15),
)
# county, latitude, longitude, weight in the customer base
COUNTIES = (
    ("兴庆区", 38.47, 106.29, 3), ("永宁县", 38.28, 106.25, 6), ("贺兰县", 38.55, 106.35, 6), ("灵武市", 38.10, 106.34, 5),
    ("平罗县", 38.91, 106.52, 7), ("惠农区", 39.24, 106.78, 3), ("大武口区", 39.02, 106.38, 2), ("青铜峡市", 38.02, 106.08, 6),
    ("利通区", 37.98, 106.20, 5), ("中宁县", 37.49, 105.68, 5), ("沙坡头区", 37.51, 105.19, 4), ("原州区", 36.00, 106.28, 5),
    ("西吉县", 35.96, 105.73, 4), ("隆德县", 35.62, 106.12, 2), ("彭阳县", 35.85, 106.64, 3), ("泾源县", 35.50, 106.33, 1),
    ("盐池县", 37.78, 107.41, 3), ("同心县", 36.98, 105.91, 3), ("红寺堡区", 37.42, 106.06, 3),
)
# code, invented name, warranty [months], supplier lead time [days], lead-time spread [log sd], serial pattern
MANUFACTURERS = (
    ("SF", "朔丰重工", 24, 21, 0.25, "{p}{yy}{seq:6}"),
    ("ML", "麦浪农装", 12, 14, 0.20, "{p}{yy}{mm}{seq:4}"),
    ("YL", "银岭机械", 24, 28, 0.35, "{p}-{yy}-{seq:5}"),
    ("YH", "垣禾动力", 12, 18, 0.30, "{p}{seq:7}"),
    ("SG", "穗谷农机", 24, 25, 0.25, "{p}{yy}{seq:5}"),
    ("LL", "岚犁机械", 12, 10, 0.15, "{p}{yy}{mm}{seq:5}"),
)
GENERIC_SUPPLIERS = (("FC", "凤城五金标准件厂", 0, 7, 0.30, ""), ("HT", "塞北恒通油品商行", 0, 5, 0.20, ""))
TYPE_LABEL = {"tractor": "拖拉机", "combine": "联合收割机", "baler": "打捆机", "seeder": "播种机"}
# model, manufacturer code, machine type, export type label, relative sales
MODELS = (
    ("SF-1004", "SF", "tractor", "轮式拖拉机", 3.0), ("SF-1304", "SF", "tractor", "拖拉机", 1.2),
    ("SF-4LZ-6", "SF", "combine", "谷物联合收割机", 1.0), ("ML-904", "ML", "tractor", "拖拉机", 1.5),
    ("ML-4LZ-8", "ML", "combine", "联合收割机", 0.8), ("ML-4YZ-4", "ML", "combine", "玉米收获机", 1.6),
    ("YL-704", "YL", "tractor", "拖拉机", 1.3), ("YL-2BFX-12", "YL", "seeder", "播种机", 1.0),
    ("YL-9YFQ-1.9", "YL", "baler", "打捆机", 0.9), ("YH-1604", "YH", "tractor", "拖拉机", 0.7),
    ("YH-4YZ-3", "YH", "combine", "玉米收获机", 0.9), ("SG-4LZ-5", "SG", "combine", "收割机", 0.8),
    ("SG-2BMYF-4", "SG", "seeder", "精量播种机", 1.1), ("SG-9YK-2.2", "SG", "baler", "捡拾打捆机", 0.8),
    ("LL-554", "LL", "tractor", "拖拉机", 1.4), ("LL-2BQ-6", "LL", "seeder", "播种机", 0.9),
)
# working hours per calendar month (Jan..Dec) of a typical machine of each type [h/month]
USAGE_PROFILE = {
    "tractor": (4, 8, 55, 120, 100, 70, 85, 40, 90, 110, 40, 6),
    "combine": (0, 0, 0, 0, 4, 70, 125, 12, 95, 135, 15, 0),
    "baler": (0, 0, 0, 0, 0, 30, 75, 12, 45, 65, 10, 0),
    "seeder": (0, 0, 40, 85, 35, 12, 8, 0, 8, 15, 0, 0),
}
# relative sales per calendar month by type (before spring sowing and before harvests)
SALES_PROFILE = {
    "tractor": (3, 6, 9, 7, 3, 2, 2, 3, 4, 2, 1, 1),
    "combine": (1, 1, 2, 2, 6, 7, 2, 6, 5, 1, 1, 1),
    "baler": (1, 1, 1, 2, 4, 6, 3, 5, 4, 1, 1, 1),
    "seeder": (3, 7, 9, 5, 1, 1, 1, 1, 1, 1, 1, 2),
}
SALES_GROWTH = 1.22  # yearly growth of machine sales [ratio]
# component, code, Weibull shape, Weibull scale [h], parts (name, category, quantity per replacement)
COMPONENTS: dict[str, tuple[tuple[str, str, float, float, tuple[tuple[str, str, int], ...]], ...]] = {
    "tractor": (
        ("发动机", "ENG", 2.4, 7000.0, (("发动机大修包", "component", 1),)),
        ("液压泵", "HYD", 1.8, 3800.0, (("液压泵总成", "component", 1), ("O形密封圈", "standard", 2))),
        ("离合器", "CLU", 2.0, 2600.0, (("离合器从动盘", "component", 1), ("分离轴承", "standard", 1))),
        ("轴承", "BRG", 1.5, 2400.0, (("前桥轴承", "standard", 2),)),
        ("皮带", "BLT", 1.8, 1400.0, (("风扇皮带", "consumable", 1),)),
    ),
    "combine": (
        ("发动机", "ENG", 2.4, 5000.0, (("发动机大修包", "component", 1),)),
        ("液压泵", "HYD", 1.8, 2600.0, (("液压泵总成", "component", 1), ("O形密封圈", "standard", 2))),
        ("割台", "CUT", 1.6, 950.0, (("割刀片", "standard", 10), ("护刃器", "standard", 4))),
        ("脱粒滚筒", "THR", 2.2, 1500.0, (("脱粒齿", "standard", 12), ("滚筒轴承", "standard", 2))),
        ("皮带", "BLT", 1.7, 750.0, (("传动皮带", "consumable", 1),)),
        ("轴承", "BRG", 1.5, 1200.0, (("割台轴承", "standard", 2),)),
    ),
    "baler": (
        ("打结器", "KNT", 1.4, 480.0, (("打结器总成", "component", 1),)),
        ("捡拾器", "PKP", 1.7, 900.0, (("捡拾弹齿", "standard", 8),)),
        ("链条", "CHN", 1.9, 700.0, (("传动链条", "consumable", 1),)),
        ("轴承", "BRG", 1.5, 800.0, (("主轴承", "standard", 2),)),
    ),
    "seeder": (
        ("排种器", "SMT", 1.5, 420.0, (("排种器总成", "component", 1),)),
        ("开沟器", "OPN", 1.8, 360.0, (("开沟器铲尖", "standard", 4),)),
        ("链条", "CHN", 1.9, 650.0, (("传动链条", "consumable", 1),)),
        ("轴承", "BRG", 1.5, 750.0, (("地轮轴承", "standard", 2),)),
    ),
}
# maintenance services per type: (service, interval [h], interval [days], kit of (kit item, quantity))
_ENGINE_KIT = (("机油滤清器", 1), ("机油", 2), ("柴油滤清器", 1))
MAINTENANCE = {
    "engine": (
        ("首次保养(50小时)", 50.0, 30, _ENGINE_KIT),
        ("250小时保养", 250.0, 180, (*_ENGINE_KIT, ("润滑脂", 1))),
        ("500小时保养", 500.0, 365, (*_ENGINE_KIT, ("润滑脂", 1), ("空气滤清器", 1), ("液压油滤清器", 1), ("皮带", 1))),
    ),
    "implement": (
        ("100小时保养", 100.0, 90, (("润滑脂", 1),)),
        ("300小时保养", 300.0, 365, (("润滑脂", 2), ("链条", 1))),
    ),
}
_KIT_FILTERS = ("机油滤清器", "柴油滤清器", "空气滤清器", "液压油滤清器")
# long-tail part families: (category, names, unit of measure)
_TAIL_NAMES = {
    "consumable": (("机油", "液压油", "齿轮油", "防冻液", "润滑脂", "密封胶", "清洗剂", "刹车油"), "桶"),
    "standard": (("六角螺栓", "螺母", "平垫圈", "弹簧垫圈", "开口销", "O形圈", "油封", "深沟球轴承", "卡箍", "销轴"), "个"),
    "tool": (("扳手", "黄油枪", "套筒", "千斤顶", "拉马", "万用表"), "把"),
    "auxiliary": (("蓄电池", "作业灯", "座椅", "后视镜", "倒车监视器", "喇叭", "雨刮器", "仪表总成"), "件"),
    "component": (("齿轮", "传动轴", "油缸", "水泵", "启动机", "发电机", "转向器", "半轴"), "件"),
}
CATEGORY_COST = {  # median unit cost [CNY], log sd, markup (price / cost), extra units per counter line
    "consumable": (45.0, 0.8, 1.35, 1.2),
    "standard": (9.0, 0.9, 1.55, 2.0),
    "tool": (110.0, 0.7, 1.40, 0.1),
    "auxiliary": (420.0, 0.9, 1.30, 0.05),
    "component": (850.0, 1.0, 1.25, 0.05),
}
EARLY_LIFE: dict[str, Any] = {"model": "ML-4YZ-4", "component": "液压泵", "shape": 0.6, "scale_h": 2000.0}
DESIGN_FIX: dict[str, Any] = {"model": "SF-1004", "component": "离合器", "cut_in_build_date": "2023-03-01", "scale_factor": 3.0,
              "scale_h_before": 1500.0, "shape": 2.0}
PRICE_DEPOT: dict[str, Any] = {"depot_id": "GY01", "factor": 1.08, "n_parts": 8}
SUPERSESSION: dict[str, Any] = {"date": "2024-07-01", "old_part_family": ("SF", "机油滤清器")}


@dataclass
class World:
    """The simulated world in canonical form.

    Attributes
    ----------
    depots, customers, parts, machines, component_parts, maintenance_plans : pandas.DataFrame
        Master data with canonical column names.
    tickets : pandas.DataFrame
        Service tickets; datetimes as ``datetime64[s]`` (``NaT`` when unset).
    part_issues : pandas.DataFrame
        Issue lines; ``day`` is the issue day number since :data:`START`, ``depot`` and ``part`` are row indices
        into ``depots`` and ``parts``; returns carry negative quantities.
    receipts : pandas.DataFrame
        Receipts with ``ordered_day`` and ``received_day`` day numbers, ``depot`` and ``part`` indices.
    stock : pandas.DataFrame
        Snapshot at :data:`END`: ``depot``, ``part`` indices, on_hand, on_order, backorders [units].
    truth : dict
        Every true parameter, for ``ground_truth.json``.
    """

    depots: pd.DataFrame
    customers: pd.DataFrame
    parts: pd.DataFrame
    machines: pd.DataFrame
    component_parts: pd.DataFrame
    maintenance_plans: pd.DataFrame
    tickets: pd.DataFrame
    part_issues: pd.DataFrame
    receipts: pd.DataFrame
    stock: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)


def _day_of(iso_date: str) -> int:
    """Day number (days since :data:`START`) of an ISO date."""
    return int((np.datetime64(iso_date, "D") - START) // np.timedelta64(1, "D"))


def _distance_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance [km] between points given in degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def _fmt_ids(prefix: str, seq: np.ndarray, width: int) -> pd.Series:
    """Identifiers ``prefix`` + zero-padded ``seq`` (vectorised)."""
    return prefix + pd.Series(seq, dtype="int64").astype(str).str.zfill(width)


def _customers(rng: np.random.Generator, spec: ScaleSpec) -> pd.DataFrame:
    n = spec.n_customers
    w = np.array([c[3] for c in COUNTIES], float)
    county = rng.choice(len(COUNTIES), size=n, p=w / w.sum())
    lat = np.array([c[1] for c in COUNTIES])[county] + rng.normal(0, 0.08, n)
    lon = np.array([c[2] for c in COUNTIES])[county] + rng.normal(0, 0.08, n)
    dlat, dlon = np.array([d[4] for d in DEPOTS]), np.array([d[5] for d in DEPOTS])
    dist = _distance_km(lat[:, None], lon[:, None], dlat[None, :], dlon[None, :])
    depot = dist.argmin(axis=1)
    words = np.array(["丰源", "禾盛", "金田", "瑞丰", "绿野", "兴农", "沃土", "惠民", "宏达", "富农", "永丰", "天禾", "嘉禾",
                      "春雨", "鑫源", "众兴", "万顺", "福田", "塞上", "黄河", "六盘", "新绿", "稻香", "麦丰", "润土"])
    surnames = np.array(["马", "王", "李", "张", "杨", "刘", "田", "丁", "海", "苏", "金", "何", "白", "周", "赵"])
    given = np.array(["建国", "志军", "永福", "海军", "德明", "小平", "国强", "玉兰", "文龙", "学军", "长青", "红梅"])
    kinds = np.array(["种植专业合作社", "家庭农场", "农机专业合作社", "农业发展有限公司", "农机服务队"])
    kind = rng.choice(len(kinds), size=n, p=[0.35, 0.3, 0.2, 0.1, 0.05])
    county_names = np.array([c[0] for c in COUNTIES])
    place = pd.Series(county_names[county]).str.slice(0, 2)
    word = pd.Series(words[rng.integers(0, len(words), n)])
    person = pd.Series(surnames[rng.integers(0, len(surnames), n)]) + given[rng.integers(0, len(given), n)]
    stem = np.where(kind == 1, person, place + word)
    name = pd.Series(stem) + kinds[kind]
    dup = name.groupby(name).cumcount()
    name = name.where(dup == 0, name + "(" + (dup + 1).astype(str) + ")")
    return pd.DataFrame({
        "customer_id": _fmt_ids("KH", np.arange(1, n + 1), 5),
        "name": name,
        "county": county_names[county],
        "depot_id": np.array([d[0] for d in DEPOTS])[depot],
        "distance_km": np.round(dist[np.arange(n), depot], 1),
    })


def _parts(rng: np.random.Generator, spec: ScaleSpec) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The parts master: the parts used by components and kits, then a long tail sold at the counter."""
    makers = {m[0]: m for m in MANUFACTURERS + GENERIC_SUPPLIERS}
    rows: list[tuple[str, str, str, str, str, str]] = []  # part_no, name, spec, category, maker code, role
    bom: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for model, mfr, mtype, _label, _w in MODELS:
        for comp, code, _k, _s, plist in COMPONENTS[mtype]:
            for j, (pname, pcat, qty) in enumerate(plist):
                pno = f"{mfr}{model.split('-', 1)[1].replace('.', '').replace('-', '')}-{code}{j + 1:02d}"
                rows.append((pno, pname, f"{model}用", pcat, mfr, "bom"))
                bom.setdefault((model, comp), []).append((pno, qty))
    kit: dict[tuple[str, str], str] = {}
    for code, *_ in MANUFACTURERS:
        for j, fname in enumerate(_KIT_FILTERS):
            pno = f"{code}-LQ{j + 1:03d}"
            rows.append((pno, fname, f"{code}通用", "consumable", code, "kit"))
            kit[(code, fname)] = pno
    for j, (pname, pspec) in enumerate((("机油", "15W-40 4L"), ("润滑脂", "锂基 1kg"))):
        pno = f"HT-YP{j + 1:03d}"
        rows.append((pno, pname, pspec, "consumable", "HT", "kit"))
        kit[("*", pname)] = pno
    n_tail = spec.n_parts - len(rows)
    cats = np.array(list(_TAIL_NAMES))
    cat = cats[rng.choice(len(cats), size=n_tail, p=[0.2, 0.4, 0.08, 0.12, 0.2])]
    mcodes = np.array([m[0] for m in MANUFACTURERS] + ["FC", "HT"])
    maker = mcodes[rng.integers(0, len(MANUFACTURERS), n_tail)]
    maker = np.where(cat == "standard", "FC", np.where(cat == "consumable", "HT", maker))
    fam = rng.integers(0, 100, n_tail)
    names = np.empty(n_tail, dtype=object)
    uom = {c: u for c, (_n, u) in _TAIL_NAMES.items()}
    for c, (nm, _u) in _TAIL_NAMES.items():  # loop over five categories
        sel = cat == c
        names[sel] = np.array(nm)[fam[sel] % len(nm)]
    seq = np.arange(1, n_tail + 1)
    tail = pd.DataFrame({
        "part_no": pd.Series(maker) + "-" + pd.Series(seq).astype(str).str.zfill(6),
        "name": names,
        "spec": "规格" + pd.Series(rng.integers(10, 999, n_tail)).astype(str) + "-" + pd.Series(fam).astype(str),
        "category": cat,
        "maker": maker,
        "role": "tail",
    })
    parts = pd.concat([pd.DataFrame(rows, columns=list(tail.columns)), tail], ignore_index=True)
    n = len(parts)
    cat_arr = parts["category"].to_numpy()
    med = np.array([CATEGORY_COST[c][0] for c in cat_arr])
    lsd = np.array([CATEGORY_COST[c][1] for c in cat_arr])
    markup = np.array([CATEGORY_COST[c][2] for c in cat_arr]) * rng.uniform(0.95, 1.1, n)
    cost = np.round(med * np.exp(rng.normal(0, 1, n) * lsd), 2).clip(0.5)
    mk = parts["maker"].to_numpy()
    parts["manufacturer"] = pd.Series(mk).map({m: makers[m][1] for m in makers}).to_numpy()
    base_lt = pd.Series(mk).map({m: makers[m][3] for m in makers}).to_numpy()
    parts["unit_cost"] = cost
    parts["unit_price"] = np.round(cost * markup, 2)
    parts["lead_time_days"] = np.maximum(2, np.round(base_lt * rng.uniform(0.8, 1.3, n))).astype(int)
    pack = np.where(cat_arr == "standard", rng.choice([1, 5, 10, 20, 50], n), np.where(
        cat_arr == "consumable", rng.choice([1, 1, 4, 6, 12], n), 1))
    parts["pack_size"] = pack
    parts["moq"] = pack * np.where(rng.random(n) < 0.3, rng.integers(2, 6, n), 1)
    parts["uom"] = np.where(parts["role"] == "tail", parts["category"].map(uom), np.where(cat_arr == "consumable", "件", "个"))
    parts["superseded_by"] = ""
    parts["critical"] = (cat_arr == "component") | ((parts["role"] == "bom").to_numpy() & (rng.random(n) < 0.3))
    return parts, {"bom": bom, "kit": kit}


def _serials(pattern: str, prefix: str, build_day: np.ndarray, seq: np.ndarray) -> pd.Series:
    """Serial numbers from a manufacturer's pattern: ``{p}`` prefix, ``{yy}``/``{mm}`` build year/month, ``{seq:N}``."""
    dates = START + build_day
    yy = pd.Series((dates.astype("datetime64[Y]").astype(int) + 1970) % 100).astype(str).str.zfill(2)
    mm = pd.Series(dates.astype("datetime64[M]").astype(int) % 12 + 1).astype(str).str.zfill(2)
    out = pd.Series([""] * len(seq), dtype=object)
    for token in pattern.replace("}", "}|").split("|"):  # a handful of tokens
        lit, _, tok = token.partition("{")
        out = out + lit
        if tok.startswith("p"):
            out = out + prefix
        elif tok.startswith("yy"):
            out = out + yy
        elif tok.startswith("mm"):
            out = out + mm
        elif tok.startswith("seq"):
            out = out + pd.Series(seq).astype(str).str.zfill(int(tok[4:-1]))
    return out


def _machines(rng: np.random.Generator, spec: ScaleSpec, customers: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The installed base: sales growing over the years, seasonal within each year."""
    n = spec.n_machines
    w = np.array([m[4] for m in MODELS])
    model = rng.choice(len(MODELS), size=n, p=w / w.sum())
    mtype = np.array([m[2] for m in MODELS])[model]
    sale_day = np.empty(n, dtype=np.int64)
    year_w = SALES_GROWTH ** (_DAY_YEAR - 2019)
    last_sale = N_DAYS - 7
    for t, prof in SALES_PROFILE.items():  # four machine types
        sel = np.flatnonzero(mtype == t)
        dw = (year_w * np.array(prof, float)[_DAY_MONTH - 1])[:last_sale]
        sale_day[sel] = rng.choice(last_sale, size=sel.size, p=dw / dw.sum())
    order = np.lexsort((rng.random(n), sale_day))
    model, mtype, sale_day = model[order], mtype[order], sale_day[order]
    build_day = sale_day - rng.integers(14, 120, n)
    mfr = np.array([m[1] for m in MODELS])[model]
    makers = {m[0]: m for m in MANUFACTURERS}
    warranty = pd.Series(mfr).map({k: v[2] for k, v in makers.items()}).to_numpy().astype(int)
    serial = pd.Series([""] * n, dtype=object)
    for code, _name, _wm, _lt, _sd, pattern in MANUFACTURERS:  # six manufacturers
        sel = np.flatnonzero(mfr == code)
        serial.iloc[sel] = _serials(pattern, code, build_day[sel], np.arange(101, 101 + sel.size)).to_numpy()
    cw = rng.lognormal(0, 0.8, len(customers))
    cust = rng.choice(len(customers), size=n, p=cw / cw.sum())
    engine = "E" + pd.Series(rng.integers(10**8, 10**9, n)).astype(str)
    engine = engine.where(np.isin(mtype, ("tractor", "combine")), "")
    sale_dates = START + sale_day
    months = sale_dates.astype("datetime64[M]")
    warranty_end = ((months + warranty).astype("datetime64[D]") + (sale_dates - months.astype("datetime64[D]")))
    machines = pd.DataFrame({
        "serial_no": serial,
        "engine_no": engine,
        "manufacturer": pd.Series(mfr).map({k: v[1] for k, v in makers.items()}),
        "model": np.array([m[0] for m in MODELS])[model],
        "machine_type": mtype,
        "type_label": np.array([m[3] for m in MODELS])[model],
        "customer_id": customers["customer_id"].to_numpy()[cust],
        "customer_name": customers["name"].to_numpy()[cust],
        "depot_id": customers["depot_id"].to_numpy()[cust],
        "sale_day": sale_day,
        "build_day": build_day,
        "warranty_months": warranty,
        "warranty_end_day": (warranty_end - START).astype(int),
        "distance_km": customers["distance_km"].to_numpy()[cust],
        "model_idx": model,
    })
    truth = {"sales_growth_per_year": SALES_GROWTH, "sales_month_profile": SALES_PROFILE,
             "build_to_sale_days": [14, 119], "warranty_months": {v[1]: v[2] for v in makers.values()}}
    return machines, truth


def _usage(rng: np.random.Generator, machines: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
    """Cumulative working hours at the end of each day, shape (machines, days) [h]."""
    n = len(machines)
    prof = np.array([USAGE_PROFILE[t] for t in machines["machine_type"]], float)  # (n, 12)
    machine_factor = rng.lognormal(0.0, 0.35, n)
    year_factor = rng.lognormal(0.0, 0.15, (n, 8))
    per_day = prof[:, _DAY_MONTH - 1] / _MONTH_LEN[_DAY_MONTH_IDX]
    per_day *= machine_factor[:, None] * year_factor[:, _DAY_YEAR - 2019]
    per_day[np.arange(N_DAYS)[None, :] < machines["sale_day"].to_numpy()[:, None]] = 0.0
    cum = np.cumsum(per_day, axis=1)
    truth = {"hours_per_month_by_type": USAGE_PROFILE, "machine_factor_lognormal_sigma": 0.35,
             "machine_year_factor_lognormal_sigma": 0.15, "usage_starts": "sale date"}
    return cum, truth


def _day_at_hours(cum: np.ndarray, machine: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """First day on which each machine's cumulative hours reach ``hours`` (vectorised searchsorted)."""
    offset = float(cum[:, -1].max()) + 1.0
    flat = (cum + offset * np.arange(cum.shape[0])[:, None]).ravel()
    pos = np.searchsorted(flat, hours + offset * machine, side="left")
    return np.minimum(pos - machine * cum.shape[1], cum.shape[1] - 1)


def _components(rng: np.random.Generator) -> pd.DataFrame:
    """Weibull life of every model × component [h], with the planted early-life defect."""
    rows = []
    for model, _mfr, mtype, _l, _w in MODELS:
        mult = rng.lognormal(0.0, 0.15, len(COMPONENTS[mtype]))
        for j, (comp, code, shape, scale, _p) in enumerate(COMPONENTS[mtype]):
            rows.append((model, comp, code, shape, round(scale * float(mult[j]), 1)))
    comp = pd.DataFrame(rows, columns=["model", "component", "code", "shape", "scale_h"])
    for planted in (EARLY_LIFE, DESIGN_FIX):
        sel = (comp["model"] == planted["model"]) & (comp["component"] == planted["component"])
        comp.loc[sel, "shape"] = planted["shape"]
        comp.loc[sel, "scale_h"] = planted.get("scale_h", planted.get("scale_h_before"))
    return comp


def _failures(rng: np.random.Generator, machines: pd.DataFrame, comps: pd.DataFrame, cum: np.ndarray) -> pd.DataFrame:
    """Renewal process per machine × component: lives drawn until the machine's hours at END run out."""
    model_names = np.array([m[0] for m in MODELS])
    m_model = model_names[machines["model_idx"].to_numpy()]
    pm, pc = [], []
    for ci, model in enumerate(comps["model"]):  # model × component pairs (~80)
        sel = np.flatnonzero(m_model == model)
        pm.append(sel)
        pc.append(np.full(sel.size, ci))
    pair_m, pair_c = np.concatenate(pm), np.concatenate(pc)
    shape = comps["shape"].to_numpy()[pair_c]
    scale = comps["scale_h"].to_numpy()[pair_c].copy()
    cut = _day_of(DESIGN_FIX["cut_in_build_date"])
    fixed = (comps["model"].to_numpy()[pair_c] == DESIGN_FIX["model"]) & (
        comps["component"].to_numpy()[pair_c] == DESIGN_FIX["component"]) & (
        machines["build_day"].to_numpy()[pair_m] >= cut)
    scale[fixed] *= DESIGN_FIX["scale_factor"]
    h_end = cum[pair_m, -1]
    t = np.zeros(pair_m.size)
    active = np.arange(pair_m.size)
    ev_pair, ev_t = [], []
    while active.size:  # renewal rounds
        t[active] += scale[active] * rng.weibull(shape[active])
        hit = active[t[active] <= h_end[active]]
        ev_pair.append(hit)
        ev_t.append(t[hit])
        active = hit
    pair = np.concatenate(ev_pair)
    hours = np.concatenate(ev_t)
    machine = pair_m[pair]
    return pd.DataFrame({"machine": machine, "comp": pair_c[pair], "hours": hours,
                         "day": _day_at_hours(cum, machine, hours)})


def _csr(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each group in an array sorted by ``groups``."""
    counts = np.bincount(groups, minlength=n_groups)
    return np.concatenate(([0], np.cumsum(counts)[:-1])), counts


def _expand(keys: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each event with group ``keys``: the event index and the line position of each of its group's lines."""
    n_lines = lens[keys]
    event = np.repeat(np.arange(keys.size), n_lines)
    first = np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    return event, starts[keys][event] + (np.arange(event.size) - first)


def _bom_and_plans(comps: pd.DataFrame, parts: pd.DataFrame, links: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Component → parts lines and maintenance kit lines, with part indices."""
    pidx = pd.Series(np.arange(len(parts)), index=parts["part_no"])
    rows = []
    for ci, (model, comp) in enumerate(zip(comps["model"], comps["component"])):
        for pno, qty in links["bom"][(model, comp)]:
            rows.append((ci, model, comp, pno, qty))
    bom = pd.DataFrame(rows, columns=["comp", "model", "component", "part_no", "qty_per_replacement"])
    bom["part"] = pidx[bom["part_no"]].to_numpy()
    plan_rows: list[tuple[str, str, float, int, str, int]] = []
    for model, mfr, mtype, _l, _w in MODELS:
        group = "engine" if mtype in ("tractor", "combine") else "implement"
        for service, ih, idays, kit in MAINTENANCE[group]:
            for item, qty in kit:
                if item in ("皮带", "链条"):
                    pno = links["bom"][(model, item)][0][0]
                elif item in _KIT_FILTERS:
                    pno = links["kit"][(mfr, item)]
                else:
                    pno = links["kit"][("*", item)]
                plan_rows.append((model, service, ih, idays, pno, qty))
    plans = pd.DataFrame(plan_rows, columns=["model", "service", "interval_hours", "interval_days", "part_no", "quantity"])
    plans["part"] = pidx[plans["part_no"]].to_numpy()
    plans["service_idx"] = plans.groupby(["model", "service"], sort=False).ngroup()
    return bom, plans


def _clock(rng: np.random.Generator, n: int, mean_h: float, sd_h: float) -> np.ndarray:
    """Minutes after midnight of ``n`` events around ``mean_h`` o'clock, between 06:00 and 21:59."""
    return np.round(np.clip(rng.normal(mean_h, sd_h, n), 6.0, 21.98) * 60).astype(np.int64)


def _tickets(rng: np.random.Generator, machines: pd.DataFrame, comps: pd.DataFrame, fail: pd.DataFrame,
             cum: np.ndarray, parts: pd.DataFrame, bom: pd.DataFrame, plans: pd.DataFrame
             ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Service tickets of every kind and the repair / maintenance issue lines they cause."""
    dist = machines["distance_km"].to_numpy()
    wend = machines["warranty_end_day"].to_numpy()
    sale = machines["sale_day"].to_numpy()
    frames: list[dict[str, np.ndarray]] = []

    # failures
    m, ci, day = fail["machine"].to_numpy(), fail["comp"].to_numpy(), fail["day"].to_numpy()
    n = m.size
    harvest = np.isin(_DAY_MONTH[day], HARVEST_MONTHS)
    reported = day * 1440 + _clock(rng, n, 13.0, 3.5)
    channel = rng.choice(np.array(["onsite", "phone", "video"]), size=n, p=[0.88, 0.08, 0.04])
    onsite = channel == "onsite"
    travel_h = 0.25 + dist[m] / 55.0 + rng.exponential(0.25, n)
    travel_h += harvest * (rng.random(n) < 0.35) * rng.exponential(1.5, n)
    arrived = np.where(onsite, reported + np.round(travel_h * 60).astype(np.int64), -1)
    start_work = np.where(onsite, arrived, reported + 30)
    bom_start, bom_len = _csr(bom["comp"].to_numpy(), len(comps))
    first_part = bom["part"].to_numpy()[bom_start]
    lead = parts["lead_time_days"].to_numpy()[first_part[ci]]
    need_order = rng.random(n) < 0.18 + 0.17 * harvest
    order_days = need_order * np.ceil(lead * rng.lognormal(0, 0.3, n) * np.where(harvest, 1.4, 1.0)).astype(np.int64)
    issue_min = start_work + order_days * 1440
    resolved = issue_min + np.round(rng.gamma(2.0, 1.8, n) * 60).astype(np.int64)
    in_w = day < wend[m]
    early = (comps["model"].to_numpy()[ci] == EARLY_LIFE["model"]) & (
        comps["component"].to_numpy()[ci] == EARLY_LIFE["component"])
    u = rng.random(n)
    p_in, p_out, p_early = (0.86, 0.94, 0.98), (0.72, 0.92, 0.97), (0.92, 0.96, 0.99)
    cuts = np.where(early[:, None], p_early, np.where(in_w[:, None], p_in, p_out))
    cause = np.array(["manufacturer", "wear", "misuse", "unknown"])[(u[:, None] > cuts).sum(axis=1)]
    fault = comps["code"].to_numpy()[ci] + "-" + pd.Series(rng.integers(1, 5, n)).astype(str).str.zfill(2).to_numpy()
    took = resolved - reported
    loaner = in_w & (took > 3 * 1440) & (rng.random(n) < 0.85)
    promise = np.where(in_w, 3, 5) * 1440
    sat = 5 - (onsite & (arrived - reported > 120)) - (took > promise) - (rng.random(n) < 0.25) - 2 * (rng.random(n) < 0.04)
    frames.append({"machine": m, "kind": np.full(n, "failure"), "reported": reported, "arrived": arrived,
                   "resolved": resolved, "channel": channel, "comp": ci, "fault_code": fault, "cause": cause,
                   "hours": fail["hours"].to_numpy(), "in_warranty": in_w, "loaner": loaner,
                   "satisfaction": np.clip(sat, 1, 5), "issue_min": issue_min, "service": np.full(n, -1)})

    # maintenance at 50 h once, then every base interval (the largest interval dividing the hours picks the kit)
    model_names = np.array([mm[0] for mm in MODELS])
    m_model = model_names[machines["model_idx"].to_numpy()]
    compliance = rng.beta(5.0, 2.0, len(machines))
    mm_, svc_, thr_ = [], [], []
    for model in model_names:  # sixteen models
        sel = np.flatnonzero(m_model == model)
        pl = plans[plans["model"] == model].drop_duplicates("service")
        ivals, sids = pl["interval_hours"].to_numpy(), pl["service_idx"].to_numpy()
        rep = ivals != 50.0
        base = ivals[rep].min()
        h_end = cum[sel, -1]
        k = np.floor(h_end / base).astype(int)
        mach = np.repeat(sel, k)
        thr = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 1) * base
        level = np.zeros(thr.size, dtype=int)
        for j in np.argsort(ivals[rep]):  # two or three services
            level = np.where(np.isclose(thr % ivals[rep][j], 0.0), j, level)
        mm_ += [mach, sel[h_end >= 50.0]] if (~rep).any() else [mach]
        svc_ += [sids[rep][level]] + ([np.full(int((h_end >= 50.0).sum()), sids[~rep][0])] if (~rep).any() else [])
        thr_ += [thr] + ([np.full(int((h_end >= 50.0).sum()), 50.0)] if (~rep).any() else [])
    m, svc, thr = np.concatenate(mm_), np.concatenate(svc_), np.concatenate(thr_)
    keep = rng.random(m.size) < compliance[m]
    m, svc, thr = m[keep], svc[keep], thr[keep]
    day = np.minimum(_day_at_hours(cum, m, thr) + rng.integers(0, 8, m.size), N_DAYS - 1)
    n = m.size
    reported = day * 1440 + _clock(rng, n, 9.5, 1.2)
    arrived = reported + np.round((0.5 + dist[m] / 55.0 + rng.exponential(0.3, n)) * 60).astype(np.int64)
    resolved = arrived + np.round(rng.uniform(1.0, 3.0, n) * 60).astype(np.int64)
    sat = np.where(rng.random(n) < 0.3, 0, 5 - (rng.random(n) < 0.2) - (rng.random(n) < 0.05))
    frames.append({"machine": m, "kind": np.full(n, "maintenance"), "reported": reported, "arrived": arrived,
                   "resolved": resolved, "channel": np.full(n, "onsite"), "comp": np.full(n, -1),
                   "fault_code": np.full(n, ""), "cause": np.full(n, ""), "hours": cum[m, day],
                   "in_warranty": day < wend[m], "loaner": np.zeros(n, bool), "satisfaction": sat,
                   "issue_min": arrived, "service": svc})

    # installation at delivery, training for some buyers, yearly follow-up visits in March
    mi = np.arange(len(machines))
    tr = mi[rng.random(mi.size) < 0.25]
    vis_m, vis_d = [], []
    for year in range(2019, 2027):  # eight years
        d0 = _day_of(f"{year}-03-01")
        sel = mi[(sale < d0) & (rng.random(mi.size) < 0.4)]
        vis_m.append(sel)
        vis_d.append(d0 + rng.integers(0, 31, sel.size))
    for kind, mach, d, ch in (
        ("installation", mi, sale + rng.integers(0, 4, mi.size), "onsite"),
        ("training", tr, sale[tr] + rng.integers(1, 11, tr.size), "onsite"),
        ("inspection", np.concatenate(vis_m), np.concatenate(vis_d), ""),
    ):
        d = np.minimum(d, N_DAYS - 1)
        n = mach.size
        chan = rng.choice(np.array(["phone", "onsite"]), size=n, p=[0.65, 0.35]) if not ch else np.full(n, ch)
        reported = d * 1440 + _clock(rng, n, 10.5, 1.5)
        arrived = np.where(chan == "onsite", reported + np.round((0.5 + dist[mach] / 55.0) * 60).astype(np.int64), -1)
        resolved = np.where(chan == "onsite", arrived, reported) + np.round(rng.uniform(0.3, 2.5, n) * 60).astype(np.int64)
        frames.append({"machine": mach, "kind": np.full(n, kind), "reported": reported, "arrived": arrived,
                       "resolved": resolved, "channel": chan, "comp": np.full(n, -1), "fault_code": np.full(n, ""),
                       "cause": np.full(n, ""), "hours": cum[mach, d], "in_warranty": d < wend[mach],
                       "loaner": np.zeros(n, bool), "satisfaction": np.where(rng.random(n) < 0.5, 0, 5),
                       "issue_min": np.full(n, -1), "service": np.full(n, -1)})

    t = pd.DataFrame({k: np.concatenate([f[k] for f in frames]) for k in frames[0]})
    end_min = N_DAYS * 1440
    t = t[t["reported"] < end_min].reset_index(drop=True)
    t["row"] = np.arange(len(t))
    t = t.sort_values(["reported", "machine", "kind"], kind="stable").reset_index(drop=True)
    year = _DAY_YEAR[t["reported"].to_numpy() // 1440]
    seq = t.groupby(year).cumcount().to_numpy() + 1
    t["ticket_id"] = "FW" + pd.Series(year).astype(str) + pd.Series(seq).astype(str).str.zfill(6)
    for col in ("arrived", "resolved", "issue_min"):
        t.loc[t[col] >= end_min, col] = -1
    t.loc[t["resolved"] < 0, "loaner"] = False

    # issue lines: failure → component parts, maintenance → kit
    lines = []
    fsel = np.flatnonzero((t["kind"] == "failure").to_numpy() & (t["issue_min"] >= 0).to_numpy())
    ev, pos = _expand(t["comp"].to_numpy()[fsel], bom_start, bom_len)
    lines.append(pd.DataFrame({"t": fsel[ev], "part": bom["part"].to_numpy()[pos],
                               "quantity": bom["qty_per_replacement"].to_numpy()[pos], "kind": "repair"}))
    plans_sorted = plans.sort_values("service_idx", kind="stable")
    k_start, k_len = _csr(plans_sorted["service_idx"].to_numpy(), int(plans["service_idx"].max()) + 1)
    msel = np.flatnonzero((t["kind"] == "maintenance").to_numpy() & (t["issue_min"] >= 0).to_numpy())
    ev, pos = _expand(t["service"].to_numpy()[msel], k_start, k_len)
    lines.append(pd.DataFrame({"t": msel[ev], "part": plans_sorted["part"].to_numpy()[pos],
                               "quantity": plans_sorted["quantity"].to_numpy()[pos], "kind": "maintenance"}))
    li = pd.concat(lines, ignore_index=True)
    tm = t["machine"].to_numpy()[li["t"].to_numpy()]
    li["day"] = t["issue_min"].to_numpy()[li["t"].to_numpy()] // 1440
    li["machine"] = tm
    truth = {
        "failure_ticket_channel_probabilities": {"onsite": 0.88, "phone": 0.08, "video": 0.04},
        "travel_time_h": "0.25 + distance_km / 55 + Exp(mean 0.25); in harvest months (6, 7, 9, 10) with p 0.35 "
                         "a further Exp(mean 1.5)",
        "part_order_probability": "0.18, plus 0.17 in harvest months; order delay = lead_time_days of the "
                                  "component's first part x LogNormal(0, 0.3) x 1.4 in harvest",
        "repair_work_h": "Gamma(shape 2, scale 1.8)",
        "cause_cumulative_probabilities": {"in_warranty": p_in, "out_of_warranty": p_out, "early_life_component": p_early,
                                           "order": ["manufacturer", "wear", "misuse", "unknown"]},
        "loaner_rule": "in warranty, resolved more than 3 days after the report, with probability 0.85",
        "maintenance_compliance_beta": [5.0, 2.0],
        "maintenance_delay_days": [0, 7],
        "follow_up_visits": "each March, probability 0.4 per machine sold before March 1",
        "training_probability": 0.25,
    }
    return t, li, truth


def _counter_sales(rng: np.random.Generator, spec: ScaleSpec, parts: pd.DataFrame, machines: pd.DataFrame
                   ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Intermittent counter sales per part × depot × month: Poisson line counts, then sizes per line."""
    n_parts = len(parts)
    role_mult = parts["role"].map({"kit": 6.0, "bom": 0.6, "tail": 1.0}).to_numpy()
    rate = rng.lognormal(0.0, 1.5, n_parts) * role_mult
    rate *= spec.counter_lines_per_part_month * n_parts / rate.sum()
    sold = np.bincount(_DAY_MONTH_IDX[machines["sale_day"].to_numpy()], minlength=N_MONTHS).cumsum()
    growth = 0.35 + 0.65 * sold / sold[-1]
    prof = np.array(USAGE_PROFILE["tractor"], float)
    season = (0.4 + 0.6 * prof / prof.mean())[_MONTH_OF_YEAR - 1]
    share = np.array([d[6] for d in DEPOTS])
    mean = rate[:, None, None] * share[None, :, None] * (growth * season)[None, None, :]
    counts = rng.poisson(mean).ravel()
    cell = np.repeat(np.arange(counts.size), counts)
    part, rest = np.divmod(cell, len(DEPOTS) * N_MONTHS)
    depot, month = np.divmod(rest, N_MONTHS)
    day = _MONTH_START[month] + np.floor(rng.random(cell.size) * _MONTH_LEN[month]).astype(np.int64)
    extra = parts["category"].map({c: v[3] for c, v in CATEGORY_COST.items()}).to_numpy()
    extra = extra * rng.lognormal(0.0, 0.5, n_parts)
    qty = 1 + rng.poisson(extra[part])
    cs = pd.DataFrame({"day": day, "depot": depot, "part": part, "quantity": qty, "kind": "counter_sale"})
    truth = {
        "rate_lines_per_month": "LogNormal(0, 1.5) per part x role multiplier, scaled to the mean; "
                                "times depot share x season x growth",
        "role_multiplier": {"kit": 6.0, "bom": 0.6, "tail": 1.0},
        "mean_lines_per_part_month": spec.counter_lines_per_part_month,
        "depot_share": {d[0]: d[6] for d in DEPOTS},
        "season_by_month": dict(zip(range(1, 13), np.round(0.4 + 0.6 * prof / prof.mean(), 6).tolist())),
        "growth": "0.35 + 0.65 x installed base / installed base at END",
        "line_size": "1 + Poisson(category extra x LogNormal(0, 0.5) per part)",
        "category_extra_units": {c: v[3] for c, v in CATEGORY_COST.items()},
        "return_probability_per_line": 0.004,
    }
    return cs, {"rate": rate, **truth}


def _replenishment(rng: np.random.Generator, parts: pd.DataFrame, issues: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Monthly transfers YC01 → branches, purchases at YC01 and the stock snapshot at END."""
    n_parts, nd = len(parts), len(DEPOTS)
    demand = issues[issues["kind"] != "transfer"]
    flat = (demand["part"].to_numpy() * nd + demand["depot"].to_numpy()) * N_MONTHS + _DAY_MONTH_IDX[demand["day"]]
    q = np.bincount(flat, weights=demand["quantity"].to_numpy(), minlength=n_parts * nd * N_MONTHS)
    q = q.reshape(n_parts, nd, N_MONTHS)
    pack = parts["pack_size"].to_numpy()
    # transfers: last month's branch demand, rounded up to packs, issued in the first days of the month
    tq = np.ceil(np.maximum(q[:, 1:, :-1], 0) / pack[:, None, None]) * pack[:, None, None]
    p_i, b_i, m_i = np.nonzero(tq)
    t_day = _MONTH_START[m_i + 1] + rng.integers(0, 5, p_i.size)
    travel = np.array([0, 1, 1, 2])[b_i + 1] + rng.integers(0, 2, p_i.size)
    transfers = pd.DataFrame({"day": t_day, "depot": 0, "part": p_i, "quantity": tq[p_i, b_i, m_i].astype(np.int64),
                              "kind": "transfer", "to_depot": b_i + 1})
    t_rec = pd.DataFrame({"ordered_day": t_day, "received_day": t_day + travel, "depot": b_i + 1, "part": p_i,
                          "quantity": transfers["quantity"].to_numpy(), "supplier": DEPOTS[0][1]})
    # purchases: last month's network demand, at least the MOQ, rounded to packs
    net = np.maximum(q.sum(axis=1)[:, :-1], 0)
    moq = parts["moq"].to_numpy()
    pq = np.where(net > 0, np.maximum(np.ceil(net / pack[:, None]) * pack[:, None], moq[:, None]), 0)
    p_i, m_i = np.nonzero(pq)
    o_day = _MONTH_START[m_i + 1] + rng.integers(0, 10, p_i.size)
    makers = {m[1]: m for m in MANUFACTURERS + GENERIC_SUPPLIERS}
    sd = parts["manufacturer"].map({k: v[4] for k, v in makers.items()}).to_numpy()[p_i]
    harvest = np.isin(_MONTH_OF_YEAR[m_i + 1], HARVEST_MONTHS)
    lt = parts["lead_time_days"].to_numpy()[p_i] * rng.lognormal(0.0, sd) * np.where(harvest, 1.45, 1.0)
    r_day = o_day + np.maximum(1, np.round(lt)).astype(np.int64)
    p_rec = pd.DataFrame({"ordered_day": o_day, "received_day": r_day, "depot": 0, "part": p_i,
                          "quantity": pq[p_i, m_i].astype(np.int64), "supplier": parts["manufacturer"].to_numpy()[p_i]})
    receipts = pd.concat([p_rec, t_rec], ignore_index=True)
    receipts = receipts[receipts["ordered_day"] < N_DAYS]
    transfers = transfers[transfers["day"] < N_DAYS]
    late = receipts["received_day"] >= N_DAYS
    on_order = np.bincount(receipts["part"][late] * nd + receipts["depot"][late],
                           weights=receipts["quantity"][late], minlength=n_parts * nd).reshape(n_parts, nd)
    recent = np.maximum(q[:, :, -12:].mean(axis=2), 0)
    on_hand = rng.poisson(recent * rng.uniform(0.6, 2.5, recent.shape))
    dead = (recent == 0) & (rng.random(recent.shape) < 0.1)
    on_hand = np.where(dead, rng.integers(1, 4, recent.shape), on_hand)
    back = np.where((on_hand == 0) & (recent > 0.3) & (rng.random(recent.shape) < 0.3), 1 + rng.poisson(1.0, recent.shape), 0)
    pp, dd = np.divmod(np.arange(n_parts * nd), nd)
    stock = pd.DataFrame({"depot": dd, "part": pp, "on_hand": on_hand.ravel(),
                          "on_order": on_order.ravel().astype(np.int64), "backorders": back.ravel()})
    truth = {"transfer_rule": "previous month's branch demand rounded up to pack_size, issued on days 1-5 of the month",
             "transfer_travel_days": {"PL01": [1, 2], "QT01": [1, 2], "GY01": [2, 3]},
             "purchase_rule": "previous month's network demand rounded up to pack_size, at least moq, ordered on "
                              "days 1-10 of the month at YC01",
             "purchase_lead_time": "lead_time_days x LogNormal(0, supplier log sd) x 1.45 when ordered in a harvest month",
             "supplier_lead_time_days": {m[1]: m[3] for m in MANUFACTURERS + GENERIC_SUPPLIERS},
             "supplier_lead_time_log_sd": {m[1]: m[4] for m in MANUFACTURERS + GENERIC_SUPPLIERS},
             "harvest_lead_time_factor": 1.45, "harvest_months": list(HARVEST_MONTHS)}
    return transfers, receipts.reset_index(drop=True), stock, truth


def simulate_world(scale: str, seed: int) -> World:
    """Simulate the dealer's world.

    Parameters
    ----------
    scale : {"small", "large"}
        Size (see :data:`SCALES`); the caller validates it.
    seed : int
        Seed of the ``PCG64`` generator.

    Returns
    -------
    World
        Canonical tables and the ground truth.
    """
    spec = SCALES[scale]
    rng = np.random.Generator(np.random.PCG64(seed))
    depots = pd.DataFrame([d[:6] for d in DEPOTS],
                          columns=["depot_id", "name", "role", "parent_id", "latitude", "longitude"])
    customers = _customers(rng, spec)
    parts, links = _parts(rng, spec)
    machines, t_mach = _machines(rng, spec, customers)
    cum, t_usage = _usage(rng, machines)
    comps = _components(rng)
    fail = _failures(rng, machines, comps, cum)
    bom, plans = _bom_and_plans(comps, parts, links)
    tickets, lines, t_tick = _tickets(rng, machines, comps, fail, cum, parts, bom, plans)
    depot_idx = pd.Series(np.arange(len(DEPOTS)), index=[d[0] for d in DEPOTS])
    lines["depot"] = depot_idx[machines["depot_id"].to_numpy()[lines["machine"]]].to_numpy()
    cs, t_cs = _counter_sales(rng, spec, parts, machines)
    rate = t_cs.pop("rate")

    # supersession: a new part number takes over the old one's flows from the date on
    old = links["kit"][SUPERSESSION["old_part_family"]]
    old_i = int(np.flatnonzero(parts["part_no"] == old)[0])
    new_row = parts.iloc[[old_i]].copy()
    new_row["part_no"] = old + "A"
    new_row["spec"] = "改进型"
    new_row["role"] = "successor"
    parts = pd.concat([parts, new_row], ignore_index=True)
    new_i = len(parts) - 1
    parts.loc[old_i, "superseded_by"] = old + "A"
    sup_day = _day_of(SUPERSESSION["date"])

    issues = pd.concat([lines.drop(columns=["machine"]).assign(machine=lines["machine"]), cs.assign(machine=-1, t=-1)],
                       ignore_index=True)
    # a few returns (退库) of counter sales, a few days later, as negative quantities
    ret = issues[(issues["kind"] == "counter_sale").to_numpy() & (rng.random(len(issues)) < 0.004)].copy()
    ret["day"] = ret["day"] + rng.integers(1, 21, len(ret))
    ret["quantity"] = -np.maximum(1, np.round(ret["quantity"] * rng.uniform(0.3, 1.0, len(ret)))).astype(np.int64)
    ret["kind"] = "return"
    issues = pd.concat([issues, ret[ret["day"] < N_DAYS]], ignore_index=True)
    moved = (issues["part"] == old_i) & (issues["day"] >= sup_day)
    issues.loc[moved, "part"] = new_i
    plans.loc[plans["part"] == old_i, ["part", "part_no"]] = (new_i, old + "A")
    transfers, receipts, stock, t_repl = _replenishment(rng, parts, issues)
    transfers.loc[(transfers["part"] == old_i) & (transfers["day"] >= sup_day), "part"] = new_i
    receipts.loc[(receipts["part"] == old_i) & (receipts["ordered_day"] >= sup_day), "part"] = new_i
    stock.loc[stock["part"] == old_i, ["on_hand", "on_order", "backorders"]] = 0
    issues = pd.concat([issues, transfers.assign(machine=-1, t=-1)], ignore_index=True)

    # prices: list price everywhere, except the planted depot for a few busy parts; transfers at cost
    gy = int(depot_idx[PRICE_DEPOT["depot_id"]])
    busy = np.argsort(-np.where(parts["role"].iloc[: rate.size] == "tail", rate, 0.0), kind="stable")
    diff_parts = np.sort(busy[: PRICE_DEPOT["n_parts"]])
    price = parts["unit_price"].to_numpy()[issues["part"]]
    bump = (issues["depot"] == gy).to_numpy() & np.isin(issues["part"], diff_parts)
    price = np.where(bump, np.round(price * PRICE_DEPOT["factor"], 2), price)
    issues["unit_price"] = np.where(issues["kind"] == "transfer", parts["unit_cost"].to_numpy()[issues["part"]], price)
    issues = _issue_ids(issues, tickets)
    receipts = _receipt_ids(receipts)

    truth: dict[str, Any] = {
        "end_date": str(END), "start_date": str(START), "scale": scale, "seed": seed,
        "depots": {d[0]: {"name": d[1], "role": d[2], "parent_id": d[3], "latitude": d[4], "longitude": d[5]}
                   for d in DEPOTS},
        "manufacturers": {m[0]: m[1] for m in MANUFACTURERS}, "all_names_fictional": True,
        "machines": t_mach, "usage": t_usage, "service": t_tick, "counter_sales": t_cs, "replenishment": t_repl,
        "weibull": {f"{r.model}|{r.component}": {"shape": float(r.shape), "scale_h": float(r.scale_h)}
                    for r in comps.itertuples()},
        "maintenance_services": {k: [(s[0], s[1], s[2], list(s[3])) for s in v] for k, v in MAINTENANCE.items()},
        "counter_sale_rate_top_parts": dict(zip(parts["part_no"].to_numpy()[np.argsort(-rate)[:20]],
                                                np.sort(rate)[::-1][:20].round(6).tolist())),
        "prices": {"rule": "unit_price = unit_cost x category markup x Uniform(0.95, 1.1), 2 decimals; issues at "
                           "unit_price, transfers at unit_cost",
                   "category_cost_median_cny_logsd_markup": {c: v[:3] for c, v in CATEGORY_COST.items()}},
        "planted_effects": {
            "early_life_defect": {**EARLY_LIFE, "note": "Weibull shape < 1: failures concentrate at low hours"},
            "design_fix": {**DESIGN_FIX, "scale_h_after": DESIGN_FIX["scale_h_before"] * DESIGN_FIX["scale_factor"],
                           "machines_after_cut_in": int(((machines["model"] == DESIGN_FIX["model"]) & (
                               machines["build_day"] >= _day_of(DESIGN_FIX["cut_in_build_date"]))).sum())},
            "price_difference": {"depot_id": PRICE_DEPOT["depot_id"], "depot_name": DEPOTS[gy][1],
                                 "factor": PRICE_DEPOT["factor"], "part_nos": parts["part_no"].to_numpy()[diff_parts].tolist(),
                                 "kinds": ["repair", "maintenance", "counter_sale", "return"]},
            "supersession": {"old_part_no": old, "new_part_no": old + "A", "date": SUPERSESSION["date"],
                             "note": "old part's issues stop on the date, the new part's start"},
        },
        "cause_share_manufacturer_failures": float((tickets["cause"] == "manufacturer").sum()
                                                   / max(1, (tickets["kind"] == "failure").sum())),
    }
    return World(depots=depots, customers=customers, parts=parts, machines=machines,
                 component_parts=bom, maintenance_plans=plans, tickets=tickets, part_issues=issues,
                 receipts=receipts, stock=stock, truth=truth)


def _issue_ids(issues: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """Sort issue lines by day and document, and give them document numbers (出库单号)."""
    rank = issues["kind"].map({"repair": 0, "maintenance": 1, "counter_sale": 2, "return": 3, "transfer": 4})
    issues = issues.assign(rank=rank.to_numpy(), line=np.arange(len(issues)))
    issues = issues.sort_values(["day", "rank", "t", "line"], kind="stable").reset_index(drop=True)
    year = pd.Series(_DAY_YEAR[issues["day"].to_numpy()]).astype(str)
    has_t = (issues["t"] >= 0).to_numpy()
    tid = tickets["ticket_id"].to_numpy()[np.where(has_t, issues["t"], 0)]
    doc = np.where(has_t, tid, issues["line"].to_numpy().astype(str))
    key = pd.Series(doc)
    seq = key.ne(key.shift()).cumsum()  # consecutive lines of one document share a number
    first = seq.groupby(year.to_numpy()).transform("min")
    prefix = issues["kind"].map({"repair": "WX", "maintenance": "BY", "counter_sale": "XS", "return": "TK",
                                 "transfer": "DB"})
    issues["issue_id"] = prefix + year + (seq - first + 1).astype(str).str.zfill(7)
    issues["ticket_id"] = np.where(has_t, tid, "")
    return issues.drop(columns=["rank", "line"])


def _receipt_ids(receipts: pd.DataFrame) -> pd.DataFrame:
    """Receipts that arrived by END, sorted by arrival, with receipt numbers (入库单号)."""
    r = receipts[receipts["received_day"] < N_DAYS].sort_values(["received_day", "depot", "part"], kind="stable")
    r = r.reset_index(drop=True)
    year = pd.Series(_DAY_YEAR[r["received_day"].to_numpy()]).astype(str)
    seq = r.groupby(year.to_numpy()).cumcount() + 1
    prefix = np.where(r["depot"] == 0, "CG", "DR")
    r["receipt_id"] = prefix + year + seq.astype(str).str.zfill(7)
    return r
