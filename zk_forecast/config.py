"""The nightly batch's configuration: a TOML file (``zk.toml``) → validated, frozen dataclasses.

Every key is checked when the file is loaded, before any work starts. A bad value raises
:class:`~zk_forecast.errors.ConfigError` naming the file, the key, the rule and the fix; a misspelt key names the
closest known key. Relative paths are relative to the folder of the config file.

``zk-forecast init`` writes a commented example (:func:`write_example_config`); its sections:

``[paths]``
    ``raw_dir`` (the day's exports), ``store_dir`` (the parquet store), ``runs_dir`` (one folder per run),
    ``mapping`` (optional column mapping file).
``[depots]``
    ``central`` (optional: checked against the depots table, whose ``role`` column decides) and ``[depots.transfer_days]`` (branch id → working days from it).
``[targets]``
    Fill-rate targets: ``wear_list`` (parts on the wear-part list), ``other`` (every other part), ``central``
    (the central warehouse in the two-echelon plan); ``review_period`` [weeks]; ``objective`` (``system``: each
    depot × class meets its target at the least stock value, default; ``item``: every part on its own);
    ``wear_list_floor`` (least fill rate of a single wear-list part under ``system``); ``seasonal`` (levels follow
    the season ahead).
``[lead_times]``
    ``use_receipts`` (measured lead times from receipts), ``min_receipts``.
``[forecast]``
    ``enabled``, ``horizon`` [weeks], ``methods``, ``installed_base``.
``[network]``
    ``enabled``: two-echelon plan (central + branches) that decides which branch stocks which part.
``[calendar]``
    ``holidays`` / ``workdays``: dates that override the Chinese working-day calendar.
``[reports]``
    ``scheduled`` (``service``, ``scorecard``, ``manufacturer``), ``period`` (``previous_quarter``,
    ``previous_month``, ``previous_year``, or a fixed label such as ``2026Q3``), ``cut_ins`` (optional CSV),
    ``lang`` (``zh`` / ``en``).
``[batch]``
    ``processes``: 2 (default) makes the forecasts and reports in a second process while the batch goes on; 1
    keeps everything in one process (slower, less memory at once). ``max_data_age_days`` (default 3): older
    data publishes with a warning, a banner and exit code 4.
``[ingest]``
    Workbook limits (:class:`~zk_forecast.data.readers.WorkbookLimits`, same names and defaults): ``max_cells``,
    ``max_sparsity``, ``max_part_bytes``, ``max_ratio`` (inflate ratio), ``max_shared_strings_bytes``,
    ``max_text_bytes``; a workbook over one is refused with the reason. ``remove_dropped_lines`` (default false):
    an export read again that no longer holds rows it loaded before removes them from the store (logged in its
    change log) instead of keeping them with a warning.

:func:`check_config_files` checks every file and folder the configuration names (before any step runs).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zk_forecast.data.readers import WorkbookLimits
from zk_forecast.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:  # pragma: no cover - keeps the import light
    from zk_forecast.calendar import WorkingCalendar

__all__ = [
    "CalendarConfig",
    "Config",
    "DepotsConfig",
    "ForecastConfig",
    "IngestConfig",
    "LeadTimesConfig",
    "NetworkConfig",
    "PathsConfig",
    "REPORT_KINDS",
    "PERIOD_RULES",
    "ReportsConfig",
    "TargetsConfig",
    "check_config_files",
    "config_from_dict",
    "EXAMPLE_CONFIG",
    "load_config",
    "write_example_config",
]

#: Reports the batch can schedule.
REPORT_KINDS = ("service", "scorecard", "manufacturer")
#: Period rules relative to the run date (a fixed label such as ``2026Q3`` is accepted too).
PERIOD_RULES = ("previous_month", "previous_quarter", "previous_year")
_FORECAST_METHODS = ("auto", "croston", "sba", "sbj", "croston_opt", "tsb", "adida", "imapa", "ses", "naive",
                     "mean", "ma")


@dataclass(frozen=True)
class PathsConfig:
    """Where things are.

    Attributes
    ----------
    raw_dir : Path
        Folder of the day's ERP exports.
    store_dir : Path
        The parquet store (``zk-forecast ingest`` output).
    runs_dir : Path
        One sub-folder per run, plus the ``LATEST`` pointer, the ``latest`` link and the lock file.
    mapping : Path or None
        Column mapping file (TOML) for headers the built-in aliases do not know.
    keep_runs : int
        Run folders kept in ``runs_dir`` (published, failed and abandoned ones alike, the newest first); older
        ones are deleted after a run is published. 0 keeps them all.
    """

    raw_dir: Path
    store_dir: Path
    runs_dir: Path
    mapping: Path | None = None
    keep_runs: int = 30


@dataclass(frozen=True)
class DepotsConfig:
    """The depots of the network.

    Attributes
    ----------
    central : str or None
        Id of the central warehouse, a check only: the central warehouse is the depot whose ``role`` is
        ``central`` in the depots table (:func:`zk_forecast.schema.central_depot`); when set, the run fails if
        the two disagree. Default None (no check).
    transfer_days : dict of str → float
        Branch id → transfer time from the central warehouse [working days].
    """

    central: str | None = None
    transfer_days: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetsConfig:
    """Service targets.

    Attributes
    ----------
    wear_list, other : float
        Fill-rate targets in (0, 1) [probability] for wear-list parts and for every other part.
    central : float
        Fill-rate target of the central warehouse in the two-echelon plan [probability].
    review_period : int
        Review period ``R`` [weeks].
    objective : {"system", "item"}
        ``"system"``: each depot's wear-list parts and its other parts are a group whose demand-weighted fill rate
        meets the target at the least stock value (:func:`~zk_forecast.inventory.plan.plan`); ``"item"``: every
        part × depot meets the target on its own (more money for the same service).
    wear_list_floor : float
        Least fill rate of any single wear-list part under ``objective = "system"`` [probability] (0: none), so
        that an expensive wear part is never starved.
    seasonal : bool
        Levels follow the season ahead: each part's demand over the weeks its next order covers is scaled by its
        seasonal index (``plan(season_length=52)``), so harvest parts ramp up before 夏收/秋收 and run down after.
    """

    wear_list: float = 0.95
    other: float = 0.90
    central: float = 0.95
    review_period: int = 1
    objective: str = "system"
    wear_list_floor: float = 0.80
    seasonal: bool = True


@dataclass(frozen=True)
class LeadTimesConfig:
    """Supplier lead times.

    Attributes
    ----------
    use_receipts : bool
        Use measured lead times from receipts for series with at least ``min_receipts`` receipts.
    min_receipts : int
        Receipts needed before the measured distribution replaces the parts master's ``lead_time_days``.
    """

    use_receipts: bool = True
    min_receipts: int = 5


@dataclass(frozen=True)
class ForecastConfig:
    """Demand forecasts written with each run.

    Attributes
    ----------
    enabled : bool
        Write ``forecasts.csv``.
    horizon : int
        Horizon [weeks].
    methods : tuple of str
        Method names of :func:`zk_forecast.demand.forecast.forecast`.
    installed_base : bool
        Forecast parts demand from the installed base (machine ages, life models), write ``installed_base.csv``
        and let it inform the wear-part list.
    """

    enabled: bool = True
    horizon: int = 13
    methods: tuple[str, ...] = ("auto",)
    installed_base: bool = True


@dataclass(frozen=True)
class NetworkConfig:
    """Two-echelon plan (:func:`zk_forecast.inventory.network.plan_network`).

    Attributes
    ----------
    enabled : bool
        Plan the network and write ``network.csv``; the restock workbooks then follow its stocking decisions.
    """

    enabled: bool = True


@dataclass(frozen=True)
class CalendarConfig:
    """Overrides of the Chinese working-day calendar.

    Attributes
    ----------
    holidays, workdays : tuple of datetime.date
        Extra non-working days and extra working days.
    """

    holidays: tuple[_dt.date, ...] = ()
    workdays: tuple[_dt.date, ...] = ()

    def working_calendar(self) -> WorkingCalendar:
        """The :class:`~zk_forecast.calendar.WorkingCalendar` with these overrides."""
        from zk_forecast.calendar import WorkingCalendar

        return WorkingCalendar(holidays=list(self.holidays), workdays=list(self.workdays))


@dataclass(frozen=True)
class ReportsConfig:
    """Reports written by each run besides the restock workbooks and the wear-part list.

    Attributes
    ----------
    scheduled : tuple of str
        Any of ``service``, ``scorecard``, ``manufacturer`` (one report per manufacturer).
    period : str
        ``previous_month``, ``previous_quarter``, ``previous_year`` (relative to the run date), or a fixed
        label (``2026``, ``2026Q3``, ``2026-07``).
    cut_ins : Path or None
        CSV of design changes (``model``, ``component``, ``cut_in``) for the manufacturer reports and scorecard.
    lang : {"zh", "en"}
        Header language of the workbooks.
    """

    scheduled: tuple[str, ...] = REPORT_KINDS
    period: str = "previous_quarter"
    cut_ins: Path | None = None
    lang: str = "zh"

    def period_label(self, today: _dt.date) -> str:
        """The report period of a run on ``today``: ``period``'s rule applied, or the fixed label itself.

        Examples
        --------
        >>> ReportsConfig(period="previous_quarter").period_label(_dt.date(2026, 12, 5))
        '2026Q3'
        """
        if self.period == "previous_month":
            y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
            return f"{y}-{m:02d}"
        if self.period == "previous_quarter":
            q = (today.month - 1) // 3 + 1
            y, q = (today.year, q - 1) if q > 1 else (today.year - 1, 4)
            return f"{y}Q{q}"
        if self.period == "previous_year":
            return str(today.year - 1)
        return self.period


@dataclass(frozen=True)
class BatchConfig:
    """How the nightly batch runs.

    Attributes
    ----------
    processes : int
        1 or 2: with 2 the forecasts and scheduled reports are made by a second process while the batch goes on
        (the machine's second core; both processes hold their own data, about 2 GB each at 80,000 series).
    max_data_age_days : int
        Oldest acceptable data [days]: when the data's as-of date (the earliest of the latest dates in the issues,
        stock and tickets tables) is more than this many days before the run date, the run still publishes, with
        a warning line, a banner in every output and exit code 4. 0 turns the check off. Default 3.
    """

    processes: int = 2
    max_data_age_days: int = 3


_WORKBOOK = WorkbookLimits()  # the one home of the workbook limits' defaults
#: Keys of ``[ingest]`` that are workbook limits: the fields of WorkbookLimits, in its order.
_LIMIT_KEYS = tuple(f.name for f in dataclasses.fields(WorkbookLimits))


@dataclass(frozen=True)
class IngestConfig:
    """How exports are loaded (``zk-forecast ingest --config``, the nightly's ingest step).

    Attributes
    ----------
    max_part_bytes, max_ratio, max_cells, max_sparsity, max_shared_strings_bytes, max_text_bytes
        What a workbook may hold before it is read; the fields and defaults of
        :class:`~zk_forecast.data.readers.WorkbookLimits` ([bytes], [-], [cells], [-], [bytes], [bytes]).
    remove_dropped_lines : bool
        An export read again that no longer holds rows it loaded before: False (default) keeps them in the store
        with a warning; True removes them, names them in the ingest result and logs each in the store's change
        log (:func:`zk_forecast.data.ingest.ingest`).
    """

    max_part_bytes: int = _WORKBOOK.max_part_bytes
    max_ratio: float = _WORKBOOK.max_ratio
    max_cells: int = _WORKBOOK.max_cells
    max_sparsity: float = _WORKBOOK.max_sparsity
    max_shared_strings_bytes: int = _WORKBOOK.max_shared_strings_bytes
    max_text_bytes: int = _WORKBOOK.max_text_bytes
    remove_dropped_lines: bool = False

    def workbook_limits(self) -> WorkbookLimits:
        """The :class:`~zk_forecast.data.readers.WorkbookLimits` these settings describe."""
        return WorkbookLimits(**{k: getattr(self, k) for k in _LIMIT_KEYS})


@dataclass(frozen=True)
class Config:
    """The whole configuration (see the module notes for each section).

    Attributes
    ----------
    paths, depots, targets, lead_times, forecast, network, calendar, reports, batch, ingest
        The sections.
    source : Path or None
        The file it was read from.
    """

    paths: PathsConfig
    depots: DepotsConfig = field(default_factory=DepotsConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    lead_times: LeadTimesConfig = field(default_factory=LeadTimesConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    source: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able settings (paths as strings, dates as ISO text), for the run manifest."""
        def plain(v: Any) -> Any:
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, _dt.date):
                return v.isoformat()
            if isinstance(v, Mapping):
                return {str(k): plain(x) for k, x in sorted(v.items())}
            if isinstance(v, list | tuple):
                return [plain(x) for x in v]
            return v

        out = {f.name: plain(dataclasses.asdict(getattr(self, f.name))) for f in dataclasses.fields(self)
               if f.name != "source"}
        out["source"] = str(self.source) if self.source else None
        return out


