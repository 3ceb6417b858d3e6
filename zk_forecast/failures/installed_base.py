"""Expected failures and parts demand from the installed base: each machine's age, its life model, renewals.

For every machine x component in service, the component's current life has age ``a`` [h] (hours since it was last
replaced, or since new) at the knowledge date ``as_of``; the machine will work ``u_j`` more hours [h] by the end of
forecast period ``j`` (its usage factor times its type's seasonal profile, :mod:`zk_forecast.failures.lives`).
With the component's Weibull life (shape ``k``, scale ``eta`` [h]) the expected number of replacements in
``(0, u]`` is the renewal function of a *delayed* renewal process (the first life is the residual of the current
one, later lives are new parts):

``E(u) = F_a(u) + int_0^u M(u - s) dF_a(s)``, with ``F_a(s) = 1 - R(a + s) / R(a)`` and ``M`` the ordinary renewal
function ``M(t) = F(t) + int_0^t M(t - s) dF(s)``.

Kernels (vectorised across machines x components x parameter draws; the renewal loop compiled with numba):

* :func:`weibull_renewal_table` solves the renewal equation for the standard Weibull (scale 1) on a grid of shapes
  and ages by the Riemann-Stieltjes scheme of Xie (1989), "On the solution of renewal-type integral equations",
  Commun. Statist. B 18(1), 281-293: ``M(t_n) = F(t_n) + sum_i M(t_n - t_{i-1/2}) (F(t_i) - F(t_{i-1}))`` with
  ``M`` at mid-points the mean of its neighbours. ``M(t; k, eta) = M(t / eta; k, 1)``; other shapes are
  interpolated linearly in ``ln k``.
* :func:`expected_renewals` discretises ``E`` on the period ends: the first failure falls in window ``i`` with
  probability ``p_i = (R(a + u_{i-1}) - R(a + u_i)) / R(a)`` (exact), and is followed by ``M(u_j - ubar_i)`` more
  renewals by ``u_j`` (``ubar_i`` the window's mid-point).

Prediction intervals (:class:`InstalledBaseForecaster`): ``n_draws`` parameter sets per model x component are
drawn (seeded) from the asymptotic normal distribution of the maximum-likelihood ``(ln shape, ln scale)`` with the
Wald covariance (inverse observed information, computed from the life table). Groups without a usable MLE (no
failure, one failure, or a degenerate fit) keep the shape ``weibayes_shape`` and draw ``eta ** -k`` from its
Jeffreys posterior ``Gamma(r + 1/2, rate = sum (t**k - entry**k))`` (``r`` = 0 or 1 failures); the point value is
that posterior's mean. Each draw gives expected renewals per machine; parts demand given a draw is compound
Poisson (``qty_per_replacement`` units per replacement, Poisson counts), so the predictive distribution is a
Poisson mixture over the draws (negative-binomial-like: its variance is the Poisson variance plus the spread of
the expected values). Quantiles come from ``n_draws x n_rep`` seeded samples.

Point forecast: the expected units at the maximum-likelihood parameters (the plug-in estimate) are biased upward,
because expected failures are convex in the parameters (roughly ``scale ** -shape``): ``E[g(theta_hat)] > g(theta)``.
With ``bias_correction`` (the default) the point is the plug-in times ``plug-in / mean over the parameter draws``
per part x depot (the parametric-bootstrap bias correction, Efron & Tibshirani 1993, *An Introduction to the
Bootstrap* §10.6, in its multiplicative form), and the draws are scaled to keep that mean, so the intervals stay
around the point. On the demo (small, seed 7), 26-week forecasts from May 2023, 2024, 2025 and 2026 differ from
the expected units of the simulated process itself (its true parameters, ages and hours: 633, 894, 1213, 1379) by
+14, +12, -4 and +4 % with the plug-in point and by +10, +8, -6 and +2 % with the correction (100 draws); the
realised units scatter around those expectations by -16 to +10 % (``benchmarks/bench_failures.py --what
installed_base`` prints the backtests per depot and part class).

Assumptions: a replacement renews the component (as-good-as-new) and is done at once; usage continues on the
type's profile scaled by the machine's factor; machines retired before ``as_of`` are out; future sales (optional)
start working at the start of their sale period with usage factor 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numba
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from sklearn.base import BaseEstimator

from zk_forecast.calendar import normalize_freq, period_range
from zk_forecast.errors import NotFittedError, ZkTypeError, ZkValueError
from zk_forecast.failures.groups import fit_groups
from zk_forecast.failures.lives import _check_profile, _days, _timestamp, profile_hours
from zk_forecast.levels import check_levels, level_label, level_quantiles
from zk_forecast.schema import require_columns, series_id

__all__ = ["InstalledBaseForecaster", "expected_renewals", "weibull_renewal_table"]

FloatArray = NDArray[np.float64]
_SHAPE_MIN, _SHAPE_MAX = 0.2, 20.0


# ------------------------------------------------------------------------------------------------- kernels
def weibull_renewal_table(shapes: Any, x_max: float, n_grid: int = 1024) -> tuple[FloatArray, FloatArray]:
    """Renewal function of the standard Weibull (scale 1) for several shapes, on an even grid of ages.

    Parameters
    ----------
    shapes : array (S,) [-]
        Weibull shapes, > 0.
    x_max : float [scale units]
        Largest age (t / scale), > 0.
    n_grid : int
        Grid steps.

    Returns
    -------
    x : array (n_grid + 1,) [scale units]
    M : array (S, n_grid + 1) [renewals]
        Expected renewals in (0, x] for a new part (Xie's Riemann-Stieltjes scheme; exact ``x`` for shape 1 up to
        rounding).
    """
    k = np.asarray(shapes, dtype=np.float64).reshape(-1, 1)
    x = np.linspace(0.0, float(x_max), int(n_grid) + 1)
    f = -np.expm1(-(x[None, :] ** k))
    df = np.diff(f, axis=1, prepend=0.0)  # df[:, i] = F_i - F_{i-1}
    m = np.zeros_like(f)
    mavg = np.zeros_like(f)  # mavg[:, j] = (M_j + M_{j+1}) / 2
    d1 = df[:, 1] if f.shape[1] > 1 else np.zeros(k.shape[0])
    for n in range(1, f.shape[1]):  # the recursion runs along the grid, vectorised over shapes
        s = np.einsum("sj,sj->s", mavg[:, : n - 1], df[:, n:1:-1]) if n > 1 else 0.0
        m[:, n] = (f[:, n] + s + 0.5 * m[:, n - 1] * d1) / (1.0 - 0.5 * d1)
        mavg[:, n - 1] = 0.5 * (m[:, n - 1] + m[:, n])
    return x, m


class _Table:
    """M(x; k) of the standard Weibull on a grid of shapes (log-spaced) and ages, with bilinear look-up."""

    def __init__(self, x_max: float, n_shapes: int = 48, n_grid: int = 1024) -> None:
        self.log_k = np.linspace(math.log(_SHAPE_MIN), math.log(_SHAPE_MAX), n_shapes)
        self.x, self.m = weibull_renewal_table(np.exp(self.log_k), x_max, n_grid)

    def curves(self, shape: FloatArray, x_max: FloatArray, n_grid: int) -> FloatArray:
        """M on ``linspace(0, x_max[c], n_grid + 1)`` for each curve c (shape[c]), shape (C, n_grid + 1)."""
        nk, nx = self.log_k.size, self.x.size
        s = np.clip((np.log(shape) - self.log_k[0]) / (self.log_k[1] - self.log_k[0]), 0.0, nk - 1 - 1e-9)
        s0 = np.floor(s).astype(np.intp)[:, None]
        ws = (s - s0[:, 0])[:, None]
        p = np.clip(np.linspace(0.0, 1.0, n_grid + 1)[None, :] * (x_max[:, None] / self.x[1]), 0.0, nx - 1 - 1e-9)
        i0 = np.floor(p).astype(np.intp)
        wx = p - i0
        flat = self.m.ravel()
        base = s0 * nx + i0
        lo = flat[base] * (1 - wx) + flat[base + 1] * wx
        hi = flat[base + nx] * (1 - wx) + flat[base + nx + 1] * wx
        out: FloatArray = lo * (1 - ws) + hi * ws
        return out


@numba.njit(cache=True, parallel=True)
def _renewal_rows(age, hours, group, shape, scale, curve, d0, flat, g, step, tol, out):  # pragma: no cover
    """Compiled kernel of :func:`_renewal_kernel`: ``out[r, d, :]`` for row ``r`` and draw ``d0 + d``.

    Repeats the numpy arithmetic of the former array version operation for operation (no fast-math, no
    reassociation, no fused multiply-add), so the results agree bit for bit; rows run in parallel, each row's
    draws and windows in order. Windows without work (equal hours at both ends, about half of them in winter)
    reuse the survival value, add no zero-probability terms and repeat the later-renewal sum of the window
    before (the same terms in the same order), which changes no bit.
    """
    n, nb = hours.shape
    nd = out.shape[1]
    w = nb - 1
    top = g - 1e-9
    for r in numba.prange(n):
        surv = np.empty(nb)
        pw = np.empty(w)
        cum = np.empty(w)
        mid = np.empty(w)
        a = age[r]
        gr = group[r]
        for i in range(w):
            mid[i] = 0.5 * (hours[r, i] + hours[r, i + 1])
        for d in range(nd):
            k = shape[gr, d0 + d]
            eta = scale[gr, d0 + d]
            c = curve[gr, d0 + d]
            z0 = (a / eta) ** k
            for j in range(nb):
                if j > 0 and hours[r, j] == hours[r, j - 1]:  # an idle window: the same value again
                    surv[j] = surv[j - 1]
                else:  # ((a + 0) / eta) ** k is z0 itself
                    zj = z0 if j == 0 and hours[r, 0] == 0.0 else ((a + hours[r, j]) / eta) ** k
                    surv[j] = np.exp(z0 - zj)  # R(a + u) / R(a)
            acc = 0.0
            for i in range(w):
                pw[i] = surv[i] - surv[i + 1]  # the current life ends in window i
                acc += pw[i]
                cum[i] = acc
            base = c * (g + 1)
            if (1.0 - surv[w]) * flat[base + g] > tol:  # later renewals above the skip bound
                inv = 1.0 / step[c]
                add = 0.0
                for j in range(w):
                    hj = hours[r, j + 1]
                    if j == 0 or hj != hours[r, j]:  # an idle window j repeats the sum of window j - 1
                        add = 0.0
                        for i in range(j + 1):  # windows of the first failure, in the former order
                            if pw[i] == 0.0:  # no failure in an idle window: the term is +0
                                continue
                            pos = min((hj - mid[i]) * inv, top)
                            i0 = int(pos)
                            wx = pos - i0
                            lo = flat[base + i0]
                            add += pw[i] * (lo + (flat[base + i0 + 1] - lo) * wx)
                    cum[j] += add
            prev = 0.0
            for j in range(w):
                out[r, d, j] = cum[j] - prev
                prev = cum[j]


def _renewal_kernel(age: FloatArray, hours: FloatArray, group: NDArray[np.intp], shape: FloatArray,
                    scale: FloatArray, curve: NDArray[np.intp], curves: FloatArray, step: FloatArray,
                    draws: range | None = None, tol: float = 1e-7) -> FloatArray:
    """Expected replacements per window for each row and parameter draw, shape (n, D, W).

    Parameters
    ----------
    age : array (n,) [h]
        Age of each row's current life.
    hours : array (n, W + 1) [h]
        Cumulative hours at the window boundaries, first column 0.
    group : int array (n,)
        Row of ``shape``, ``scale`` and ``curve`` that each row uses.
    shape, scale : array (G, D_all) [-], [h]
        Weibull shapes (clipped) and scales per group and draw.
    curve : int array (G, D_all)
        Row of ``curves`` (renewal function M on a grid of ``step[curve]`` [h]) per group and draw.
    curves : array (C, g + 1) [renewals]
    step : array (C,) [h]
    draws : range, optional
        Draw columns computed (a contiguous, increasing range; default all): ``D = len(draws)``.
    tol : float [replacements]
        Later renewals of a row and draw are skipped when their upper bound ``P(current life ends) *
        M(largest age)`` is below ``tol`` (an error of at most ``tol``).

    Returns
    -------
    array (n, D, W) [replacements]
    """
    hours = np.ascontiguousarray(hours, dtype=np.float64)
    n, nb = hours.shape
    dr = range(shape.shape[1]) if draws is None else draws
    out = np.zeros((n, len(dr), nb - 1))
    if n and len(dr):
        _renewal_rows(np.ascontiguousarray(age, dtype=np.float64), hours,
                      np.ascontiguousarray(group, dtype=np.int64), np.ascontiguousarray(shape, dtype=np.float64),
                      np.ascontiguousarray(scale, dtype=np.float64), np.ascontiguousarray(curve, dtype=np.int64),
                      dr.start, np.ascontiguousarray(curves, dtype=np.float64).ravel(), curves.shape[1] - 1,
                      np.ascontiguousarray(step, dtype=np.float64), float(tol), out)
    return out


def expected_renewals(age: Any, hours: Any, shape: Any, scale: Any, n_grid: int = 512) -> FloatArray:
    """Expected replacements per window for parts of current age ``age`` (delayed renewal process).

    Parameters
    ----------
    age : array (n,) [h]
        Age of the current life at the start, >= 0.
    hours : array (n, W + 1) [h]
        Cumulative hours worked from the start to each window boundary, ``hours[:, 0] = 0``, non-decreasing.
    shape : array (n,) [-]
        Weibull shapes (clipped to [0.2, 20]).
    scale : array (n,) [h]
        Weibull scales.
    n_grid : int
        Grid steps of each renewal function.

    Returns
    -------
    array (n, W) [replacements]
        Expected replacements in each window: ``p_i`` of the current life ending in window ``i`` (exact), plus
        ``p_i * M(u_j - ubar_i)`` later renewals (see the module docstring).
    """
    a = np.asarray(age, dtype=np.float64)
    u = np.asarray(hours, dtype=np.float64)
    k = np.clip(np.asarray(shape, dtype=np.float64), _SHAPE_MIN, _SHAPE_MAX)
    eta = np.asarray(scale, dtype=np.float64)
    if u.ndim != 2 or u.shape[0] != a.size or (u[:, 0] != 0).any() or (np.diff(u, axis=1) < 0).any() or (a < 0).any():
        raise ZkValueError("`hours` must be (n, W + 1), start at 0 and not decrease; `age` must be >= 0 [h].")
    pairs, curve = np.unique(np.c_[k, eta], axis=0, return_inverse=True)
    curve = curve.ravel()
    span = np.zeros(len(pairs))
    np.maximum.at(span, curve, u[:, -1])
    span = np.maximum(span, 1e-9)  # largest hours per (shape, scale) [h]
    x_max = span / pairs[:, 1]
    table = _Table(float(x_max.max()) * 1.001)
    curves = table.curves(pairs[:, 0], x_max, n_grid)
    rows = np.arange(a.size)
    return _renewal_kernel(a, u, rows, k[:, None], eta[:, None], curve[:, None], curves, span / n_grid)[:, 0, :]


def _weibull_log_cov(t: FloatArray, c: FloatArray, e: FloatArray, grp: NDArray[np.intp], n_groups: int,
                     shape: FloatArray, scale: FloatArray) -> FloatArray:
    """Wald covariance of (ln shape, ln scale) per group: inverse observed information at (shape, scale)."""
    k, v = shape[grp], np.log(scale[grp])
    fail = c == 0
    z = k * (np.log(t) - v)
    trunc = e > 0
    ze = np.where(trunc, k * (np.log(np.where(trunc, e, 1.0)) - v), 0.0)
    x, xe = np.exp(z), np.where(trunc, np.exp(ze), 0.0)

    def total(vals: FloatArray) -> FloatArray:
        out: FloatArray = np.bincount(grp, weights=vals, minlength=n_groups).astype(np.float64)
        return out

    r = total(fail.astype(float))
    h_uu = total(np.where(fail, z, 0.0) - (x * z * (z + 1) - xe * ze * (ze + 1)))
    h_uv = -shape * r + shape * total(x * (z + 1) - xe * (ze + 1))
    h_vv = -(shape**2) * total(x - xe)
    det = h_uu * h_vv - h_uv**2
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.stack([np.stack([-h_vv / det, h_uv / det], -1), np.stack([h_uv / det, -h_uu / det], -1)], -2)
    bad = ~np.isfinite(cov).all(axis=(1, 2)) | (det <= 0) | (h_vv >= 0)
    cov[bad] = 0.0
    return cov


# ------------------------------------------------------------------------------------------------- estimator
class InstalledBaseForecaster(BaseEstimator):  # type: ignore[misc]
    """Parts demand per depot and period from the installed base's ages, life models and renewals.

    Parameters
    ----------
    level : sequence of float [probability]
        Prediction-interval levels, each a fraction in (0, 1) (:mod:`zk_forecast.levels`). Default (0.8, 0.95).
    n_draws : int
        Parameter draws for the intervals (>= 10). Default 200.
    random_state : int
        Seed of the parameter draws and the Poisson samples. Default 0.
    freq : {"W-MON", "MS"}
        Periods: weeks from Monday or calendar months (:func:`zk_forecast.calendar.normalize_freq`).
    weibayes_shape : float [-]
        Shape assumed for groups with fewer than two failures. Default 2.0.
    n_rep : int
        Poisson samples per parameter draw for the quantiles. Default 10.
    bias_correction : bool
        Remove the plug-in bias of the point forecast (module notes, "Point forecast"). Default True.

    Attributes
    ----------
    params_ : DataFrame
        Per model x component: ``shape`` [-], ``scale`` [h], ``status``, ``n_failures``, ``var_log_shape``,
        ``var_log_scale``, ``cov_log`` (Wald, on the log scale).
    state_ : DataFrame
        Per machine x component in service at ``as_of_``: ``serial_no``, ``model``, ``component``, ``depot_id``,
        ``machine_type``, ``usage_factor`` [-], ``age`` [h].
    as_of_ : pandas.Timestamp
        Knowledge date of the life table.
    unmapped_models_ : list of str
        Models in service without a row in ``component_parts`` (no parts demand for them).

    Examples
    --------
    >>> fc = InstalledBaseForecaster(level=(0.9,)).fit(lives, machines, component_parts)  # doctest: +SKIP
    >>> fc.predict(13)  # doctest: +SKIP
    """

    alias = "installed_base"

    def __init__(self, *, level: Sequence[float] = (0.8, 0.95), n_draws: int = 200, random_state: int = 0,
                 freq: str = "W-MON", weibayes_shape: float = 2.0, n_rep: int = 10,
                 bias_correction: bool = True) -> None:
        self.level = level
        self.n_draws = n_draws
        self.random_state = random_state
        self.freq = freq
        self.weibayes_shape = weibayes_shape
        self.n_rep = n_rep
        self.bias_correction = bias_correction

    # ---- settings -------------------------------------------------------------------------------------------
    def _check_settings(self) -> tuple[list[float], str]:
        name = type(self).__name__
        raw = list(check_levels(self.level, owner=name))
        if not raw:
            raise ZkValueError(f"The 'level' parameter of {name} needs at least one level, e.g. (0.8, 0.95).")
        for attr, low in (("n_draws", 10), ("n_rep", 1)):
            val = getattr(self, attr)
            if not (isinstance(val, int | np.integer) and not isinstance(val, bool) and val >= low):
                raise ZkValueError(f"The '{attr}' parameter of {name} must be an int >= {low}. Got {val!r} instead.")
        if not (isinstance(self.weibayes_shape, int | float) and self.weibayes_shape > 0):
            raise ZkValueError(f"The 'weibayes_shape' parameter of {name} must be > 0. "
                               f"Got {self.weibayes_shape!r} instead.")
        if not isinstance(self.bias_correction, bool | np.bool_):
            raise ZkValueError(f"The 'bias_correction' parameter of {name} must be True or False. "
                               f"Got {self.bias_correction!r} instead.")
        return [float(v) for v in raw], normalize_freq(self.freq)

    # ---- fit ------------------------------------------------------------------------------------------------
    def fit(self, lives: pd.DataFrame, machines: pd.DataFrame, component_parts: pd.DataFrame,
            usage: pd.DataFrame | None = None, *, models: pd.DataFrame | Mapping[Any, Any] | None = None
            ) -> InstalledBaseForecaster:
        """Learn the life models, their uncertainty and every machine's current state.

        Parameters
        ----------
        lives : DataFrame
            Life table from :func:`zk_forecast.failures.lives.build_lives` (its ``attrs["as_of"]`` and
            ``attrs["usage"]`` are used).
        machines : DataFrame
            Canonical machines (``serial_no``, ``model``, ``depot_id``, ``sale_date``; ``machine_type``,
            ``retired_date`` if present). Machines sold before ``as_of`` without lives (0 h) get age 0.
        component_parts : DataFrame
            Canonical ``model``, ``component``, ``part_no``, ``qty_per_replacement`` [units] (missing = 1).
        usage : DataFrame, optional
            Usage profile [h/month] (:func:`zk_forecast.failures.lives.usage_profile`). Default: the life table's.
        models : DataFrame or mapping, optional
            Life models to use instead of fitting: a :func:`fit_groups` result indexed by (model, component), or a
            mapping ``(model, component) -> fitted Weibull``. Covariances are computed from ``lives`` at these
            parameters.

        Returns
        -------
        self
        """
        levels, _ = self._check_settings()
        require_columns(lives, "lives", ["serial_no", "model", "component", "time", "censored", "entry", "end_hours",
                                  "usage_factor"])
        require_columns(machines, "machines", ["serial_no", "model", "depot_id", "sale_date"])
        require_columns(component_parts, "component_parts", ["model", "component", "part_no"])
        if "as_of" not in lives.attrs:
            raise ZkValueError("`lives` carries no attrs['as_of']; build it with build_lives(...).")
        self.as_of_ = pd.Timestamp(lives.attrs["as_of"])
        if usage is None:
            if "usage" not in lives.attrs:
                raise ZkValueError("No usage profile: pass usage=usage_profile(tickets, machines).")
            usage = pd.DataFrame.from_dict(lives.attrs["usage"], orient="index", columns=list(range(1, 13)))
        self.usage_ = _check_profile(usage)
        bom = component_parts[["model", "component", "part_no"]].astype(str).copy()
        qty = component_parts["qty_per_replacement"] if "qty_per_replacement" in component_parts else 1
        bom["qty"] = pd.to_numeric(pd.Series(qty, index=component_parts.index), errors="coerce").fillna(1).to_numpy()
        if (bom["qty"] <= 0).any():
            raise ZkValueError("component_parts.qty_per_replacement must be > 0 [units].")
        self.bom_ = bom.groupby(["model", "component", "part_no"], as_index=False)["qty"].sum()
        self.params_ = self._params(lives, models)
        self.draws_ = self._draw()
        self.state_ = self._state(lives, machines)
        mt = machines.assign(model=machines["model"].astype(str))
        mt["machine_type"] = (mt["machine_type"].astype(object).fillna("(unknown)").astype(str)
                              if "machine_type" in mt else "(unknown)")
        self.model_type_ = mt.drop_duplicates("model").set_index("model")["machine_type"]
        self.levels_ = levels
        return self

    def _params(self, lives: pd.DataFrame, models: Any) -> pd.DataFrame:
        if models is None:
            fitted = fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry",
                                weibayes_shape=self.weibayes_shape)
            par = fitted[["shape", "scale", "status", "n_failures"]].copy()
        elif isinstance(models, pd.DataFrame):
            require_columns(models, "models", ["shape", "scale"])
            par = models[["shape", "scale"]].copy()
            par["status"] = models["status"] if "status" in models else "ok"
        elif isinstance(models, Mapping):
            rows = {tuple(map(str, key)): (float(w.shape_), float(w.scale_), "ok") for key, w in models.items()}
            par = pd.DataFrame.from_dict(rows, orient="index", columns=["shape", "scale", "status"])
            par.index = pd.MultiIndex.from_tuples(list(rows), names=["model", "component"])
        else:
            raise ZkTypeError(f"`models` must be a fit_groups DataFrame or a dict of Weibulls; got {type(models)}.")
        par.index = pd.MultiIndex.from_arrays([par.index.get_level_values(0).astype(str),
                                               par.index.get_level_values(1).astype(str)],
                                              names=["model", "component"])
        keys = pd.MultiIndex.from_frame(lives[["model", "component"]].astype(str))
        grp = par.index.get_indexer(keys)
        use = grp >= 0
        t = lives["time"].to_numpy(dtype=np.float64)[use]
        c = lives["censored"].to_numpy(dtype=np.float64)[use]
        e = lives["entry"].to_numpy(dtype=np.float64)[use]
        g = grp[use]
        n = len(par)
        r = np.bincount(g, weights=(c == 0).astype(float), minlength=n)
        k_all = np.where(np.isfinite(par["shape"]) & (par["shape"] > 0), par["shape"], 1.0).astype(float)
        s_all = np.where(np.isfinite(par["scale"]) & (par["scale"] > 0), par["scale"], 1.0).astype(float)
        ok = ((par["status"] == "ok") & np.isfinite(par["shape"]) & (r >= 2)).to_numpy()
        cov = _weibull_log_cov(t, c, e, g, n, k_all, s_all)
        kb = float(self.weibayes_shape)
        expo = np.bincount(g, weights=t**kb - e**kb, minlength=n)
        par["n_failures"] = r
        par["exposure_k"] = expo  # [h ** weibayes_shape]
        wb = ~ok
        par["shape"] = np.where(wb, kb, k_all)
        with np.errstate(divide="ignore"):
            par["scale"] = np.where(wb, np.where(expo > 0, (expo / (r + 0.5)) ** (1 / kb), np.inf), s_all)
        par["status"] = np.where(wb, np.where(expo > 0, "weibayes", "no_data"), "ok")
        par["var_log_shape"] = np.where(ok, cov[:, 0, 0], 0.0)
        par["var_log_scale"] = np.where(ok, cov[:, 1, 1], 0.0)
        par["cov_log"] = np.where(ok, cov[:, 0, 1], 0.0)
        return par

    def _draw(self) -> tuple[FloatArray, FloatArray]:
        """Shapes and scales (G, n_draws + 1); column 0 is the point estimate."""
        rng = np.random.default_rng(self.random_state)
        p = self.params_
        g, d = len(p), int(self.n_draws)
        mean = np.log(np.c_[p["shape"].to_numpy(float), p["scale"].to_numpy(float)])
        cov = np.empty((g, 2, 2))
        cov[:, 0, 0], cov[:, 1, 1] = p["var_log_shape"], p["var_log_scale"]
        cov[:, 0, 1] = cov[:, 1, 0] = p["cov_log"]
        # Cholesky by hand (2 x 2), safe for zero variances
        l11 = np.sqrt(np.maximum(cov[:, 0, 0], 0.0))
        l21 = np.where(l11 > 0, cov[:, 0, 1] / np.where(l11 > 0, l11, 1.0), 0.0)
        l22 = np.sqrt(np.maximum(cov[:, 1, 1] - l21**2, 0.0))
        z = rng.standard_normal((2, g, d))
        log_k = mean[:, :1] + l11[:, None] * z[0]
        log_s = mean[:, 1:] + l21[:, None] * z[0] + l22[:, None] * z[1]
        wb = (p["status"] == "weibayes").to_numpy()
        kb = float(self.weibayes_shape)
        theta = rng.gamma(p["n_failures"].to_numpy(float)[:, None] + 0.5, 1.0, (g, d)) / np.where(
            p["exposure_k"].to_numpy(float) > 0, p["exposure_k"].to_numpy(float), 1.0)[:, None]
        log_s = np.where(wb[:, None], -np.log(theta) / kb, log_s)
        shape = np.c_[mean[:, 0], log_k]
        scale = np.c_[mean[:, 1], log_s]
        return np.exp(shape), np.exp(scale)

    def _state(self, lives: pd.DataFrame, machines: pd.DataFrame) -> pd.DataFrame:
        as_of = self.as_of_
        mach = machines[pd.to_datetime(machines["sale_date"]) < as_of].copy()
        if "retired_date" in mach.columns:
            mach = mach[~(pd.to_datetime(mach["retired_date"]) < as_of)]
        mach["serial_no"] = mach["serial_no"].astype(str)
        mach["model"] = mach["model"].astype(str)
        mach["machine_type"] = (mach["machine_type"].astype(object).fillna("(unknown)").astype(str)
                                if "machine_type" in mach else "(unknown)")
        pairs = self.bom_[["model", "component"]].drop_duplicates()
        models = set(pairs["model"])
        self.unmapped_models_ = sorted(set(mach["model"]) - models)
        if self.unmapped_models_:
            warnings.warn(
                f"{len(self.unmapped_models_)} model(s) in service have no rows in component_parts "
                f"({self.unmapped_models_[:5]}); their failures cannot be turned into parts demand and are left out. "
                "Fix: add their component → part lines to component_parts.", UserWarning, stacklevel=3)
        st = mach[["serial_no", "model", "depot_id", "machine_type"]].merge(pairs, on="model")
        last = lives.assign(serial_no=lives["serial_no"].astype(str), component=lives["component"].astype(str))
        last = last.sort_values("end_hours", kind="stable").groupby(["serial_no", "component"]).tail(1)
        last = last.assign(age=np.where(last["censored"] == 1, last["time"], 0.0))
        st = st.merge(last[["serial_no", "component", "age", "usage_factor"]], on=["serial_no", "component"],
                      how="left")
        factor = lives.assign(serial_no=lives["serial_no"].astype(str)).groupby("serial_no")["usage_factor"].first()
        st["usage_factor"] = st["serial_no"].map(factor).fillna(1.0).to_numpy()
        st["age"] = st["age"].fillna(0.0)
        return st.reset_index(drop=True)

    # ---- predict --------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "draws_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(lives, machines, "
                                 "component_parts) first.")

    def _periods(self, h: Any, as_of: Any, freq: str) -> tuple[pd.DatetimeIndex, pd.Timestamp]:
        """The ``h`` period starts on or after ``as_of`` and the end of the last period."""
        if not (isinstance(h, int | np.integer) and not isinstance(h, bool) and h >= 1):
            raise ZkValueError(f"`h` must be an int >= 1 [periods]; got {h!r}. Fix: e.g. h=13.")
        start = self.as_of_ if as_of is None else _timestamp(as_of, "as_of").normalize()
        if start < self.as_of_:
            raise ZkValueError(
                f"`as_of` {start.date()} is before the knowledge date of the life table ({self.as_of_.date()}); "
                "a forecast cannot start before the data it was fitted on. Fix: rebuild the lives with "
                f"build_lives(..., as_of='{start.date()}') or pass as_of >= {self.as_of_.date()}."
            )
        step = 7 if freq == "W-MON" else 31
        starts = period_range(start, start + pd.Timedelta(days=step * (int(h) + 2)), freq)
        starts = starts[starts >= start][: int(h) + 1]
        return starts[:-1], starts[-1]

    def _rows(self, ds: pd.DatetimeIndex, end: pd.Timestamp, future_sales: pd.DataFrame | None
              ) -> tuple[pd.DataFrame, FloatArray]:
        """Rows (machine x component, or sale x component) and their cumulative hours [h] at the boundaries
        ``as_of_, ds[0], ..., ds[-1], end`` (first column 0)."""
        day0 = int(_days([self.as_of_])[0])
        bounds = np.r_[day0, _days(ds), _days([end])] - day0
        prof = self.usage_
        cum = profile_hours(prof, day0, int(bounds[-1]))[:, bounds]  # (types, h + 2), cum[:, 0] = 0
        type_row = pd.Series(np.arange(len(prof)), index=prof.index)
        st = self.state_
        tr = type_row.reindex(st["machine_type"]).to_numpy(dtype=float)
        if np.isnan(tr).any():
            raise ZkValueError(f"The usage profile has no row for machine type(s) "
                               f"{sorted(set(st['machine_type'][np.isnan(tr)]))}. Fix: pass a complete usage.")
        hours = st["usage_factor"].to_numpy()[:, None] * cum[tr.astype(np.intp)]
        rows = st[["model", "component", "depot_id"]].assign(age=st["age"].to_numpy(), weight=1.0)
        if future_sales is not None:
            fs = self._check_sales(future_sales, ds)
            fs = fs.merge(self.bom_[["model", "component"]].drop_duplicates(), on="model")
            j = ds.get_indexer(fs["ds"]) + 1  # a sale at the start of period j: boundary j + 1
            trs = type_row.reindex(self.model_type_.reindex(fs["model"]).to_numpy()).to_numpy(dtype=float)
            if np.isnan(trs).any():
                raise ZkValueError("The usage profile has no row for the machine type of a model in future_sales.")
            ch = cum[trs.astype(np.intp)]
            base = np.take_along_axis(ch, j[:, None], axis=1)
            rows = pd.concat([rows, fs[["model", "component", "depot_id"]].assign(
                age=0.0, weight=fs["quantity"].to_numpy(float))], ignore_index=True)
            hours = np.r_[hours, np.maximum(ch - base, 0.0)]
        return rows.reset_index(drop=True), hours

    def _check_sales(self, fs: Any, ds: pd.DatetimeIndex) -> pd.DataFrame:
        fs = require_columns(fs, "future_sales", ["ds", "model", "depot_id", "quantity"]).copy()
        fs["model"] = fs["model"].astype(str)
        fs["ds"] = pd.to_datetime(fs["ds"])
        q = pd.to_numeric(fs["quantity"], errors="coerce")
        if q.isna().any() or (q < 0).any():
            raise ZkValueError("future_sales.quantity must be numbers >= 0 [machines].")
        unknown = sorted(set(fs["model"]) - set(self.model_type_.index))
        if unknown:
            raise ZkValueError(f"future_sales names model(s) {unknown} not in the machines table, so their "
                               "machine type (usage profile) is unknown. Fix: add one machine of the model.")
        off = ~fs["ds"].isin(ds)
        if off.any():
            raise ZkValueError(f"future_sales.ds {fs['ds'][off].iloc[0].date()} is not one of the forecast periods "
                               f"({ds[0].date()} .. {ds[-1].date()}, freq {self.freq}).")
        return fs.assign(quantity=q)

    def _lambda(self, h: Any, as_of: Any, future_sales: Any
                ) -> tuple[pd.DataFrame, FloatArray, pd.DatetimeIndex]:
        """Expected replacements-driven units per sub-series (part, depot, qty) x draw x period."""
        self._check_fitted()
        _, freq = self._check_settings()
        ds, end = self._periods(h, as_of, freq)
        rows, hours = self._rows(ds, end, future_sales)
        gi = self.params_.index.get_indexer(pd.MultiIndex.from_frame(rows[["model", "component"]]))
        keep = (gi >= 0) & np.isfinite(self.params_["scale"].to_numpy())[np.maximum(gi, 0)]
        rows, hours, gi = rows[keep].reset_index(drop=True), hours[keep], gi[keep]
        sub = rows[["model", "component", "depot_id"]].reset_index().merge(self.bom_, on=["model", "component"])
        keys = sub[["part_no", "depot_id", "qty"]].drop_duplicates().sort_values(["part_no", "depot_id", "qty"])
        keys = keys.reset_index(drop=True)
        code = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(sub[["part_no", "depot_id",
                                                                                          "qty"]]))
        amat = sparse.csr_matrix((rows["weight"].to_numpy()[sub["index"].to_numpy()],
                                  (code, sub["index"].to_numpy())), shape=(len(keys), len(rows)))
        shapes, scales = self.draws_
        nd = shapes.shape[1]
        w = hours.shape[1] - 1
        lam = np.zeros((len(keys), nd, w))
        if len(rows):
            age = rows["age"].to_numpy()
            k = np.clip(shapes, _SHAPE_MIN, _SHAPE_MAX)
            ng = len(self.params_)
            span = np.zeros(ng)
            np.maximum.at(span, gi, hours[:, -1])
            span = np.maximum(span, 1e-9)  # hours of the busiest machine of each group [h]
            x_max = span[:, None] / scales  # (G, D + 1)
            fin = np.isfinite(x_max)
            table = _Table(float(x_max[fin].max()) * 1.001 + 1e-9)
            n_grid = 128
            curves = table.curves(k.ravel(), np.where(fin, x_max, 0.0).ravel(), n_grid)  # curve = g * nd + d
            step = np.repeat(span, nd) / n_grid
            curve = np.arange(ng * nd).reshape(ng, nd)  # curve = g * nd + d
            per_chunk = max(1, 3_000_000 // max(1, len(rows) * w))
            for d0 in range(0, nd, per_chunk):  # chunks of parameter draws, all machines at once
                d = np.arange(d0, min(nd, d0 + per_chunk))
                e = _renewal_kernel(age, hours, gi, k, scales, curve, curves, step, range(d0, d0 + d.size))
                lam[:, d, :] = (amat @ e.reshape(len(rows), d.size * w)).reshape(len(keys), d.size, w)
        if self.bias_correction and nd > 1:
            # parametric-bootstrap bias correction of the plug-in expectation, one factor per sub-series over the
            # reported periods: point x (point / mean of the draws); the draws are scaled to keep that mean
            plug, mean = lam[:, 0, 1:].sum(axis=1), lam[:, 1:, 1:].mean(axis=1).sum(axis=1)
            ratio = np.divide(plug, mean, out=np.ones_like(plug), where=mean > 0)
            lam[:, 0, :] *= ratio[:, None]
            lam[:, 1:, :] *= (ratio**2)[:, None, None]
        return keys, lam[:, :, 1:], ds  # window 0 (as_of_ -> first period) is not reported

    def _quantiles(self, lam: FloatArray, qty: FloatArray, series: NDArray[np.intp], n_series: int,
                   probs: FloatArray, seed_offset: int) -> FloatArray:
        """Quantiles (n_series, P, len(probs)) of sum_q q * Poisson(lam) mixed over draws 1..n_draws."""
        rng = np.random.default_rng([self.random_state, seed_offset])
        draws = lam[:, 1:, :]  # (n_sub, D, P)
        order = np.argsort(series, kind="stable")
        out = np.zeros((n_series, lam.shape[2], probs.size))
        sub_start = np.searchsorted(series[order], np.arange(n_series + 1))
        block = max(1, 2_000_000 // max(1, draws.shape[1] * self.n_rep * draws.shape[2]))
        for s0 in range(0, n_series, block):  # blocks of series, bounded memory
            idx = order[sub_start[s0]: sub_start[min(n_series, s0 + block)]]
            samp = rng.poisson(np.repeat(draws[idx], self.n_rep, axis=1)) * qty[idx, None, None]
            bounds = sub_start[s0:min(n_series, s0 + block) + 1] - sub_start[s0]
            if (np.diff(bounds) > 0).all():  # idx runs through the series in order, each one's sub-series together:
                tot = np.add.reduceat(samp, bounds[:-1], axis=0)  # summed in that order, as np.add.at adds them
            else:  # a series without sub-series (not from predict): zeros
                tot = np.zeros((bounds.size - 1,) + samp.shape[1:])
                np.add.at(tot, series[idx] - s0, samp)
            out[s0: s0 + tot.shape[0]] = np.moveaxis(np.quantile(tot, probs, axis=1), 0, -1)
        return out

    def _probs(self) -> tuple[list[float], FloatArray]:
        levels = self.levels_
        probs = np.array([p for lv in levels for p in level_quantiles(lv)])
        return levels, probs

    def predict(self, h: int, as_of: Any = None, future_sales: pd.DataFrame | None = None) -> pd.DataFrame:
        """Expected parts demand per part x depot for the next ``h`` periods, with prediction intervals.

        Parameters
        ----------
        h : int [periods]
            Number of periods, >= 1.
        as_of : date-like, optional
            Forecast origin, not before the life table's ``as_of`` (the default). The forecast covers the ``h``
            whole periods starting on or after it; renewals between the life table's date and the first period
            age the parts but are reported in no period.
        future_sales : DataFrame, optional
            Machines to be sold: ``ds`` (a forecast period start), ``model``, ``depot_id``, ``quantity``
            [machines]. They start working at the start of that period.

        Returns
        -------
        DataFrame
            Long format of the demand engine: ``unique_id`` (``"PART|DEPOT"``), ``ds`` (period start),
            ``installed_base`` (expected units [units/period]), ``installed_base-lo-<level>`` and
            ``installed_base-hi-<level>`` [units/period] for each level.

        Raises
        ------
        ZkValueError
            ``h < 1``, ``as_of`` before the data, unknown models or periods in ``future_sales``, not fitted.
        """
        keys, lam, ds = self._lambda(h, as_of, future_sales)
        qty = keys["qty"].to_numpy(float)
        sid = series_id(keys["part_no"], keys["depot_id"]).to_numpy()
        uid, series = np.unique(sid, return_inverse=True)
        point = np.zeros((uid.size, lam.shape[2]))
        np.add.at(point, series, lam[:, 0, :] * qty[:, None])
        levels, probs = self._probs()
        q = self._quantiles(lam, qty, series, uid.size, probs, 1)
        out: dict[str, Any] = {"unique_id": np.repeat(uid, ds.size), "ds": np.tile(ds.to_numpy(), uid.size),
                               self.alias: point.ravel()}
        for i, lv in enumerate(levels):
            out[f"{self.alias}-lo-{level_label(lv)}"] = q[:, :, 2 * i].ravel()
            out[f"{self.alias}-hi-{level_label(lv)}"] = q[:, :, 2 * i + 1].ravel()
        return pd.DataFrame(out)

    def predict_totals(self, h: int, as_of: Any = None, future_sales: pd.DataFrame | None = None, *,
                       by: str = "part_no") -> pd.DataFrame:
        """Totals over the ``h`` periods, with prediction intervals of the totals.

        The intervals come from the same draws and are those of the sum (parameter uncertainty is shared by all
        periods and depots), so they are narrower than adding the per-period bounds.

        Parameters
        ----------
        h, as_of, future_sales
            As in :meth:`predict`.
        by : {"part_no", "unique_id"}
            Total per part over all depots, or per part x depot.

        Returns
        -------
        DataFrame
            Indexed by ``by``: ``installed_base`` [units] and the lo/hi columns [units].
        """
        if by not in ("part_no", "unique_id"):
            raise ZkValueError(f"`by` must be 'part_no' or 'unique_id'; got {by!r}.")
        keys, lam, _ = self._lambda(h, as_of, future_sales)
        lab = keys["part_no"] if by == "part_no" else series_id(keys["part_no"], keys["depot_id"])
        grouped = pd.DataFrame({"lab": lab, "qty": keys["qty"]}).groupby(["lab", "qty"], sort=True)
        sub = grouped.ngroup().to_numpy()
        first = grouped.size().index.to_frame(index=False)
        tot = np.zeros((len(first), lam.shape[1], 1))
        np.add.at(tot, sub, lam.sum(axis=2, keepdims=True))
        uid, series = np.unique(first["lab"].to_numpy(), return_inverse=True)
        qty = first["qty"].to_numpy(float)
        point = np.zeros(uid.size)
        np.add.at(point, series, tot[:, 0, 0] * qty)
        levels, probs = self._probs()
        q = self._quantiles(tot, qty, series, uid.size, probs, 2)
        out = pd.DataFrame({self.alias: point}, index=pd.Index(uid, name=by))
        for i, lv in enumerate(levels):
            out[f"{self.alias}-lo-{level_label(lv)}"] = q[:, 0, 2 * i]
            out[f"{self.alias}-hi-{level_label(lv)}"] = q[:, 0, 2 * i + 1]
        return out
