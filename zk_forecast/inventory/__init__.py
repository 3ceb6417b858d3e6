"""Inventory engine: stock policies per part × depot, a two-echelon network, and a simulator that proves them.

- :mod:`~zk_forecast.inventory.policy`: exact kernels on discrete demand pmfs (expected backorders, fill rate,
  on hand, undershoot) and the (R, s, S) search for a fill-rate, cycle-service or cost target.
- :mod:`~zk_forecast.inventory.plan`: the DataFrame face ``plan(history, items, fill_rate=0.95)``, lead times from
  receipts, priors for items without history (files are read and written by :mod:`zk_forecast.data.tables`).
- :mod:`~zk_forecast.inventory.system`: ``plan(objective="system")``, the least on-hand value meeting each group's
  promise (marginal analysis on the exact level tables).
- :mod:`~zk_forecast.inventory.backtest`: the promise checked on the history (plan at rolling origins, replay).
- :mod:`~zk_forecast.inventory.calibrate`: extra level variance measured on the history (``plan(widen=...)``).
- :mod:`~zk_forecast.inventory.costpolicy`: cost-optimal policies (newsvendor, Zheng-Federgruen (s, S), Poisson
  (r, Q)); ``plan(service="cost")`` uses the (s, S) search.
- :mod:`~zk_forecast.inventory.simulate`: replays policies against actual demand (event order in its docstring).
- :mod:`~zk_forecast.inventory.network`: Yinchuan plus branches, METRIC delay, stocking location by the promises.
- :mod:`~zk_forecast.inventory.budget`: marginal analysis, the curve of investment against fill rate.
- :mod:`~zk_forecast.inventory.loaners`: the loaner pool (周转件) by Palm's theorem, with harvest peaks.
- :mod:`~zk_forecast.inventory.wearlist`: the wear-part list (易损件清单) with planner overrides.
"""

from zk_forecast.inventory.backtest import backtest_plan
from zk_forecast.inventory.budget import BudgetCurve, budget_curve
from zk_forecast.inventory.calibrate import level_widening
from zk_forecast.inventory.costpolicy import (
    newsvendor_level,
    optimal_poisson_rq,
    optimal_ss,
    poisson_rq_cost,
    ss_cost,
)
from zk_forecast.inventory.loaners import (
    CRITERIA,
    LoanerPool,
    erlang_b,
    late_repairs,
    loaner_pool,
    pool_probabilities,
    pool_size,
    time_varying_load,
)
from zk_forecast.inventory.network import metric_delay, plan_network
from zk_forecast.inventory.plan import evaluate_levels, lead_time_from_receipts, plan
from zk_forecast.inventory.policy import (
    base_stock_fill_rate,
    critical_ratio,
    cycle_service_level,
    expected_backorders,
    expected_on_hand,
    order_quantity,
    reorder_policy,
)
from zk_forecast.inventory.simulate import SimulationResult, simulate, simulate_policy
from zk_forecast.inventory.wearlist import (
    OVERRIDE_ALIASES,
    REPORT_COLUMNS,
    SEASON_ZH,
    SEASONS,
    WearList,
    read_overrides,
    wear_list,
)

__all__ = [
    "CRITERIA",
    "OVERRIDE_ALIASES",
    "REPORT_COLUMNS",
    "SEASONS",
    "SEASON_ZH",
    "BudgetCurve",
    "LoanerPool",
    "WearList",
    "backtest_plan",
    "budget_curve",
    "level_widening",
    "newsvendor_level",
    "optimal_poisson_rq",
    "optimal_ss",
    "poisson_rq_cost",
    "ss_cost",
    "erlang_b",
    "evaluate_levels",
    "late_repairs",
    "loaner_pool",
    "pool_probabilities",
    "pool_size",
    "read_overrides",
    "time_varying_load",
    "wear_list",
    "SimulationResult",
    "lead_time_from_receipts",
    "metric_delay",
    "plan",
    "plan_network",
    "simulate",
    "simulate_policy",
    "base_stock_fill_rate",
    "critical_ratio",
    "cycle_service_level",
    "expected_backorders",
    "expected_on_hand",
    "order_quantity",
    "reorder_policy",
]