# ----------------------------------------------------------------------------------------------- validation
_SECTIONS: dict[str, tuple[str, ...]] = {
    "paths": ("raw_dir", "store_dir", "runs_dir", "mapping", "keep_runs"),
    "depots": ("central", "transfer_days"),
    "targets": ("wear_list", "other", "central", "review_period", "objective", "wear_list_floor", "seasonal"),
    "lead_times": ("use_receipts", "min_receipts"),
    "forecast": ("enabled", "horizon", "methods", "installed_base"),
    "network": ("enabled",),
    "calendar": ("holidays", "workdays"),
    "reports": ("scheduled", "period", "cut_ins", "lang"),
    "batch": ("processes", "max_data_age_days"),
    "ingest": (*_LIMIT_KEYS, "remove_dropped_lines"),
}


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str, fix: str, fix_zh: str) -> ConfigError:
        return ConfigError(f"{self.source}: [{key}] {problem}; fix: {fix} / 配置错误：键 {key} 有误；修正：{fix_zh}")

    def unknown(self, where: str, key: str, known: tuple[str, ...]) -> ConfigError:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? / 是否应为 '{close[0]}'？" if close else \
            f"known keys are {', '.join(known)} / 可用的键：{', '.join(known)}"
        name = f"{where}.{key}" if where else key
        return ConfigError(f"{self.source}: unknown key [{name}]; fix: {hint} / 配置错误：未知的键 [{name}]")

    def table(self, doc: Mapping[str, Any], where: str, known: tuple[str, ...]) -> dict[str, Any]:
        for k in doc:
            if k not in known:
                raise self.unknown(where, k, known)
        return dict(doc)

    def section(self, doc: Mapping[str, Any], name: str) -> dict[str, Any]:
        sec = doc.get(name, {})
        if not isinstance(sec, Mapping):
            raise self.fail(name, f"must be a table ([{name}]), got {sec!r}", f"write it as a [{name}] section",
                            f"写成 [{name}] 小节")
        return self.table(sec, name, _SECTIONS[name])

    def number(self, sec: Mapping[str, Any], where: str, key: str, default: float, *, lo: float, hi: float,
               open_ends: bool, integer: bool = False) -> Any:
        v = sec.get(key, default)
        name = f"{where}.{key}"
        kind = "a whole number" if integer else "a number"
        if isinstance(v, bool) or not isinstance(v, int | float) or (integer and not isinstance(v, int)):
            raise self.fail(name, f"must be {kind}, got {v!r}", f"set {key} = {default!r}",
                            f"应为{'整数' if integer else '数字'}，例如 {key} = {default!r}")
        ok = lo < v < hi if open_ends else lo <= v <= hi
        if not ok:
            rng = f"strictly between {lo} and {hi}" if open_ends else f"between {lo} and {hi}"
            rng_zh = f"在 {lo} 与 {hi} 之间（不含端点）" if open_ends else f"在 {lo} 与 {hi} 之间"
            raise self.fail(name, f"must lie {rng}, got {v!r}", f"set {key} = {default!r}",
                            f"取值应{rng_zh}，例如 {key} = {default!r}")
        return v

    def boolean(self, sec: Mapping[str, Any], where: str, key: str, default: bool) -> bool:
        v = sec.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(f"{where}.{key}", f"must be true or false, got {v!r}",
                            f"set {key} = {str(default).lower()}", f"应为 true 或 false，例如 {key} = {str(default).lower()}")
        return v

    def text(self, sec: Mapping[str, Any], where: str, key: str, default: str | None) -> str | None:
        v = sec.get(key, default)
        if v is not None and not isinstance(v, str):
            raise self.fail(f"{where}.{key}", f"must be text in quotes, got {v!r}", f'set {key} = "..."',
                            f'应为带引号的文字，例如 {key} = "..."')
        return v

    def strings(self, sec: Mapping[str, Any], where: str, key: str, default: tuple[str, ...],
                allowed: tuple[str, ...]) -> tuple[str, ...]:
        v = sec.get(key, list(default))
        name = f"{where}.{key}"
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(name, f"must be a list of text, got {v!r}", f"set {key} = {list(default)!r}",
                            f"应为文字列表，例如 {key} = {list(default)!r}")
        for x in v:
            if x not in allowed:
                close = difflib.get_close_matches(x, allowed, n=1, cutoff=0.5)
                hint = f"did you mean '{close[0]}'?" if close else f"use some of {list(allowed)}"
                hint_zh = f"是否应为 '{close[0]}'？" if close else f"请从 {list(allowed)} 中选择"
                raise self.fail(name, f"{x!r} is not one of {list(allowed)}", hint, hint_zh)
        return tuple(v)

    def dates(self, sec: Mapping[str, Any], where: str, key: str) -> tuple[_dt.date, ...]:
        v = sec.get(key, [])
        name = f"{where}.{key}"
        if not isinstance(v, list):
            raise self.fail(name, f"must be a list of dates, got {v!r}", f"set {key} = [2026-10-09]",
                            f"应为日期列表，例如 {key} = [2026-10-09]")
        out: list[_dt.date] = []
        for x in v:
            if isinstance(x, _dt.datetime):
                x = x.date()
            elif isinstance(x, str):
                try:
                    x = _dt.date.fromisoformat(x.strip())
                except ValueError:
                    raise self.fail(name, f"{x!r} is not a date", "write dates as 2026-10-09",
                                    "日期请写成 2026-10-09") from None
            if not isinstance(x, _dt.date):
                raise self.fail(name, f"{x!r} is not a date", "write dates as 2026-10-09", "日期请写成 2026-10-09")
            out.append(x)
        return tuple(sorted(set(out)))

    def path(self, sec: Mapping[str, Any], where: str, key: str, base: Path, default: str | None,
             required: bool = False) -> Path | None:
        v = self.text(sec, where, key, default)
        if v is None or v.strip() == "":
            if required:
                raise self.fail(f"{where}.{key}", "is missing", f'add {key} = "..." under [{where}]',
                                f'在 [{where}] 下添加 {key} = "..."')
            return None
        p = Path(v).expanduser()
        return p if p.is_absolute() else base / p


