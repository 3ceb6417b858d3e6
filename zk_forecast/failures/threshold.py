"""Life models with a threshold (location, "failure-free life") parameter: Weibull3P, Exponential2P, LogNormal3P.

``F(t) = F_0(t - threshold)`` for ``t > threshold`` and 0 before, with ``F_0`` the two-parameter family
(:mod:`zk_forecast.failures.lifetimes`). A threshold model says that no unit fails before ``threshold`` [h], which
a probability plot curving down at early ages suggests (Abernethy 2006, *The New Weibull Handbook* 5th ed., §3.3).

Fitting is by maximum likelihood through the profile of the threshold (Meeker & Escobar 1998, §11.6; Cohen &
Whitten 1988): for each candidate threshold ``g`` the two-parameter model is fitted to ``t - g`` by Newton's method,
and the profile log-likelihood is maximised over ``0 <= g < t_min``, ``t_min`` the earliest failure or suspension
(the threshold is never set at or after a unit was seen alive or failed, nor below 0). The care this takes:

* The profile is scanned on a grid that crowds toward ``t_min`` (down to 1e-6 of it) and refined by Brent's
  method around the best *interior* local maximum. The Weibull with shape < 1 and the lognormal have likelihoods
  that grow without bound as the threshold approaches ``t_min`` (Hill 1963); the local maximum inside is the
  estimate (Cohen & Whitten), and when there is none the fit stops with an error instead of reporting a threshold
  at the first failure.
* The exponential's profile increases up to ``t_min`` (its density is finite at the threshold), so its estimate
  is the first observation itself, ``t_min (1 - 1e-10)``, as in Lawless (2003, §3.5.1); its threshold then has
  no Wald standard error (the likelihood is not smooth there) and ``cov_`` holds NaN for it.
* A threshold at 0 is the two-parameter model; the profile-likelihood interval of the threshold
  (:meth:`threshold_interval`) says whether the data need one.

Covariances are the inverse of the numerical observed information in (log shape/sigma, log scale or mu,
threshold); Wald intervals for every parameter and B-life (delta method); a likelihood-ratio interval for the
threshold alone (profiling another parameter lets the threshold run into the unbounded region near ``t_min``).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize

from zk_forecast.errors import ZkValueError
from zk_forecast.failures._likelihood import LifeData
from zk_forecast.failures.lifetimes import (
    Exponential,
    FloatArray,
    LogNormal,
    ParametricLifetime,
    Weibull,
    _chi2_1,
)

__all__ = ["Exponential2P", "LogNormal3P", "Weibull3P"]

_GRID = np.concatenate((np.linspace(0.0, 0.9, 19), 1.0 - np.logspace(-1.25, -6, 20)))


def _threshold_bound(data: LifeData) -> float:
    """The threshold must stay below every failure or suspension age and every interval's upper end [h]."""
    seen = np.where(np.isinf(data.upper), data.lower, data.upper)
    exact_or_right = data.exact | np.isinf(data.upper)
    bound = float(np.min(np.where(exact_or_right, data.lower, seen)))
    return bound


def _shift(data: LifeData, g: float) -> LifeData:
    """The data seen from the threshold: ages minus ``g`` (interval lower ends and entries floored at 0)."""
    exact = data.exact
    lower = np.where(exact, data.lower - g, np.maximum(data.lower - g, 0.0))
    upper = np.where(exact, lower, data.upper - g)
    return LifeData(lower=lower, upper=upper, weight=data.weight, entry=np.maximum(data.entry - g, 0.0))


