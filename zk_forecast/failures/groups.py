"""Fit a life model to every group of a table at once (e.g. component x machine model).

:func:`fit_groups` sorts the rows by group and solves all groups together with numpy (``np.add.reduceat`` over the
sorted rows; no Python loop over groups). Two solvers:

* Weibull groups with exact failures and suspensions only: the scale is profiled out and a safeguarded
  Newton-Raphson on ``ln shape`` runs for all groups in lock-step (:func:`weibull_profile_newton`).
* Lognormal groups, and groups of any family holding a left- or interval-censored row: Newton-Raphson in
  ``(mu, ln sigma)`` of ``ln t`` for all groups in lock-step, with a per-group step-halving line search
  (:func:`lls_group_newton`); the exponential keeps ``sigma = 1``.

The answers equal :class:`~zk_forecast.failures.lifetimes.Weibull`, :class:`~zk_forecast.failures.lifetimes.LogNormal`
and :class:`~zk_forecast.failures.lifetimes.Exponential` fitted group by group (to 1e-6 relative or better).

Parameterisation: Weibull F(t) = 1 - exp(-(t / scale) ** shape), ``shape`` [-], ``scale`` [h]; exponential
F(t) = 1 - exp(-t / scale), ``scale`` [h] = mean life; lognormal F(t) = Phi((ln t - mu) / sigma), ``mu`` [ln h]
(median life exp(mu)), ``sigma`` [-]. Data conventions (``censored`` 1 = suspension, 0 = failure; ``count``;
``entry`` for left truncation) are those of :mod:`zk_forecast.failures.lifetimes`. Interval-censored lives are
given as two columns, ``time`` the lower end and ``upper`` the upper end [h]: ``lower == upper`` an exact failure,
``upper = inf`` a suspension at ``lower``, ``lower = 0`` a failure before ``upper``, otherwise a failure inside
``(lower, upper]``.

The lognormal result has the columns ``mu``, ``sigma``, ``mu_lo``, ``mu_hi``, ``sigma_lo``, ``sigma_hi`` in place of
``shape``, ``scale`` and their bounds (``mu`` intervals are Wald on the natural scale, ``sigma`` on the log scale).
Its statuses mirror the Weibull ones with an assumed ``sigma`` (``assumed_sigma``, default
``pi / (sqrt(6) * weibayes_shape)``, the ``sigma`` whose ln t spread equals that of a Weibull of shape
``weibayes_shape``: 0.641 for shape 2) in place of the assumed shape, ``method = "assumed_sigma"``:
``"no_failures"`` gives the lower confidence bound on ``mu`` solving ``P(no failure | mu, sigma) = 1 - level``
(``mu = mu_lo``, ``mu_hi = inf``); ``"one_failure"`` the maximum-likelihood ``mu`` at the assumed ``sigma`` with its
Wald interval; ``"shape_unbounded"`` reports ``sigma = 0``, ``mu = ln t0``.

Groups without a usable maximum-likelihood estimate are never returned as silent NaN; the ``status`` column says
what was done instead:

``"ok"``
    Maximum likelihood (``method = "mle"``), Wald intervals on the log scale from the observed information.
``"no_failures"``
    Every unit is censored. The MLE does not exist (the likelihood keeps rising as the scale grows). Reported: the
    **Weibayes lower confidence bound** on the scale for the assumed shape ``weibayes_shape`` (default 2.0, a
    typical wear-out value for mechanical parts; use 1.0 for a constant failure rate):
    ``scale = scale_lo = (sum count * (t**k - entry**k) / -ln(1 - level)) ** (1/k)`` with ``k = weibayes_shape``,
    a one-sided bound at confidence ``level`` ("with confidence ``level`` the characteristic life is at least this");
    ``scale_hi = inf``; ``shape = shape_lo = shape_hi = weibayes_shape`` (assumed, not estimated);
    ``method = "weibayes"``.
``"one_failure"``
    One failure cannot fix two parameters (the Weibull MLE is erratic or unbounded). Reported: the Weibayes point
    estimate ``scale = (T / 1) ** (1/k)``, ``T = sum count * (t**k - entry**k)``, with the two-sided chi-square
    interval ``scale_lo = (2T / chi2((1+level)/2, 4)) ** (1/k)``, ``scale_hi = (2T / chi2((1-level)/2, 2)) ** (1/k)``;
    shape assumed as above; ``method = "weibayes"``. In a group with an interval-censored row: the
    maximum-likelihood scale at the assumed shape, with its Wald interval.
``"shape_unbounded"``
    Every failure falls at the same instant ``t0`` and no unit was seen running beyond it: the likelihood grows
    without bound as shape -> infinity (a step at ``t0``). Reported: ``shape = inf``, ``scale = t0`` (the limit of
    the profile scale), ``converged = False``, ``method = "none"``, intervals NaN, ``loglik = inf``. The same for
    interval-censored failures whose intervals ``(lower, upper]`` share a point with no unit seen running beyond
    it: the likelihood tends to 1 (``loglik = 0``) for a step anywhere in the shared part; reported
    ``scale = t0`` = the smallest upper end.

``loglik`` is the log-likelihood at the reported parameters (densities in 1/[unit of time]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.failures._likelihood import _SEV, LifeData, _log_interval_prob, _Normal, _StdDist
from zk_forecast.failures.lifetimes import check_life_data

__all__ = ["fit_groups", "lls_group_newton", "weibull_profile_newton"]

FloatArray = NDArray[np.float64]
_FAMILIES = ("weibull", "lognormal", "exponential")
_COLUMNS = [
    "status",
    "method",
    "shape",
    "scale",
    "loglik",
    "n_failures",
    "n_censored",
    "n_units",
    "converged",
    "iterations",
    "shape_lo",
    "shape_hi",
    "scale_lo",
    "scale_hi",
]


def weibull_profile_newton(
    log_s: FloatArray,
    log_se: FloatArray,
    weight: FloatArray,
    fail_weight: FloatArray,
    starts: NDArray[np.intp],
    active: NDArray[np.bool_],
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.int64]]:
    """Weibull MLE of the shape for many groups at once, the scale profiled out.

    For each group the profile score in ``b = shape`` is
    ``g(b) = r / b + sum_f w ln s - r * A1(b) / A(b)`` with ``A = sum w (s**b - s_e**b)`` and
    ``A1 = sum w (s**b ln s - s_e**b ln s_e)`` (``r`` failures, ``s`` the times divided by the group's largest time so
    that ``s**b <= 1`` never overflows). Newton-Raphson on ``u = ln b``, kept inside a bracket that shrinks with the
    sign of ``g``, bisecting when a step leaves it.

    Parameters
    ----------
    log_s : array (n,) [-]
        ln(time / group maximum time), rows sorted by group.
    log_se : array (n,) [-]
        ln(entry / group maximum time); ``-inf`` where entry = 0.
    weight : array (n,) [units]
        ``count`` per row.
    fail_weight : array (n,) [units]
        ``count`` for failure rows, 0 for suspensions.
    starts : array (G,) of int
        Index of each group's first row.
    active : array (G,) of bool
        Groups to solve (others are left at shape 1).
    tol : float
        Stop when |step in ln shape| < tol.
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    shape : array (G,) [-]
    converged : array (G,) of bool
    iterations : array (G,) of int
    """
    n_groups = starts.size
    sizes = np.diff(np.append(starts, log_s.size))
    grp = np.repeat(np.arange(n_groups), sizes)
    r = np.add.reduceat(fail_weight, starts)
    s_lf = np.add.reduceat(fail_weight * log_s, starts)
    trunc = np.isfinite(log_se)
    lse = np.where(trunc, log_se, 0.0)
    u = np.zeros(n_groups)
    lo = np.full(n_groups, -np.inf)
    hi = np.full(n_groups, np.inf)
    todo = active.copy()
    converged = np.zeros(n_groups, dtype=bool)
    iterations = np.zeros(n_groups, dtype=np.int64)
    for _ in range(max_iter):
        if not todo.any():
            break
        b = np.exp(u)
        bg = b[grp]
        sb = np.exp(bg * log_s)
        seb = np.where(trunc, np.exp(bg * lse), 0.0)
        a0 = np.add.reduceat(weight * (sb - seb), starts)
        a1 = np.add.reduceat(weight * (sb * log_s - seb * lse), starts)
        a2 = np.add.reduceat(weight * (sb * log_s**2 - seb * lse**2), starts)
        m1 = a1 / a0
        var = a2 / a0 - m1 * m1
        score = r / b + s_lf - r * m1  # d profile / d b
        # bracket the root (the profile is concave in b without truncation)
        lo = np.where(todo & (score > 0), np.maximum(lo, u), lo)
        hi = np.where(todo & (score <= 0), np.minimum(hi, u), hi)
        d2 = -r / b**2 - r * var  # d2 profile / d b2
        # Newton on u = ln b: dh/du where h = b * score
        h = b * score
        dh = h + b * b * d2
        step = np.where(dh < 0, -h / np.where(dh < 0, dh, -1.0), np.sign(h))
        step = np.clip(step, -2.0, 2.0)
        done = todo & (np.abs(step) < tol)
        new_u = u + step
        outside = (new_u <= lo) | (new_u >= hi)
        both = np.isfinite(lo) & np.isfinite(hi) & (lo < hi)
        mid = 0.5 * (np.where(both, lo, 0.0) + np.where(both, hi, 0.0))
        new_u = np.where(outside & both & ~done, mid, new_u)
        new_u = np.where(todo, new_u, u)
        iterations += todo
        u = new_u
        converged |= done
        todo &= ~done
    return np.exp(u), converged, iterations


def _lls_group_loglik(
    dist: type[_StdDist],
    theta: FloatArray,
    rows: LifeData,
    grp: NDArray[np.intp],
    starts: NDArray[np.intp],
    grad: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Log-likelihood of a log-location-scale model per group and its gradient in ``(mu, ln sigma)``.

    The same sums as the single-group kernel of :mod:`zk_forecast.failures._likelihood`, every group at once.

    Parameters
    ----------
    dist : standard distribution of ``z = (ln t - mu) / sigma``
    theta : array (G, 2)
        ``mu`` [ln h] and ``ln sigma`` [-] of each group.
    rows : LifeData
        Rows sorted by group.
    grp : array (n,) of int
        Group of each row.
    starts : array (G,) of int
        Index of each group's first row.
    grad : bool
        Also return the gradient (else zeros).

    Returns
    -------
    loglik : array (G,)
    gradient : array (G, 2)
    """
    mu = theta[:, 0][grp]
    ls = theta[:, 1][grp]
    sigma = np.exp(ls)
    w = rows.weight
    exact = rows.exact
    trunc = rows.entry > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        zl = (np.log(rows.lower) - mu) / sigma
        zu = (np.log(rows.upper) - mu) / sigma
        ll_exact = dist.logpdf(zl) - ls - np.log(rows.lower)
        lp = _log_interval_prob(dist, zl, np.where(exact, np.inf, zu))
        zt = (np.log(np.where(trunc, rows.entry, 1.0)) - mu) / sigma
        st = np.where(trunc, dist.logsf(zt), 0.0)
        ll_row = w * (np.where(exact, ll_exact, lp) - st)
        ll = np.add.reduceat(ll_row, starts)
        g = np.zeros((starts.size, 2))
        if grad:
            d = dist.dlogpdf(zl)
            gl = np.where(np.isfinite(zl), -np.exp(dist.logpdf(zl) - lp), 0.0)
            gu = np.where(np.isfinite(zu), np.exp(dist.logpdf(zu) - lp), 0.0)
            gl_z = np.where(np.isfinite(zl), gl * zl, 0.0)
            gu_z = np.where(np.isfinite(zu), gu * zu, 0.0)
            ht = np.where(trunc, np.exp(dist.logpdf(zt) - st), 0.0)
            g_mu = np.where(exact, -d / sigma, -(gl + gu) / sigma) - ht / sigma
            g_ls = np.where(exact, -d * zl - 1.0, -(gl_z + gu_z)) - np.where(trunc, ht * zt, 0.0)
            g[:, 0] = np.add.reduceat(w * g_mu, starts)
            g[:, 1] = np.add.reduceat(w * g_ls, starts)
    ll = np.where(np.isfinite(ll), ll, -np.inf)
    return ll, g