def _paths(ck: _Checker, doc: Mapping[str, Any], base: Path) -> PathsConfig:
    s = ck.section(doc, "paths")
    raw = ck.path(s, "paths", "raw_dir", base, None, required=True)
    store = ck.path(s, "paths", "store_dir", base, None, required=True)
    runs = ck.path(s, "paths", "runs_dir", base, None, required=True)
    assert raw is not None and store is not None and runs is not None
    paths = PathsConfig(raw, store, runs, ck.path(s, "paths", "mapping", base, None),
                        ck.number(s, "paths", "keep_runs", 30, lo=0, hi=100_000, open_ends=False, integer=True))
    if paths.runs_dir.resolve() == paths.store_dir.resolve():
        raise ck.fail("paths.runs_dir", "is the same folder as store_dir", 'use a sub-folder, e.g. "data/processed/runs"',
                      '请使用子目录，例如 "data/processed/runs"')
    return paths


def _depots(ck: _Checker, doc: Mapping[str, Any]) -> DepotsConfig:
    s = ck.section(doc, "depots")
    central = ck.text(s, "depots", "central", None)
    if central is not None and not central.strip():
        raise ck.fail("depots.central", "is empty", 'delete the line (the depots table\'s role says which depot is '
                      'central) or set central = "YC01"', '删除此行（中心库由网点表的 role 列决定），或设为 central = "YC01"')
    td = s.get("transfer_days", {})
    if not isinstance(td, Mapping):
        raise ck.fail("depots.transfer_days", f"must be a table of branch = days, got {td!r}",
                      "write [depots.transfer_days] with lines like PL01 = 1",
                      "写成 [depots.transfer_days] 小节，每行如 PL01 = 1")
    transfer: dict[str, float] = {}
    for k in td:
        transfer[str(k)] = ck.number(td, "depots.transfer_days", k, 1, lo=0, hi=60, open_ends=False)
    depots = DepotsConfig(central, dict(sorted(transfer.items())))
    return depots


