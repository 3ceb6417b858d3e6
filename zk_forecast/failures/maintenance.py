"""Preventive maintenance from fitted lives: the age-replacement policy and a review of maintenance-plan intervals.

Age replacement (Barlow & Proschan 1965, *Mathematical Theory of Reliability*, ch. 4 §2): a part is replaced at
failure at cost ``c_f`` or at age ``T`` at cost ``c_p < c_f``, whichever comes first. By the renewal-reward
theorem the long-run cost per hour of running is

    C(T) = (c_p R(T) + c_f F(T)) / integral_0^T R(t) dt        [CNY/h]

and ``C(inf) = c_f / MTTF`` is the cost of running to failure. A finite optimum ``T*`` exists only when the hazard
rises (Weibull shape > 1); then it solves ``h(T) integral_0^T R - F(T) = c_p / (c_f - c_p)`` (Barlow & Proschan,
Theorem 4.2.3). With a constant or falling hazard (shape <= 1) planned replacement never pays: ``T* = inf``.

:func:`weibull_age_replacement` is the array kernel for many Weibull groups at once (``integral_0^T R`` in closed
form through the regularised incomplete gamma function); :func:`optimal_replacement_age` takes any fitted life
model of :mod:`zk_forecast.failures`; :func:`review_maintenance_intervals` compares a dealer's maintenance-plan
intervals with the optimal ages of the parts in each kit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate, optimize, special

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.lifetimes import ParametricLifetime, Weibull
from zk_forecast.schema import require_columns

__all__ = [
    "ReplacementAge",
    "age_replacement_cost_rate",
    "optimal_replacement_age",
    "review_maintenance_intervals",
    "weibull_age_replacement",
]

VERDICTS = {"short": ("偏短", "too short"), "right": ("合适", "about right"), "long": ("偏长", "too long")}


def _costs(cost_preventive: Any, cost_failure: Any) -> tuple[np.ndarray, np.ndarray]:
    cp = np.asarray(cost_preventive, dtype=float)
    cf = np.asarray(cost_failure, dtype=float)
    bad = ~np.isfinite(cp) | (cp <= 0)
    if np.any(bad):
        raise ZkValueError(f"cost_preventive must be finite and > 0 [CNY per planned replacement]; got "
                           f"{float(np.ravel(cp)[np.ravel(bad)][0])!r}.")
    bad = np.broadcast_to(~np.isfinite(cf) | (cf <= cp), np.broadcast_shapes(cp.shape, cf.shape))
    if np.any(bad):
        raise ZkValueError("cost_failure must be finite and above cost_preventive [CNY per failure]: a failure "
                           "costs the part and the breakdown (call-out, downtime). Fix: add the breakdown cost.")
    return cp, cf


# ---------------------------------------------------------------------------------------------- Weibull kernel
def _weibull_integral(T: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """integral_0^T exp(-(t / scale) ** shape) dt [h] = scale Gamma(1 + 1/shape) P(1/shape, (T/scale)^shape)."""
    a = 1.0 / shape
    with np.errstate(over="ignore"):
        x = (T / scale) ** shape
    return scale * special.gamma(1.0 + a) * special.gammainc(a, x)


def age_replacement_cost_rate(age: Any, shape: Any, scale: Any, cost_preventive: Any,
                              cost_failure: Any) -> np.ndarray:
    """Cost rate C(T) [CNY/h] of replacing Weibull parts at age ``T`` [h] or at failure, whichever is first.

    Parameters
    ----------
    age : float or array [h]
        Planned replacement age ``T`` > 0; ``inf`` is run to failure (``c_f / MTTF``).
    shape, scale : float or array
        Weibull shape [-] and scale [h].
    cost_preventive, cost_failure : float or array
        ``c_p`` and ``c_f`` [CNY per replacement], ``0 < c_p < c_f``.

    Returns
    -------
    numpy.ndarray
        ``C(T)`` [CNY/h], broadcast over the arguments.
    """
    cp, cf = _costs(cost_preventive, cost_failure)
    T = np.asarray(age, dtype=float)
    k = np.asarray(shape, dtype=float)
    eta = np.asarray(scale, dtype=float)
    if np.any(~(k > 0)) or np.any(~(eta > 0)) or np.any(~(T > 0)):
        raise ZkValueError("age, shape and scale must be > 0 (age in [h], may be inf).")
    mttf = eta * special.gamma(1.0 + 1.0 / k)
    with np.errstate(over="ignore", invalid="ignore"):
        F = -np.expm1(-((T / eta) ** k))
        rate = (cp * (1.0 - F) + cf * F) / _weibull_integral(T, k, eta)
    return np.asarray(np.where(np.isinf(T), cf / mttf, rate))


def weibull_age_replacement(shape: Any, scale: Any, cost_preventive: Any,
                            cost_failure: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal age-replacement ages for many Weibull groups at once (Barlow & Proschan's condition, bisection).

    Parameters
    ----------
    shape, scale : array (n,)
        Weibull shape [-] and scale [h] per group.
    cost_preventive, cost_failure : float or array (n,)
        ``c_p`` and ``c_f`` [CNY per replacement], ``0 < c_p < c_f``.

    Returns
    -------
    age : numpy.ndarray (n,)
        ``T*`` [h]; ``inf`` where the shape is <= 1 (planned replacement never pays).
    cost_rate : numpy.ndarray (n,)
        ``C(T*)`` [CNY/h].
    cost_rate_run_to_failure : numpy.ndarray (n,)
        ``c_f / MTTF`` [CNY/h].
    """
    k, eta, cp, cf = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float))
                                          for v in (shape, scale, cost_preventive, cost_failure)))
    _costs(cp, cf)
    if np.any(~(k > 0)) or np.any(~(eta > 0)):
        raise ZkValueError("Weibull shape and scale must be > 0 (shape [-], scale [h]); drop groups without a fit.")
    target = cp / (cf - cp)
    ifr = k > 1.0

    def lhs(u: np.ndarray) -> np.ndarray:  # h(T) integral_0^T R - F(T) with T = u * scale
        T = u * eta
        h = k / eta * u ** (k - 1.0)
        return h * _weibull_integral(T, k, eta) + np.expm1(-(u**k))

    lo = np.full(k.shape, 1e-9)
    hi = np.full(k.shape, 1.0)
    for _ in range(200):  # widen until the root is bracketed (lhs grows without bound when shape > 1)
        grow = ifr & (lhs(hi) < target)
        if not grow.any():
            break
        hi = np.where(grow, hi * 2.0, hi)
    for _ in range(200):  # bisection in log u, vectorised over groups
        mid = np.sqrt(lo * hi)
        below = lhs(mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    age = np.where(ifr, np.sqrt(lo * hi) * eta, np.inf)
    rtf = cf / (eta * special.gamma(1.0 + 1.0 / k))
    rate = np.where(ifr, age_replacement_cost_rate(np.where(ifr, age, 1.0), k, eta, cp, cf), rtf)
    return age, np.minimum(rate, rtf), rtf


# ---------------------------------------------------------------------------------------------- any fitted model
@dataclass(frozen=True)
class ReplacementAge:
    """Result of :func:`optimal_replacement_age`.

    Attributes
    ----------
    age : float
        Optimal planned replacement age ``T*`` [h]; ``inf`` when planned replacement never pays.
    cost_rate : float
        ``C(T*)`` [CNY/h].
    cost_rate_run_to_failure : float
        ``c_f / MTTF`` [CNY/h].
    curve : DataFrame
        ``age`` [h] and ``cost_rate`` [CNY/h] over a grid, for plotting.
    cost_preventive, cost_failure : float
        The costs used [CNY].
    """

    age: float
    cost_rate: float
    cost_rate_run_to_failure: float
    curve: pd.DataFrame
    cost_preventive: float
    cost_failure: float

    @property
    def saving(self) -> float:
        """Share of the run-to-failure cost saved by replacing at ``T*`` [-]."""
        return 1.0 - self.cost_rate / self.cost_rate_run_to_failure

    def plot(self, ax: Any = None) -> Any:
        """Cost rate against the planned age, with the optimum and run to failure; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt  # lazy: only when drawing

        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.curve["age"], self.curve["cost_rate"], label="C(T)")
        ax.axhline(self.cost_rate_run_to_failure, ls="--", color="grey", label="run to failure")
        if np.isfinite(self.age):
            ax.plot([self.age], [self.cost_rate], "o", label=f"T* = {self.age:.0f} h")
        ax.set_xlabel("planned replacement age [h]")
        ax.set_ylabel("cost [CNY/h]")
        ax.legend(loc="best")
        return ax

    def _repr_html_(self) -> str:
        age = "∞" if math.isinf(self.age) else f"{self.age:.1f} h"
        return (f"<p>optimal replacement age {age}; cost {self.cost_rate:.4g} CNY/h against "
                f"{self.cost_rate_run_to_failure:.4g} CNY/h run to failure (saving {100 * self.saving:.1f} %)</p>")


def optimal_replacement_age(model: ParametricLifetime, cost_preventive: float, cost_failure: float) -> ReplacementAge:
    """Barlow-Proschan optimal age replacement for a fitted life model.

    Parameters
    ----------
    model : fitted ParametricLifetime
        Any fitted life model of :mod:`zk_forecast.failures` (Weibull, lognormal, exponential, threshold models).
    cost_preventive : float
        ``c_p`` [CNY per planned replacement]: the part and the work at a planned service.
    cost_failure : float
        ``c_f`` [CNY per failure], > ``c_p``: the part, the call-out and the downtime of a breakdown.

    Returns
    -------
    ReplacementAge
        The optimal age (``inf`` when the hazard never rises enough: Weibull shape <= 1, exponential), the cost
        rates and the cost curve. Weibull models use the closed form of :func:`weibull_age_replacement`; other
        models integrate ``R`` numerically (scipy ``quad``) and minimise over ages between their B0.01 and B99.99
        lives.
    """
    if not isinstance(model, ParametricLifetime):
        raise ZkValueError(f"model must be a fitted life model (e.g. zk_forecast.failures.Weibull().fit(...)); got "
                           f"{type(model).__name__}.")
    model._check_fitted()
    cp_a, cf_a = _costs(cost_preventive, cost_failure)
    cp, cf = float(cp_a), float(cf_a)
    lo_t, hi_t = model.b_life(1e-4), model.b_life(0.9999)
    grid = np.geomspace(lo_t, hi_t, 200)
    if type(model) is Weibull:
        shape, scale = model.shape_, model.scale_
        age, rate, rtf = (float(v[0]) for v in weibull_age_replacement(shape, scale, cp, cf))
        curve = age_replacement_cost_rate(grid, shape, scale, cp, cf)
        return ReplacementAge(age, rate, rtf, pd.DataFrame({"age": grid, "cost_rate": curve}), cp, cf)

    def rel(t: float) -> float:
        return float(model.reliability(np.array([t]))[0])

    mttf = integrate.quad(rel, 0.0, hi_t, limit=200)[0] + integrate.quad(rel, hi_t, np.inf, limit=200)[0]
    rtf = cf / mttf
    # cumulative integral on a fine grid from 0 (trapezoid), then refine the best grid point with quad
    fine = np.concatenate(([0.0], np.geomspace(lo_t * 1e-3, hi_t, 4000)))
    r_fine = model.reliability(fine)
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (r_fine[1:] + r_fine[:-1]) * np.diff(fine))))
    cum_grid = np.interp(grid, fine, cum)
    F_grid = model.cdf(grid)
    curve = (cp * (1 - F_grid) + cf * F_grid) / cum_grid

    def c_of(T: float) -> float:
        F = float(model.cdf(np.array([T]))[0])
        return (cp * (1 - F) + cf * F) / integrate.quad(rel, 0.0, T, limit=200)[0]

    i = int(np.argmin(curve))
    if curve[i] >= rtf or i == grid.size - 1:
        return ReplacementAge(math.inf, rtf, rtf, pd.DataFrame({"age": grid, "cost_rate": curve}), cp, cf)
    res = optimize.minimize_scalar(c_of, bounds=(grid[max(i - 1, 0)], grid[i + 1]), method="bounded",
                                   options={"xatol": 1e-8 * grid[i]})
    age, rate = float(res.x), float(res.fun)
    if rate >= rtf:
        return ReplacementAge(math.inf, rtf, rtf, pd.DataFrame({"age": grid, "cost_rate": curve}), cp, cf)
    return ReplacementAge(age, rate, rtf, pd.DataFrame({"age": grid, "cost_rate": curve}), cp, cf)


# ---------------------------------------------------------------------------------------------- plan review
def review_maintenance_intervals(
    maintenance_plans: pd.DataFrame,
    component_parts: pd.DataFrame,
    fits: pd.DataFrame,
    parts: pd.DataFrame,
    *,
    failure_extra_cost: float,
    hours_per_season: float | Mapping[str, float],
    preventive_extra_cost: float = 0.0,
    tolerance: float = 0.05,
) -> pd.DataFrame:
    """Compare the maintenance-plan intervals with the optimal replacement ages of the parts in each kit.

    A kit part is reviewed when it is also a part of a component of the same model (``component_parts``) whose
    Weibull life was fitted (``fits``). Its planned replacement interval is the shortest ``interval_hours`` of the
    services whose kit holds it (the calendar interval, ``interval_days``, is not compared: it binds only machines
    used little). Costs per replacement:

    * planned: ``unit_cost x quantity`` of the kit line + ``preventive_extra_cost``;
    * failure: the component's parts (``unit_cost x qty_per_replacement`` over its lines) + ``failure_extra_cost``.

    Verdict: 合适 / about right when the plan's cost rate is within ``tolerance`` of the optimal one (the cost
    curve is flat near its optimum), else 偏短 / too short (interval below ``T*``, including every interval when
    ``T* = inf``) or 偏长 / too long.

    Parameters
    ----------
    maintenance_plans : DataFrame
        Canonical ``maintenance_plans`` (``model``, ``service``, ``interval_hours`` [h], ``part_no``,
        ``quantity``).
    component_parts : DataFrame
        Canonical ``component_parts`` (``model``, ``component``, ``part_no``, ``qty_per_replacement``).
    fits : DataFrame
        :func:`~zk_forecast.failures.groups.fit_groups` output indexed by (``model``, ``component``), with
        ``shape`` [-], ``scale`` [h] and ``status``.
    parts : DataFrame
        Canonical ``parts`` (``part_no``, ``unit_cost`` [CNY]).
    failure_extra_cost : float
        Breakdown cost beyond the parts [CNY per failure]: call-out, downtime, lost work. > 0.
    hours_per_season : float or mapping of model -> float
        Engine hours a machine works in a farming season [h per machine per season].
    preventive_extra_cost : float, default 0
        Work of a planned replacement beyond the service visit itself [CNY].
    tolerance : float, default 0.05
        Share of extra cost rate still called "about right" [-].

    Returns
    -------
    DataFrame
        One row per reviewed (model, part): ``model``, ``component``, ``part_no``, ``service`` (the shortest
        service holding the part), ``interval_hours`` [h], ``shape``, ``scale`` [h], ``optimal_age`` [h] (inf:
        never replace on a plan), ``cost_preventive`` and ``cost_failure`` [CNY], ``cost_rate_plan`` and
        ``cost_rate_optimal`` [CNY/h], ``excess_per_100_machines_season`` [CNY per 100 machines per season],
        ``verdict`` (偏短/合适/偏长) and ``verdict_en``. ``attrs["not_reviewed"]``: the kit lines left out, with
        the reason (no component of the model uses the part, no fitted life, no unit cost).

    Examples
    --------
    >>> fits = fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry")  # doctest: +SKIP
    >>> review_maintenance_intervals(store.read("maintenance_plans"), store.read("component_parts"), fits,
    ...                              store.read("parts"), failure_extra_cost=800.0,
    ...                              hours_per_season=300.0)  # doctest: +SKIP
    """
    require_columns(maintenance_plans, "maintenance_plans", ["model", "service", "interval_hours", "part_no",
                                                              "quantity"])
    require_columns(component_parts, "component_parts", ["model", "component", "part_no"])
    require_columns(parts, "parts", ["part_no", "unit_cost"])
    for name, col in (("shape", "shape"), ("scale", "scale")):
        if col not in fits.columns:
            raise ZkValueError(f"fits needs a '{name}' column (fit_groups output indexed by model, component).")
    if not (isinstance(failure_extra_cost, float | int) and failure_extra_cost > 0):
        raise ZkValueError(f"failure_extra_cost must be > 0 [CNY per failure]; got {failure_extra_cost!r}.")
    if not (isinstance(preventive_extra_cost, float | int) and preventive_extra_cost >= 0):
        raise ZkValueError(f"preventive_extra_cost must be >= 0 [CNY]; got {preventive_extra_cost!r}.")
    if not (isinstance(tolerance, float | int) and 0 <= tolerance < 1):
        raise ZkValueError(f"tolerance must be in [0, 1) [-]; got {tolerance!r}.")

    cost = parts.drop_duplicates("part_no").set_index("part_no")["unit_cost"].astype(float)
    bom = component_parts.copy()
    bom["qty_per_replacement"] = (bom["qty_per_replacement"] if "qty_per_replacement" in bom.columns else 1)
    bom["line_cost"] = bom["part_no"].map(cost) * bom["qty_per_replacement"].astype(float)
    comp_cost = bom.groupby(["model", "component"])["line_cost"].sum(min_count=1)

    plans = maintenance_plans.dropna(subset=["interval_hours"]).copy()
    plans["interval_hours"] = plans["interval_hours"].astype(float)
    first = plans.sort_values(["model", "part_no", "interval_hours", "service"], kind="stable")
    first = first.drop_duplicates(["model", "part_no"], keep="first")
    merged = first.merge(bom[["model", "component", "part_no"]], on=["model", "part_no"], how="left")

    skipped = []
    rows = []
    for r in merged.itertuples(index=False):
        base = {"model": r.model, "service": r.service, "part_no": r.part_no}
        if pd.isna(r.component):
            skipped.append({**base, "reason": "no component of the model uses this part (no life data)"})
            continue
        key = (r.model, r.component)
        if key not in fits.index or not np.isfinite(fits.loc[key, "shape"]) or \
                not np.isfinite(fits.loc[key, "scale"]):
            skipped.append({**base, "reason": f"no fitted life for {r.model} × {r.component}"})
            continue
        unit = cost.get(r.part_no, np.nan)
        cf_parts = comp_cost.get(key, np.nan)
        if not (np.isfinite(unit) and np.isfinite(cf_parts)):
            skipped.append({**base, "reason": "unit_cost missing in parts"})
            continue
        rows.append({**base, "component": r.component, "interval_hours": float(r.interval_hours),
                     "shape": float(fits.loc[key, "shape"]), "scale": float(fits.loc[key, "scale"]),
                     "cost_preventive": float(unit) * float(r.quantity) + float(preventive_extra_cost),
                     "cost_failure": float(cf_parts) + float(failure_extra_cost)})
    columns = ["model", "component", "part_no", "service", "interval_hours", "shape", "scale", "optimal_age",
               "cost_preventive", "cost_failure", "cost_rate_plan", "cost_rate_optimal",
               "excess_per_100_machines_season", "verdict", "verdict_en"]
    if not rows:
        out = pd.DataFrame(columns=columns)
        out.attrs["not_reviewed"] = pd.DataFrame(skipped, columns=["model", "service", "part_no", "reason"])
        return out
    tab = pd.DataFrame(rows)
    # a planned part at least as dear as its failure: replacing it on plan never pays
    tab["cost_failure"] = np.maximum(tab["cost_failure"], tab["cost_preventive"] * (1 + 1e-9))
    age, rate_opt, _ = weibull_age_replacement(tab["shape"], tab["scale"], tab["cost_preventive"],
                                               tab["cost_failure"])
    rate_plan = age_replacement_cost_rate(tab["interval_hours"], tab["shape"], tab["scale"],
                                          tab["cost_preventive"], tab["cost_failure"])
    if isinstance(hours_per_season, Mapping):
        missing = sorted(set(tab["model"]) - set(hours_per_season))
        if missing:
            raise ZkValueError(f"hours_per_season has no value for model {missing[0]!r} ({len(missing)} models); "
                               "give every reviewed model its hours per season [h].")
        hours = tab["model"].map(hours_per_season).astype(float).to_numpy()
    else:
        hours = np.full(len(tab), float(hours_per_season))
    if np.any(~np.isfinite(hours)) or np.any(hours <= 0):
        raise ZkValueError("hours_per_season must be > 0 [h per machine per season].")
    tab["optimal_age"] = age
    tab["cost_rate_plan"] = rate_plan
    tab["cost_rate_optimal"] = rate_opt
    tab["excess_per_100_machines_season"] = (rate_plan - rate_opt) * hours * 100.0
    right = rate_plan <= rate_opt * (1.0 + tolerance)
    verdict_key = np.where(right, "right", np.where(tab["interval_hours"].to_numpy() < age, "short", "long"))
    tab["verdict"] = [VERDICTS[k][0] for k in verdict_key]
    tab["verdict_en"] = [VERDICTS[k][1] for k in verdict_key]
    out = tab[columns].sort_values(["model", "component", "part_no"], kind="stable").reset_index(drop=True)
    out.attrs["not_reviewed"] = pd.DataFrame(skipped, columns=["model", "service", "part_no", "reason"])
    out.attrs["failure_extra_cost"] = float(failure_extra_cost)
    out.attrs["tolerance"] = float(tolerance)
    return out