class _ThresholdLifetime(ParametricLifetime):
    """Base of the threshold models: the two-parameter family ``_base`` shifted by a fitted threshold [h]."""

    _base: ClassVar[type[ParametricLifetime]] = ParametricLifetime
    _methods = ("mle",)
    threshold_: float

    def __init__(self, *, method: str = "mle", level: float = 0.95) -> None:
        super().__init__(method=method, level=level)

    # ---- parameter plumbing -------------------------------------------------------------------------------------
    def _offset(self, theta: FloatArray) -> float:
        return float(np.asarray(theta)[-1])

    def _loglik_theta(self, theta: FloatArray, data: LifeData, grad: bool = True) -> tuple[float, FloatArray]:
        theta = np.asarray(theta, dtype=float)
        g = float(theta[-1])
        if not (0.0 <= g < self._bound) or not np.all(np.isfinite(theta)):
            return -math.inf, np.zeros(theta.size)
        ll, g_base = super()._loglik_theta(theta[:-1], _shift(data, g), grad=grad)
        if not grad:
            return ll, np.zeros(theta.size)
        h = 1e-7 * max(self._bound, 1.0)
        lo, hi = max(g - h, 0.0), min(g + h, self._bound * (1 - 1e-12))
        d_g = (super()._loglik_theta(theta[:-1], _shift(data, hi), grad=False)[0]
               - super()._loglik_theta(theta[:-1], _shift(data, lo), grad=False)[0]) / (hi - lo)
        return ll, np.append(g_base, d_g)

    # ---- fitting ------------------------------------------------------------------------------------------------
    def _profile(self, g: float, data: LifeData, x0: FloatArray | None = None) -> tuple[float, FloatArray]:
        """Profile log-likelihood at threshold ``g`` and the two-parameter fit there (Newton from ``x0`` if given)."""
        base = self._base()
        shifted = _shift(data, g)
        theta, converged, _ = base._fit_mle(shifted, x0)
        if x0 is not None and not converged:  # a warm start that did not settle: start afresh
            theta, _, _ = base._fit_mle(shifted)
        return base._loglik_theta(theta, shifted, grad=False)[0], theta

    def _solve(self, data: LifeData) -> tuple[FloatArray, bool, int]:
        self._bound = _threshold_bound(data)
        if self._bound <= 0:
            raise ZkValueError(
                f"a {type(self).__name__} needs every age > 0 to place a threshold below the first one; a row is "
                "left-censored at 0 or seen at age 0. Fix: use the two-parameter model."
            )
        bound = self._bound
        grid = _GRID * bound
        prof = np.empty(grid.size)
        thetas = []
        x0 = None
        for j, g in enumerate(grid):  # each fit starts from its neighbour's
            prof[j], x0 = self._profile(float(g), data, x0)
            thetas.append(x0)
        n = grid.size
        is_peak = np.zeros(n, dtype=bool)
        is_peak[0] = prof[0] >= prof[1]
        is_peak[1:-1] = (prof[1:-1] >= prof[:-2]) & (prof[1:-1] >= prof[2:])
        n_iter = n
        if not is_peak[:-1].any():
            if self._base is Exponential:
                g_hat = bound * (1.0 - 1e-10)
                _, theta = self._profile(g_hat, data)
                self._at_bound = True
                return np.append(theta, g_hat), True, n_iter
            raise ZkValueError(
                f"the {self._family} likelihood grows without bound as the threshold approaches the first age "
                f"{bound:g} [h] (a shape below 1, or the lognormal's singularity) and has no maximum inside: "
                "there is no threshold estimate. Fix: use the two-parameter model, or check the earliest ages."
            )
        peaks = np.flatnonzero(is_peak[:-1])
        i = int(peaks[np.argmax(prof[peaks])])
        lo, hi = grid[max(i - 1, 0)], grid[i + 1]
        start = thetas[i]
        res = optimize.minimize_scalar(lambda g: -self._profile(float(g), data, start)[0], bounds=(lo, hi),
                                       method="bounded", options={"xatol": 1e-10 * max(bound, 1.0)})
        g_hat = float(res.x) if -float(res.fun) >= prof[i] else float(grid[i])
        if i == 0 and prof[0] >= -float(res.fun):
            g_hat = 0.0
        _, theta = self._profile(g_hat, data, start)
        self._at_bound = False
        return np.append(theta, g_hat), bool(res.success), n_iter + int(res.nfev)

    def _covariance(self, theta: FloatArray, data: LifeData) -> pd.DataFrame:
        k = theta.size
        free = k - 1 if self._at_bound else k
        ll0 = self._loglik_theta(theta, data, grad=False)[0]
        steps = np.array([1e-4] * (k - 1) + [1e-5 * max(self._bound, 1.0)])
        if not self._at_bound:  # keep the threshold's steps inside [0, bound)
            room = min(theta[-1], self._bound - theta[-1]) / 2.0
            steps[-1] = min(steps[-1], room) if room > 0 else steps[-1]
        hess = np.full((k, k), np.nan)

        def ll(t: FloatArray) -> float:
            return self._loglik_theta(t, data, grad=False)[0]

        for a in range(free):
            for b in range(a, free):
                ea, eb = np.zeros(k), np.zeros(k)
                ea[a], eb[b] = steps[a], steps[b]
                if a == b:
                    val = (ll(theta + ea) - 2 * ll0 + ll(theta - ea)) / steps[a] ** 2
                else:
                    val = (ll(theta + ea + eb) - ll(theta + ea - eb) - ll(theta - ea + eb)
                           + ll(theta - ea - eb)) / (4 * steps[a] * steps[b])
                hess[a, b] = hess[b, a] = val
        cov = np.full((k, k), np.nan)
        try:
            cov[:free, :free] = np.linalg.inv(-hess[:free, :free])
        except np.linalg.LinAlgError:
            pass
        names = [f"ln_{n}" if p else n for n, p in zip(self._param_names, self._positive)]
        return pd.DataFrame(cov, index=names, columns=names)

    # ---- intervals ----------------------------------------------------------------------------------------------
    def threshold_interval(self, level: float | None = None) -> tuple[float, float]:
        """Profile-likelihood interval [h] of the threshold: the ``g`` in ``[0, t_min)`` whose profile
        log-likelihood is within ``chi2_1(level) / 2`` of the maximum (0 when the data do not need a threshold)."""
        self._check_fitted()
        lv, _ = self._z_level(level)
        cut = self.loglik_ - 0.5 * _chi2_1(lv)
        data, g_hat, bound = self._data, self.threshold_, self._bound

        def f(g: float) -> float:
            return self._profile(g, data)[0] - cut

        lo = 0.0 if f(0.0) >= 0 else float(optimize.brentq(f, 0.0, g_hat, xtol=1e-9 * bound))
        top = bound * (1.0 - 1e-10)
        hi = bound if self._at_bound or f(top) >= 0 else float(optimize.brentq(f, g_hat, top, xtol=1e-9 * bound))
        return lo, hi

    def lr_interval(self, param: str, level: float | None = None) -> tuple[float, float]:
        """Likelihood-ratio interval of the threshold (:meth:`threshold_interval`).

        The other parameters have none here: profiling them lets the threshold run to the first age, where a shape
        below 1 (or the lognormal) makes the likelihood unbounded, so their profile sets are not intervals. Use
        :meth:`wald_interval` for them.
        """
        if param == "threshold":
            return self.threshold_interval(level)
        self._param_index(param)
        raise ZkValueError(
            f"{type(self).__name__} gives a likelihood-ratio interval for the threshold only: with the threshold "
            f"free the likelihood is unbounded near the first age, so the profile of {param!r} is not an interval. "
            f"Fix: use wald_interval({param!r})."
        )

    def _summary_lr(self, param: str) -> tuple[float, float]:
        return self.threshold_interval() if param == "threshold" else (math.nan, math.nan)

    def b_life_lr_interval(self, p: float, level: float | None = None) -> tuple[float, float]:
        """Not available for threshold models (see :meth:`lr_interval`); use :meth:`b_life_wald_interval`."""
        raise ZkValueError(
            f"{type(self).__name__} has no likelihood-ratio B-life interval: with the threshold free the likelihood "
            "is unbounded near the first age. Fix: use b_life_wald_interval(p)."
        )

    def fit(self, time: ArrayLike, censored: ArrayLike | None = None, count: ArrayLike | None = None,
            entry: ArrayLike | None = None) -> _ThresholdLifetime:
        """Fit by maximum likelihood over the threshold's profile (arguments as in
        :meth:`ParametricLifetime.fit`); the fitted ``threshold_`` [h] is below every failure and suspension age."""
        super().fit(time, censored, count, entry)
        return self

    def _check_degenerate(self, data: LifeData) -> None:
        super()._check_degenerate(data)
        if data.n_failures < len(self._param_names):
            raise ZkValueError(
                f"a {type(self).__name__} has {len(self._param_names)} parameters and needs at least as many "
                f"failures; got {data.n_failures:g}. Fix: use the two-parameter model."
            )


