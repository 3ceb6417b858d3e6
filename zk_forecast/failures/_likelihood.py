"""Life-data checking and the censored, truncated log-likelihood of log-location-scale families (array kernels).

Private module behind :mod:`zk_forecast.failures.lifetimes` (see its docstring for the data conventions and the
parameterisations). Everything here is a pure function over numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from zk_forecast.errors import ZkTypeError, ZkValueError

__all__ = ["LifeData", "check_life_data", "weibull_loglik"]

FloatArray = NDArray[np.float64]
_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------------------------------
# data checking
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LifeData:
    """Checked life data, one row per distinct observation (see the module docstring for the conventions).

    Attributes
    ----------
    lower : array [h]
        Failure time for exact rows, last time seen running for suspensions, lower end for intervals (0 allowed).
    upper : array [h]
        Equal to ``lower`` for exact failures, ``inf`` for suspensions, the upper end for intervals.
    weight : array [units]
        Number of identical units per row.
    entry : array [h]
        Age at which observation began (0 = from new).
    """

    lower: FloatArray
    upper: FloatArray
    weight: FloatArray
    entry: FloatArray

    @property
    def exact(self) -> NDArray[np.bool_]:
        """Rows that are exact failures."""
        return self.lower == self.upper

    @property
    def n_failures(self) -> float:
        """Number of failures (exact or interval-censored), counting ``count``."""
        return float(self.weight[np.isfinite(self.upper)].sum())

    @property
    def n_units(self) -> float:
        """Number of units, counting ``count``."""
        return float(self.weight.sum())

    @property
    def only_exact_or_right(self) -> bool:
        """True when every row is an exact failure or a suspension (no interval or left censoring)."""
        return bool(np.all(self.exact | np.isinf(self.upper)))


def _as_float(name: str, value: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ZkTypeError(
            f"`{name}` must be numeric (an array of numbers); got {type(value).__name__}: {exc}"
        ) from exc
    return arr


def _first_bad(arr: NDArray[Any], bad: NDArray[np.bool_]) -> str:
    """Name the first offending row (0-based position) and its value(s), and how many rows break the rule."""
    rows = np.flatnonzero(bad)
    idx = int(rows[0])
    vals = arr.reshape(arr.shape[0], -1)[idx]
    shown = ", ".join(f"{float(v):g}" for v in vals)
    shown = f"({shown})" if vals.size > 1 else shown
    more = f" ({rows.size} rows in all)" if rows.size > 1 else ""
    return f"row {idx} holds {shown}{more}"


def check_life_data(
    time: ArrayLike,
    censored: ArrayLike | None = None,
    count: ArrayLike | None = None,
    entry: ArrayLike | None = None,
) -> LifeData:
    """Check life data and return it as :class:`LifeData`.

    Parameters
    ----------
    time : array of shape (n,) or (n, 2) [h]
        Failure / suspension times (> 0), or ``(lower, upper)`` interval pairs (see the module docstring).
    censored : array of 0/1, optional
        1 = suspension (still running at ``time``), 0 = failure. Only with 1-D ``time``. Default: all failures.
    count : array of whole numbers >= 1, optional
        Identical units per row. Default 1.
    entry : array [h], optional
        Age at which observation began (left truncation), 0 <= entry < time. Default 0.

    Returns
    -------
    LifeData

    Raises
    ------
    ZkValueError
        When a value breaks a rule; the message names the row, the rule and the fix.
    """
    t = _as_float("time", time)
    if t.ndim == 2 and t.shape[1] == 2:
        if censored is not None:
            raise ZkValueError(
                "`censored` was given together with (lower, upper) interval times; an interval pair already says "
                "whether a row is a failure (lower == upper), a suspension (upper = inf) or an interval. "
                "Fix: drop `censored`, or pass 1-D `time`."
            )
        lower, upper = t[:, 0].copy(), t[:, 1].copy()
        if np.isnan(t).any():
            raise ZkValueError(
                f"`time` must not hold NaN; {_first_bad(t, np.asarray(np.isnan(t).any(axis=1)))}. Fix: drop it."
            )
        bad = (lower < 0) | ~np.isfinite(lower)
        if bad.any():
            raise ZkValueError(
                f"interval lower ends must be finite and >= 0 [h]; {_first_bad(t, bad)}. "
                "Fix: use 0 for 'failed before upper'."
            )
        bad = upper < lower
        if bad.any():
            raise ZkValueError(
                f"interval ends are out of order (upper < lower); {_first_bad(t, bad)}. Fix: give (lower, upper)."
            )
        bad = upper <= 0
        if bad.any():
            raise ZkValueError(
                f"interval upper ends must be > 0 [h]; {_first_bad(t, bad)}. Fix: correct or drop it."
            )
    elif t.ndim == 1:
        bad = ~np.isfinite(t) | (t <= 0)
        if bad.any():
            raise ZkValueError(
                f"`time` must be finite and > 0 [h] (a unit cannot fail or be seen at age 0 or before); "
                f"{_first_bad(t, bad)}. Fix: correct the row or drop it before fitting."
            )
        lower = t.copy()
        if censored is None:
            upper = t.copy()
        else:
            c = _as_float("censored", censored)
            if c.shape != t.shape:
                raise ZkValueError(
                    f"`censored` has shape {c.shape} but `time` has {t.shape}. Fix: one flag per row."
                )
            bad = ~np.isin(c, (0.0, 1.0))
            if bad.any():
                raise ZkValueError(
                    f"`censored` must be 0 (failure) or 1 (suspension, still running); {_first_bad(c, bad)}. "
                    "Fix: recode the flag (note: some files use `failed` = 1 - censored)."
                )
            upper = np.where(c == 1.0, np.inf, t)
    else:
        raise ZkValueError(
            f"`time` must be 1-D (n,) or interval pairs (n, 2); got shape {t.shape}. Fix: reshape the array."
        )
    n = lower.shape[0]
    if n == 0:
        raise ZkValueError("`time` is empty; a life model needs at least one unit. Fix: pass data.")
    if count is None:
        w = np.ones(n)
    else:
        w = _as_float("count", count)
        if w.shape != (n,):
            raise ZkValueError(f"`count` has shape {w.shape} but there are {n} rows. Fix: one count per row.")
        bad = ~np.isfinite(w) | (w < 1) | (w != np.round(w))
        if bad.any():
            raise ZkValueError(
                f"`count` must be a whole number >= 1 (identical units per row); {_first_bad(w, bad)}. "
                "Fix: drop rows with no units; round or correct fractional counts."
            )
    if entry is None:
        e = np.zeros(n)
    else:
        e = _as_float("entry", entry)
        if e.shape != (n,):
            raise ZkValueError(
                f"`entry` has shape {e.shape} but there are {n} rows. Fix: one entry age per row."
            )
        bad = ~np.isfinite(e) | (e < 0)
        if bad.any():
            raise ZkValueError(
                f"`entry` must be finite and >= 0 [h]; {_first_bad(e, bad)}. Fix: use 0 for 'from new'."
            )
        exact_or_right = (lower == upper) | np.isinf(upper)
        bad = np.where(exact_or_right, e >= lower, (e > lower) | (e >= upper))
        if bad.any():
            raise ZkValueError(
                f"`entry` (age when observation began) must be below the failure/suspension time "
                f"(and <= the lower end of an interval); {_first_bad(e, bad)}. "
                "Fix: a unit seen for the first time at failure has entry < time; correct the ages."
            )
    return LifeData(lower=lower, upper=upper, weight=w, entry=e)


# --------------------------------------------------------------------------------------------------------------------
# standard distributions of z = (ln t - mu) / sigma
# --------------------------------------------------------------------------------------------------------------------
class _StdDist:
    """Standard distribution of a log-location-scale family (z = (ln t - mu) / sigma)."""

    name: ClassVar[str] = ""

    @staticmethod
    def logpdf(z: FloatArray) -> FloatArray:
        raise NotImplementedError

    @staticmethod
    def dlogpdf(z: FloatArray) -> FloatArray:
        raise NotImplementedError

    @staticmethod
    def logsf(z: FloatArray) -> FloatArray:
        raise NotImplementedError

    @staticmethod
    def logcdf(z: FloatArray) -> FloatArray:
        raise NotImplementedError

    @staticmethod
    def ppf(p: FloatArray) -> FloatArray:
        raise NotImplementedError


class _SEV(_StdDist):
    """Smallest extreme value: ln R(z) = -exp(z) (Weibull and exponential in ln t)."""

    name = "sev"

    @staticmethod
    def logpdf(z: FloatArray) -> FloatArray:
        return np.asarray(z - np.exp(z))

    @staticmethod
    def dlogpdf(z: FloatArray) -> FloatArray:
        return np.asarray(1.0 - np.exp(z))

    @staticmethod
    def logsf(z: FloatArray) -> FloatArray:
        return np.asarray(-np.exp(z))

    @staticmethod
    def logcdf(z: FloatArray) -> FloatArray:
        return np.asarray(np.log(-np.expm1(-np.exp(z))))

    @staticmethod
    def ppf(p: FloatArray) -> FloatArray:
        return np.asarray(np.log(-np.log1p(-np.asarray(p, dtype=float))))


class _Normal(_StdDist):
    """Standard normal (lognormal in ln t)."""

    name = "normal"

    @staticmethod
    def logpdf(z: FloatArray) -> FloatArray:
        return np.asarray(-0.5 * z * z - 0.5 * _LOG_2PI)

    @staticmethod
    def dlogpdf(z: FloatArray) -> FloatArray:
        return np.asarray(-z)

    @staticmethod
    def logsf(z: FloatArray) -> FloatArray:
        return np.asarray(special.log_ndtr(-z))

    @staticmethod
    def logcdf(z: FloatArray) -> FloatArray:
        return np.asarray(special.log_ndtr(z))

    @staticmethod
    def ppf(p: FloatArray) -> FloatArray:
        return np.asarray(special.ndtri(np.asarray(p, dtype=float)))


def _log_interval_prob(dist: type[_StdDist], zl: FloatArray, zu: FloatArray) -> FloatArray:
    """ln(F(zu) - F(zl)) computed from the tail that keeps precision."""
    upper_tail = zl > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sl, su = dist.logsf(zl), dist.logsf(zu)
        cl, cu = dist.logcdf(zl), dist.logcdf(zu)
        via_sf = sl + np.log(-np.expm1(su - sl))
        via_cdf = cu + np.log(-np.expm1(cl - cu))
    return np.where(upper_tail, via_sf, via_cdf)


def _lls_loglik(
    dist: type[_StdDist], mu: float, log_sigma: float, data: LifeData, grad: bool = True
) -> tuple[float, FloatArray]:
    """Log-likelihood of a log-location-scale model and its gradient in (mu, ln sigma).

    Parameters
    ----------
    dist : standard distribution of z = (ln t - mu) / sigma
    mu : float [ln h]
    log_sigma : float [-]
    data : LifeData

    Returns
    -------
    loglik : float
        Sum over rows of count * (ln f(t) for exact rows [1/h], ln P(lower < T <= upper) otherwise,
        minus ln R(entry)).
    gradient : array (2,)
        d loglik / d (mu, ln sigma).
    """
    sigma = math.exp(log_sigma)
    w = data.weight
    exact = data.exact
    g = np.zeros(2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # exact failures: ln f(t) = ln phi(z) - ln sigma - ln t
        we = w[exact]
        ye = np.log(data.lower[exact])
        ze = (ye - mu) / sigma
        ll = float(np.sum(we * (dist.logpdf(ze) - log_sigma - ye)))
        if grad and we.size:
            d = dist.dlogpdf(ze)
            g[0] += np.sum(we * (-d / sigma))
            g[1] += np.sum(we * (-d * ze - 1.0))
        # censored rows (right, left, interval): ln(F(zu) - F(zl))
        cens = ~exact
        if cens.any():
            wc = w[cens]
            zl = (np.log(data.lower[cens]) - mu) / sigma
            zu = (np.log(data.upper[cens]) - mu) / sigma
            lp = _log_interval_prob(dist, zl, zu)
            ll += float(np.sum(wc * lp))
            if grad:
                gl = np.where(np.isfinite(zl), -np.exp(dist.logpdf(zl) - lp), 0.0)
                gu = np.where(np.isfinite(zu), np.exp(dist.logpdf(zu) - lp), 0.0)
                g[0] += np.sum(wc * (-(gl + gu) / sigma))
                g[1] += np.sum(
                    wc * -(np.where(np.isfinite(zl), gl * zl, 0.0) + np.where(np.isfinite(zu), gu * zu, 0.0))
                )
        # left truncation: - ln R(entry)
        trunc = data.entry > 0
        if trunc.any():
            wt = w[trunc]
            zt = (np.log(data.entry[trunc]) - mu) / sigma
            ll -= float(np.sum(wt * dist.logsf(zt)))
            if grad:
                h = np.exp(dist.logpdf(zt) - dist.logsf(zt))
                g[0] += np.sum(wt * (-h / sigma))
                g[1] += np.sum(wt * (-h * zt))
    if not np.isfinite(ll):
        ll = -np.inf
    return ll, g


def weibull_loglik(
    shape: float,
    scale: float,
    time: ArrayLike,
    censored: ArrayLike | None = None,
    count: ArrayLike | None = None,
    entry: ArrayLike | None = None,
) -> float:
    """Weibull log-likelihood of censored, grouped, truncated life data.

    Parameterisation: F(t) = 1 - exp(-(t / scale) ** shape).

    Parameters
    ----------
    shape : float [-]
        Weibull shape (beta), > 0.
    scale : float [h]
        Weibull scale (eta, characteristic life), > 0, in the unit of ``time``.
    time, censored, count, entry :
        As in :func:`check_life_data` (``censored``: 1 = suspension, 0 = failure).

    Returns
    -------
    float
        The log-likelihood with densities in 1/[unit of time] (see the module docstring on units).
    """
    if not (shape > 0 and scale > 0):
        raise ZkValueError(f"Weibull shape and scale must be > 0; got shape={shape!r}, scale={scale!r}.")
    data = check_life_data(time, censored, count, entry)
    return _lls_loglik(_SEV, math.log(scale), -math.log(shape), data, grad=False)[0]
