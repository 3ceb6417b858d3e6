"""Canonical tables: the single source of truth for columns, types, keys and rules.

Every reader, the validator, the store and the demo generator take their column names, dtypes, required
columns, keys, foreign keys, value sets and ranges from :data:`TABLES`. Column names are English snake_case;
the ``aliases`` of each column are the headers that ERP and service-system exports use for it (Chinese and
English). A mapping file adds more aliases without touching this module.

Kinds of column (``Column.kind``):

``str``       free text or an identifier, stored as a string
``int``       whole number (quantities in units of issue, hours, months); fractions are rejected
``float``     real number (money in CNY, coordinates)
``date``      calendar day, stored as ``datetime64[ns]`` at midnight
``datetime``  instant to the minute, local time (Asia/Shanghai), stored naive as ``datetime64[ns]``
``bool``      yes/no (是/否, Y/N, true/false, 1/0)
``enum``      one of ``Column.values``; Chinese labels map to the English codes through ``value_aliases``

Sign convention for ``part_issues.quantity``: issues leaving a warehouse are positive; a return (退库) is
stored as a negative quantity whichever sign the export used, so that demand is simply the sum over the
demand kinds (repair, maintenance, counter_sale, return).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "DEMAND_KINDS",
    "LOAD_ORDER",
    "SERIES_SEP",
    "TABLES",
    "Column",
    "ForeignKey",
    "Table",
    "central_depot",
    "get_table",
    "require_columns",
    "series_id",
    "split_series_id",
]

KINDS = ("str", "int", "float", "date", "datetime", "bool", "enum")

#: Strings accepted as true / false in ``bool`` columns (compared after stripping and lower-casing).
BOOL_TRUE = ("是", "y", "yes", "true", "t", "1", "保内", "三包", "√", "有")
BOOL_FALSE = ("否", "n", "no", "false", "f", "0", "保外", "×", "无")

#: ``part_issues.kind`` values that count as demand (DESIGN.md: transfers move stock, they are not demand).
DEMAND_KINDS = ("repair", "maintenance", "counter_sale", "return")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Parameters
    ----------
    name : str
        Canonical English snake_case name.
    kind : str
        One of ``str``, ``int``, ``float``, ``date``, ``datetime``, ``bool``, ``enum``.
    required : bool
        A file for the table must have this column, and every row a value in it.
    label_zh : str
        Chinese header written to exports and shown to users.
    aliases : tuple of str
        Headers (Chinese and English) that map onto this column; the name and ``label_zh`` always do.
    values : tuple of str
        Allowed codes of an ``enum`` column.
    value_aliases : mapping of str to str
        Export labels (e.g. ``维修领用``) mapped to codes (``repair``).
    min, max : float or None
        Inclusive range of a numeric column, in the column's unit.
    unit : str
        Unit of a numeric column (``CNY``, ``days``, ``h``, ...), for documentation.
    max_length : int
        Longest accepted string [characters].
    """

    name: str
    kind: str
    required: bool = False
    label_zh: str = ""
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    value_aliases: Mapping[str, str] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    unit: str = ""
    max_length: int = 200
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.name!r}: kind {self.kind!r} is not one of {KINDS}.")
        if self.kind == "enum" and not self.values:
            raise ValueError(f"Column {self.name!r}: an enum column needs its values.")

    @property
    def headers(self) -> tuple[str, ...]:
        """All headers that map onto this column: name, Chinese label and aliases."""
        out = [self.name]
        if self.label_zh:
            out.append(self.label_zh)
        out.extend(self.aliases)
        return tuple(dict.fromkeys(out))

    @property
    def pandas_dtype(self) -> str:
        """The dtype the column has in a loaded DataFrame and in the store."""
        return {
            "str": "string",
            "enum": "string",
            "int": "Int64",
            "float": "Float64",
            "date": "datetime64[ns]",
            "datetime": "datetime64[ns]",
            "bool": "boolean",
        }[self.kind]


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must name an existing ``ref_table.ref_column`` (when it has a value).

    A ``soft`` key is checked and reported as a warning, never a reject: a parts issue that names a service
    ticket the service system has not exported yet is still demand.
    """

    column: str
    ref_table: str
    ref_column: str
    soft: bool = False


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, primary key, foreign keys and row rules.

    ``time_order`` lists pairs ``(earlier, later)`` of date columns that must not run backwards when both are set.
    ``file_hints`` are fragments of export file names that suggest this table.
    """

    name: str
    label_zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    time_order: tuple[tuple[str, str], ...] = ()
    file_hints: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"Table {self.name!r} declares a column twice.")
        for k in self.key:
            if k not in names:
                raise ValueError(f"Table {self.name!r}: key column {k!r} is not a column.")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"Table {self.name!r} has no column {name!r}; its columns are {', '.join(self.column_names)}.")

    @property
    def dtypes(self) -> dict[str, str]:
        return {c.name: c.pandas_dtype for c in self.columns}