def _lls_group_hessian(
    dist: type[_StdDist],
    theta: FloatArray,
    rows: LifeData,
    grp: NDArray[np.intp],
    starts: NDArray[np.intp],
) -> FloatArray:
    """Hessian (G, 2, 2) of the per-group log-likelihood: central differences of the analytic gradient.

    Steps ``1e-5 * max(1, |theta_j|)``, as the single-group fit uses, so the Wald intervals agree with it.
    """
    hess = np.zeros((theta.shape[0], 2, 2))
    for j in range(2):
        eps = 1e-5 * np.maximum(1.0, np.abs(theta[:, j]))
        tp, tm = theta.copy(), theta.copy()
        tp[:, j] += eps
        tm[:, j] -= eps
        gp = _lls_group_loglik(dist, tp, rows, grp, starts)[1]
        gm = _lls_group_loglik(dist, tm, rows, grp, starts)[1]
        hess[:, :, j] = (gp - gm) / (2 * eps)[:, None]
    return 0.5 * (hess + hess.transpose(0, 2, 1))


def lls_group_newton(
    dist: type[_StdDist],
    theta0: FloatArray,
    rows: LifeData,
    starts: NDArray[np.intp],
    active: NDArray[np.bool_],
    fixed_sigma: NDArray[np.bool_],
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.int64]]:
    """Maximum likelihood of a log-location-scale model for many groups at once (any censoring, truncation).

    Newton-Raphson in ``(mu, ln sigma)`` for all groups in lock-step, with a per-group step-halving line search
    (the log-likelihood never falls) and a gradient step where the Hessian is not negative definite. Serves the
    lognormal family and interval-censored groups of every family; ``fixed_sigma`` groups keep ``ln sigma`` at
    its start (exponential, or an assumed spread).

    Parameters
    ----------
    dist : standard distribution of ``z = (ln t - mu) / sigma``
    theta0 : array (G, 2)
        Start ``(mu [ln h], ln sigma [-])`` per group.
    rows : LifeData
        Rows sorted by group.
    starts : array (G,) of int
        Index of each group's first row.
    active : array (G,) of bool
        Groups to solve (the others keep ``theta0``).
    fixed_sigma : array (G,) of bool
        Groups whose ``ln sigma`` is held fixed.
    tol : float
        Stop when the largest Newton step component < tol.
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    theta : array (G, 2)
    converged : array (G,) of bool
    iterations : array (G,) of int
    """
    n_groups = starts.size
    sizes = np.diff(np.append(starts, rows.lower.size))
    grp = np.repeat(np.arange(n_groups), sizes)
    theta = np.array(theta0, dtype=float)
    todo = active.copy()
    converged = np.zeros(n_groups, dtype=bool)
    iterations = np.zeros(n_groups, dtype=np.int64)
    for _ in range(max_iter):
        if not todo.any():
            break
        ll, g = _lls_group_loglik(dist, theta, rows, grp, starts)
        hess = _lls_group_hessian(dist, theta, rows, grp, starts)
        g[fixed_sigma, 1] = 0.0
        hess[fixed_sigma, 0, 1] = hess[fixed_sigma, 1, 0] = 0.0
        hess[fixed_sigma, 1, 1] = -1.0
        a, b, d = hess[:, 0, 0], hess[:, 0, 1], hess[:, 1, 1]
        det = a * d - b * b
        neg_def = (a < 0) & (det > 0) & np.isfinite(det)
        safe_det = np.where(neg_def, det, 1.0)
        newton = np.stack([-(d * g[:, 0] - b * g[:, 1]), -(-b * g[:, 0] + a * g[:, 1])], axis=1) / safe_det[:, None]
        gnorm = np.sqrt((g * g).sum(axis=1))
        ascent = g / np.maximum(1.0, gnorm)[:, None]
        step = np.where(neg_def[:, None], newton, ascent)
        step = np.where(np.isfinite(step), step, 0.0)
        # at most 2 per component, shrunk as a whole: clipping one component alone can turn an ascent direction
        # into a descent one, where no step halving helps
        step = step * np.minimum(1.0, 2.0 / np.maximum(np.abs(step).max(axis=1), 1e-300))[:, None]
        step[~todo] = 0.0
        done = todo & neg_def & (np.abs(step).max(axis=1) < tol)
        # step halving per group until the log-likelihood does not fall
        lam = np.ones(n_groups)
        pending = todo & ~done
        for _ in range(40):
            if not pending.any():
                break
            cand = theta + lam[:, None] * step
            ll_c = _lls_group_loglik(dist, cand, rows, grp, starts, grad=False)[0]
            ok = ll_c >= ll - 1e-12 * np.abs(ll)
            pending &= ~ok
            lam = np.where(pending, lam / 2, lam)
        lam = np.where(pending, 0.0, lam)  # no ascent found: stay where it is
        theta = theta + np.where((todo & ~done)[:, None], lam[:, None] * step, 0.0)
        iterations += todo
        stalled = todo & ~done & (lam == 0.0)
        # at the optimum to rounding, a tiny Newton step may not raise the log-likelihood any more
        converged |= done | (stalled & neg_def & (np.abs(step).max(axis=1) < 1e-7))
        todo &= ~(done | stalled)
    return theta, converged, iterations


