"""Parametric life models fitted to censored, grouped and truncated life data.

Three families, all *log-location-scale* families in ``y = ln t`` (t in hours, or whatever unit the caller uses):

=============  =====================================  ==================================  =====================
family         F(t)                                   parameters (this package)           location, scale of ln t
=============  =====================================  ==================================  =====================
Weibull        1 - exp(-(t / scale) ** shape)         ``shape`` [-] > 0, ``scale`` [h] > 0 mu = ln scale, sigma = 1 / shape
LogNormal      Phi((ln t - mu) / sigma)               ``mu`` [ln h], ``sigma`` [-] > 0     mu, sigma
Exponential    1 - exp(-t / scale)                    ``scale`` [h] > 0 (the mean life)   mu = ln scale, sigma = 1
=============  =====================================  ==================================  =====================

The *scale* of the Weibull is the characteristic life (63.2 % failed), never a rate ``lambda`` of ``lambda * t**beta``;
the exponential ``scale`` is the mean time to failure, not a failure rate.

Data conventions (shared by every fit in this module and by :func:`zk_forecast.failures.groups.fit_groups`):

* ``time`` [h] : one time per row, > 0. With ``censored`` (1 = suspension: the unit was still running at ``time``;
  0 = failure at ``time``; the convention of the reference CSV files) rows are exact failures or right-censored.
* Interval censoring: give ``time`` as an ``(n, 2)`` array of ``(lower, upper)`` pairs [h] and leave ``censored``
  unset. ``lower == upper`` is an exact failure, ``upper = inf`` a suspension at ``lower``, ``lower = 0`` a failure at
  some time before ``upper`` (left censoring), anything else a failure inside ``(lower, upper]``.
* ``count`` : number of identical units a row stands for (whole number >= 1).
* ``entry`` [h] : age at which observation of the unit began (left truncation: units already in service before the
  records began). The likelihood is conditioned on survival to ``entry``; ``entry`` must be below the failure or
  suspension time.

The log-likelihood is that of the densities in the caller's time unit: exact failures contribute ``ln f(t)``
(with ``f`` in 1/h), censored rows ``ln`` of a probability, truncated rows subtract ``ln R(entry)``. Changing the time
unit by a factor ``c`` shifts the log-likelihood by ``n_failures * ln c``, so the same fit reads -135.15 with times in
hours and -52.26 with times in thousands of hours (Nelson's fan data).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats
from sklearn.base import BaseEstimator

from zk_forecast.errors import NotFittedError, ZkValueError
from zk_forecast.failures._likelihood import (
    _SEV,
    LifeData,
    _as_float,
    _lls_loglik,
    _Normal,
    _StdDist,
    check_life_data,
    weibull_loglik,
)

__all__ = [
    "Exponential",
    "LifeData",
    "LogNormal",
    "ParametricLifetime",
    "Weibull",
    "check_life_data",
    "compare_families",
    "weibull_loglik",
]

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------------------------------
# the declarative base class
# --------------------------------------------------------------------------------------------------------------------
def _chi2_1(level: float) -> float:
    return float(stats.chi2.ppf(level, 1))


class ParametricLifetime(BaseEstimator):  # type: ignore[misc]
    """Base of the parametric life models: a subclass declares its parameters; the base does the rest.

    A subclass declares

    * ``_param_names`` : the user-facing parameter names, e.g. ``("shape", "scale")``;
    * ``_positive`` : which of them are > 0 (fitted, and given Wald intervals, on the log scale);
    * ``_dist`` : the standard distribution of ``z = (ln t - mu) / sigma``;
    * ``_to_loc_scale`` : the linear map from the internal vector ``theta`` (the parameters, logged where positive)
      to ``(mu, ln sigma)`` as a ``(2, k)`` matrix.

    From that the base class derives the censored/truncated log-likelihood and its gradient, the maximum-likelihood
    or rank-regression fit, the observed information (Wald intervals), profile-likelihood intervals, B-lives,
    ``summary``, and the probability plot.

    Parameters
    ----------
    method : {"mle", "rank_regression", "rank_regression_y"}
        ``"mle"``: maximum likelihood. ``"rank_regression"``: least squares of the time on the linearised plotting
        position (rank regression on X, "RRX"); ``"rank_regression_y"``: least squares of the linearised plotting
        position on the time (rank regression on Y, "RRY", the default "LS" of the Python package ``reliability``).
        Both use Johnson's adjusted ranks for suspensions and Benard's median-rank approximation
        (i - 0.3) / (n + 0.4). Two-parameter families regress on ln t; the exponential regresses
        ``-ln(1 - F)`` on t in linear time through the origin (``-ln(1 - F) = t / scale``), as Weibull++ and
        ``reliability`` do: RRY gives ``1 / scale = sum(t z) / sum(t^2)``, RRX ``scale = sum(t z) / sum(z^2)``
        with ``z = -ln(1 - F)``.
    level : float
        Confidence level of the intervals in ``summary`` (0 < level < 1).
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _positive: ClassVar[tuple[bool, ...]] = ()
    _dist: ClassVar[type[_StdDist]] = _StdDist
    _to_loc_scale: ClassVar[FloatArray] = np.zeros((2, 0))
    _family: ClassVar[str] = ""
    _methods: ClassVar[tuple[str, ...]] = ("mle", "rank_regression", "rank_regression_y")

    def __init__(self, *, method: str = "mle", level: float = 0.95) -> None:
        self.method = method
        self.level = level

    # ---- parameter plumbing -------------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        if self.method not in self._methods:
            raise ZkValueError(
                f"The 'method' parameter of {type(self).__name__} must be one of {list(self._methods)}. "
                f"Got {self.method!r} instead."
            )
        if not (isinstance(self.level, float | int) and 0 < self.level < 1):
            raise ZkValueError(
                f"The 'level' parameter of {type(self).__name__} must be a float in (0, 1). Got {self.level!r} instead."
            )

    def _theta_to_params(self, theta: FloatArray) -> FloatArray:
        out = np.array(theta, dtype=float)
        pos = np.asarray(self._positive, dtype=bool)
        out[pos] = np.exp(out[pos])  # only the positive parameters are logged (a threshold is not)
        return out

    def _params_to_theta(self, params: FloatArray) -> FloatArray:
        params = np.asarray(params, dtype=float)
        return np.where(np.asarray(self._positive), np.log(np.where(self._positive, params, 1.0)), params)

    def _loc_scale(self, theta: FloatArray) -> tuple[float, float]:
        ms = self._to_loc_scale @ np.asarray(theta, dtype=float)[: self._to_loc_scale.shape[1]]
        return float(ms[0]), float(ms[1])

    def _offset(self, theta: FloatArray) -> float:
        """Threshold (location) [h] of the model: 0 here, a fitted parameter in the threshold models."""
        return 0.0

    def _theta_from_loc_scale(self, mu: float, log_sigma: float) -> FloatArray:
        sol, *_ = np.linalg.lstsq(self._to_loc_scale, np.array([mu, log_sigma]), rcond=None)
        return np.asarray(sol, dtype=float)

    def _loglik_theta(self, theta: FloatArray, data: LifeData, grad: bool = True) -> tuple[float, FloatArray]:
        mu, ls = self._loc_scale(theta)
        ll, g = _lls_loglik(self._dist, mu, ls, data, grad=grad)
        return ll, self._to_loc_scale.T @ g

    # ---- fitting ------------------------------------------------------------------------------------------------
    def fit(
        self,
        time: ArrayLike,
        censored: ArrayLike | None = None,
        count: ArrayLike | None = None,
        entry: ArrayLike | None = None,
    ) -> ParametricLifetime:
        """Fit the model to life data.

        Parameters
        ----------
        time : array (n,) or (n, 2) [h]
            Failure/suspension times (> 0) or (lower, upper) interval pairs (see the module docstring).
        censored : array of 0/1, optional
            1 = suspension (still running at ``time``), 0 = failure. Default: all failures.
        count : array of whole numbers >= 1, optional
            Identical units per row. Default 1.
        entry : array [h], optional
            Age at which observation began (left truncation); 0 <= entry < time. Default 0.

        Returns
        -------
        self

        Raises
        ------
        ZkValueError
            Bad data (see :func:`check_life_data`); no failures (the MLE does not exist: use a Weibayes bound, see
            :func:`zk_forecast.failures.groups.fit_groups`); a Weibull whose failures all fall at one instant with
            no unit surviving beyond it (the shape grows without bound).
        """
        self._check_settings()
        data = check_life_data(time, censored, count, entry)
        if data.n_failures == 0:
            raise ZkValueError(
                f"no failures among {data.n_units:g} units: every unit is censored, so the {self._family} "
                "maximum-likelihood estimate does not exist. Fix: use fit_groups(..., weibayes_shape=...) for a "
                "Weibayes lower bound on the scale, or wait for failures."
            )
        self._check_degenerate(data)
        theta, converged, n_iter = self._solve(data)
        self._data = data
        self._theta = theta
        params = self._theta_to_params(theta)
        self.params_ = pd.Series(params, index=list(self._param_names), name=self._family)
        for name, value in zip(self._param_names, params):
            setattr(self, f"{name}_", float(value))
        self.loglik_ = self._loglik_theta(theta, data, grad=False)[0]
        self.n_failures_ = data.n_failures
        self.n_units_ = data.n_units
        self.converged_ = converged
        self.n_iter_ = n_iter
        self.aic_ = -2.0 * self.loglik_ + 2.0 * len(self._param_names)
        self.cov_ = self._covariance(theta, data)
        return self

    def _solve(self, data: LifeData) -> tuple[FloatArray, bool, int]:
        """The fitted internal vector, whether the solver converged, and its iterations."""
        if self.method in ("rank_regression", "rank_regression_y"):
            return self._fit_rank_regression(data), True, 0
        return self._fit_mle(data)

    def _check_degenerate(self, data: LifeData) -> None:
        """Refuse data whose likelihood has no maximum at finite sigma (overridden where it matters)."""
        if self._to_loc_scale[1].any() and data.only_exact_or_right:
            fail_t = data.lower[data.exact]
            last_seen = np.max(data.lower)
            if fail_t.size and np.all(fail_t == fail_t[0]) and last_seen <= fail_t[0]:
                raise ZkValueError(
                    f"all {data.n_failures:g} failures fall at the same instant t = {fail_t[0]:g} and no unit "
                    f"survived beyond it: the {self._family} likelihood grows without bound as the spread "
                    "parameter goes to 0 (shape to infinity), so there is no estimate. Fix: add suspensions or "
                    "failures at other times, record times more precisely, or use fit_groups, which reports such "
                    "a group as status 'shape_unbounded'."
                )

    def _start(self, data: LifeData) -> FloatArray:
        """A starting point: exponential-like location, sigma from the spread of observed log times."""
        t = np.where(np.isfinite(data.upper), 0.5 * (data.lower + data.upper), data.lower)
        t = np.where(t > 0, t, data.upper)
        total = float(np.sum(data.weight * (t - data.entry)))
        mu = math.log(max(total, 1e-300) / max(data.n_failures, 1.0))
        y = np.log(t)
        sd = float(np.sqrt(np.average((y - np.average(y, weights=data.weight)) ** 2, weights=data.weight)))
        log_sigma = 0.0 if self._dist is _SEV else math.log(max(sd, 0.1))
        if self._dist is _Normal:
            mu = float(np.average(y, weights=data.weight))
        return self._theta_from_loc_scale(mu, log_sigma)

    def _fit_mle(self, data: LifeData, x0: FloatArray | None = None) -> tuple[FloatArray, bool, int]:
        """Maximum likelihood: BFGS from :meth:`_start`, then Newton; from a given close ``x0`` Newton alone."""
        def nll(theta: FloatArray) -> tuple[float, FloatArray]:
            ll, g = self._loglik_theta(theta, data)
            if not np.isfinite(ll):
                return 1e300, np.zeros_like(theta)
            return -ll, -g

        if x0 is not None and np.isfinite(self._loglik_theta(x0, data, grad=False)[0]):
            theta = np.asarray(x0, dtype=float)
            n_iter = 0
        else:
            res = optimize.minimize(nll, self._start(data), jac=True, method="BFGS",
                                    options={"gtol": 1e-9, "maxiter": 500})
            theta = np.asarray(res.x, dtype=float)
            n_iter = int(res.nit)
        # Newton polish with a finite-difference Hessian of the analytic gradient
        converged = False
        for _ in range(20):
            ll, g = self._loglik_theta(theta, data)
            hess = self._hessian(theta, data)
            try:
                step = -np.linalg.solve(hess, g)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)):
                break
            lam = 1.0
            while lam > 1e-6:
                cand = theta + lam * step
                if self._loglik_theta(cand, data, grad=False)[0] >= ll - 1e-12 * abs(ll):
                    break
                lam /= 2
            theta = theta + lam * step
            n_iter += 1
            if np.max(np.abs(lam * step)) < 1e-11:
                converged = True
                break
        g = self._loglik_theta(theta, data)[1]
        converged = converged or bool(np.max(np.abs(g)) < 1e-6 * max(1.0, data.n_units))
        return theta, converged, n_iter

    def _hessian(self, theta: FloatArray, data: LifeData) -> FloatArray:
        k = theta.size
        h = np.zeros((k, k))
        for j in range(k):
            eps = 1e-5 * max(1.0, abs(theta[j]))
            tp, tm = theta.copy(), theta.copy()
            tp[j] += eps
            tm[j] -= eps
            h[:, j] = (self._loglik_theta(tp, data)[1] - self._loglik_theta(tm, data)[1]) / (2 * eps)
        return 0.5 * (h + h.T)

    def _covariance(self, theta: FloatArray, data: LifeData) -> pd.DataFrame:
        info = -self._hessian(theta, data)
        try:
            cov = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            cov = np.full_like(info, np.nan)
        names = [f"ln_{n}" if p else n for n, p in zip(self._param_names, self._positive)]
        return pd.DataFrame(cov, index=names, columns=names)

    def _fit_rank_regression(self, data: LifeData) -> FloatArray:
        if not data.only_exact_or_right or np.any(data.entry > 0):
            raise ZkValueError(
                f"method={self.method!r} handles exact failures and suspensions only; the data hold interval "
                "censoring or left truncation. Fix: use method='mle'."
            )
        x, p = _plotting_positions(data)
        if x.size < len(self._param_names):
            raise ZkValueError(
                f"rank regression of a {len(self._param_names)}-parameter model needs at least that many failures; "
                f"got {x.size}. Fix: use method='mle'."
            )
        on_y = self.method == "rank_regression_y"
        if not self._to_loc_scale[1].any():  # exponential: -ln(1 - F) = t / scale, in linear time
            t, z = np.exp(x), -np.log1p(-p)
            scale = float(t @ t / (t @ z)) if on_y else float(t @ z / (z @ z))
            return self._theta_from_loc_scale(math.log(scale), 0.0)
        y = self._dist.ppf(p)
        if on_y:
            slope, intercept = np.polyfit(x, y, 1)  # regress the plotting position (Y) on ln t (X)
            if slope <= 0:
                raise ZkValueError("rank regression on Y found no increasing line through the plotting positions "
                                   "(the failures do not rise with age). Fix: use method='mle'.")
            return self._theta_from_loc_scale(float(-intercept / slope), -math.log(slope))
        slope, intercept = np.polyfit(y, x, 1)  # regress ln t (X) on the plotting position (Y)
        return self._theta_from_loc_scale(float(intercept), math.log(slope))

    # ---- fitted check and predictions ---------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Fix: call fit(time, censored, ...) first."
            )

    def _z(self, t: ArrayLike, theta: FloatArray | None = None) -> FloatArray:
        self._check_fitted()
        th = self._theta if theta is None else theta
        mu, ls = self._loc_scale(th)
        tt = _as_float("t", t)
        if np.any(tt < 0):
            raise ZkValueError("`t` must be >= 0 [h]. Fix: pass ages.")
        with np.errstate(divide="ignore"):
            return np.asarray((np.log(np.maximum(tt - self._offset(th), 0.0)) - mu) / math.exp(ls))

    def reliability(self, t: ArrayLike) -> FloatArray:
        """Probability of surviving beyond age ``t`` [h]: R(t) = 1 - F(t)."""
        return np.exp(self._dist.logsf(self._z(t)))

    def cdf(self, t: ArrayLike) -> FloatArray:
        """Probability of failing by age ``t`` [h]: F(t)."""
        with np.errstate(divide="ignore"):  # F = 0 at or before the threshold
            return np.exp(self._dist.logcdf(self._z(t)))

    def hazard(self, t: ArrayLike) -> FloatArray:
        """Hazard rate h(t) = f(t) / R(t) [1/h] at age ``t`` [h]."""
        z = self._z(t)
        mu, ls = self._loc_scale(self._theta)
        with np.errstate(divide="ignore"):
            age = np.maximum(_as_float("t", t) - self._offset(self._theta), 0.0)
            return np.exp(self._dist.logpdf(z) - self._dist.logsf(z) - ls - np.log(age))

    def cumulative_hazard(self, t: ArrayLike) -> FloatArray:
        """Cumulative hazard H(t) = -ln R(t) [-] at age ``t`` [h]."""
        return -self._dist.logsf(self._z(t))

    def _b_life_theta(self, p: float, theta: FloatArray) -> float:
        mu, ls = self._loc_scale(theta)
        return self._offset(theta) + math.exp(mu + math.exp(ls) * float(self._dist.ppf(np.array(p))))

    def b_life(self, p: float) -> float:
        """Age [h] by which a fraction ``p`` of the units has failed (B10 life = ``b_life(0.10)``)."""
        self._check_fitted()
        _check_p(p)
        return self._b_life_theta(p, self._theta)

    # ---- intervals ----------------------------------------------------------------------------------------------
    def _z_level(self, level: float | None) -> tuple[float, float]:
        lv = self.level if level is None else level
        if not 0 < lv < 1:
            raise ZkValueError(f"`level` must be in (0, 1); got {lv!r}. Fix: e.g. 0.95.")
        return lv, float(stats.norm.ppf(0.5 + lv / 2))

    def wald_interval(self, param: str, level: float | None = None) -> tuple[float, float]:
        """Wald interval of a parameter from the observed information; on the log scale for positive parameters.

        Parameters
        ----------
        param : str
            One of the model's parameter names.
        level : float, optional
            Confidence level; default the estimator's ``level``.
        """
        self._check_fitted()
        k = self._param_index(param)
        _, zq = self._z_level(level)
        se = math.sqrt(float(self.cov_.iloc[k, k]))
        lo, hi = self._theta[k] - zq * se, self._theta[k] + zq * se
        if self._positive[k]:
            return math.exp(lo), math.exp(hi)
        return float(lo), float(hi)

    def b_life_wald_interval(self, p: float, level: float | None = None) -> tuple[float, float]:
        """Wald interval [h] of the B-life, computed on ln t_p with the delta method."""
        self._check_fitted()
        _check_p(p)
        _, zq = self._z_level(level)
        eps = 1e-6
        g = np.zeros(self._theta.size)
        for j in range(self._theta.size):
            tp, tm = self._theta.copy(), self._theta.copy()
            tp[j] += eps
            tm[j] -= eps
            g[j] = (math.log(self._b_life_theta(p, tp)) - math.log(self._b_life_theta(p, tm))) / (2 * eps)
        se = math.sqrt(float(g @ self.cov_.to_numpy() @ g))
        lt = math.log(self.b_life(p))
        return math.exp(lt - zq * se), math.exp(lt + zq * se)

    def _param_index(self, param: str) -> int:
        if param not in self._param_names:
            raise ZkValueError(
                f"unknown parameter {param!r} of {type(self).__name__}; expected one of {list(self._param_names)}."
            )
        return self._param_names.index(param)

    def _profile_max(self, fixed: float, build: Any, start: FloatArray) -> tuple[float, FloatArray]:
        """Maximise the log-likelihood over the free parameters ``phi`` with theta = build(fixed, phi)."""
        data = self._data
        if start.size == 0:
            return self._loglik_theta(build(fixed, start), data, grad=False)[0], start

        def nll(phi: FloatArray) -> float:
            ll = self._loglik_theta(build(fixed, phi), data, grad=False)[0]
            return -ll if np.isfinite(ll) else 1e300

        res = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-11})
        return -float(res.fun), np.asarray(res.x, dtype=float)

    def _lr_bounds(
        self, build: Any, est: float, se: float, start: FloatArray, level: float
    ) -> tuple[float, float]:
        """Roots of 2 (loglik_max - profile(x)) = chi2_1(level) on either side of ``est`` (on the working scale)."""
        target = self.loglik_ - 0.5 * _chi2_1(level)
        se = se if np.isfinite(se) and se > 0 else 0.1 * max(1.0, abs(est))
        cache: dict[float, FloatArray] = {}

        def f(x: float) -> float:
            nearest = min(cache, key=lambda k: abs(k - x)) if cache else None
            phi0 = cache[nearest] if nearest is not None else start
            ll, phi = self._profile_max(x, build, phi0)
            cache[x] = phi
            return ll - target

        bounds = []
        for sign in (-1.0, 1.0):
            step = se
            inner = est
            outer = est + sign * step
            found = False
            for _ in range(60):
                if f(outer) < 0:
                    found = True
                    break
                inner, outer = outer, outer + sign * step
                step *= 1.6
            if not found:
                bounds.append(sign * math.inf)
                continue
            bounds.append(float(optimize.brentq(f, min(inner, outer), max(inner, outer), xtol=1e-10)))
        return bounds[0], bounds[1]

    def lr_interval(self, param: str, level: float | None = None) -> tuple[float, float]:
        """Likelihood-ratio (profile-likelihood) interval of a parameter.

        The set of values whose profile log-likelihood lies within chi2_1(level) / 2 of the maximum.
        """
        self._check_fitted()
        lv, _ = self._z_level(level)
        k = self._param_index(param)
        free = [j for j in range(self._theta.size) if j != k]

        def build(x: float, phi: FloatArray) -> FloatArray:
            theta = np.empty(self._theta.size)
            theta[k] = x
            theta[free] = phi
            return theta

        se = math.sqrt(float(self.cov_.iloc[k, k]))
        lo, hi = self._lr_bounds(build, float(self._theta[k]), se, self._theta[free], lv)
        if self._positive[k]:
            return math.exp(lo), math.exp(hi)
        return lo, hi

    def b_life_lr_interval(self, p: float, level: float | None = None) -> tuple[float, float]:
        """Likelihood-ratio interval [h] of the B-life t_p (profile over the spread parameter)."""
        self._check_fitted()
        _check_p(p)
        lv, zq = self._z_level(level)
        zp = float(self._dist.ppf(np.array(p)))
        mu, ls = self._loc_scale(self._theta)

        def build(lt: float, phi: FloatArray) -> FloatArray:
            log_sigma = float(phi[0]) if phi.size else 0.0
            return self._theta_from_loc_scale(lt - math.exp(log_sigma) * zp, log_sigma)

        start = np.array([ls]) if self._to_loc_scale[1].any() else np.zeros(0)
        lo_w, hi_w = self.b_life_wald_interval(p, lv)
        se = (math.log(hi_w) - math.log(lo_w)) / (2 * zq)
        lo, hi = self._lr_bounds(build, math.log(self.b_life(p)), se, start, lv)
        return math.exp(lo), math.exp(hi)

    def _summary_lr(self, param: str) -> tuple[float, float]:
        return self.lr_interval(param) if self.method == "mle" else (np.nan, np.nan)

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors, Wald and likelihood-ratio intervals at the estimator's ``level``.

        Columns: ``estimate``, ``se`` (of the parameter on its working scale: log for positive parameters),
        ``wald_lo``, ``wald_hi``, ``lr_lo``, ``lr_hi``. Rank-regression fits leave the LR columns NaN.
        """
        self._check_fitted()
        rows = []
        for k, name in enumerate(self._param_names):
            lo, hi = self.wald_interval(name)
            lr = self._summary_lr(name)
            rows.append(
                {
                    "estimate": float(self.params_.iloc[k]),
                    "se": math.sqrt(float(self.cov_.iloc[k, k])),
                    "wald_lo": lo,
                    "wald_hi": hi,
                    "lr_lo": lr[0],
                    "lr_hi": lr[1],
                }
            )
        out = pd.DataFrame(rows, index=pd.Index(self._param_names, name="parameter"))
        out.attrs.update(
            {"family": self._family, "level": self.level, "loglik": self.loglik_, "aic": self.aic_}
        )
        return out

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            vals = ", ".join(f"{k}_={v:.6g}" for k, v in self.params_.items())
            return f"{type(self).__name__}(method={self.method!r}) fitted: {vals}, loglik_={self.loglik_:.6g}"
        return f"{type(self).__name__}(method={self.method!r}, level={self.level!r})"

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<pre>{self!r}</pre>"
        return f"<p>{self!r}</p>" + self.summary.to_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # Jupyter asks for this before _repr_html_; scikit-learn's would draw its estimator diagram instead
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    # ---- probability plot ---------------------------------------------------------------------------------------
    def plot_probability(self, ax: Any = None) -> Any:
        """Probability plot of the failures with the fitted line.

        Plotting positions: Johnson's adjusted ranks (suspensions move later failures' ranks) turned into median
        ranks with Benard's approximation (i - 0.3) / (n + 0.4); with no suspensions these are plain median ranks.
        The y axis is linearised for the family (ln(-ln(1 - F)) for Weibull and exponential, the normal quantile
        for the lognormal); the x axis is ln t. Interval-censored rows are plotted at their midpoints.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib Axes
        """
        self._check_fitted()
        import matplotlib.pyplot as plt  # lazy: only when drawing

        if ax is None:
            _, ax = plt.subplots()
        data = self._data
        if not data.only_exact_or_right:
            mid = np.where(np.isfinite(data.upper), 0.5 * (data.lower + data.upper), data.lower)
            data = LifeData(
                np.maximum(mid, 1e-300),
                np.where(np.isfinite(data.upper), mid, np.inf),
                data.weight,
                data.entry,
            )
        x, p = _plotting_positions(data)
        y = self._dist.ppf(p)
        ax.plot(np.exp(x), y, "o", label="failures (adjusted median ranks)")
        grid = np.linspace(float(np.min(y)) - 0.5, float(np.max(y)) + 0.5, 50)
        mu, ls = self._loc_scale(self._theta)
        ax.plot(self._offset(self._theta) + np.exp(mu + math.exp(ls) * grid), grid, "-",
                label=f"{self._family} fit ({self.method})")
        ax.set_xscale("log")
        ticks = np.array([0.01, 0.05, 0.1, 0.2, 0.5, 0.632, 0.9, 0.99])
        ax.set_yticks(self._dist.ppf(ticks))
        ax.set_yticklabels([f"{100 * q:g}%" for q in ticks])
        ax.set_xlabel("age [h]")
        ax.set_ylabel("fraction failed")
        ax.set_title(f"{self._family} probability plot")
        ax.legend(loc="best")
        return ax


def _check_p(p: float) -> None:
    if not (isinstance(p, float | int) and 0 < p < 1):
        raise ZkValueError(
            f"`p` (fraction failed) must be in (0, 1); got {p!r}. Fix: B10 life is b_life(0.10)."
        )


def _plotting_positions(data: LifeData) -> tuple[FloatArray, FloatArray]:
    """ln(failure times) and their median-rank plotting positions (Johnson's adjusted ranks, Benard's formula).

    Units are expanded by ``count``; at tied times failures are ranked before suspensions.
    """
    w = data.weight.astype(np.int64)
    t = np.repeat(data.lower, w)
    failed = np.repeat(data.exact, w)
    order = np.lexsort((~failed, t))  # by time, failures first at ties
    t, failed = t[order], failed[order]
    n = t.size
    reverse_rank = n - np.arange(n)  # units at or beyond this one
    prev = 0.0
    ranks = np.empty(int(failed.sum()))
    j = 0
    for i in np.flatnonzero(failed):
        prev = prev + (n + 1 - prev) / (1 + reverse_rank[i])
        ranks[j] = prev
        j += 1
    p = (ranks - 0.3) / (n + 0.4)
    return np.log(t[failed]), p


# --------------------------------------------------------------------------------------------------------------------
# the families
# --------------------------------------------------------------------------------------------------------------------
class Weibull(ParametricLifetime):
    """Two-parameter Weibull life model: F(t) = 1 - exp(-(t / scale) ** shape).

    Fitted attributes: ``shape_`` [-] (beta), ``scale_`` [h] (eta, the age by which 63.2 % have failed),
    ``params_``, ``loglik_``, ``aic_``, ``cov_`` (covariance of (ln shape, ln scale)), ``n_failures_``,
    ``n_units_``, ``converged_``, ``n_iter_``.

    Parameters
    ----------
    method : {"mle", "rank_regression", "rank_regression_y"}
        Maximum likelihood, or rank regression on X (ln t regressed on ln(-ln(1 - F))) or on Y (ln(-ln(1 - F))
        regressed on ln t), see :class:`ParametricLifetime`.
    level : float
        Confidence level of the intervals in ``summary``.

    Examples
    --------
    >>> import numpy as np
    >>> w = Weibull().fit(np.array([10.0, 20.0, 30.0, 40.0]), censored=np.array([0, 0, 0, 1]))
    >>> round(w.shape_, 3), round(w.scale_, 2)
    (1.832, 31.62)
    """

    _param_names = ("shape", "scale")
    _positive = (True, True)
    _dist = _SEV
    _to_loc_scale = np.array([[0.0, 1.0], [-1.0, 0.0]])  # mu = ln scale, ln sigma = -ln shape
    _family = "weibull"
    shape_: float
    scale_: float


class LogNormal(ParametricLifetime):
    """Lognormal life model: ln T ~ Normal(mu, sigma), F(t) = Phi((ln t - mu) / sigma).

    Fitted attributes: ``mu_`` [ln h] (median life = exp(mu)), ``sigma_`` [-], and the common ones of
    :class:`Weibull` (``cov_`` is that of (mu, ln sigma)).

    Parameters
    ----------
    method : {"mle", "rank_regression", "rank_regression_y"}
    level : float
    """

    _param_names = ("mu", "sigma")
    _positive = (False, True)
    _dist = _Normal
    _to_loc_scale = np.eye(2)
    _family = "lognormal"
    mu_: float
    sigma_: float


class Exponential(ParametricLifetime):
    """Exponential life model: F(t) = 1 - exp(-t / scale); ``scale`` [h] is the mean life (1 / failure rate).

    Fitted attributes: ``scale_`` [h], and the common ones of :class:`Weibull` (``cov_`` is that of ln scale).

    Parameters
    ----------
    method : {"mle", "rank_regression", "rank_regression_y"}
    level : float
    """

    _param_names = ("scale",)
    _positive = (True,)
    _dist = _SEV
    _to_loc_scale = np.array([[1.0], [0.0]])  # Weibull with shape fixed at 1
    _family = "exponential"
    scale_: float


FAMILIES: dict[str, type[ParametricLifetime]] = {
    "weibull": Weibull,
    "lognormal": LogNormal,
    "exponential": Exponential,
}


def compare_families(
    time: ArrayLike,
    censored: ArrayLike | None = None,
    count: ArrayLike | None = None,
    entry: ArrayLike | None = None,
    families: tuple[str, ...] = ("weibull", "lognormal", "exponential"),
) -> pd.DataFrame:
    """Fit several families by maximum likelihood and rank them by AIC.

    Parameters
    ----------
    time, censored, count, entry :
        Life data, as in :meth:`ParametricLifetime.fit` (``censored``: 1 = suspension, 0 = failure).
    families : tuple of str
        Any of "weibull", "lognormal", "exponential".

    Returns
    -------
    DataFrame
        Indexed by family, sorted by ascending AIC, with columns ``n_params``, ``loglik``, ``aic``, ``delta_aic``,
        ``params`` (a dict of the fitted parameters in each family's own parameterisation) and ``model`` (the fitted
        estimator).
    """
    rows = []
    for fam in families:
        if fam not in FAMILIES:
            raise ZkValueError(f"unknown family {fam!r}; expected some of {list(FAMILIES)}.")
        model = FAMILIES[fam]().fit(time, censored, count, entry)
        rows.append(
            {
                "family": fam,
                "n_params": len(model._param_names),
                "loglik": model.loglik_,
                "aic": model.aic_,
                "params": model.params_.to_dict(),
                "model": model,
            }
        )
    out = pd.DataFrame(rows).set_index("family").sort_values("aic", kind="stable")
    out.insert(3, "delta_aic", out["aic"] - out["aic"].iloc[0])
    return out