def _c(name: str, kind: str, label_zh: str, *aliases: str, **kw: object) -> Column:
    return Column(name=name, kind=kind, label_zh=label_zh, aliases=tuple(aliases), **kw)  # type: ignore[arg-type]


_DEPOT_REF = ("仓库", "网点", "所属网点", "服务网点", "仓库名称", "仓库编码", "网点编码", "depot", "warehouse", "branch")
_PART_REF = ("存货编码", "配件编号", "配件编码", "物料编码", "零件号", "备件编号", "part", "part number", "item", "sku")
_SERIAL_REF = ("出厂编号", "机号", "整机编号", "机器编号", "serial", "serial number", "machine id", "machineid", "vin")

DEPOTS = Table(
    name="depots",
    label_zh="网点仓库",
    description="Warehouses: the central warehouse and its branches.",
    columns=(
        _c("depot_id", "str", "仓库编码", "网点编码", "仓库代码", "depot code", "warehouse code", required=True, max_length=40),
        _c("name", "str", "仓库名称", "网点名称", "depot name", "warehouse name", required=True),
        _c(
            "role", "enum", "类型", "仓库类型", "级别", "depot role", "type", required=True,
            values=("central", "branch"),
            value_aliases={"中心库": "central", "总库": "central", "中心仓": "central", "分库": "branch", "备件分库": "branch",
                           "分仓": "branch", "网点": "branch"},
        ),
        _c("parent_id", "str", "上级仓库", "上级网点", "supplied by", "parent", max_length=40),
        _c("latitude", "float", "纬度", "lat", min=-90.0, max=90.0, unit="degrees"),
        _c("longitude", "float", "经度", "lon", "lng", min=-180.0, max=180.0, unit="degrees"),
    ),
    key=("depot_id",),
    foreign_keys=(ForeignKey("parent_id", "depots", "depot_id"),),
    file_hints=("网点", "仓库档案", "depot", "warehouse"),
)

PART_CATEGORY_ALIASES = {
    "消耗材料": "consumable", "消耗品": "consumable", "耗材": "consumable", "油品": "consumable",
    "标准件": "standard", "工具": "tool", "辅助设备": "auxiliary", "辅材": "auxiliary",
    "部件": "component", "总成": "component", "零部件": "component",
}

PARTS = Table(
    name="parts",
    label_zh="配件档案",
    description="The parts master: one row per part number.",
    columns=(
        _c("part_no", "str", "存货编码", "配件编号", "配件编码", "物料编码", "零件号", "part number", "part no", "item code",
           required=True, max_length=60),
        _c("name", "str", "存货名称", "配件名称", "物料名称", "part name", "description", required=True),
        _c("spec", "str", "规格型号", "规格", "型号规格", "specification"),
        _c("uom", "str", "计量单位", "主计量单位", "单位", "unit", "unit of measure", max_length=20),
        _c(
            "category", "enum", "存货分类", "配件分类", "分类", "category", required=True,
            values=("consumable", "standard", "tool", "auxiliary", "component"),
            value_aliases=PART_CATEGORY_ALIASES,
        ),
        _c("manufacturer", "str", "生产厂家", "厂家", "制造商", "maker"),
        _c("supplier", "str", "供应商", "主供应商", "默认供应商", "供应商名称", "供货单位", "supplier", "vendor"),
        _c("unit_cost", "float", "参考成本", "成本价", "单位成本", "cost", "unit cost", required=True, min=0.0, max=1e7,
           unit="CNY"),
        _c("unit_price", "float", "零售价", "销售单价", "售价", "price", "list price", min=0.0, max=1e7, unit="CNY"),
        _c("lead_time_days", "int", "采购周期(天)", "采购周期", "订货周期(天)", "lead time", "lead time (days)", "lead_time",
           required=True, min=0, max=365, unit="days"),
        _c("pack_size", "int", "最小包装", "包装数量", "pack", "pack size", min=1, max=100000, unit="units"),
        _c("moq", "int", "最小起订量", "起订量", "minimum order quantity", "min order", min=0, max=100000, unit="units"),
        _c("superseded_by", "str", "替代件号", "新件号", "替换为", "replaced by", "superseded by", max_length=60),
        _c("critical", "bool", "关键件", "是否关键件", "critical part"),
    ),
    key=("part_no",),
    foreign_keys=(ForeignKey("superseded_by", "parts", "part_no"),),
    file_hints=("配件档案", "存货档案", "配件", "存货", "parts", "item master"),
)

