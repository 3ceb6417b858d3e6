"""A synthetic Ningxia dealer, written as its ERP and service system would export it.

:func:`generate` simulates the world (:mod:`zk_forecast.data.demo_world`) and writes the exports a 用友/金蝶-style
ERP produces: Chinese headers (each one a header the canonical schema maps), Chinese enum labels, mixed date formats,
mixed encodings, a few extra columns and a handful of planted data errors, plus ``ground_truth.json`` with every
true parameter. The same seed gives byte-identical files.

Examples
--------
>>> from zk_forecast.data import demo
>>> summary = demo.generate("data/raw/demo", scale="small", seed=7)  # doctest: +SKIP
>>> summary.files["售后服务单.csv"]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook

from zk_forecast._xlsx import freeze_xlsx
from zk_forecast.data import demo_world as w
from zk_forecast.errors import ZkValueError
from zk_forecast.schema import BOOL_FALSE, BOOL_TRUE, get_table

__all__ = ["END", "SCALES", "DemoSummary", "generate"]

END = dt.date(2026, 10, 31)
SCALES = tuple(w.SCALES)
_FIXED_TIME = dt.datetime(2026, 10, 31, 0, 0, 0)
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")

CHANNEL_ZH = {"phone": "电话", "video": "视频", "onsite": "上门"}
TICKET_KIND_ZH = {"failure": "故障维修", "maintenance": "保养", "installation": "安装调试", "training": "培训",
                  "inspection": "回访"}
CAUSE_ZH = {"manufacturer": "质量问题", "wear": "正常磨损", "misuse": "使用不当", "unknown": "待查"}
ISSUE_KIND_ZH = {"repair": "维修领用", "maintenance": "保养领用", "counter_sale": "零售", "transfer": "调拨",
                 "return": "退库"}
CATEGORY_ZH = {"consumable": "消耗材料", "standard": "标准件", "tool": "工具", "auxiliary": "辅助设备",
               "component": "部件"}
ROLE_ZH = {"central": "中心库", "branch": "分库"}
SATISFACTION_ZH = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
_YES, _NO = BOOL_TRUE[0], BOOL_FALSE[0]
# extra columns real exports carry; no canonical table maps them, so ingestion reports them as unknown
EXTRA_COLUMNS = ("金额", "备注", "地址", "联系电话", "维修人员", "存货名称", "客户名称")


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate` wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
        Folder of the exports.
    files : dict of str to int
        Export file name → number of data rows written (header and blank lines not counted) [rows].
    ground_truth : pathlib.Path
        ``ground_truth.json``: the true parameters, planted effects and planted data errors.
    """

    out_dir: Path
    files: dict[str, int]
    ground_truth: Path


def _h(table: str, column: str, header: str | None = None) -> str:
    """The export header of ``table.column``: its Chinese label, or ``header`` after checking the schema maps it."""
    col = get_table(table).column(column)
    out = header or col.label_zh
    if out not in col.headers:  # a programming error, not a user error
        raise AssertionError(f"{out!r} is not a header of {table}.{column}")
    return out