def _targets(ck: _Checker, doc: Mapping[str, Any]) -> TargetsConfig:
    s = ck.section(doc, "targets")
    targets = TargetsConfig(
        wear_list=ck.number(s, "targets", "wear_list", 0.95, lo=0, hi=1, open_ends=True),
        other=ck.number(s, "targets", "other", 0.90, lo=0, hi=1, open_ends=True),
        central=ck.number(s, "targets", "central", 0.95, lo=0, hi=1, open_ends=True),
        review_period=ck.number(s, "targets", "review_period", 1, lo=1, hi=52, open_ends=False, integer=True),
        objective=str(ck.text(s, "targets", "objective", "system")),
        wear_list_floor=ck.number(s, "targets", "wear_list_floor", 0.80, lo=0, hi=1, open_ends=False),
        seasonal=ck.boolean(s, "targets", "seasonal", True),
    )
    if targets.objective not in ("system", "item"):
        raise ck.fail("targets.objective", f"must be 'system' or 'item', got {targets.objective!r}",
                      'set objective = "system" (least money per depot promise) or "item" (a target per part)',
                      'objective 应为 "system"（按网点承诺，资金最省）或 "item"（逐件目标）')
    if targets.wear_list_floor >= 1:
        raise ck.fail("targets.wear_list_floor", f"must be below 1, got {targets.wear_list_floor!r}",
                      "set wear_list_floor = 0.8 (or 0 for none)", "应小于 1，例如 wear_list_floor = 0.8（0 表示不设下限）")
    return targets


