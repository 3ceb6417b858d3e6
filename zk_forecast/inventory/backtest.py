"""Is the promise kept? Plan at rolling origins inside the history and replay the periods that follow.

``backtest_plan(history, items, origins=[...])`` fits :func:`~zk_forecast.inventory.plan.plan` on the periods
before each origin, replays the next ``horizon`` periods with
:func:`~zk_forecast.inventory.simulate.simulate_policy` (after a warm-up on the ``warmup`` periods before the origin,
which the plan saw, so that the replay starts with the pipeline its own policy produced), and puts the promised
service of each group beside the service achieved. Only what happened before each origin enters its plan; the
periods replayed are never used to choose anything. Items without demand before an origin are left out of that
origin (the plan promises nothing for them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.demand.panel import Panel
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.simulate import simulate_policy

__all__ = ["backtest_plan", "default_origins"]


def default_origins(n_periods: int, horizon: int, *, n_origins: int = 3, min_fit: int = 26) -> list[int]:
    """Origins [period index] ending ``horizon`` periods apart and the last one ``horizon`` before the end.

    Returns the origins in increasing order, at least ``min_fit`` periods into the history; empty when the history
    is shorter than ``min_fit + horizon``.
    """
    out = [n_periods - horizon * (k + 1) for k in range(n_origins)]
    return sorted(o for o in out if o >= min_fit)


def backtest_plan(history: pd.DataFrame | Panel, items: pd.DataFrame, *, origins: Any = None, horizon: int = 26,
                  warmup: int = 26, freq: str = "W-MON", **plan_settings: Any) -> pd.DataFrame:
    """Promised and achieved service per origin and group (module notes).

    Parameters
    ----------
    history : pandas.DataFrame or Panel
        Long ``unique_id``, ``ds``, ``y`` [units per period], or a Panel, as :func:`~zk_forecast.inventory.plan.plan`
        takes it.
    items : pandas.DataFrame
        As :func:`~zk_forecast.inventory.plan.plan` takes it (``lead_time``, ``unit_cost``, ``group``, ...).
    origins : sequence of int, optional
        Period indices [0-based, into the panel's periods] at which to plan; default :func:`default_origins`.
    horizon : int, default 26
        Periods replayed after each origin [periods].
    warmup : int, default 26
        Periods before each origin replayed but not measured [periods] (at least the longest lead time + 1).
    freq : str, default "W-MON"
        Period length of ``history``.
    **plan_settings
        Passed to :func:`~zk_forecast.inventory.plan.plan` (``fill_rate``, ``objective``, ``service``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per origin x group: ``origin`` (the first replayed period's start), ``group``, ``promised`` and
        ``achieved`` [probability] (fill rate, or on-time share with ``service="on_time"``), ``demand`` [units]
        replayed, ``expected_on_hand_value`` and ``achieved_on_hand_value`` [CNY], ``items``.
    """
    from zk_forecast.inventory.plan import plan

    if isinstance(history, Panel):
        panel = history
    else:
        for c in ("unique_id", "ds", "y"):
            if c not in history.columns:
                raise ZkValueError(f"history needs columns unique_id, ds, y (long format); '{c}' is missing.")
        hist = history.assign(unique_id=history["unique_id"].astype(str))
        hist = hist.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
        panel = Panel.from_long(hist, freq=freq, fill="zero")
    T = panel.values.shape[1]
    orig = default_origins(T, horizon) if origins is None else [int(o) for o in origins]
    if not orig:
        raise ZkValueError(f"history has {T} periods: too short for a backtest of {horizon} periods after at least "
                           "26 fitting periods; give origins or a shorter horizon.")
    ids = pd.Index(panel.unique_id).astype(str)
    items = items.copy()
    items.index = items.index.astype(str)
    service = plan_settings.get("service", "fill_rate")
    rows = []
    for o in orig:
        if not 1 <= o < T:
            raise ZkValueError(f"origin {o} lies outside the history's periods 1..{T - 1}.")
        past = panel.values[:, :o]
        seen = np.nansum(np.nan_to_num(past), axis=1) > 0
        if not seen.any():
            continue
        sub_ids = ids[seen]
        sub = Panel(past[seen], panel.series.iloc[np.flatnonzero(seen)], panel.periods[:o], panel.freq)
        it = items.loc[sub_ids]
        pol = plan(sub, it, **plan_settings)
        h = min(horizon, T - o)
        w0 = min(warmup, o)
        dem = np.nan_to_num(panel.values[seen, o - w0:o + h])
        pack = it["pack_size"].to_numpy(dtype=np.float64) if "pack_size" in it.columns else 1.0
        moq = it["moq"].to_numpy(dtype=np.float64) if "moq" in it.columns else 0.0
        cost = it["unit_cost"].to_numpy(dtype=np.float64) if "unit_cost" in it.columns else 0.0
        promise = it["promise_periods"].to_numpy() if service == "on_time" else None
        lead = np.ceil(pol["lead_time"].to_numpy(dtype=np.float64)).astype(np.int64)
        sim = simulate_policy(dem, pol["reorder_point"].to_numpy(), pol["order_up_to"].to_numpy(), lead,
                              review_period=int(plan_settings.get("review_period", 1)), pack_size=pack, moq=moq,
                              unit_cost=cost, warmup=w0, promise_periods=promise)
        got = sim.items["on_time"] if service == "on_time" else sim.items["fill_rate"]
        d = sim.items["demand"].to_numpy()
        ok = np.nan_to_num(got.to_numpy()) * d
        g = pol["group"].to_numpy()
        summary = pol.attrs["groups"]
        for name in summary.index:
            k = g == name
            dem_g = float(d[k].sum())
            rows.append({"origin": panel.periods[o], "group": name,
                         "promised": float(summary.loc[name, "expected_fill_rate"]),
                         "achieved": float(ok[k].sum() / dem_g) if dem_g > 0 else np.nan, "demand": dem_g,
                         "expected_on_hand_value": float(summary.loc[name, "expected_on_hand_value"]),
                         "achieved_on_hand_value": float(sim.items["avg_on_hand_value"].to_numpy()[k].sum()),
                         "items": int(k.sum())})
    return pd.DataFrame(rows)
