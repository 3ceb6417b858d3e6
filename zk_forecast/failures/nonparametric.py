"""Non-parametric life estimators: Kaplan-Meier, Nelson-Aalen, and Turnbull's estimator for interval data.

They make no assumption on the shape of the life distribution, which is why reliability engineers draw them beside
a fitted Weibull: where the two part, the parametric model is wrong. The data conventions are those of
:mod:`zk_forecast.failures.lifetimes` (``censored``: 1 = suspension, 0 = failure; ``count`` identical units;
``entry`` the age at which observation began; interval rows as ``(lower, upper)`` pairs [h]).

=================  ============================================  ==============================================
estimator          estimate                                      variance, bounds
=================  ============================================  ==============================================
KaplanMeier        S(t) = prod_{t_i <= t} (1 - d_i / n_i)        Greenwood; log-log (default), log or linear
NelsonAalen        H(t) = sum_{t_i <= t} d_i / n_i               sum d_i / n_i^2; log (default) or linear
Turnbull           self-consistent NPMLE of F on the innermost   none (the NPMLE has no simple variance)
                   intervals of interval-censored data
=================  ============================================  ==============================================

``d_i`` failures at the i-th distinct failure age ``t_i`` [h], ``n_i`` units at risk just before it (entered before
``t_i``, neither failed nor suspended before ``t_i``). Ties: failures at an age precede suspensions at the same age
(a unit suspended at ``t_i`` was at risk of the failures at ``t_i``), the convention of Kaplan & Meier (1958).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special
from sklearn.base import BaseEstimator

from zk_forecast.errors import NotFittedError, ZkValueError
from zk_forecast.failures._likelihood import LifeData, check_life_data

__all__ = ["KaplanMeier", "NelsonAalen", "Turnbull"]

FloatArray = NDArray[np.float64]


def _check_level(owner: str, level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, float | int) or not 0 < level < 1:
        raise ZkValueError(f"The 'level' parameter of {owner} must be a float in (0, 1). Got {level!r} instead.")
    return float(level)


def _check_choice(owner: str, name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ZkValueError(f"The '{name}' parameter of {owner} must be one of {list(allowed)}. Got {value!r} instead.")
    return str(value)


def _risk_table(data: LifeData) -> dict[str, Any]:
    """Distinct failure ages with units at risk, failures and suspensions (exact and right-censored data)."""
    if not data.only_exact_or_right:
        raise ZkValueError(
            "Kaplan-Meier and Nelson-Aalen take exact failures and suspensions only; the data hold interval or "
            "left censoring. Fix: use Turnbull() for interval data."
        )
    t = data.lower
    w = data.weight
    failed = data.exact
    ages = np.unique(t[failed])
    # at risk just before age a: entered before a, and last seen at or after a
    order_t = np.sort(t)
    cum_w_t = np.concatenate(([0.0], np.cumsum(w[np.argsort(t, kind="stable")])))
    gone_before = cum_w_t[np.searchsorted(order_t, ages, side="left")]
    order_e = np.sort(data.entry)
    cum_w_e = np.concatenate(([0.0], np.cumsum(w[np.argsort(data.entry, kind="stable")])))
    entered = cum_w_e[np.searchsorted(order_e, ages, side="left")]
    at_risk = entered - gone_before
    d = np.bincount(np.searchsorted(ages, t[failed]), weights=w[failed], minlength=ages.size)
    in_window = np.searchsorted(ages, t[~failed], side="right")  # a suspension at a failure age comes after it
    cens = np.bincount(in_window, weights=w[~failed], minlength=ages.size + 1)[: ages.size]
    if np.any(at_risk <= 0):
        a = float(ages[np.flatnonzero(at_risk <= 0)[0]])
        raise ZkValueError(f"no unit is at risk just before the failure at age {a:g} [h] (entry ages too late). "
                           "Fix: check `entry` against `time`.")
    return {"time": ages, "at_risk": at_risk, "failures": d, "suspended_before": cens}


class _StepEstimator(BaseEstimator):  # type: ignore[misc]
    """Shared plumbing of the step-function estimators (fitted check, evaluation at ages)."""

    def _check_fitted(self) -> None:
        if "_columns" not in self.__dict__:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Fix: call fit(time, censored, ...) first."
            )

    @property
    def table_(self) -> pd.DataFrame:
        """The estimate as a table (built from the fitted columns on first use, then kept)."""
        self._check_fitted()
        if "_table" not in self.__dict__:  # one float block: much cheaper than a frame built column by column
            cols = self._columns
            self._table = pd.DataFrame(np.column_stack([np.asarray(v, dtype=float) for v in cols.values()]),
                                       columns=list(cols))
        return self._table

    def _set_columns(self, columns: dict[str, Any]) -> None:
        self._columns = columns
        self.__dict__.pop("_table", None)

    def _repr_html_(self) -> str:
        if "_columns" not in self.__dict__:
            return f"<pre>{self!r}</pre>"
        return f"<p>{self!r}</p>" + self.table_.to_html(index=False, float_format=lambda v: f"{v:.6g}")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # Jupyter asks for this before _repr_html_; scikit-learn's would draw its estimator diagram instead
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _step(self, t: ArrayLike, column: str, before: float) -> FloatArray:
        self._check_fitted()
        tt = np.asarray(t, dtype=float)
        if np.any(np.isnan(tt)) or np.any(tt < 0):
            raise ZkValueError("`t` must be ages >= 0 [h]. Fix: pass ages.")
        cols = self._columns
        idx = np.searchsorted(cols["time"], tt, side="right") - 1
        vals = cols[column]
        return np.where(idx >= 0, vals[np.maximum(idx, 0)], before)


class KaplanMeier(_StepEstimator):
    """Kaplan-Meier (product-limit) estimate of the survival function with Greenwood's variance.

    Parameters
    ----------
    level : float, default 0.95
        Confidence level of the pointwise bounds.
    conf_type : {"log-log", "log", "linear"}, default "log-log"
        Transformation of the bounds: "log-log" bounds ``ln(-ln S)`` (Kalbfleisch & Prentice 1980; R's
        ``survfit(conf.type = "log-log")``, lifelines' default) and stays inside (0, 1); "log" bounds ``ln S``
        (R's default); "linear" is ``S +- z se``, clipped to [0, 1].

    Attributes
    ----------
    table_ : DataFrame
        One row per distinct failure age: ``time`` [h], ``at_risk``, ``failures``, ``suspended_before`` (suspensions
        from the previous failure age on, before this one), ``survival``, ``se`` (Greenwood), ``lower``, ``upper``.
    n_units_, n_failures_ : float
        Units (counting ``count``) and failures.

    Examples
    --------
    >>> km = KaplanMeier().fit([6, 6, 6, 7, 10], censored=[0, 0, 1, 0, 1])
    >>> km.survival_function([5, 6, 7]).round(4).tolist()
    [1.0, 0.6, 0.3]
    """

    def __init__(self, *, level: float = 0.95, conf_type: str = "log-log") -> None:
        self.level = level
        self.conf_type = conf_type

    def fit(self, time: ArrayLike, censored: ArrayLike | None = None, count: ArrayLike | None = None,
            entry: ArrayLike | None = None) -> KaplanMeier:
        """Estimate S(t) from exact failures and suspensions (optionally left-truncated at ``entry``).

        Parameters
        ----------
        time : array (n,) [h]
            Failure or suspension ages, > 0.
        censored : array of 0/1, optional
            1 = suspension, 0 = failure. Default: all failures.
        count : array of whole numbers >= 1, optional
            Identical units per row.
        entry : array [h], optional
            Age at which observation began (left truncation), below ``time``.

        Returns
        -------
        self
        """
        name = type(self).__name__
        level = _check_level(name, self.level)
        conf = _check_choice(name, "conf_type", self.conf_type, ("log-log", "log", "linear"))
        data = check_life_data(time, censored, count, entry)
        table = _risk_table(data)
        n, d = table["at_risk"], table["failures"]
        surv = np.cumprod(1.0 - d / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            gw = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf))  # Greenwood's sum, var(S) = S^2 * gw
            se = surv * np.sqrt(gw)
            z = float(special.ndtri(0.5 + level / 2))
            if conf == "linear":
                lo, hi = np.clip(surv - z * se, 0, 1), np.clip(surv + z * se, 0, 1)
            elif conf == "log":
                lo, hi = surv * np.exp(-z * np.sqrt(gw)), np.minimum(surv * np.exp(z * np.sqrt(gw)), 1.0)
            else:  # log-log: S ** exp(+-z sqrt(gw) / ln S)
                theta = np.exp(z * np.sqrt(gw) / np.log(surv))
                lo, hi = surv ** (1 / theta), surv**theta
            lo = np.where(surv > 0, np.nan_to_num(lo, nan=0.0), 0.0)
            hi = np.where(surv > 0, np.nan_to_num(hi, nan=1.0), 0.0)
        table.update(survival=surv, se=np.where(np.isfinite(se), se, np.nan), lower=lo, upper=hi)
        self._set_columns(table)
        self.n_units_ = data.n_units
        self.n_failures_ = data.n_failures
        return self

    def survival_function(self, t: ArrayLike) -> FloatArray:
        """S(t) [-] at ages ``t`` [h] (right-continuous steps; 1 before the first failure)."""
        return self._step(t, "survival", 1.0)

    def cdf(self, t: ArrayLike) -> FloatArray:
        """Fraction failed F(t) = 1 - S(t) [-] at ages ``t`` [h]."""
        return 1.0 - self.survival_function(t)

    def confidence_interval(self, t: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Pointwise (lower, upper) bounds of S(t) at ages ``t`` [h], at the estimator's ``level``."""
        return self._step(t, "lower", 1.0), self._step(t, "upper", 1.0)

    def cumulative_hazard(self, t: ArrayLike) -> FloatArray:
        """-ln S(t) [-] at ages ``t`` [h] (infinite after the last unit failed)."""
        with np.errstate(divide="ignore"):
            return -np.log(self.survival_function(t))

    def plot(self, ax: Any = None, *, model: Any = None) -> Any:
        """Draw the estimate: steps of S(t) with the bounds, or fraction failed on a fitted model's probability plot.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure is made when omitted.
        model : fitted ParametricLifetime, optional
            Draw the model's probability plot (its failures and fitted line, :meth:`plot_probability`) and the
            Kaplan-Meier fraction failed with its bounds on the same linearised scale beside it.

        Returns
        -------
        matplotlib Axes
        """
        self._check_fitted()
        import matplotlib.pyplot as plt  # lazy: only when drawing

        if ax is None:
            _, ax = plt.subplots()
        tab = self.table_
        t = tab["time"].to_numpy()
        if model is not None:
            model.plot_probability(ax=ax)
            dist = model._dist
            keep = (tab["survival"] > 0) & (tab["survival"] < 1)
            f = 1.0 - tab.loc[keep, "survival"].to_numpy()
            flo = np.clip(1.0 - tab.loc[keep, "upper"].to_numpy(), 1e-12, 1 - 1e-12)
            fhi = np.clip(1.0 - tab.loc[keep, "lower"].to_numpy(), 1e-12, 1 - 1e-12)
            tk = t[keep.to_numpy()]
            ax.step(tk, dist.ppf(f), where="post", color="C2", label="Kaplan-Meier")
            ax.fill_between(tk, dist.ppf(flo), dist.ppf(fhi), step="post", color="C2", alpha=0.15,
                            label=f"Kaplan-Meier {100 * self.level:g}% ({self.conf_type})")
            ax.legend(loc="best")
            return ax
        x = np.concatenate(([0.0], t))
        ax.step(x, np.concatenate(([1.0], tab["survival"])), where="post", label="Kaplan-Meier")
        ax.fill_between(x, np.concatenate(([1.0], tab["lower"])), np.concatenate(([1.0], tab["upper"])),
                        step="post", alpha=0.2, label=f"{100 * self.level:g}% ({self.conf_type})")
        ax.set_xlabel("age [h]")
        ax.set_ylabel("fraction surviving")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="best")
        return ax


class NelsonAalen(_StepEstimator):
    """Nelson-Aalen estimate of the cumulative hazard H(t) = sum d_i / n_i.

    Variance ``sum d_i / n_i^2`` (Klein & Moeschberger 2003, *Survival Analysis* 2nd ed., eq. 4.2.4).

    Parameters
    ----------
    level : float, default 0.95
        Confidence level of the pointwise bounds.
    conf_type : {"log", "linear"}, default "log"
        "log": ``H exp(+- z se / H)`` (stays positive); "linear": ``H +- z se`` clipped at 0.

    Attributes
    ----------
    table_ : DataFrame
        ``time`` [h], ``at_risk``, ``failures``, ``suspended_before``, ``cumulative_hazard``, ``se``, ``lower``,
        ``upper``.
    n_units_, n_failures_ : float
    """

    def __init__(self, *, level: float = 0.95, conf_type: str = "log") -> None:
        self.level = level
        self.conf_type = conf_type

    def fit(self, time: ArrayLike, censored: ArrayLike | None = None, count: ArrayLike | None = None,
            entry: ArrayLike | None = None) -> NelsonAalen:
        """Estimate H(t); arguments as in :meth:`KaplanMeier.fit`. Returns self."""
        name = type(self).__name__
        level = _check_level(name, self.level)
        conf = _check_choice(name, "conf_type", self.conf_type, ("log", "linear"))
        data = check_life_data(time, censored, count, entry)
        table = _risk_table(data)
        n, d = table["at_risk"], table["failures"]
        H = np.cumsum(d / n)
        se = np.sqrt(np.cumsum(d / n**2))
        z = float(special.ndtri(0.5 + level / 2))
        if conf == "log":
            lo, hi = H * np.exp(-z * se / H), H * np.exp(z * se / H)
        else:
            lo, hi = np.maximum(H - z * se, 0.0), H + z * se
        table.update(cumulative_hazard=H, se=se, lower=lo, upper=hi)
        self._set_columns(table)
        self.n_units_ = data.n_units
        self.n_failures_ = data.n_failures
        return self

    def cumulative_hazard(self, t: ArrayLike) -> FloatArray:
        """H(t) [-] at ages ``t`` [h] (0 before the first failure)."""
        return self._step(t, "cumulative_hazard", 0.0)

    def survival_function(self, t: ArrayLike) -> FloatArray:
        """exp(-H(t)) [-] (the Fleming-Harrington survival estimate) at ages ``t`` [h]."""
        return np.exp(-self.cumulative_hazard(t))

    def plot(self, ax: Any = None) -> Any:
        """Steps of H(t) with the bounds; returns the matplotlib Axes (a new figure when ``ax`` is None)."""
        self._check_fitted()
        import matplotlib.pyplot as plt  # lazy: only when drawing

        if ax is None:
            _, ax = plt.subplots()
        tab = self.table_
        x = np.concatenate(([0.0], tab["time"]))
        ax.step(x, np.concatenate(([0.0], tab["cumulative_hazard"])), where="post", label="Nelson-Aalen")
        ax.fill_between(x, np.concatenate(([0.0], tab["lower"])), np.concatenate(([0.0], tab["upper"])),
                        step="post", alpha=0.2, label=f"{100 * self.level:g}% ({self.conf_type})")
        ax.set_xlabel("age [h]")
        ax.set_ylabel("cumulative hazard")
        ax.legend(loc="best")
        return ax


class Turnbull(_StepEstimator):
    """Turnbull's non-parametric maximum-likelihood estimate of F for interval-censored lives.

    Turnbull (1976), *JRSS B* 38, 290-295: the mass of the NPMLE sits on the innermost intervals (a left end
    followed by a right end with no other end between); the masses are found by the self-consistency (EM)
    iteration ``p_j <- sum_i w_i a_ij p_j / sum_k a_ik p_k / N``. Inside an innermost interval the estimate is
    not determined; ``survival_function`` reports the value after the interval's mass, ``plot`` draws the
    interval as a ramp. With exact failures and suspensions only it equals the Kaplan-Meier estimate.

    Parameters
    ----------
    tol : float, default 1e-10
        Stop when no mass changes by more than ``tol``.
    max_iter : int, default 100_000
        Iterations at most (``converged_`` says whether ``tol`` was reached).

    Attributes
    ----------
    table_ : DataFrame
        One row per innermost interval with mass: ``lower`` and ``upper`` [h] (the interval is ``(lower, upper]``;
        ``lower == upper`` for an exact age), ``probability``, and ``time`` (= ``upper``) and ``survival`` (after
        the interval).
    n_iter_ : int
    converged_ : bool
    loglik_ : float
        Log-likelihood of the NPMLE.
    """

    def __init__(self, *, tol: float = 1e-10, max_iter: int = 100_000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, time: ArrayLike, censored: ArrayLike | None = None, count: ArrayLike | None = None) -> Turnbull:
        """Estimate F from ``(lower, upper)`` pairs [h] (or exact/right-censored 1-D data).

        Parameters
        ----------
        time : array (n, 2) or (n,) [h]
            ``(lower, upper)`` pairs as in :mod:`~zk_forecast.failures.lifetimes`: ``lower == upper`` exact,
            ``upper = inf`` a suspension, ``lower = 0`` failed before ``upper``, else failed in ``(lower, upper]``.
        censored : array of 0/1, optional
            Only with 1-D ``time``.
        count : array of whole numbers >= 1, optional

        Returns
        -------
        self
        """
        name = type(self).__name__
        if not (isinstance(self.tol, float | int) and self.tol > 0):
            raise ZkValueError(f"The 'tol' parameter of {name} must be a float > 0. Got {self.tol!r} instead.")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ZkValueError(f"The 'max_iter' parameter of {name} must be an int >= 1. Got {self.max_iter!r}.")
        data = check_life_data(time, censored, count)
        if data.n_failures == 0:
            raise ZkValueError("no failures: every unit is a suspension, so F is 0 wherever it is known. "
                               "Fix: wait for failures.")
        lo, up, w = data.lower, data.upper, data.weight
        exact = data.exact
        # positions on a doubled line: 2k is the value v_k itself, 2k + 1 is "just after v_k"
        values = np.unique(np.concatenate((lo, up[np.isfinite(up)])))
        rank_lo = np.searchsorted(values, lo)
        start = np.where(exact, 2 * rank_lo, 2 * rank_lo + 1)
        end = np.where(np.isfinite(up), 2 * np.searchsorted(values, np.where(np.isfinite(up), up, 0.0)),
                       np.iinfo(np.int64).max)
        # innermost intervals: a start followed (in position order, starts before ends at a tie) by an end
        pos = np.concatenate((start, end))
        kind = np.concatenate((np.zeros(start.size, np.int8), np.ones(end.size, np.int8)))
        order = np.lexsort((kind, pos))
        pos, kind = pos[order], kind[order]
        pick = np.flatnonzero((kind[:-1] == 0) & (kind[1:] == 1))
        a_j, b_j = pos[pick], pos[pick + 1]
        covers = (start[:, None] <= a_j[None, :]) & (b_j[None, :] <= end[:, None])
        a = covers.astype(np.float64)
        p = np.full(a_j.size, 1.0 / a_j.size)
        total = w.sum()
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - n_iter reported after the loop
            denom = a @ p
            new = p * ((w / denom) @ a) / total
            change = float(np.max(np.abs(new - p)))
            p = new
            if change < self.tol:
                converged = True
                break
        p = np.where(p < 1e-12, 0.0, p)
        p /= p.sum()
        self.loglik_ = float(np.sum(w * np.log(a @ p)))

        def to_value(position: NDArray[np.int64]) -> FloatArray:
            big = position == np.iinfo(np.int64).max
            k = np.minimum(position // 2, values.size - 1)
            v = values[k].astype(float)
            return np.where(big, np.inf, v)

        keep = p > 0
        lower_v = to_value(a_j[keep])
        upper_v = to_value(b_j[keep])
        prob = p[keep]
        table = pd.DataFrame({"lower": lower_v, "upper": upper_v, "probability": prob})
        table["time"] = table["upper"]
        table["survival"] = np.clip(1.0 - np.cumsum(prob), 0.0, 1.0)
        self._set_columns({c: table[c].to_numpy() for c in table.columns})
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.n_units_ = data.n_units
        self.n_failures_ = data.n_failures
        return self

    def survival_function(self, t: ArrayLike) -> FloatArray:
        """S(t) [-] at ages ``t`` [h]: 1 minus the mass of the innermost intervals ending at or before ``t``."""
        return self._step(t, "survival", 1.0)

    def cdf(self, t: ArrayLike) -> FloatArray:
        """F(t) = 1 - S(t) [-]."""
        return 1.0 - self.survival_function(t)

    def plot(self, ax: Any = None) -> Any:
        """Survival curve, drawn as a ramp across each innermost interval; returns the matplotlib Axes."""
        self._check_fitted()
        import matplotlib.pyplot as plt  # lazy: only when drawing

        if ax is None:
            _, ax = plt.subplots()
        tab = self.table_[np.isfinite(self.table_["upper"])]
        xs: list[float] = [0.0]
        ys: list[float] = [1.0]
        s = 1.0
        for lo, up, pr in zip(tab["lower"], tab["upper"], tab["probability"]):
            xs += [float(lo), float(up)]
            ys += [s, s - float(pr)]
            s -= float(pr)
        ax.plot(xs, ys, "-", label="Turnbull NPMLE")
        ax.set_xlabel("age [h]")
        ax.set_ylabel("fraction surviving")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="best")
        return ax