def _lead_times(ck: _Checker, doc: Mapping[str, Any]) -> LeadTimesConfig:
    s = ck.section(doc, "lead_times")
    lead = LeadTimesConfig(ck.boolean(s, "lead_times", "use_receipts", True),
                           ck.number(s, "lead_times", "min_receipts", 5, lo=1, hi=10_000, open_ends=False,
                                     integer=True))
    return lead


def _forecast(ck: _Checker, doc: Mapping[str, Any]) -> ForecastConfig:
    s = ck.section(doc, "forecast")
    fc = ForecastConfig(ck.boolean(s, "forecast", "enabled", True),
                        ck.number(s, "forecast", "horizon", 13, lo=1, hi=104, open_ends=False, integer=True),
                        ck.strings(s, "forecast", "methods", ("auto",), _FORECAST_METHODS),
                        ck.boolean(s, "forecast", "installed_base", True))
    if fc.enabled and not fc.methods:
        raise ck.fail("forecast.methods", "is empty", 'set methods = ["auto"] or enabled = false',
                      '设为 methods = ["auto"]，或 enabled = false')
    return fc


def _calendar(ck: _Checker, doc: Mapping[str, Any]) -> CalendarConfig:
    s = ck.section(doc, "calendar")
    cal = CalendarConfig(ck.dates(s, "calendar", "holidays"), ck.dates(s, "calendar", "workdays"))
    both = sorted(set(cal.holidays) & set(cal.workdays))
    if both:
        raise ck.fail("calendar.holidays", f"{both[0].isoformat()} is also in calendar.workdays",
                      "remove it from one of the two lists", "请从两个列表之一中删除该日期")
    return cal