CUSTOMERS = Table(
    name="customers",
    label_zh="客户档案",
    description="Farms and cooperatives that own machines.",
    columns=(
        _c("customer_id", "str", "客户编码", "用户编码", "客户编号", "customer id", "customer code", required=True, max_length=40),
        _c("name", "str", "客户名称", "用户名称", "customer name", "customer"),
        _c("county", "str", "所在县区", "县区", "区县", "地区", "county", "district"),
        _c("depot_id", "str", "所属网点", "服务网点", "depot", "branch"),
    ),
    key=("customer_id",),
    foreign_keys=(ForeignKey("depot_id", "depots", "depot_id"),),
    file_hints=("客户", "用户档案", "customer"),
)

MACHINES = Table(
    name="machines",
    label_zh="整机台账",
    description="The installed base: every machine sold, with its owner and serving depot.",
    columns=(
        _c("serial_no", "str", "出厂编号", "机号", "整机编号", "机器编号", "serial", "serial number", "machine id",
           required=True, max_length=60),
        _c("engine_no", "str", "发动机号", "engine number", max_length=60),
        _c("manufacturer", "str", "生产厂家", "厂家", "制造商", "manufacturer", "make", required=True),
        _c("model", "str", "机型", "型号", "产品型号", "model", required=True, max_length=60),
        _c(
            "machine_type", "enum", "机器类别", "机具类别", "产品类别", "machine type", "type",
            values=("tractor", "combine", "baler", "seeder", "other"),
            value_aliases={"拖拉机": "tractor", "轮式拖拉机": "tractor", "联合收割机": "combine", "收割机": "combine",
                           "谷物联合收割机": "combine", "玉米收获机": "combine", "打捆机": "baler", "捡拾打捆机": "baler",
                           "播种机": "seeder", "精量播种机": "seeder", "其他": "other"},
        ),
        _c("customer_id", "str", "客户编码", "用户编码", "customer id", max_length=40),
        _c("depot_id", "str", "所属网点", "服务网点", "depot", "branch", required=True, max_length=40),
        _c("sale_date", "date", "购机日期", "销售日期", "sale date", "sold on", required=True),
        _c("build_date", "date", "生产日期", "出厂日期", "build date", "built on"),
        _c("warranty_months", "int", "三包期(月)", "三包期", "保修期(月)", "warranty (months)", "warranty months",
           min=0, max=120, unit="months"),
        _c("retired_date", "date", "报废日期", "停用日期", "retired on", "retired date"),
    ),
    key=("serial_no",),
    foreign_keys=(
        ForeignKey("depot_id", "depots", "depot_id"),
        ForeignKey("customer_id", "customers", "customer_id"),
    ),
    time_order=(("build_date", "sale_date"), ("sale_date", "retired_date")),
    file_hints=("整机", "台账", "机器档案", "销售台账", "machines", "installed base"),
)