class Weibull3P(_ThresholdLifetime):
    """Three-parameter Weibull: F(t) = 1 - exp(-((t - threshold) / scale) ** shape) for t > threshold.

    Fitted attributes: ``shape_`` [-], ``scale_`` [h], ``threshold_`` [h], and those of :class:`Weibull`
    (``cov_`` of (ln shape, ln scale, threshold)).

    Parameters
    ----------
    method : {"mle"}
    level : float
        Confidence level of the intervals in ``summary``.
    """

    _base = Weibull
    _param_names = ("shape", "scale", "threshold")
    _positive = (True, True, False)
    _dist = Weibull._dist
    _to_loc_scale = Weibull._to_loc_scale
    _family = "weibull_3p"
    shape_: float
    scale_: float


class Exponential2P(_ThresholdLifetime):
    """Two-parameter exponential: F(t) = 1 - exp(-(t - threshold) / scale) for t > threshold.

    Fitted attributes: ``scale_`` [h] (mean life beyond the threshold), ``threshold_`` [h] (the first age seen, as
    the maximum-likelihood estimate always is for this model), and those of :class:`Exponential`.

    Parameters
    ----------
    method : {"mle"}
    level : float
    """

    _base = Exponential
    _param_names = ("scale", "threshold")
    _positive = (True, False)
    _dist = Exponential._dist
    _to_loc_scale = Exponential._to_loc_scale
    _family = "exponential_2p"
    scale_: float


class LogNormal3P(_ThresholdLifetime):
    """Three-parameter lognormal: ln(T - threshold) ~ Normal(mu, sigma).

    Fitted attributes: ``mu_`` [ln h], ``sigma_`` [-], ``threshold_`` [h], and those of :class:`LogNormal`. The
    estimate is the local maximum of the likelihood below the first age (the global supremum is infinite there).

    Parameters
    ----------
    method : {"mle"}
    level : float
    """

    _base = LogNormal
    _param_names = ("mu", "sigma", "threshold")
    _positive = (False, True, False)
    _dist = LogNormal._dist
    _to_loc_scale = LogNormal._to_loc_scale
    _family = "lognormal_3p"
    mu_: float
    sigma_: float