def _reports(ck: _Checker, doc: Mapping[str, Any], base: Path) -> ReportsConfig:
    s = ck.section(doc, "reports")
    period = ck.text(s, "reports", "period", "previous_quarter") or ""
    if period not in PERIOD_RULES:
        from zk_forecast.reports._html import parse_period

        try:
            period = parse_period(period).label
        except ValueError:
            close = difflib.get_close_matches(period, PERIOD_RULES, n=1, cutoff=0.5)
            fix = f'did you mean "{close[0]}"?' if close else \
                f'use one of {list(PERIOD_RULES)} or a label like "2026Q3"'
            fix_zh = f'是否应为 "{close[0]}"？' if close else f'请使用 {list(PERIOD_RULES)} 之一，或如 "2026Q3" 的期间'
            raise ck.fail("reports.period", f"{period!r} is neither a rule nor a period label", fix,
                          fix_zh) from None
    lang = ck.text(s, "reports", "lang", "zh")
    if lang not in ("zh", "en"):
        raise ck.fail("reports.lang", f"must be 'zh' or 'en', got {lang!r}", 'set lang = "zh"',
                      '应为 "zh" 或 "en"，例如 lang = "zh"')
    reports = ReportsConfig(ck.strings(s, "reports", "scheduled", REPORT_KINDS, REPORT_KINDS), period,
                            ck.path(s, "reports", "cut_ins", base, None), lang)
    return reports


def _batch(ck: _Checker, doc: Mapping[str, Any]) -> BatchConfig:
    s = ck.section(doc, "batch")
    batch = BatchConfig(ck.number(s, "batch", "processes", 2, lo=1, hi=2, open_ends=False, integer=True),
                        ck.number(s, "batch", "max_data_age_days", 3, lo=0, hi=3650, open_ends=False, integer=True))
    return batch


# bounds of the workbook limits in a config: (least, greatest); the defaults come from WorkbookLimits
_LIMIT_BOUNDS: dict[str, tuple[float, float]] = {
    "max_part_bytes": (1 << 20, 1 << 40),
    "max_ratio": (10, 100_000),
    "max_cells": (1_000, 1 << 34),
    "max_sparsity": (1, 1_000_000),
    "max_shared_strings_bytes": (1 << 20, 1 << 40),
    "max_text_bytes": (1 << 20, 1 << 40),
}


def _ingest(ck: _Checker, doc: Mapping[str, Any]) -> IngestConfig:
    s = ck.section(doc, "ingest")
    limits: dict[str, Any] = {}
    for k in _LIMIT_KEYS:
        default = getattr(_WORKBOOK, k)
        lo, hi = _LIMIT_BOUNDS[k]
        v = ck.number(s, "ingest", k, default, lo=lo, hi=hi, open_ends=False, integer=isinstance(default, int))
        limits[k] = v if isinstance(default, int) else float(v)
    return IngestConfig(**limits, remove_dropped_lines=ck.boolean(s, "ingest", "remove_dropped_lines", False))


def config_from_dict(doc: Mapping[str, Any], *, base_dir: str | Path = ".", source: str = "config") -> Config:
    """Validate a parsed TOML document into a :class:`Config`.

    Parameters
    ----------
    doc : mapping
        The parsed document (sections as nested mappings).
    base_dir : path, default "."
        Folder that relative paths are relative to.
    source : str
        Name used in error messages (the file name).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        A key is unknown (the closest known key is suggested) or a value breaks its rule.
    """
    ck = _Checker(source)
    ck.table(doc, "", tuple(_SECTIONS))
    base = Path(base_dir)
    return Config(_paths(ck, doc, base), _depots(ck, doc), _targets(ck, doc), _lead_times(ck, doc),
                  _forecast(ck, doc), NetworkConfig(ck.boolean(ck.section(doc, "network"), "network", "enabled", True)),
                  _calendar(ck, doc), _reports(ck, doc, base), _batch(ck, doc), _ingest(ck, doc), source=None)