def _sev_start_mu(rows: LifeData, starts: NDArray[np.intp], r: FloatArray) -> FloatArray:
    """Start of ``mu = ln scale`` per group: ln(total time / failures), interval rows at their midpoints."""
    t_mid = np.where(np.isfinite(rows.upper), 0.5 * (rows.lower + rows.upper), rows.lower)
    total = np.add.reduceat(rows.weight * (t_mid - rows.entry), starts)
    return np.log(np.maximum(total, 1e-300) / np.maximum(r, 1.0))


def _solve_lls_groups(
    dist: type[_StdDist],
    rows: LifeData,
    starts: NDArray[np.intp],
    grp: NDArray[np.intp],
    active: NDArray[np.bool_],
    fixed_sigma: NDArray[np.bool_],
    theta0: FloatArray,
    tol: float,
    max_iter: int,
) -> dict[str, NDArray[Any]]:
    """Run :func:`lls_group_newton` and return ``mu``, ``ls`` (ln sigma), their Wald standard errors from the
    observed information (``se_ls`` 0 where sigma is fixed), ``loglik``, ``converged`` and ``iterations``."""
    theta, conv, iters = lls_group_newton(
        dist, theta0, rows, starts, active, fixed_sigma, tol=tol, max_iter=max_iter
    )
    ll = _lls_group_loglik(dist, theta, rows, grp, starts, grad=False)[0]
    hess = _lls_group_hessian(dist, theta, rows, grp, starts)
    a, b, d = hess[:, 0, 0], hess[:, 0, 1], hess[:, 1, 1]
    det = a * d - b * b
    with np.errstate(invalid="ignore", divide="ignore"):
        var_mu = np.where(fixed_sigma, -1.0 / a, -d / det)
        var_ls = np.where(fixed_sigma, 0.0, -a / det)
    return {
        "mu": theta[:, 0],
        "ls": theta[:, 1],
        "se_mu": np.sqrt(np.where(var_mu > 0, var_mu, np.nan)),
        "se_ls": np.sqrt(np.where(var_ls >= 0, var_ls, np.nan)),
        "loglik": ll,
        "converged": conv,
        "iterations": iters,
    }


