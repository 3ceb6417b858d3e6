"""Fit a life model to every group of a table at once (e.g. component x machine model).

:func:`fit_groups` sorts the rows by group and solves all groups together with numpy (``np.add.reduceat`` over the
sorted rows; no Python loop over groups): the Weibull scale is profiled out and a safeguarded Newton-Raphson on
``ln shape`` runs for all groups in lock-step. The answers equal :class:`zk_forecast.failures.lifetimes.Weibull`
fitted group by group (to 1e-6 relative or better).

Parameterisation: Weibull F(t) = 1 - exp(-(t / scale) ** shape), ``shape`` [-], ``scale`` [h]; exponential
F(t) = 1 - exp(-t / scale), ``scale`` [h] = mean life. Data conventions (``censored`` 1 = suspension, 0 = failure;
``count``; ``entry`` for left truncation) are those of :mod:`zk_forecast.failures.lifetimes`. Interval censoring is
not handled here: fit such groups with ``Weibull().fit`` one by one.

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
    shape assumed as above; ``method = "weibayes"``.
``"shape_unbounded"``
    Every failure falls at the same instant ``t0`` and no unit was seen running beyond it (for instance a group of
    one unit that failed): the likelihood grows without bound as shape -> infinity (a step at ``t0``).
    Reported: ``shape = inf``, ``scale = t0`` (the limit of the profile scale), ``converged = False``,
    ``method = "none"``, intervals NaN.

``loglik`` is the log-likelihood at the reported parameters (densities in 1/[unit of time]; ``inf`` for
``shape_unbounded``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.failures.lifetimes import check_life_data

__all__ = ["fit_groups", "weibull_profile_newton"]

FloatArray = NDArray[np.float64]
_FAMILIES = ("weibull", "exponential")
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
) -> pd.DataFrame:
    """Fit a Weibull (or exponential) life model to every group of ``df`` in one vectorised solve.

    Parameters
    ----------
    df : DataFrame
        One row per unit (or per ``count`` identical units).
    by : str or list of str
        Column(s) naming the groups, e.g. ``["component", "model"]``.
    time : str
        Column of failure / suspension ages [h], > 0.
    censored : str, optional
        Column of 0/1 flags: 1 = suspension (still running), 0 = failure. Default: every row a failure.
    count : str, optional
        Column of whole numbers >= 1 (identical units). Default 1.
    entry : str, optional
        Column of ages [h] at which observation began (left truncation), 0 <= entry < time. Default 0.
    family : {"weibull", "exponential"}
        Weibull F(t) = 1 - exp(-(t / scale) ** shape); exponential F(t) = 1 - exp(-t / scale), shape fixed at 1.
    level : float
        Confidence level of the intervals (and of the Weibayes bound), 0 < level < 1.
    weibayes_shape : float
        Assumed Weibull shape [-] for groups with zero or one failure (see the module docstring). Default 2.0.
        Ignored by the exponential family (shape 1).
    tol : float
        Convergence tolerance on ln shape.
    max_iter : int
        Newton iterations at most; groups not converged by then have ``converged = False``.

    Returns
    -------
    DataFrame
        Indexed by the group keys (sorted), columns ``status``, ``method``, ``shape`` [-], ``scale`` [h],
        ``loglik``, ``n_failures``, ``n_censored``, ``n_units``, ``converged``, ``iterations``, ``shape_lo``,
        ``shape_hi``, ``scale_lo``, ``scale_hi`` (Wald intervals on the log scale for ``status == "ok"``;
        see the module docstring for the other statuses).

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
            "Fix: fit other families group by group with LogNormal().fit."
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

    data = check_life_data(
        df[time].to_numpy(),
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
    failed = np.isfinite(data.upper[order])
    wf = np.where(failed, w, 0.0)
    sizes = np.diff(np.append(starts, t.size))
    grp = np.repeat(np.arange(n_groups), sizes)

    r = np.add.reduceat(wf, starts)
    n_units = np.add.reduceat(w, starts)
    tmax = np.maximum.reduceat(t, starts)
    tf_min = np.minimum.reduceat(np.where(failed, t, np.inf), starts)
    tf_max = np.maximum.reduceat(np.where(failed, t, -np.inf), starts)
    sum_lf = np.add.reduceat(wf * np.log(t), starts)

    out = {
        c: np.full(n_groups, np.nan)
        for c in ["shape", "scale", "loglik", "shape_lo", "shape_hi", "scale_lo", "scale_hi"]
    }
    status = np.full(n_groups, "ok", dtype=object)
    method = np.full(n_groups, "mle", dtype=object)
    converged = np.ones(n_groups, dtype=bool)
    iterations = np.zeros(n_groups, dtype=np.int64)
    zq = float(stats.norm.ppf(0.5 + level / 2))

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
    else:
        no_fail = r == 0
        one_fail = r == 1
        unbounded = (r > 1) & (tf_min == tf_max) & (tmax <= tf_max)
        mle = ~(no_fail | one_fail | unbounded)
        log_s = np.log(t / tmax[grp])
        with np.errstate(divide="ignore"):
            log_se = np.log(e / tmax[grp])
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
        out["scale"] = np.where(unbounded, tf_max, out["scale"])
        out["loglik"] = np.where(unbounded, np.inf, out["loglik"])
        for col in ("shape_lo", "shape_hi", "scale_lo", "scale_hi"):
            out[col] = np.where(unbounded, np.nan, out[col])

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