def load_config(path: str | Path | Config) -> Config:
    """Read and validate a ``zk.toml``.

    Parameters
    ----------
    path : path or Config
        The TOML file (a :class:`Config` is returned unchanged).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, or a key or value is wrong (the message names it and the fix).
    """
    if isinstance(path, Config):
        return path
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist; fix: write one with `zk-forecast init --out {p}` "
                          f"/ 配置文件不存在，请先运行 zk-forecast init")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}); fix the line it names / 配置文件格式错误") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save it as UTF-8 / 请以 UTF-8 编码保存配置文件") from None
    cfg = config_from_dict(doc, base_dir=p.parent, source=str(p))
    return dataclasses.replace(cfg, source=p)


EXAMPLE_CONFIG = """\
# zk_forecast 夜间批处理配置 / nightly batch configuration
# 用法 / usage:  zk-forecast nightly --config zk.toml
# 相对路径相对于本文件所在目录 / relative paths are relative to this file's folder.

[paths]
raw_dir = "data/raw"                 # 每日 ERP 导出文件目录 / folder of the day's ERP exports
store_dir = "data/processed"         # 数据仓 (parquet) / the parquet store
runs_dir = "data/processed/runs"     # 每次运行一个子目录; LATEST 指向最近成功的运行 / one folder per run
# mapping = "mapping.toml"           # 可选：列映射文件 / optional column mapping file
keep_runs = 30                       # 保留最近的运行目录数, 0 = 全部保留 / run folders kept, 0 = all

[depots]
# central = "YC01"                   # 可选核对：中心库由网点表 role 列决定 / optional check: the depots table's role decides

[depots.transfer_days]               # 中心库到各分库的调拨时间 [工作日] / transfer time from it [working days]
PL01 = 1                             # 平罗分库 / Pingluo
QT01 = 1                             # 青铜峡分库 / Qingtongxia
GY01 = 2                             # 固原分库 / Guyuan

[targets]
wear_list = 0.95                     # 易损件清单内配件的满足率目标 / fill-rate target, wear-list parts
other = 0.90                         # 其他配件 / every other part
central = 0.95                       # 两级网络中中心库的满足率 / central warehouse, two-echelon plan
review_period = 1                    # 盘点周期 [周] / review period [weeks]
# 按网点承诺设目标：每个网点的易损件和其他配件各为一组，组内按需求加权的满足率达到目标，
# 每多备一件都放在每元钱减少缺件最多的配件上——同样的服务，库存金额明显更少（逐件目标会把昂贵的慢动件
# 也备得和便宜的常用件一样深）。"item" 则让每个配件各自达到目标。
# System targets: each depot's wear-list parts and its other parts form a group whose demand-weighted fill rate
# meets the target; each next unit goes where it removes the most shortages per yuan, so the same service costs
# much less stock than per-part targets ("item"), which stock expensive slow movers as deeply as cheap fast ones.
objective = "system"
wear_list_floor = 0.80               # 任一易损件的满足率下限 / least fill rate of any wear-list part (0: none)
seasonal = true                      # 库存随下一季需求（如夏收、秋收前提高）/ levels follow the season ahead

[lead_times]
use_receipts = true                  # 用入库记录实测采购周期 / measure lead times from receipts
min_receipts = 5                     # 至少几条入库记录才采用实测值 / receipts needed to use them

[forecast]
enabled = true                       # 输出需求预测 forecasts.csv / write demand forecasts
horizon = 13                         # 预测期 [周] / horizon [weeks]
methods = ["auto"]                   # 方法 / methods: auto, croston, sba, tsb, ses, ...
installed_base = true                # 按保有量与寿命模型预测配件需求 / installed-base forecast (feeds the wear list)

[network]
enabled = true                       # 两级库存网络 (中心库 + 分库) / two-echelon plan

[calendar]                           # 工作日历的补充 / overrides of the Chinese working-day calendar
holidays = []                        # 额外休息日 / extra days off, e.g. [2026-10-09]
workdays = []                        # 额外工作日 (调休) / extra working days, e.g. [2026-09-27]

[reports]
scheduled = ["service", "scorecard", "manufacturer"]   # 服务报告、厂家评分、厂家质量反馈 / reports per run
period = "previous_quarter"          # previous_month | previous_quarter | previous_year | "2026Q3"
# cut_ins = "cut_ins.csv"            # 可选：设计改进切换点 (model, component, cut_in) / design changes
lang = "zh"                          # 表头语言 / header language: zh | en

[batch]
processes = 2                        # 2: 预测与报告由第二个进程并行生成 / forecasts and reports in a second process; 1: one process
max_data_age_days = 3                # 数据超过此天数即告警（横幅、退出码 4），0 = 不检查 / older data: banner, exit code 4; 0 = off
""" + f"""
[ingest]
# 工作簿安全上限（以下为默认值；超出即拒收该文件并说明原因，其他文件照常导入）
# workbook limits (the defaults shown; a workbook over one is refused with the reason, the other files still load)
# max_cells = {_WORKBOOK.max_cells:_}            # 工作表网格上限 [单元格] / largest grid of a sheet [cells]
# max_sparsity = {_WORKBOOK.max_sparsity:g}                 # 网格与实有单元格之比 / grid over cells present
# max_part_bytes = {_WORKBOOK.max_part_bytes:_}     # 单个部件解压后上限 [字节] / one part, uncompressed [bytes]
# max_ratio = {_WORKBOOK.max_ratio:g}                    # 解压倍数上限（防压缩炸弹）/ largest inflate ratio (zip bombs)
# max_shared_strings_bytes = {_WORKBOOK.max_shared_strings_bytes:_}  # 共享字符串上限 [字节] / shared strings [bytes]
# max_text_bytes = {_WORKBOOK.max_text_bytes:_}     # 单元格文字总量上限 [字节] / text of the cells [bytes]
# 重新导出的文件少了以前导入过的行：false = 保留这些行并告警；true = 从数据仓删除并记入变更记录
# a re-export without rows it loaded before: false keeps them with a warning; true removes them (change log)
remove_dropped_lines = false
"""


