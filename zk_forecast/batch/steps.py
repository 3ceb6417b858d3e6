"""The steps of the nightly batch: plain functions over :class:`~zk_forecast.batch.state.NightState`.

Each step declares the state fields it reads (``name?``: may be None) and writes; :func:`run_step` checks both
(a read that no earlier step wrote, or a write the step did not declare, is a programming error named at once),
and a test checks that every step's reads are written by an earlier step of :data:`MAIN_STEPS` and of
:data:`BACKGROUND_STEPS`. The steps compose the engines; they compute nothing themselves.

The plan call sits in one step, :func:`policies`: change the planning objective there.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zk_forecast.batch.state import NightState, RunContext, state_fields
from zk_forecast.errors import ZkError, ZkValueError

__all__ = ["BACKGROUND_STEPS", "MAIN_STEPS", "STEPS", "Step", "StepError", "run_step", "step_by_name"]


class StepError(ZkError):
    """A step of the batch failed; ``step`` names it."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True)
class Step:
    """One step: its name, the function, and the state fields it reads and writes."""

    name: str
    func: Callable[[NightState, RunContext], None]
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    @property
    def needs(self) -> tuple[str, ...]:
        """Reads that must not be None."""
        return tuple(r for r in self.reads if not r.endswith("?"))

    @property
    def read_fields(self) -> tuple[str, ...]:
        """Every field read, optional or not."""
        return tuple(r.rstrip("?") for r in self.reads)


_REGISTRY: dict[str, Step] = {}