def _fit_lognormal(
    rows: LifeData,
    starts: NDArray[np.intp],
    grp: NDArray[np.intp],
    r: FloatArray,
    step: NDArray[np.bool_],
    step_at: FloatArray,
    step_loglik: FloatArray,
    sigma0: float,
    level: float,
    tol: float,
    max_iter: int,
) -> pd.DataFrame:
    """The lognormal branch of :func:`fit_groups` (columns without the counts)."""
    n_groups = starts.size
    zq = float(stats.norm.ppf(0.5 + level / 2))
    no_fail = r == 0
    one_fail = r == 1
    unbounded = step
    mle = ~(no_fail | one_fail | unbounded)
    # start: weighted mean and spread of ln t (interval rows at their midpoints), as the single-group fit
    t_mid = np.where(np.isfinite(rows.upper), 0.5 * (rows.lower + rows.upper), rows.lower)
    t_mid = np.where(t_mid > 0, t_mid, rows.upper)
    y = np.log(t_mid)
    wsum = np.add.reduceat(rows.weight, starts)
    ybar = np.add.reduceat(rows.weight * y, starts) / wsum
    sd = np.sqrt(np.add.reduceat(rows.weight * (y - ybar[grp]) ** 2, starts) / wsum)
    ls0 = np.where(one_fail, math.log(sigma0), np.log(np.maximum(sd, 0.1)))
    theta0 = np.column_stack([ybar, ls0])
    fit = _solve_lls_groups(_Normal, rows, starts, grp, mle | one_fail, one_fail, theta0, tol, max_iter)
    mu, ls = fit["mu"], fit["ls"]
    out = {
        "mu": mu,
        "sigma": np.exp(ls),
        "loglik": fit["loglik"],
        "mu_lo": mu - zq * fit["se_mu"],
        "mu_hi": mu + zq * fit["se_mu"],
        "sigma_lo": np.exp(ls - zq * fit["se_ls"]),
        "sigma_hi": np.exp(ls + zq * fit["se_ls"]),
    }
    converged = np.where(mle | one_fail, fit["converged"], True)
    iterations = np.where(mle | one_fail, fit["iterations"], 0).astype(np.int64)
    # no failures: the median's lower bound, sigma assumed: P(no failure | mu_lo) = 1 - level
    if no_fail.any():
        lo = np.minimum.reduceat(np.log(np.where(rows.lower > 0, rows.lower, 1.0)), starts) - 40 * sigma0
        hi = np.maximum.reduceat(np.log(np.where(rows.lower > 0, rows.lower, 1.0)), starts) + 40 * sigma0
        target = math.log1p(-level)
        trunc = rows.entry > 0
        with np.errstate(divide="ignore"):
            y_l = np.log(rows.lower)
            y_e = np.log(np.where(trunc, rows.entry, 1.0))
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            m = mid[grp]
            lsf = _Normal.logsf((y_l - m) / sigma0) - np.where(trunc, _Normal.logsf((y_e - m) / sigma0), 0.0)
            above = np.add.reduceat(rows.weight * lsf, starts) > target
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        bound = 0.5 * (lo + hi)
        theta_nf = np.column_stack([bound, np.full(n_groups, math.log(sigma0))])
        ll_nf = _lls_group_loglik(_Normal, theta_nf, rows, grp, starts, grad=False)[0]
        nf_values: list[tuple[str, FloatArray | float]] = [
            ("mu", bound), ("mu_lo", bound), ("mu_hi", math.inf), ("sigma", sigma0),
            ("sigma_lo", sigma0), ("sigma_hi", sigma0), ("loglik", ll_nf),
        ]
        for col, val in nf_values:
            out[col] = np.where(no_fail, val, out[col])
    for col in ("sigma_lo", "sigma_hi"):
        out[col] = np.where(one_fail, sigma0, out[col])
    status = np.full(n_groups, "ok", dtype=object)
    method = np.full(n_groups, "mle", dtype=object)
    status[no_fail] = "no_failures"
    status[one_fail] = "one_failure"
    method[no_fail | one_fail] = "assumed_sigma"
    status[unbounded] = "shape_unbounded"
    method[unbounded] = "none"
    converged = np.where(unbounded, False, converged)
    out["mu"] = np.where(unbounded, np.log(np.where(unbounded, step_at, 1.0)), out["mu"])
    out["sigma"] = np.where(unbounded, 0.0, out["sigma"])
    out["loglik"] = np.where(unbounded, step_loglik, out["loglik"])
    for col in ("mu_lo", "mu_hi", "sigma_lo", "sigma_hi"):
        out[col] = np.where(unbounded, np.nan, out[col])
    return pd.DataFrame(
        {
            "status": status,
            "method": method,
            "mu": out["mu"],
            "sigma": out["sigma"],
            "loglik": out["loglik"],
            "converged": converged,
            "iterations": iterations,
            "mu_lo": out["mu_lo"],
            "mu_hi": out["mu_hi"],
            "sigma_lo": out["sigma_lo"],
            "sigma_hi": out["sigma_hi"],
        }
    )