TICKETS = Table(
    name="tickets",
    label_zh="售后服务单",
    description="Service events (售后服务单): one row per call-out, repair, maintenance or visit.",
    columns=(
        _c("ticket_id", "str", "服务单号", "工单号", "维修单号", "ticket", "ticket id", "work order", required=True,
           max_length=60),
        _c("serial_no", "str", "出厂编号", "机号", "整机编号", "serial", "serial number", "machine id", required=True,
           max_length=60),
        _c("depot_id", "str", "服务网点", "所属网点", "网点", "depot", "branch", required=True, max_length=40),
        _c("reported_at", "datetime", "报修时间", "报修日期", "reported at", "reported", "call time", required=True),
        _c("arrived_at", "datetime", "到达时间", "到场时间", "arrived at", "on site at"),
        _c("resolved_at", "datetime", "完工时间", "完成时间", "resolved at", "completed at"),
        _c(
            "channel", "enum", "服务方式", "channel",
            values=("phone", "video", "onsite"),
            value_aliases={"电话": "phone", "电话指导": "phone", "视频": "video", "视频指导": "video", "上门": "onsite",
                           "上门服务": "onsite", "现场": "onsite"},
        ),
        _c(
            "kind", "enum", "服务类别", "服务类型", "kind", "service type", required=True,
            values=("failure", "maintenance", "installation", "training", "inspection"),
            value_aliases={"故障维修": "failure", "维修": "failure", "故障": "failure", "保养": "maintenance",
                           "例行保养": "maintenance", "安装调试": "installation", "安装": "installation", "培训": "training",
                           "巡检": "inspection", "回访": "inspection", "检查": "inspection"},
        ),
        _c("component", "str", "故障部位", "故障部件", "component", max_length=60),
        _c("fault_code", "str", "故障代码", "fault code", max_length=40),
        _c(
            "cause", "enum", "故障原因", "原因", "cause",
            values=("manufacturer", "wear", "misuse", "unknown"),
            value_aliases={"质量问题": "manufacturer", "制造质量": "manufacturer", "厂家原因": "manufacturer",
                           "产品质量": "manufacturer", "正常磨损": "wear", "磨损": "wear", "使用不当": "misuse",
                           "操作不当": "misuse", "人为": "misuse", "不明": "unknown", "待查": "unknown", "其他": "unknown"},
        ),
        _c("engineer", "str", "服务工程师", "维修人员", "服务人员", "工程师", "engineer", "technician", max_length=60),
        _c("machine_hours", "float", "工作小时", "工作小时数", "小时数", "hours", "machine hours", "engine hours",
           min=0.0, max=100000.0, unit="h"),
        _c("in_warranty", "bool", "是否三包", "保内", "是否保内", "in warranty", "warranty"),
        _c("loaner_issued", "bool", "是否提供周转件", "周转件", "loaner", "loaner issued"),
        _c("satisfaction", "int", "满意度", "satisfaction", min=1, max=5, unit="score 1-5",
           value_aliases={"非常满意": "5", "满意": "4", "一般": "3", "不满意": "2", "非常不满意": "1"}),
    ),
    key=("ticket_id",),
    foreign_keys=(
        ForeignKey("serial_no", "machines", "serial_no"),
        ForeignKey("depot_id", "depots", "depot_id"),
    ),
    time_order=(("reported_at", "arrived_at"), ("arrived_at", "resolved_at"), ("reported_at", "resolved_at")),
    file_hints=("服务单", "工单", "维修记录", "tickets", "service"),
)

ISSUE_KIND_ALIASES = {
    "维修领用": "repair", "维修出库": "repair", "维修": "repair", "三包维修": "repair",
    "保养领用": "maintenance", "保养出库": "maintenance", "保养": "maintenance",
    "零售": "counter_sale", "销售出库": "counter_sale", "配件销售": "counter_sale", "门市销售": "counter_sale",
    "调拨": "transfer", "调拨出库": "transfer",
    "退库": "return", "退货": "return", "退回": "return",
}

