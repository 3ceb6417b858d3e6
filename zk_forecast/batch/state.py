"""What one night's steps read and write (:class:`NightState`) and what they are given (:class:`RunContext`).

Every field of :class:`NightState` is written by exactly one step (named beside it) and starts as None; the
runner checks each step's declared reads and writes against it (:mod:`zk_forecast.batch.steps`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from zk_forecast.config import Config
    from zk_forecast.data.store import Store
    from zk_forecast.demand.panel import Panel
    from zk_forecast.inventory.wearlist import WearList

__all__ = ["DataAge", "NightState", "RunContext", "state_fields"]


@dataclass
class NightState:
    """The data of one night, field by field (the step that writes each in brackets).

    Attributes
    ----------
    store : Store
        [ingest] The parquet store, updated with the day's exports.
    inputs : dict
        [ingest] The manifest's ``inputs``: exports read (sha256, rows in / loaded / rejected), store tables.
    rejects : dict
        [ingest] Rejected rows: ``rows`` and per file.
    table_dates : dict of str → date or None
        [data_dates] Each dated table's as-of date (the latest date in it).
    parts, issues, depots, machines, stock : pandas.DataFrame
        [load_tables] Canonical tables (issues: the columns the later steps use).
    tickets, component_parts, receipts : pandas.DataFrame or None
        [load_tables] Optional tables (None when the store has none).
    central : str
        [load_tables] The central warehouse (the depot whose role is ``central``).
    panel : Panel
        [panel] Weekly demand per part × depot [units per week].
    forecasts : pandas.DataFrame
        [forecast] Long forecasts (also ``forecasts.csv``).
    installed_base : pandas.DataFrame or None
        [installed_base] Expected parts demand from the machines in service.
    wear_depot, wear_fleet : WearList
        [wear_list] The wear-part list per depot and per customer fleet.
    policies : pandas.DataFrame
        [policies] (R, s, S) per part × depot.
    network : pandas.DataFrame or None
        [network] The two-echelon plan.
    restock_files : list of Path
        [restock] Restock workbooks and the wear-part list written.
    report_period : str
        [reports] The period of the scheduled reports.
    report_failures : dict of str → str
        [reports] Report name → error, for each scheduled report that failed (the others are written).
    """

    store: Store | None = None
    inputs: dict[str, Any] | None = None
    rejects: dict[str, Any] | None = None
    table_dates: dict[str, _dt.date | None] | None = None
    parts: pd.DataFrame | None = None
    issues: pd.DataFrame | None = None
    depots: pd.DataFrame | None = None
    machines: pd.DataFrame | None = None
    stock: pd.DataFrame | None = None
    tickets: pd.DataFrame | None = None
    component_parts: pd.DataFrame | None = None
    receipts: pd.DataFrame | None = None
    central: str | None = None
    panel: Panel | None = None
    forecasts: pd.DataFrame | None = None
    installed_base: pd.DataFrame | None = None
    wear_depot: WearList | None = None
    wear_fleet: WearList | None = None
    policies: pd.DataFrame | None = None
    network: pd.DataFrame | None = None
    restock_files: list[Path] | None = None
    report_period: str | None = None
    report_failures: dict[str, str] | None = None


def state_fields() -> tuple[str, ...]:
    """The names of :class:`NightState`'s fields."""
    return tuple(f.name for f in fields(NightState))


@dataclass(frozen=True)
class DataAge:
    """How old the night's data is.

    Attributes
    ----------
    as_of : date or None
        The data's as-of date: the earliest of the latest dates in ``part_issues``, ``stock`` and ``tickets``
        (the tables the restock lists and the service report stand on); None when none of them has a date.
    age_days : int or None
        Days from ``as_of`` to the run date [days].
    limit_days : int
        ``[batch] max_data_age_days`` (0: no check) [days].
    """

    as_of: _dt.date | None
    age_days: int | None
    limit_days: int

    @property
    def stale(self) -> bool:
        """Whether the data is older than the limit (never when the check is off or there is no date)."""
        return bool(self.limit_days and self.age_days is not None and self.age_days > self.limit_days)


@dataclass
class RunContext:
    """What every step is given besides the state: settings, the run folder, the clock and the log.

    Attributes
    ----------
    cfg : Config
    run_dir : Path
        The run folder the outputs go into.
    started : datetime
        The run's clock (run folder name, report period, 生成时间 in the outputs).
    log : callable
        One progress line (Chinese and English).
    from_store : bool
        The run publishes from the stored data without reading ``raw_dir``.
    data_age : DataAge or None
        Set by the runner once the table dates are known.
    warnings : list of str
        Warning lines, repeated in the closing summary and the manifest.
    """

    cfg: Config
    run_dir: Path
    started: _dt.datetime
    log: Callable[[str], None]
    from_store: bool = False
    data_age: DataAge | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def today(self) -> _dt.date:
        """The run date."""
        return self.started.date()

    def warn(self, message: str) -> None:
        """Log a warning line and keep it for the summary."""
        self.warnings.append(message)
        self.log(f"警告 / warning: {message}")