def step(*, reads: tuple[str, ...] = (), writes: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """Register a step function under its own name with its declared reads and writes."""
    known = set(state_fields())

    def register(func: Callable[[NightState, RunContext], None]) -> Callable[[NightState, RunContext], None]:
        bad = [f for f in (*(r.rstrip("?") for r in reads), *writes) if f not in known]
        if bad:  # pragma: no cover - caught when the module is imported
            raise TypeError(f"step {func.__name__} declares unknown state fields {bad}")
        _REGISTRY[func.__name__] = Step(func.__name__, func, reads, writes)
        return func

    return register


def step_by_name(name: str) -> Step:
    """The registered step called ``name``."""
    return _REGISTRY[name]


def run_step(name: str, state: NightState, ctx: RunContext) -> None:
    """Run one step, checking its declared reads before and its writes after.

    Raises
    ------
    StepError
        The step failed (``step`` names it), or it read a field nobody wrote / wrote an undeclared field.
    """
    s = _REGISTRY[name]
    missing = [f for f in s.needs if getattr(state, f) is None]
    if missing:
        raise StepError(name, f"step {name} reads {', '.join(missing)}, which no earlier step wrote")
    before = {f: getattr(state, f) for f in state_fields() if f not in s.writes}
    try:
        s.func(state, ctx)
    except StepError:
        raise
    except Exception as exc:
        raise StepError(name, error_text(exc)) from exc
    changed = [f for f, v in before.items() if getattr(state, f) is not v]
    if changed:
        raise StepError(name, f"step {name} wrote {', '.join(changed)} without declaring it")


def drop_unread(state: NightState, later: tuple[str, ...]) -> None:
    """Set to None every data field that none of the ``later`` steps reads (frees memory early)."""
    keep = {f for n in later for f in _REGISTRY[n].read_fields}
    for f in ("parts", "issues", "depots", "machines", "stock", "tickets", "component_parts", "receipts", "panel",
              "installed_base", "wear_depot", "wear_fleet", "policies", "network"):
        if f not in keep:
            setattr(state, f, None)


def error_text(exc: BaseException) -> str:
    """The message of a failed step: our own errors as they are, others prefixed with their class name."""
    msg = str(exc) or exc.__class__.__name__
    return msg if isinstance(exc, ZkError) else f"{exc.__class__.__name__}: {msg}"


def release_memory() -> None:
    """Give freed memory back to the system (arrow's memory pool keeps freed blocks for reuse otherwise)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def write_csv(frame: Any, path: Any) -> None:
    """UTF-8 CSV through pyarrow's writer (a million rows in about a second); dates as YYYY-MM-DD; text that a
    spreadsheet would run as a formula escaped (:func:`zk_forecast.names.escape_formula_arrow`)."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    from zk_forecast.names import escape_formula_arrow

    df = frame.copy()
    df.attrs = {}  # notes attached by an engine are not part of the file
    for c in df.columns:
        if df[c].dtype.kind == "M":
            df[c] = df[c].dt.date
        elif df[c].dtype == object:
            df[c] = df[c].astype("string")
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = pa.table([escape_formula_arrow(c) for c in table.columns], names=table.column_names)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def _dates_kwargs(writer: Callable[..., Any], ctx: RunContext) -> dict[str, Any]:
    """The data-date keywords a writer takes: ``as_of`` (the data's date), ``generated_at`` (the run's clock),
    ``stale`` (the banner flag)."""
    params = inspect.signature(writer).parameters
    age = ctx.data_age
    kw: dict[str, Any] = {"generated_at": ctx.started, "stale": bool(age is not None and age.stale)}
    if age is not None and age.as_of is not None:
        kw["as_of"] = age.as_of
    return {k: v for k, v in kw.items() if k in params}


# ------------------------------------------------------------------------------------------------ steps
@step()
def check_store(state: NightState, ctx: RunContext) -> None:
    """Every store table matches its recorded sha256 (a damaged one is restored from its previous version by the
    store, with a warning) and reads back whole (else the fix: ``zk-forecast ingest --rebuild``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zk_forecast.data.store import Store
    from zk_forecast.errors import ReadError

    ctx.cfg.paths.store_dir.mkdir(parents=True, exist_ok=True)
    st = Store(ctx.cfg.paths.store_dir)
    try:
        checked = st.verify()
    except ReadError as exc:
        raise StepError("check_store", str(exc)) from None
    for name in sorted(n for n, verdict in checked.items() if verdict == "restored"):
        ctx.warn(f"store table {name} was damaged and its previous version restored; every export is read again "
                 f"/ 数据表 {name} 已损坏，已恢复上一版本，所有导出文件将重新读取")
    for name in st.tables():
        p = st.table_path(name)
        try:
            pq.read_table(p)
        except (pa.ArrowException, OSError) as exc:
            raise StepError(
                "check_store",
                f"store table '{name}' ({p}) is damaged ({exc.__class__.__name__}: {str(exc)[:120]}); fix: run "
                f"`zk-forecast ingest --rebuild` (deletes the store tables and re-ingests the raw exports) "
                f"/ 数据表 {name} 已损坏，请运行 zk-forecast ingest --rebuild 从原始导出文件重建") from None


def _ingest_files(ctx: RunContext, st: Any) -> tuple[list[dict[str, Any]], list[str]]:
    from zk_forecast.data.ingest import ingest as ingest_exports
    from zk_forecast.data.ingest import sha256_file

    raw = ctx.cfg.paths.raw_dir
    res = ingest_exports(raw, st, mapping=ctx.cfg.paths.mapping, skip_unchanged=True,
                         workbook_limits=ctx.cfg.ingest.workbook_limits(),
                         remove_dropped_lines=ctx.cfg.ingest.remove_dropped_lines)
    for f in res.files:  # [ingest] remove_dropped_lines: rows an export no longer holds left the store
        if f.rows_removed:
            shown = ", ".join(f.removed[:20]) + (" …" if f.rows_removed > 20 else "")
            ctx.warn(f"{f.file}: {f.rows_removed} row(s) loaded earlier are no longer in this export and were removed "
                     f"from the store ({shown}); the store's change log records each / 导出文件少了 {f.rows_removed} "
                     "行，已按配置从数据仓删除并记入变更记录")
    bad = [f for f in res.files if f.error]
    if bad:
        raise StepError("ingest", "; ".join(f"{f.file}: {f.error}" for f in bad)
                        + " — fix: correct or remove these exports and run again / 修正：请修正或移走这些导出文件后重试")
    files: list[dict[str, Any]] = []
    for f in res.files:
        p = raw / f.file
        files.append({"file": f.file, "sha256": f.sha256 or (sha256_file(p) if p.is_file() else None),
                      "bytes": p.stat().st_size if p.is_file() else None, "table": f.table,
                      "rows_in": f.rows_in, "rows_loaded": f.rows_loaded, "rows_rejected": f.rows_rejected,
                      "rows_new": f.rows_new, "rows_updated": f.rows_updated,
                      "unchanged_file": f.unchanged_file, "rejects": f.rejects_path})
    files.sort(key=lambda d: str(d["file"]))
    return files, sorted(res.skipped)


def _gone_since_last_run(ctx: RunContext, files: list[dict[str, Any]]) -> list[str]:
    import json

    from zk_forecast.batch.runfolder import latest_run

    prev = latest_run(ctx.cfg.paths.runs_dir)
    if prev is None or not (prev / "manifest.json").is_file():
        return []
    try:
        old = json.loads((prev / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # pragma: no cover
        return []
    before = {f["file"] for f in old.get("inputs", {}).get("files", [])}
    return sorted(before - {f["file"] for f in files})


@step(writes=("store", "inputs", "rejects"))
def ingest(state: NightState, ctx: RunContext) -> None:
    """Load new or changed exports into the store (none with ``--from-store``); record what was read."""
    import pyarrow.parquet as pq

    from zk_forecast.data.ingest import sha256_file
    from zk_forecast.data.store import Store

    st = Store(ctx.cfg.paths.store_dir)
    if ctx.from_store:
        if not st.tables():
            raise StepError("ingest", f"--from-store: the store {st.path} is empty; fix: run without --from-store "
                                      f"with the exports in [paths] raw_dir / 数据仓为空，请提供导出文件后不带 --from-store 运行")
        ctx.log("publishing from the stored data, no exports read (--from-store) / 基于数据仓运行，未读取导出文件")
        files: list[dict[str, Any]] = []
        skipped: list[str] = []
    else:
        files, skipped = _ingest_files(ctx, st)
    gone = [] if ctx.from_store else _gone_since_last_run(ctx, files)
    for g in gone:
        ctx.log(f"export {g} was read by the last run but is gone; its rows stay in the store "
                f"/ 导出文件已不存在，沿用数据仓中的数据")
    tables = {}
    for name in st.tables():  # row counts from the parquet footers: check_store has read every table already
        p = st.table_path(name)
        tables[name] = {"rows": pq.ParquetFile(p).metadata.num_rows, "sha256": sha256_file(p)}
    state.inputs = {"raw_dir": str(ctx.cfg.paths.raw_dir), "from_store": ctx.from_store, "files": files,
                    "skipped": skipped, "missing_since_last_run": gone,
                    "store_dir": str(ctx.cfg.paths.store_dir), "store_tables": tables}
    state.rejects = {"rows": sum(f["rows_rejected"] for f in files),
                     "files": {f["file"]: f["rows_rejected"] for f in files if f["rows_rejected"]}}
    state.store = st
    release_memory()


@step(reads=("store",), writes=("table_dates",))
def data_dates(state: NightState, ctx: RunContext) -> None:
    """Each dated table's as-of date (the latest date in it)."""
    from zk_forecast.data.tables import table_dates

    assert state.store is not None
    state.table_dates = table_dates(state.store)


_REQUIRED_TABLES = ("parts", "part_issues", "stock", "depots", "machines")
#: The columns of part_issues the later steps use (the demand panel and the customer wear lists).
_ISSUE_COLUMNS = ("issued_on", "depot_id", "part_no", "quantity", "kind", "serial_no")
_DEMAND_COLUMNS = ("issued_on", "depot_id", "part_no", "quantity", "kind")


@step(reads=("store",), writes=("parts", "issues", "depots", "machines", "stock", "tickets", "component_parts",
                                "receipts", "central"))
def load_tables(state: NightState, ctx: RunContext) -> None:
    """Read the canonical tables the planning steps use; find the central warehouse from ``depots.role``."""
    from zk_forecast.schema import central_depot

    st = state.store
    assert st is not None
    tables = st.tables()
    missing = [t for t in _REQUIRED_TABLES if t not in tables]
    if missing:
        raise StepError("load_tables", f"the store has no {', '.join(missing)} table; fix: put those exports into "
                                       f"[paths] raw_dir / 数据仓缺少 {', '.join(missing)} 表，请提供相应导出文件")
    read = st.read
    state.parts = read("parts")
    state.issues = read("part_issues", columns=_ISSUE_COLUMNS)
    state.depots = read("depots")
    state.machines = read("machines")
    state.stock = read("stock")
    state.tickets = read("tickets") if "tickets" in tables else None
    state.component_parts = read("component_parts") if "component_parts" in tables else None
    state.receipts = (read("receipts", columns=("part_no", "depot_id", "ordered_on", "received_on"))
                      if "receipts" in tables else None)
    central = central_depot(state.depots)
    if ctx.cfg.depots.central is not None and ctx.cfg.depots.central != central:
        raise ZkValueError(f"[depots] central = {ctx.cfg.depots.central!r} but the depots table names {central!r} "
                           f"as the central warehouse (role = central); fix: correct central in zk.toml or delete "
                           f"the line / 配置的中心库与网点表不一致：请修正或删除 [depots] central")
    state.central = central


@step(reads=("store",), writes=("parts", "issues"))
def load_demand(state: NightState, ctx: RunContext) -> None:
    """Read the parts and the demand columns of the issues only (the background process's forecasts)."""
    st = state.store
    assert st is not None
    state.parts = st.read("parts")
    state.issues = st.read("part_issues", columns=_DEMAND_COLUMNS)


@step(reads=("issues", "parts"), writes=("panel",))
def panel(state: NightState, ctx: RunContext) -> None:
    """The weekly demand panel (series × weeks); it stays an array: the policies read it directly."""
    from zk_forecast.demand.panel import build_panel

    state.panel = build_panel(state.issues, state.parts)
    release_memory()


@step(reads=("panel",))
def forecast(state: NightState, ctx: RunContext) -> None:
    """``forecasts.csv``: the configured methods over the panel."""
    if not ctx.cfg.forecast.enabled:
        ctx.log("forecast disabled in config / 配置中已关闭预测")
        return
    from zk_forecast.demand.forecast import forecast_panel
    from zk_forecast.demand.select import AutoSelect

    # auto: the candidates' parameters are estimated once before the inner origins (one pass, not twelve)
    methods = [AutoSelect(refit=False) if m == "auto" else m for m in ctx.cfg.forecast.methods]
    fc = forecast_panel(state.panel, h=ctx.cfg.forecast.horizon, methods=methods)
    write_csv(fc, ctx.run_dir / "forecasts.csv")


@step(reads=("tickets?", "machines", "component_parts?"), writes=("installed_base",))
def installed_base(state: NightState, ctx: RunContext) -> None:
    """Expected parts demand from the machines in service (``installed_base.csv``; feeds the wear-part list)."""
    if not ctx.cfg.forecast.installed_base:
        ctx.log("installed-base forecast disabled in config / 配置中已关闭保有量预测")
        return
    if state.tickets is None or state.component_parts is None:
        ctx.log("no tickets or component_parts in the store: installed-base forecast skipped "
                "/ 缺少服务单或部件用料表，跳过保有量预测")
        return
    from zk_forecast.failures.installed_base import InstalledBaseForecaster
    from zk_forecast.failures.lives import build_lives

    lives = build_lives(state.tickets, state.machines, state.component_parts)
    ib = InstalledBaseForecaster(level=(0.9,), random_state=0).fit(lives, state.machines, state.component_parts)
    pred = ib.predict(ctx.cfg.forecast.horizon)
    state.installed_base = pred
    write_csv(pred, ctx.run_dir / "installed_base.csv")


@step(reads=("issues", "parts", "machines", "installed_base?", "panel", "tickets?", "component_parts?"),
      writes=("wear_depot", "wear_fleet"))
def wear_list(state: NightState, ctx: RunContext) -> None:
    """The wear-part list per depot (with the installed-base signal) and per customer fleet."""
    from zk_forecast.inventory.wearlist import wear_list as make_wear_list

    tickets, comp = state.tickets, state.component_parts
    state.wear_depot = make_wear_list(state.issues, state.parts, state.machines, installed_base=state.installed_base,
                                      panel=state.panel, tickets=tickets, component_parts=comp)
    state.wear_fleet = make_wear_list(state.issues, state.parts, state.machines, by="customer", tickets=tickets,
                                      component_parts=comp)


def plan_inputs(state: NightState, cfg: Any) -> tuple[Any, Any, dict[str, Any]]:
    """The night's items, targets and plan settings (the ``policies`` step's, and a notebook's what-if's).

    Items come from the parts master with their promise class (wear-list or other); with ``[targets] objective =
    "system"`` each depot's wear-list parts and other parts form a group with its class's target, wear-list parts
    with the ``wear_list_floor``; measured lead times when ``[lead_times] use_receipts``.
    """
    import pandas as pd

    from zk_forecast.inventory.plan import system_groups
    from zk_forecast.reports.from_store import plan_items

    assert state.panel is not None
    t = cfg.targets
    items = plan_items(pd.Index(sorted(state.panel.unique_id.astype(str))), state.parts, wear_list=state.wear_depot)
    kw: dict[str, Any] = {"review_period": t.review_period, "objective": t.objective,
                          "season_length": 52 if t.seasonal else None}  # weekly panel: the season ahead
    if cfg.lead_times.use_receipts and state.receipts is not None:
        kw.update(receipts=state.receipts, min_receipts=cfg.lead_times.min_receipts)
    fill_rate: Any = {"wear_list": t.wear_list, "other": t.other}
    if t.objective == "system":  # one promise per depot and class: the least stock value that keeps each
        items, fill_rate = system_groups(items, fill_rate, floor={"wear_list": t.wear_list_floor})
    return items, fill_rate, kw


@step(reads=("panel", "parts", "wear_depot", "receipts?"), writes=("policies",))
def policies(state: NightState, ctx: RunContext) -> None:
    """The plan: (R, s, S) per part × depot for each promise class's fill-rate target (``policies.csv``).

    The one place the batch calls the planner: a change of planning objective goes here.
    """
    from zk_forecast.inventory.plan import plan

    items, fill_rate, kw = plan_inputs(state, ctx.cfg)
    pol = plan(state.panel, items, fill_rate=fill_rate, **kw)
    state.policies = pol
    write_csv(pol.reset_index() if pol.index.name else pol, ctx.run_dir / "policies.csv")


@step(reads=("panel", "parts", "depots", "wear_depot"), writes=("network",))
def network(state: NightState, ctx: RunContext) -> None:
    """The two-echelon plan: which branch stocks which part, the rest by transfer (``network.csv``)."""
    if not ctx.cfg.network.enabled:
        ctx.log("network plan disabled in config / 配置中已关闭两级网络计划")
        return
    from zk_forecast.inventory.network import network_inputs, plan_network
    from zk_forecast.reports.from_store import wear_list_parts

    assert state.depots is not None and state.parts is not None
    demand, parts, depots = network_inputs(state.panel, state.parts, state.depots,
                                           transfer_days=ctx.cfg.depots.transfer_days,
                                           wear_parts=wear_list_parts(state.wear_depot))
    net = plan_network(demand, parts, depots, central_fill_rate=ctx.cfg.targets.central,
                       branch_fill_rate=ctx.cfg.targets.wear_list).reset_index()
    state.network = net
    write_csv(net, ctx.run_dir / "network.csv")


@step(reads=("policies", "stock", "parts", "network?", "wear_depot", "wear_fleet", "depots", "central"),
      writes=("restock_files",))
def restock(state: NightState, ctx: RunContext) -> None:
    """Restock workbook (+ csv) per depot and the wear-part list workbook, in ``restock/``."""
    from zk_forecast.reports.restock import restock_workbooks, seasons_ahead
    from zk_forecast.reports.wearlist_report import wearlist_workbook

    lang = ctx.cfg.reports.lang
    out = ctx.run_dir / "restock"
    dates = _dates_kwargs(restock_workbooks, ctx)
    dates.pop("as_of", None)  # the lists' 数据截至 is the stock snapshot's date, which the writer reads itself
    # wear-list minimums for the season an order placed today will serve (today + each part's lead time)
    season = seasons_ahead(state.parts, ctx.today)
    paths = restock_workbooks(state.policies, state.stock, state.parts, out, network=state.network,
                              wear_list=state.wear_depot, lang=lang, central=state.central, depots=state.depots,
                              season=season, review_period=ctx.cfg.targets.review_period, warn=ctx.warn,
                              **dates)
    wl = wearlist_workbook(state.wear_depot, out / "wear_parts.xlsx", fleet_list=state.wear_fleet, lang=lang,
                           depots=state.depots, **_dates_kwargs(wearlist_workbook, ctx))
    state.restock_files = [*paths.values(), wl]


def _scheduled_reports(state: NightState, ctx: RunContext, period: str) -> list[tuple[str, Callable[[], Any]]]:
    """(name, writer call) for each scheduled report, in a fixed order: the service report last (the only one
    that needs the night's wear-part list, which a background process receives while it writes the others)."""
    from zk_forecast.reports import write_manufacturer_report, write_scorecard, write_service_report

    rc, store, out = ctx.cfg.reports, ctx.cfg.paths.store_dir, ctx.run_dir / "reports"
    cut = str(rc.cut_ins) if rc.cut_ins else None
    calls: list[tuple[str, Callable[[], Any]]] = []
    if "scorecard" in rc.scheduled:
        kw_s = _dates_kwargs(write_scorecard, ctx)
        calls.append(("scorecard", lambda: write_scorecard(store, period, out, cut_ins=cut, **kw_s)))
    if "manufacturer" in rc.scheduled:
        from zk_forecast.data.store import Store

        makers = Store(store).read("machines", columns=("manufacturer",))["manufacturer"].dropna().astype(str)
        kw_m = _dates_kwargs(write_manufacturer_report, ctx)
        for maker in sorted(makers.unique()):
            calls.append((f"manufacturer:{maker}", lambda m=maker: write_manufacturer_report(  # type: ignore[misc]
                store, m, period, out, cut_ins=cut, **kw_m)))
    if "service" in rc.scheduled:
        cal = ctx.cfg.calendar
        working = cal.working_calendar() if cal.holidays or cal.workdays else None
        kw = _dates_kwargs(write_service_report, ctx)
        # a background process is handed the list by the main process: it waits for it here, not before the others
        source: Callable[[], Any] | None = getattr(ctx, "wear_list_source", None)

        def service() -> Any:
            wear = source() if source is not None else state.wear_depot
            if wear is not None and "wear_list" in inspect.signature(write_service_report).parameters:
                kw["wear_list"] = wear  # the 5-working-day promise is measured against the night's list
            return write_service_report(store, period, out, calendar=working, **kw)

        calls.append(("service", service))
    return calls


@step(reads=("store", "wear_depot?"), writes=("report_period", "report_failures"))
def reports(state: NightState, ctx: RunContext) -> None:
    """The scheduled reports for the period; a report that fails is recorded, the others are still written."""
    period = ctx.cfg.reports.period_label(ctx.today)
    calls = dict(_scheduled_reports(state, ctx, period))
    # a background process shares the reports with the main process: it writes the ones it takes (names in order)
    order: Callable[[list[str]], Any] | None = getattr(ctx, "report_order", None)
    failures: dict[str, str] = {}
    for name in (order(list(calls)) if order is not None else list(calls)):
        write_report(name, calls[name], ctx, failures)
    state.report_period = period
    state.report_failures = failures


def write_report(name: str, call: Callable[[], Any], ctx: RunContext, failures: dict[str, str]) -> None:
    """Write one scheduled report; a failure is recorded in ``failures`` and logged (it withholds nothing else)."""
    try:
        call()
    except Exception as exc:  # one failed report withholds nothing else
        failures[name] = error_text(exc)
        ctx.log(f"错误 / error: report {name} failed / 报告生成失败: {failures[name]}")


def shared_reports(state: NightState, ctx: RunContext) -> dict[str, Callable[[], Any]]:
    """The scheduled reports the main process may write while it waits for the background process (every one
    but the service report, which the background process writes with the wear-part list it is sent)."""
    period = ctx.cfg.reports.period_label(ctx.today)
    return {n: c for n, c in _scheduled_reports(state, ctx, period) if n != "service"}


#: The steps of one night, in order (``publish`` follows them).
MAIN_STEPS = ("check_store", "ingest", "data_dates", "load_tables", "panel", "forecast", "installed_base",
              "wear_list", "policies", "network", "restock", "reports")
#: Every step name, with ``publish``.
STEPS = (*MAIN_STEPS, "publish")
#: The steps the background process runs on its own state, after ``data_dates``; of them, ``forecast`` and
#: ``reports`` are skipped by the main process (neither feeds a later step).
BACKGROUND_STEPS = ("load_demand", "panel", "forecast", "reports")
#: Main steps left to the background process when there is one.
OFFLOADED = ("forecast", "reports")