PART_ISSUES = Table(
    name="part_issues",
    label_zh="配件出库明细",
    description="Parts leaving a warehouse, one row per document line. Returns carry negative quantities.",
    columns=(
        _c("issue_id", "str", "出库单号", "单据号", "单据编号", "issue id", "document no", "voucher", required=True,
           max_length=60),
        _c("issued_on", "date", "出库日期", "单据日期", "日期", "issued on", "date", required=True),
        _c("depot_id", "str", "仓库", "网点", "出库仓库", "depot", "warehouse", required=True, max_length=40),
        _c("part_no", "str", "存货编码", "配件编号", "配件编码", "物料编码", "part number", "part no", required=True,
           max_length=60),
        _c("quantity", "int", "数量", "出库数量", "qty", "quantity", required=True, min=-100000, max=100000, unit="units"),
        _c(
            "kind", "enum", "出库类别", "出库类型", "业务类型", "issue kind", "kind", required=True,
            values=("repair", "maintenance", "counter_sale", "transfer", "return"),
            value_aliases=ISSUE_KIND_ALIASES,
        ),
        _c("unit_price", "float", "单价", "销售单价", "unit price", "price", min=0.0, max=1e7, unit="CNY"),
        _c("ticket_id", "str", "服务单号", "工单号", "ticket", "work order", max_length=60),
        _c("serial_no", "str", "出厂编号", "机号", "serial", "serial number", max_length=60),
    ),
    key=("issue_id", "part_no"),
    foreign_keys=(
        ForeignKey("depot_id", "depots", "depot_id"),
        ForeignKey("part_no", "parts", "part_no"),
        ForeignKey("ticket_id", "tickets", "ticket_id", soft=True),
        ForeignKey("serial_no", "machines", "serial_no"),
    ),
    file_hints=("出库", "领用", "issues", "consumption"),
)

STOCK = Table(
    name="stock",
    label_zh="库存快照",
    description="Stock on hand per depot and part at a date.",
    columns=(
        _c("as_of", "date", "盘点日期", "日期", "截止日期", "as of", "date", required=True),
        _c("depot_id", "str", "仓库", "网点", "depot", "warehouse", required=True, max_length=40),
        _c("part_no", "str", "存货编码", "配件编号", "配件编码", "part number", "part no", required=True, max_length=60),
        _c("on_hand", "int", "现存量", "结存数量", "库存数量", "on hand", required=True, min=0, max=1000000, unit="units"),
        _c("on_order", "int", "在途数量", "已订未到", "on order", min=0, max=1000000, unit="units"),
        _c("backorders", "int", "欠件数量", "缺件数量", "backorders", min=0, max=1000000, unit="units"),
    ),
    key=("as_of", "depot_id", "part_no"),
    foreign_keys=(
        ForeignKey("depot_id", "depots", "depot_id"),
        ForeignKey("part_no", "parts", "part_no"),
    ),
    file_hints=("库存", "现存量", "stock", "inventory"),
)

RECEIPTS = Table(
    name="receipts",
    label_zh="入库明细",
    description="Purchase and transfer receipts: they measure real lead times.",
    columns=(
        _c("receipt_id", "str", "入库单号", "receipt id", "receipt no", required=True, max_length=60),
        _c("part_no", "str", "存货编码", "配件编号", "配件编码", "part number", "part no", required=True, max_length=60),
        _c("depot_id", "str", "仓库", "入库仓库", "网点", "depot", "warehouse", required=True, max_length=40),
        _c("ordered_on", "date", "订货日期", "采购日期", "ordered on", "order date", required=True),
        _c("received_on", "date", "到货日期", "入库日期", "received on", "receipt date", required=True),
        _c("quantity", "int", "数量", "入库数量", "qty", "quantity", required=True, min=0, max=1000000, unit="units"),
        _c("supplier", "str", "供应商", "调出仓库", "supplier", "vendor"),
    ),
    key=("receipt_id", "part_no"),
    foreign_keys=(
        ForeignKey("depot_id", "depots", "depot_id"),
        ForeignKey("part_no", "parts", "part_no"),
    ),
    time_order=(("ordered_on", "received_on"),),
    file_hints=("入库", "采购", "receipts"),
)

COMPONENT_PARTS = Table(
    name="component_parts",
    label_zh="部件用料",
    description="Which parts a replacement of each component of each model uses.",
    columns=(
        _c("model", "str", "机型", "型号", "model", required=True, max_length=60),
        _c("component", "str", "部件", "故障部位", "component", required=True, max_length=60),
        _c("part_no", "str", "存货编码", "配件编号", "配件编码", "part number", "part no", required=True, max_length=60),
        _c("qty_per_replacement", "int", "单次用量", "用量", "quantity per replacement", "qty", min=1, max=1000,
           unit="units"),
    ),
    key=("model", "component", "part_no"),
    foreign_keys=(ForeignKey("part_no", "parts", "part_no"),),
    file_hints=("部件用料", "用料", "bom", "component"),
)