def _group_index(df: pd.DataFrame, by: Sequence[str]) -> tuple[NDArray[np.intp], pd.Index]:
    grouper = df.groupby(list(by), sort=True, observed=True, dropna=False)
    codes = grouper.ngroup().to_numpy()
    keys = grouper.size().index
    return codes, keys


def fit_groups(
    df: pd.DataFrame,
    by: str | Sequence[str],
    time: str,
    censored: str | None = None,
    count: str | None = None,
    entry: str | None = None,
    family: str = "weibull",
    level: float = 0.95,
    weibayes_shape: float = 2.0,
    tol: float = 1e-10,
    max_iter: int = 100,
    upper: str | None = None,
    assumed_sigma: float | None = None,
) -> pd.DataFrame:
    """Fit a Weibull, lognormal or exponential life model to every group of ``df`` in one vectorised solve.

    Parameters
    ----------
    df : DataFrame
        One row per unit (or per ``count`` identical units).
    by : str or list of str
        Column(s) naming the groups, e.g. ``["component", "model"]``.
    time : str
        Column of failure / suspension ages [h], > 0; with ``upper``, the lower ends of the intervals [h], >= 0.
    censored : str, optional
        Column of 0/1 flags: 1 = suspension (still running), 0 = failure. Default: every row a failure.
    count : str, optional
        Column of whole numbers >= 1 (identical units). Default 1.
    entry : str, optional
        Column of ages [h] at which observation began (left truncation), 0 <= entry < time. Default 0.
    family : {"weibull", "lognormal", "exponential"}
        Weibull F(t) = 1 - exp(-(t / scale) ** shape); lognormal F(t) = Phi((ln t - mu) / sigma); exponential
        F(t) = 1 - exp(-t / scale), shape fixed at 1.
    level : float
        Confidence level of the intervals (and of the Weibayes bound), 0 < level < 1.
    weibayes_shape : float
        Assumed Weibull shape [-] for groups with zero or one failure (see the module docstring). Default 2.0.
        Ignored by the exponential family (shape 1).
    tol : float
        Convergence tolerance on ln shape.
    max_iter : int
        Newton iterations at most; groups not converged by then have ``converged = False``.
    upper : str, optional
        Column of the upper ends of interval-censored lives [h] (``inf`` = suspension at ``time``); not together
        with ``censored``. Default: no intervals.
    assumed_sigma : float, optional
        Lognormal ``sigma`` [-] assumed for groups with zero or one failure. Default
        ``pi / (sqrt(6) * weibayes_shape)``.

    Returns
    -------
    DataFrame
        Indexed by the group keys (sorted), columns ``status``, ``method``, ``shape`` [-], ``scale`` [h],
        ``loglik``, ``n_failures``, ``n_censored``, ``n_units``, ``converged``, ``iterations``, ``shape_lo``,
        ``shape_hi``, ``scale_lo``, ``scale_hi`` (Wald intervals on the log scale for ``status == "ok"``;
        see the module docstring for the other statuses). Lognormal: ``mu``, ``sigma`` and their bounds in place of
        ``shape``, ``scale`` and theirs.

    Raises
    ------
    ZkValueError
        Unknown family or column, bad settings, or bad data (the message names the row).
    """
    if not isinstance(df, pd.DataFrame):
        raise ZkTypeError(f"`df` must be a pandas DataFrame; got {type(df).__name__}.")
    by_cols = [by] if isinstance(by, str) else list(by)
    if family not in _FAMILIES:
        raise ZkValueError(
            f"The 'family' parameter of fit_groups must be one of {list(_FAMILIES)}. Got {family!r} instead. "
            "Fix: fit other families group by group (e.g. Weibull3P().fit)."
        )
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise ZkValueError(f"The 'level' parameter of fit_groups must be in (0, 1). Got {level!r} instead.")
    if not (isinstance(weibayes_shape, float | int) and weibayes_shape > 0):
        raise ZkValueError(
            f"The 'weibayes_shape' parameter of fit_groups must be a number > 0. Got {weibayes_shape!r} instead."
        )
    for label, col in [("by", c) for c in by_cols] + [
        ("time", time),
        ("censored", censored),
        ("count", count),
        ("entry", entry),
    ]:
        if col is not None and col not in df.columns:
            raise ZkValueError(
                f"`{label}` column {col!r} is not in the table; columns are {list(df.columns)}."
            )
    if len(df) == 0:
        raise ZkValueError("`df` has no rows; fit_groups needs at least one unit. Fix: pass data.")

    if upper is not None and censored is not None:
        raise ZkValueError(
            f"fit_groups got both `censored` ({censored!r}) and `upper` ({upper!r}); an interval (lower, upper) "
            "already says whether a row is a failure (lower == upper), a suspension (upper = inf) or an interval. "
            "Fix: drop `censored` when giving `upper`."
        )
    sigma0 = math.pi / (math.sqrt(6.0) * float(weibayes_shape)) if assumed_sigma is None else assumed_sigma
    if not (isinstance(sigma0, float | int) and math.isfinite(sigma0) and sigma0 > 0):
        raise ZkValueError(
            f"The 'assumed_sigma' parameter of fit_groups must be a number > 0 [-]. Got {assumed_sigma!r} instead."
        )
    time_values = df[time].to_numpy()
    if upper is not None:
        time_values = np.column_stack(
            [pd.to_numeric(df[time], errors="coerce"), pd.to_numeric(df[upper], errors="coerce")]
        ).astype(float)
    data = check_life_data(
        time_values,
        None if censored is None else df[censored].to_numpy(),
        None if count is None else df[count].to_numpy(),
        None if entry is None else df[entry].to_numpy(),
    )
    codes, keys = _group_index(df, by_cols)
    order = np.argsort(codes, kind="stable")
    codes_s = codes[order]
    starts = np.flatnonzero(np.r_[True, codes_s[1:] != codes_s[:-1]])
    n_groups = starts.size
    t = data.lower[order]
    e = data.entry[order]
    w = data.weight[order]
    up = data.upper[order]
    rows = LifeData(lower=t, upper=up, weight=w, entry=e)
    failed = np.isfinite(up)
    wf = np.where(failed, w, 0.0)
    sizes = np.diff(np.append(starts, t.size))
    grp = np.repeat(np.arange(n_groups), sizes)

    r = np.add.reduceat(wf, starts)
    n_units = np.add.reduceat(w, starts)
    # groups with a left- or interval-censored row go to the general solver (lls_group_newton)
    has_int = np.maximum.reduceat((failed & (t != up)).astype(np.int64), starts) > 0
    t_pos = np.where(t > 0, t, 1.0)  # lower ends of 0 occur only in interval groups, never read there
    tmax = np.maximum.reduceat(t_pos, starts)
    # a step: some instant lies in every failure's (lower, upper] (or is every exact failure's time) with no unit
    # seen running beyond it; the likelihood then rises without bound (exact failures) or towards 1 (intervals
    # only) as the spread goes to 0, and has no maximum
    exact_row = failed & (t == up)
    up_min = np.minimum.reduceat(np.where(failed, up, np.inf), starts)
    lo_max = np.maximum(
        np.maximum.reduceat(np.where(failed, t, -np.inf), starts),
        np.maximum.reduceat(np.where(failed, -np.inf, t), starts),
    )
    exact_at = np.maximum.reduceat((exact_row & (t == up_min[grp])).astype(np.int64), starts) > 0
    step = (r > 1) & ((lo_max < up_min) | ((lo_max == up_min) & exact_at))
    step_loglik = np.where(exact_at, np.inf, 0.0)
    sum_lf = np.add.reduceat(wf * np.log(t_pos), starts)

    out = {
        c: np.full(n_groups, np.nan)
        for c in ["shape", "scale", "loglik", "shape_lo", "shape_hi", "scale_lo", "scale_hi"]
    }
    status = np.full(n_groups, "ok", dtype=object)
    method = np.full(n_groups, "mle", dtype=object)
    converged = np.ones(n_groups, dtype=bool)
    iterations = np.zeros(n_groups, dtype=np.int64)
    zq = float(stats.norm.ppf(0.5 + level / 2))

    if family == "lognormal":
        result = _fit_lognormal(rows, starts, grp, r, step, up_min, step_loglik, float(sigma0), level, tol,
                                max_iter)
        result.insert(4, "n_failures", r)
        result.insert(5, "n_censored", n_units - r)
        result.insert(6, "n_units", n_units)
        result.index = keys
        result.attrs.update({"family": family, "level": level, "assumed_sigma": float(sigma0)})
        return result
    if family == "exponential":
        exposure = np.add.reduceat(w * (t - e), starts)
        ok = r > 0
        scale = exposure / np.where(ok, r, 1.0)
        se = 1.0 / np.sqrt(np.where(ok, r, 1.0))
        out["shape"][:] = 1.0
        out["shape_lo"][:] = 1.0
        out["shape_hi"][:] = 1.0
        out["scale"] = np.where(ok, scale, exposure / -np.log1p(-level))
        out["scale_lo"] = np.where(ok, scale * np.exp(-zq * se), out["scale"])
        out["scale_hi"] = np.where(ok, scale * np.exp(zq * se), np.inf)
        status[~ok] = "no_failures"
        method[~ok] = "weibayes"
        out["loglik"] = -r * np.log(out["scale"]) - exposure / out["scale"]
        solve = has_int & ok
        if solve.any():  # interval-censored groups: maximum likelihood in ln scale (sigma fixed at 1)
            theta0 = np.column_stack([_sev_start_mu(rows, starts, r), np.zeros(n_groups)])
            fit = _solve_lls_groups(_SEV, rows, starts, grp, solve, np.ones(n_groups, bool), theta0, tol, max_iter)
            out["scale"] = np.where(solve, np.exp(fit["mu"]), out["scale"])
            out["scale_lo"] = np.where(solve, np.exp(fit["mu"] - zq * fit["se_mu"]), out["scale_lo"])
            out["scale_hi"] = np.where(solve, np.exp(fit["mu"] + zq * fit["se_mu"]), out["scale_hi"])
            out["loglik"] = np.where(solve, fit["loglik"], out["loglik"])
            converged = np.where(solve, fit["converged"], converged)
            iterations = np.where(solve, fit["iterations"], iterations)
    else:
        no_fail = r == 0
        one_fail = r == 1
        unbounded = step
        mle = ~(no_fail | one_fail | unbounded | has_int)
        log_s = np.log(t_pos / tmax[grp])
        with np.errstate(divide="ignore"):
            log_se = np.log(np.where(has_int[grp], 0.0, e) / tmax[grp])
        shape, conv, iters = weibull_profile_newton(
            log_s, log_se, w, wf, starts, mle, tol=tol, max_iter=max_iter
        )
        b = shape
        bg = b[grp]
        trunc = e > 0
        lse = np.where(trunc, log_se, 0.0)
        sb = np.exp(bg * log_s)
        seb = np.where(trunc, np.exp(bg * lse), 0.0)
        a0 = np.add.reduceat(w * (sb - seb), starts)
        r_safe = np.where(r > 0, r, 1.0)
        log_eta = np.log(tmax) + np.log(a0 / r_safe) / b
        # observed information of (ln shape, ln scale) at the MLE
        lv = (log_eta - np.log(tmax))[grp]
        z = bg * (log_s - lv)
        ze = bg * (lse - lv)
        x = np.exp(z)
        xe = np.where(trunc, np.exp(ze), 0.0)
        ze = np.where(trunc, ze, 0.0)
        h_uu = np.add.reduceat(wf * z - w * (x * z * (z + 1) - xe * ze * (ze + 1)), starts)
        h_uv = -b * r + b * np.add.reduceat(w * (x * (z + 1) - xe * (ze + 1)), starts)
        h_vv = -(b**2) * np.add.reduceat(w * (x - xe), starts)
        det = h_uu * h_vv - h_uv**2
        with np.errstate(invalid="ignore", divide="ignore"):
            se_u = np.sqrt(-h_vv / det)
            se_v = np.sqrt(-h_uu / det)
        eta = np.exp(log_eta)
        loglik = (
            r * (np.log(b) - log_eta)
            + (b - 1) * (sum_lf - r * log_eta)
            - np.add.reduceat(w * (x - xe), starts)
        )
        out["shape"] = np.where(mle, b, np.nan)
        out["scale"] = np.where(mle, eta, np.nan)
        out["loglik"] = np.where(mle, loglik, np.nan)
        out["shape_lo"] = b * np.exp(-zq * se_u)
        out["shape_hi"] = b * np.exp(zq * se_u)
        out["scale_lo"] = eta * np.exp(-zq * se_v)
        out["scale_hi"] = eta * np.exp(zq * se_v)
        converged = np.where(mle, conv, True)
        iterations = np.where(mle, iters, 0)

        # Weibayes for zero or one failure (shape assumed)
        k = float(weibayes_shape)
        exposure_k = np.add.reduceat(w * (t**k - e**k), starts)
        wb = no_fail | one_fail
        nf_scale = (exposure_k / -np.log1p(-level)) ** (1 / k)
        of_scale = exposure_k ** (1 / k)
        of_lo = (2 * exposure_k / stats.chi2.ppf(0.5 + level / 2, 4)) ** (1 / k)
        of_hi = (2 * exposure_k / stats.chi2.ppf(0.5 - level / 2, 2)) ** (1 / k)
        for col, nf_val, of_val in [
            ("shape", k, k),
            ("shape_lo", k, k),
            ("shape_hi", k, k),
            ("scale", nf_scale, of_scale),
            ("scale_lo", nf_scale, of_lo),
            ("scale_hi", np.inf, of_hi),
        ]:
            out[col] = np.where(no_fail, nf_val, np.where(one_fail, of_val, out[col]))
        wb_scale = out["scale"]
        wb_loglik = r * (np.log(k) - k * np.log(wb_scale)) + (k - 1) * sum_lf - exposure_k / wb_scale**k
        out["loglik"] = np.where(wb, wb_loglik, out["loglik"])
        status[no_fail] = "no_failures"
        status[one_fail] = "one_failure"
        method[wb] = "weibayes"
        # a step at t0: shape -> inf
        status[unbounded] = "shape_unbounded"
        method[unbounded] = "none"
        converged = np.where(unbounded, False, converged)
        out["shape"] = np.where(unbounded, np.inf, out["shape"])
        out["scale"] = np.where(unbounded, up_min, out["scale"])
        out["loglik"] = np.where(unbounded, step_loglik, out["loglik"])
        for col in ("shape_lo", "shape_hi", "scale_lo", "scale_hi"):
            out[col] = np.where(unbounded, np.nan, out[col])
        # interval-censored groups: maximum likelihood by the general solver (shape fixed at k for one failure)
        int_mle = has_int & (r > 1) & ~unbounded
        int_one = has_int & one_fail
        solve = int_mle | int_one
        if solve.any():
            theta0 = np.column_stack(
                [_sev_start_mu(rows, starts, r), np.where(int_one, -math.log(k), 0.0)]
            )
            fit = _solve_lls_groups(_SEV, rows, starts, grp, solve, int_one, theta0, tol, max_iter)
            shape_i = np.exp(-fit["ls"])
            cols = {
                "shape": shape_i,
                "scale": np.exp(fit["mu"]),
                "shape_lo": np.exp(-fit["ls"] - zq * fit["se_ls"]),
                "shape_hi": np.exp(-fit["ls"] + zq * fit["se_ls"]),
                "scale_lo": np.exp(fit["mu"] - zq * fit["se_mu"]),
                "scale_hi": np.exp(fit["mu"] + zq * fit["se_mu"]),
                "loglik": fit["loglik"],
            }
            for col, val in cols.items():
                if col in ("shape_lo", "shape_hi"):
                    val = np.where(int_one, k, val)
                out[col] = np.where(solve, val, out[col])
            converged = np.where(solve, fit["converged"], converged)
            iterations = np.where(solve, fit["iterations"], iterations)

    result = pd.DataFrame(
        {
            "status": status,
            "method": method,
            "shape": out["shape"],
            "scale": out["scale"],
            "loglik": out["loglik"],
            "n_failures": r,
            "n_censored": n_units - r,
            "n_units": n_units,
            "converged": converged,
            "iterations": iterations,
            "shape_lo": out["shape_lo"],
            "shape_hi": out["shape_hi"],
            "scale_lo": out["scale_lo"],
            "scale_hi": out["scale_hi"],
        },
        index=keys,
    )
    result.attrs.update({"family": family, "level": level, "weibayes_shape": weibayes_shape})
    return result[_COLUMNS]