class _Dates:
    """Day numbers (since 2019-01-01) → date strings in the formats real exports mix (a lookup table per format)."""

    LOW, HIGH = -1200, w.N_DAYS + 800
    FORMATS = ("iso", "slash", "zh", "serial")

    def __init__(self) -> None:
        days = w.START + np.arange(self.LOW, self.HIGH)
        y = days.astype("datetime64[Y]").astype(int) + 1970
        m = days.astype("datetime64[M]").astype(int) % 12 + 1
        d = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
        ys, ms, ds = (pd.Series(a).astype(str) for a in (y, m, d))
        self.table = np.stack([
            (ys + "-" + ms.str.zfill(2) + "-" + ds.str.zfill(2)).to_numpy(dtype=object),
            (ys + "/" + ms + "/" + ds).to_numpy(dtype=object),
            (ys + "年" + ms + "月" + ds + "日").to_numpy(dtype=object),
            pd.Series((days - _EXCEL_EPOCH).astype(int)).astype(str).to_numpy(dtype=object),
        ])

    def format(self, days: np.ndarray, style: np.ndarray | int = 0) -> np.ndarray:
        """Strings for ``days`` in format index ``style`` (0 ISO, 1 slash, 2 Chinese, 3 Excel serial)."""
        return self.table[style, np.asarray(days) - self.LOW]

    def mixed(self, rng: np.random.Generator, days: np.ndarray, p: Sequence[float] = (0.85, 0.06, 0.05, 0.04)
              ) -> np.ndarray:
        """Strings in a random mix of the formats with probabilities ``p``."""
        return self.format(days, rng.choice(4, size=len(days), p=np.asarray(p)))

    def datetimes(self, rng: np.random.Generator, minutes: np.ndarray) -> np.ndarray:
        """``2024-03-05 14:30`` (90 %) or ``2024/3/5 14:30`` strings for minutes since START; '' where negative."""
        minutes = np.asarray(minutes)
        ok = minutes >= 0
        day, mod = np.divmod(np.where(ok, minutes, 0), 1440)
        hh, mm = np.divmod(mod, 60)
        clock = (pd.Series(hh).astype(str).str.zfill(2) + ":" + pd.Series(mm).astype(str).str.zfill(2)).to_numpy()
        style = np.where(rng.random(minutes.size) < 0.9, 0, 1)
        return np.where(ok, self.format(day, style) + " " + clock, "")


def _money(rng: np.random.Generator, values: np.ndarray, p_sep: float = 0.5) -> np.ndarray:
    """Amounts with two decimals [CNY]; above 999 a share ``p_sep`` with thousands separators ("1,234.50")."""
    values = np.asarray(values, dtype=float)
    out = np.char.mod("%.2f", values).astype(object)
    sep = np.flatnonzero((np.abs(values) > 999) & (rng.random(values.size) < p_sep))
    out[sep] = [f"{v:,.2f}" for v in values[sep]]  # only the few large amounts
    return out


def _write_csv(path: Path, df: pd.DataFrame, encoding: str, blank_before_row: int | None = None) -> int:
    """Write ``df`` as CSV text (``\\n`` line ends); optionally an empty line before data row ``blank_before_row``."""
    text = df.to_csv(index=False, lineterminator="\n")
    if blank_before_row is not None:
        lines = text.split("\n")
        lines.insert(blank_before_row, "")  # line 0 is the header, so data row k sits at index k
        text = "\n".join(lines)
    path.write_bytes(text.encode(encoding))
    return len(df)