MAINTENANCE_PLANS = Table(
    name="maintenance_plans",
    label_zh="保养计划",
    description=(
        "Maintenance kits per model, one row per kit line: a service (e.g. the 250 h service) is due every "
        "interval_hours of work or interval_days of time, whichever comes first, and uses quantity of part_no."
    ),
    columns=(
        _c("model", "str", "机型", "型号", "model", required=True, max_length=60),
        _c("service", "str", "保养项目", "保养级别", "service", required=True, max_length=60),
        _c("interval_hours", "float", "保养间隔(小时)", "间隔小时", "interval hours", min=1.0, max=100000.0, unit="h"),
        _c("interval_days", "int", "保养间隔(天)", "间隔天数", "interval days", min=1, max=3650, unit="days"),
        _c("part_no", "str", "存货编码", "配件编号", "配件编码", "part number", "part no", required=True, max_length=60),
        _c("quantity", "int", "数量", "用量", "quantity", "qty", required=True, min=1, max=1000, unit="units"),
    ),
    key=("model", "service", "part_no"),
    foreign_keys=(ForeignKey("part_no", "parts", "part_no"),),
    file_hints=("保养计划", "保养", "maintenance"),
)

TABLES: Mapping[str, Table] = MappingProxyType(
    {
        t.name: t
        for t in (DEPOTS, CUSTOMERS, PARTS, MACHINES, TICKETS, PART_ISSUES, STOCK, RECEIPTS, COMPONENT_PARTS,
                  MAINTENANCE_PLANS)
    }
)

#: Tables in the order they load, so that every foreign key points at a table already loaded.
LOAD_ORDER: tuple[str, ...] = tuple(TABLES)

#: Columns that hold identifiers (keys and the foreign keys naming them). An id may end up in a file name (a
#: depot's restock list) and is joined into series ids, so it must not hold a path separator (``/``, ``\``),
#: ``..``, the series separator ``|`` or a control character; such a row is rejected at ingest.
IDENTIFIER_COLUMNS = frozenset({"depot_id", "parent_id", "part_no", "superseded_by", "serial_no", "customer_id",
                                "ticket_id", "issue_id", "receipt_id"})
#: What an identifier must not contain, as a regular expression (RE2 syntax, as arrow's compute functions take).
ID_FORBIDDEN = r"[/\\|\x00-\x1f\x7f-\x9f]|\.\."
#: Control characters refused in every text column (tab, line feed and carriage return stay allowed in free text).
TEXT_FORBIDDEN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def get_table(name: str) -> Table:
    """Return the canonical table called ``name``.

    Raises
    ------
    zk_forecast.errors.SchemaError
        If there is no such table; the message lists the tables there are.
    """
    from zk_forecast.errors import SchemaError

    try:
        return TABLES[name]
    except KeyError:
        raise SchemaError(
            f"There is no canonical table {name!r}. The tables are: {', '.join(TABLES)}. "
            "Check the table name in the mapping file."
        ) from None


def require_columns(df: Any, name: str, columns: Iterable[str]) -> Any:
    """Check that ``df`` is a DataFrame holding ``columns``; return it unchanged.

    Parameters
    ----------
    df : DataFrame
        A table passed by the caller.
    name : str
        The table's name, used in the message (``tickets``, ``lives``...).
    columns : iterable of str
        Columns the caller needs.

    Raises
    ------
    zk_forecast.errors.ZkTypeError
        ``df`` is not a DataFrame.
    zk_forecast.errors.ZkValueError
        Columns are missing; the message names them, the columns there are, and the fix.
    """
    import pandas as pd

    from zk_forecast.errors import ZkTypeError, ZkValueError

    if not isinstance(df, pd.DataFrame):
        raise ZkTypeError(f"`{name}` must be a pandas DataFrame (the canonical {name} table); got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ZkValueError(
            f"The {name} table lacks column(s) {missing}; it has {list(df.columns)}. Fix: pass the canonical "
            f"{name} table (zk_forecast.data.Store(...).read({name!r})) or rename your columns to these names."
        )
    return df