def check_config_files(cfg: Config, *, from_store: bool = False) -> None:
    """Check every file and folder the configuration names, before any step of a run.

    Parameters
    ----------
    cfg : Config
    from_store : bool, default False
        The run uses the stored data only (``zk-forecast nightly --from-store``): ``raw_dir`` is not needed.

    Raises
    ------
    ConfigError
        ``raw_dir`` is missing or holds no file (unless ``from_store``); the mapping file is missing or not a
        valid mapping; the cut-ins file is missing or lacks ``model``, ``component``, ``cut_in``. The message
        names the file and the fix, in English and Chinese.
    """
    src = str(cfg.source) if cfg.source else "config"
    raw = cfg.paths.raw_dir
    if not from_store:
        if not raw.is_dir():
            raise ConfigError(f"{src}: [paths.raw_dir] the raw folder {raw} does not exist; fix: put the day's exports "
                              f"there, correct raw_dir, or run `zk-forecast nightly --from-store` to publish from the "
                              f"stored data / 原始导出目录 {raw} 不存在：请放入当天的导出文件、修正 raw_dir，或用 "
                              f"--from-store 基于数据仓运行")
        if not any(p.is_file() for p in raw.rglob("*")):
            raise ConfigError(f"{src}: [paths.raw_dir] the raw folder {raw} is empty; fix: put the day's exports there, "
                              f"or run `zk-forecast nightly --from-store` to publish from the stored data "
                              f"/ 原始导出目录 {raw} 为空：请放入当天的导出文件，或用 --from-store 基于数据仓运行")
    if cfg.paths.mapping is not None:
        from zk_forecast.data.mapping import Mapping as ColumnMapping

        if not cfg.paths.mapping.is_file():
            raise ConfigError(f"{src}: [paths.mapping] the mapping file {cfg.paths.mapping} does not exist; fix: "
                              f"correct the path or delete the line / 列映射文件不存在：请修正路径或删除此行")
        ColumnMapping.load(cfg.paths.mapping)
    cut = cfg.reports.cut_ins
    if cut is not None:
        if not cut.is_file():
            raise ConfigError(f"{src}: [reports.cut_ins] the file {cut} does not exist; fix: correct the path or "
                              f"delete the line / 设计改进切换点文件不存在：请修正路径或删除此行")
        try:
            with open(cut, encoding="utf-8-sig") as fh:
                header = [h.strip() for h in fh.readline().split(",")]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{src}: [reports.cut_ins] {cut} cannot be read as UTF-8 CSV ({exc}); fix: save it as "
                              f"UTF-8 CSV / 无法读取该文件，请另存为 UTF-8 CSV") from None
        need = [c for c in ("model", "component", "cut_in") if c not in header]
        if need:
            raise ConfigError(f"{src}: [reports.cut_ins] {cut} lacks the column(s) {', '.join(need)} (it has "
                              f"{', '.join(header)}); fix: give it the header model,component,cut_in "
                              f"/ 设计改进切换点文件缺少列 {', '.join(need)}：表头应为 model,component,cut_in")


def write_example_config(path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the commented example configuration (the body of ``zk-forecast init``).

    Parameters
    ----------
    path : path
        Where to write it (e.g. ``zk.toml``).
    overwrite : bool, default False
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ConfigError
        The file exists and ``overwrite`` is False.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise ConfigError(f"{p} already exists; fix: choose another --out or delete it first "
                          f"/ 文件已存在，请换一个文件名或先删除")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    return p