def _write_xlsx(path: Path, sheet: str, df: pd.DataFrame) -> int:
    """Write ``df`` to one sheet (values as given: str, int, float, datetime.date or None) and freeze the bytes."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "zk_forecast demo"
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    ws = wb.create_sheet(sheet)
    ws.append(list(df.columns))
    cols = [df[c].to_numpy(dtype=object) for c in df.columns]
    for row in zip(*cols):  # openpyxl writes cell by cell; this is I/O, not simulation
        ws.append([None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v for v in row])
    wb.save(path)
    freeze_xlsx(path, _FIXED_TIME)
    return len(df)


def _as_date_objects(days: np.ndarray) -> np.ndarray:
    """``datetime.date`` objects for day numbers (Excel date cells)."""
    return (w.START + np.asarray(days)).astype(object)


def generate(out_dir: str | Path, scale: str = "small", seed: int = 7, *,
             progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Simulate the dealer and write its exports and ``ground_truth.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write into; created if missing. Existing files of the same names are overwritten.
    scale : {"small", "large"}, default "small"
        ``small``: ~300 machines and ~300 parts, a few seconds. ``large``: 5,000 machines, ~20,000 parts ×
        4 depots and over 2,000,000 issue lines, a few minutes.
    seed : int, default 7
        Seed of the ``numpy.random.PCG64`` generator; the same seed gives byte-identical files.
    progress : callable, optional
        Called with a line (Chinese and English) as each phase starts: simulating, writing the exports, the
        ground truth (the ``large`` scale takes minutes).

    Returns
    -------
    DemoSummary
        The folder, the rows written per file and the path of the ground truth.

    Raises
    ------
    zk_forecast.errors.ZkValueError
        If ``scale`` is not one of ``"small"``, ``"large"``.
    """
    if scale not in w.SCALES:
        raise ZkValueError(
            f"The 'scale' parameter of generate must be one of {', '.join(repr(s) for s in w.SCALES)}. "
            f"Got {scale!r} instead. Pass scale='small' (seconds) or scale='large' (minutes)."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress if progress is not None else (lambda _m: None)
    say(f"模拟经销商（{scale}）/ simulating the dealer ({scale})")
    world = w.simulate_world(scale, int(seed))
    rng = np.random.Generator(np.random.PCG64([int(seed), 1]))
    say(f"写入导出文件 / writing the exports to {out}")
    files, errors = _write_exports(world, out, rng, scale)
    say("写入 ground_truth.json / writing the ground truth")
    truth = dict(world.truth)
    truth["files"] = files
    truth["planted_data_errors"] = errors
    truth["conventions"] = {
        "part_issues_depot_column": "仓库 holds the depot name (e.g. 平罗分库), not its id",
        "receipts_and_stock_depot_column": "仓库 holds the depot name",
        "tickets_machines_customers_depot_column": "depot id (e.g. PL01)",
        "returns": "退库 lines carry negative quantities",
        "row_numbers": "1-based data rows after the header; 'line' is the 1-based physical line incl. the header",
    }
    gt = out / "ground_truth.json"
    gt.write_text(json.dumps(_stable(truth), sort_keys=True, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return DemoSummary(out_dir=out, files=files, ground_truth=gt)


def _stable(obj: Any) -> Any:
    """JSON-ready copy with Python scalars, lists for tuples and floats rounded to 6 decimals."""
    if isinstance(obj, dict):
        return {str(k): _stable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_stable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return round(float(obj), 6)
    return obj


def _error(file: str, row: int, reason: str, **extra: Any) -> dict[str, Any]:
    return {"file": file, "row": int(row), "line": int(row) + 1, "reason": reason, **extra}


def _write_exports(world: w.World, out: Path, rng: np.random.Generator, scale: str
                   ) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Write every export file; return rows per file and the planted data errors."""
    dates = _Dates()
    files: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    depots, parts, machines, tickets = world.depots, world.parts, world.machines, world.tickets
    depot_names = depots["name"].to_numpy()

    # 网点仓库.xlsx
    df = pd.DataFrame({
        _h("depots", "depot_id"): depots["depot_id"], _h("depots", "name"): depots["name"],
        _h("depots", "role"): depots["role"].map(ROLE_ZH), _h("depots", "parent_id"): depots["parent_id"].replace("", None),
        _h("depots", "latitude"): depots["latitude"], _h("depots", "longitude"): depots["longitude"],
        "地址": ["宁夏银川市金凤区", "宁夏石嘴山市平罗县", "宁夏吴忠市青铜峡市", "宁夏固原市原州区"],
    })
    files["网点仓库.xlsx"] = _write_xlsx(out / "网点仓库.xlsx", "网点仓库", df)

    # 客户档案.csv (GB18030)
    c = world.customers
    df = pd.DataFrame({
        _h("customers", "customer_id"): c["customer_id"], _h("customers", "name"): c["name"],
        _h("customers", "county"): c["county"], _h("customers", "depot_id"): c["depot_id"],
        "联系电话": "1" + pd.Series(rng.integers(30, 90, len(c))).astype(str) + "****"
        + pd.Series(rng.integers(0, 10000, len(c))).astype(str).str.zfill(4),
    })
    files["客户档案.csv"] = _write_csv(out / "客户档案.csv", df, "gb18030")

    # 配件档案.xlsx
    crit = np.where(parts["critical"], _YES, _NO)
    df = pd.DataFrame({
        _h("parts", "part_no"): parts["part_no"], _h("parts", "name"): parts["name"], _h("parts", "spec"): parts["spec"],
        _h("parts", "uom"): parts["uom"], _h("parts", "category"): parts["category"].map(CATEGORY_ZH),
        _h("parts", "manufacturer"): parts["manufacturer"], _h("parts", "supplier"): parts["manufacturer"],
        _h("parts", "unit_cost"): parts["unit_cost"],
        _h("parts", "unit_price"): parts["unit_price"], _h("parts", "lead_time_days"): parts["lead_time_days"],
        _h("parts", "pack_size"): parts["pack_size"], _h("parts", "moq"): parts["moq"],
        _h("parts", "superseded_by"): parts["superseded_by"].replace("", None), _h("parts", "critical"): crit,
        "备注": parts["superseded_by"].map(lambda x: "已停产,请用替代件" if x else None),
    })
    files["配件档案.xlsx"] = _write_xlsx(out / "配件档案.xlsx", "配件档案", df)

    # 整机台账.xlsx: dates mostly as date cells, some as text 2024年3月5日; one duplicated machine row
    n = len(machines)
    sale_txt = rng.random(n) < 0.2
    build_txt = rng.random(n) < 0.2
    sale = np.where(sale_txt, dates.format(machines["sale_day"], 2), _as_date_objects(machines["sale_day"]))
    build = np.where(build_txt, dates.format(machines["build_day"], 2), _as_date_objects(machines["build_day"]))
    df = pd.DataFrame({
        _h("machines", "serial_no"): machines["serial_no"], _h("machines", "engine_no"): machines["engine_no"],
        _h("machines", "manufacturer"): machines["manufacturer"], _h("machines", "model"): machines["model"],
        _h("machines", "machine_type"): machines["type_label"], _h("machines", "customer_id"): machines["customer_id"],
        "客户名称": machines["customer_name"], _h("machines", "depot_id"): machines["depot_id"],
        _h("machines", "sale_date"): sale, _h("machines", "build_date"): build,
        _h("machines", "warranty_months"): machines["warranty_months"], _h("machines", "retired_date"): None,
    })
    dup = int(rng.integers(n // 3, n))
    df = pd.concat([df.iloc[: dup + 1], df.iloc[[dup]], df.iloc[dup + 1:]], ignore_index=True)
    errors.append(_error("整机台账.xlsx", dup + 2, "duplicated machine row (same 出厂编号 as the row before)",
                         key=machines["serial_no"].iloc[dup]))
    files["整机台账.xlsx"] = _write_xlsx(out / "整机台账.xlsx", "整机台账", df)

    # 部件用料.csv and 保养计划.csv (UTF-8)
    b = world.component_parts
    pname = parts.set_index("part_no")["name"]
    df = pd.DataFrame({
        _h("component_parts", "model"): b["model"], _h("component_parts", "component"): b["component"],
        _h("component_parts", "part_no"): b["part_no"], "存货名称": pname[b["part_no"]].to_numpy(),
        _h("component_parts", "qty_per_replacement"): b["qty_per_replacement"],
    })
    files["部件用料.csv"] = _write_csv(out / "部件用料.csv", df, "utf-8")
    p = world.maintenance_plans
    df = pd.DataFrame({
        _h("maintenance_plans", "model"): p["model"], _h("maintenance_plans", "service"): p["service"],
        _h("maintenance_plans", "interval_hours"): p["interval_hours"].map("{:g}".format),
        _h("maintenance_plans", "interval_days"): p["interval_days"],
        _h("maintenance_plans", "part_no"): p["part_no"], _h("maintenance_plans", "quantity"): p["quantity"],
    })
    files["保养计划.csv"] = _write_csv(out / "保养计划.csv", df, "utf-8")

    # 售后服务单.csv (UTF-8 with BOM)
    t = tickets
    nt = len(t)
    comp = world.component_parts.drop_duplicates("comp").set_index("comp")["component"]
    component = np.where(t["comp"] >= 0, comp.reindex(t["comp"]).fillna("").to_numpy(), "")
    sat = t["satisfaction"].to_numpy()
    sat_txt = np.where(sat > 0, sat.astype(str), "").astype(object)
    zh = (sat > 0) & (rng.random(nt) < 0.1)
    sat_txt[zh] = pd.Series(sat[zh]).map(SATISFACTION_ZH).to_numpy()
    reported = dates.datetimes(rng, t["reported"].to_numpy())
    resolved = dates.datetimes(rng, t["resolved"].to_numpy())
    engineers = np.array(["马师傅", "王工", "李工", "杨师傅", "丁工", "海师傅", "苏工", "田工"])
    df = pd.DataFrame({
        _h("tickets", "ticket_id"): t["ticket_id"],
        _h("tickets", "serial_no"): machines["serial_no"].to_numpy()[t["machine"]],
        _h("tickets", "depot_id"): machines["depot_id"].to_numpy()[t["machine"]],
        _h("tickets", "reported_at"): reported, _h("tickets", "arrived_at"): dates.datetimes(rng, t["arrived"].to_numpy()),
        _h("tickets", "resolved_at"): resolved, _h("tickets", "channel"): t["channel"].map(CHANNEL_ZH),
        _h("tickets", "kind"): t["kind"].map(TICKET_KIND_ZH), _h("tickets", "component"): component,
        _h("tickets", "fault_code"): t["fault_code"], _h("tickets", "cause"): t["cause"].map(CAUSE_ZH).fillna(""),
        _h("tickets", "machine_hours"): np.round(t["hours"].to_numpy(), 1),
        _h("tickets", "in_warranty"): np.where(t["in_warranty"], _YES, _NO),
        _h("tickets", "loaner_issued"): np.where(t["loaner"], _YES, _NO),
        _h("tickets", "satisfaction"): sat_txt,
        "维修人员": engineers[rng.integers(0, engineers.size, nt)],
        "备注": "",
    })
    cand = np.flatnonzero((t["kind"] == "inspection").to_numpy() & (t["resolved"] >= 0).to_numpy())
    bad = int(cand[rng.integers(0, cand.size)])
    df.loc[bad, _h("tickets", "resolved_at")] = dates.datetimes(rng, np.array([int(t["reported"].iloc[bad]) - 2 * 1440]))[0]
    errors.append(_error("售后服务单.csv", bad + 1, "完工时间 before 报修时间 (resolved before reported)",
                         key=t["ticket_id"].iloc[bad]))
    files["售后服务单.csv"] = _write_csv(out / "售后服务单.csv", df, "utf-8-sig")

    # 配件出库明细_<year>: depot names, Chinese kinds, mixed dates and encodings
    files.update(_write_issues(world, out, rng, dates, scale, errors))

    # 入库明细.csv
    r = world.receipts
    df = pd.DataFrame({
        _h("receipts", "receipt_id"): r["receipt_id"], _h("receipts", "part_no"): parts["part_no"].to_numpy()[r["part"]],
        _h("receipts", "depot_id"): depot_names[r["depot"]],
        _h("receipts", "ordered_on"): dates.mixed(rng, r["ordered_day"].to_numpy()),
        _h("receipts", "received_on"): dates.mixed(rng, r["received_day"].to_numpy()),
        _h("receipts", "quantity"): r["quantity"], _h("receipts", "supplier"): r["supplier"],
        "备注": np.where(r["depot"] > 0, "调拨入库", "采购入库"),
    })
    files["入库明细.csv"] = _write_csv(out / "入库明细.csv", df, "utf-8")

    # 库存快照_20261031.xlsx
    s = world.stock
    df = pd.DataFrame({
        _h("stock", "as_of"): END, _h("stock", "depot_id"): depot_names[s["depot"]],
        _h("stock", "part_no"): parts["part_no"].to_numpy()[s["part"]], _h("stock", "on_hand"): s["on_hand"],
        _h("stock", "on_order"): s["on_order"], _h("stock", "backorders"): s["backorders"],
    })
    files["库存快照_20261031.xlsx"] = _write_xlsx(out / "库存快照_20261031.xlsx", "库存", df)
    return files, errors


def _write_issues(world: w.World, out: Path, rng: np.random.Generator, dates: _Dates, scale: str,
                  errors: list[dict[str, Any]]) -> dict[str, int]:
    """One part-issue export per year; planted errors in 2022..2025."""
    iss, parts, machines = world.part_issues, world.parts, world.machines
    depot_names = world.depots["name"].to_numpy()
    n = len(iss)
    qty = iss["quantity"].to_numpy()
    price = iss["unit_price"].to_numpy()
    has_m = (iss["machine"] >= 0).to_numpy()
    serial = np.where(has_m, machines["serial_no"].to_numpy()[np.where(has_m, iss["machine"], 0)], "")
    to_depot = iss["to_depot"].fillna(0).astype(int).to_numpy() if "to_depot" in iss else np.zeros(n, int)
    remark = np.where(iss["kind"] == "transfer", "调入" + depot_names[to_depot], "")
    remark = np.where(iss["kind"] == "return", "客户退回", remark)
    df = pd.DataFrame({
        _h("part_issues", "issue_id"): iss["issue_id"],
        _h("part_issues", "issued_on"): dates.mixed(rng, iss["day"].to_numpy()),
        _h("part_issues", "depot_id"): depot_names[iss["depot"]],
        _h("part_issues", "part_no"): parts["part_no"].to_numpy()[iss["part"]],
        _h("part_issues", "quantity"): qty,
        _h("part_issues", "kind"): iss["kind"].map(ISSUE_KIND_ZH),
        _h("part_issues", "unit_price"): _money(rng, price),
        "金额": _money(rng, np.round(qty * price, 2)),
        _h("part_issues", "ticket_id"): iss["ticket_id"],
        _h("part_issues", "serial_no"): serial,
        "备注": remark,
    })
    year = w._DAY_YEAR[iss["day"].to_numpy()]
    c_date, c_part = _h("part_issues", "issued_on"), _h("part_issues", "part_no")
    c_kind = _h("part_issues", "kind")
    files: dict[str, int] = {}
    for y in range(2019, 2027):  # eight yearly files
        part = df[year == y].reset_index(drop=True)
        gb = y % 2 == 1
        name = f"配件出库明细_{y}" + (".xlsx" if (scale == "small" and y == 2019) else ".csv")
        blank = None
        sale_rows = np.flatnonzero((part[c_kind] == ISSUE_KIND_ZH["counter_sale"]).to_numpy())
        k = int(sale_rows[rng.integers(0, sale_rows.size)])
        if y == 2022:
            part.loc[k, c_date] = "2022-02-30"
            errors.append(_error(name, k + 1, "invalid date 2022-02-30 in 出库日期", key=part.loc[k, "出库单号"]))
        elif y == 2023:
            blank = k + 1
            errors.append(_error(name, k + 1, "blank line (readers should skip it); later data rows are counted "
                                               "without it", line=k + 2))
        elif y == 2024:
            part.loc[k, c_part] = "ZZ-999999"
            errors.append(_error(name, k + 1, "unknown part number ZZ-999999 in 存货编码", key=part.loc[k, "出库单号"]))
        elif y == 2025:
            part = pd.concat([part.iloc[: k + 1], part.iloc[[k]], part.iloc[k + 1:]], ignore_index=True)
            errors.append(_error(name, k + 2, "duplicated issue line (same 出库单号 + 存货编码 as the row before)",
                                 key=part.loc[k, "出库单号"]))
        if name.endswith(".xlsx"):
            files[name] = _write_xlsx(out / name, "出库明细", part)
        else:
            files[name] = _write_csv(out / name, part, "gb18030" if gb else "utf-8", blank_before_row=blank)
    return files