# ----------------------------------------------------------------------------------------------- series ids
#: Separator between part number and depot id in a series id (``"SF-LQ001A|YC01"``); never part of an id.
SERIES_SEP = "|"


def series_id(part_no: Any, depot_id: Any) -> Any:
    """The id of one part at one depot, ``"PART|DEPOT"``: the ``unique_id`` of a demand series.

    Parameters
    ----------
    part_no, depot_id : str, or array-like / pandas.Series of str
        Part numbers and depot ids (equal lengths when array-like).

    Returns
    -------
    str, numpy.ndarray of object, or pandas.Series
        A str for two scalars, a Series (the index of ``part_no``) when ``part_no`` is a Series, an object array
        otherwise.

    Examples
    --------
    >>> series_id("SF-LQ001A", "YC01")
    'SF-LQ001A|YC01'
    """
    import numpy as np
    import pandas as pd

    if isinstance(part_no, str) and isinstance(depot_id, str):
        return f"{part_no}{SERIES_SEP}{depot_id}"
    index = part_no.index if isinstance(part_no, pd.Series) else None
    part = pd.Series(np.asarray(part_no, dtype=object)).astype(str)
    depot = pd.Series(np.asarray(depot_id, dtype=object)).astype(str)
    ids = (part + SERIES_SEP + depot).to_numpy(dtype=object)
    return pd.Series(ids, index=index, dtype=object) if index is not None else ids


def split_series_id(ids: Any) -> Any:
    """Part numbers and depot ids of series ids ``"PART|DEPOT"`` (the inverse of :func:`series_id`).

    Parameters
    ----------
    ids : str, or array-like / pandas.Series / pandas.Index of str

    Returns
    -------
    (str, str), or (numpy.ndarray, numpy.ndarray) of object
        ``(part_no, depot_id)``; for an array, ``depot_id`` is None where an id has no separator.

    Raises
    ------
    zk_forecast.errors.ZkValueError
        A scalar id without the separator.

    Examples
    --------
    >>> split_series_id("SF-LQ001A|YC01")
    ('SF-LQ001A', 'YC01')
    """
    import numpy as np
    import pandas as pd

    if isinstance(ids, str):
        part, sep, depot = ids.partition(SERIES_SEP)
        if not sep:
            from zk_forecast.errors import ZkValueError

            raise ZkValueError(f"series id {ids!r} has no {SERIES_SEP!r}; a series id is 'PART{SERIES_SEP}DEPOT' "
                               f"(e.g. 'SF-LQ001A{SERIES_SEP}YC01'); fix: build it with series_id(part_no, depot_id).")
        return part, depot
    values = np.asarray(ids, dtype=object).ravel()
    parts = np.full(values.size, np.nan, dtype=object)
    depots = np.full(values.size, np.nan, dtype=object)
    for i, text in enumerate(values.tolist()):  # str.partition per id: far cheaper than pandas' .str.split
        if isinstance(text, str):
            part, sep, depot = text.partition(SERIES_SEP)
            parts[i] = part
            if sep:
                depots[i] = depot
        elif pd.isna(text):  # a missing id stays missing, as it is given (None, NaN or NA)
            parts[i] = depots[i] = text
    return parts, depots


def central_depot(depots: Any) -> str:
    """The id of the central warehouse: the one depot whose ``role`` is ``central`` in the depots table.

    Parameters
    ----------
    depots : pandas.DataFrame
        The canonical depots table (``depot_id``, ``role``).

    Returns
    -------
    str

    Raises
    ------
    zk_forecast.errors.ZkValueError
        No depot or more than one has role ``central``; the message names them and the fix.
    """
    require_columns(depots, "depots", ["depot_id", "role"])
    central = sorted(str(d) for d in depots.loc[depots["role"].astype(str) == "central", "depot_id"])
    if len(central) != 1:
        from zk_forecast.errors import ZkValueError

        found = f"{len(central)} ({', '.join(central)})" if central else "none"
        raise ZkValueError(
            f"the depots table must have exactly one depot with role 'central' (the central warehouse); found "
            f"{found}. Fix: set role = central (中心库) on one depot and branch (分库) on the others in the depots "
            f"export / 网点表中必须恰有一个中心库（role = central），请修正网点导出文件。")
    return central[0]
