"""Intermittent-demand estimators in the scikit-learn style, over the kernels of :mod:`zk_forecast.demand.methods`.

Every estimator is a :class:`sklearn.base.BaseEstimator` (``get_params`` / ``set_params`` / ``sklearn.base.clone``
work), stores its settings untouched in ``__init__`` (keyword-only), checks them and does the work in
``fit(y)`` (a 2-D array ``(n_series, n_periods)`` [units per period]; see
:func:`~zk_forecast.demand.methods.prepare` for ``NaN``), and keeps what it learned in attributes ending in ``_``:

* ``forecast_level_`` : (n_series,) flat forecast [units per period];
* ``fitted_`` : (n_series, n_periods) in-sample one-step-ahead forecasts, or ``None`` after ``fit(y, fitted=False)``;
* per-series parameters such as ``alpha_d_``, ``alpha_p_``, ``alpha_``, ``aggregation_level_``.

``predict(h)`` returns an ``(n_series, h)`` array. ``alias`` names the estimator's column in
:func:`zk_forecast.demand.forecast.forecast`.

>>> import numpy as np
>>> Croston(alpha=0.1).fit(np.array([[0, 2, 0, 0, 3, 0]])).predict(2).round(4)
array([[1., 1.]])
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone

from zk_forecast.demand import methods as _m
from zk_forecast.demand import methods_aggregate as _ma
from zk_forecast.demand import methods_croston as _mc
from zk_forecast.errors import NotFittedError, ZkValueError

__all__ = [
    "ADIDA",
    "IMAPA",
    "SBA",
    "SBJ",
    "SES",
    "TSB",
    "Croston",
    "CrostonOptimized",
    "HistoricMean",
    "MovingAverage",
    "Naive",
    "NotFittedError",
    "fresh_estimator",
]


# ----------------------------------------------------------------------------------------------------
# allowed parameter values, declared once


class _Rule:
    """One allowed-values rule; ``describe`` is the phrase after "must be"."""

    def __init__(self, describe: str, ok: Callable[[Any], bool]) -> None:
        self.describe = describe
        self.ok = ok


def _real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _unit(lo_open: bool = False) -> _Rule:
    lo = "(0" if lo_open else "[0"
    return _Rule(f"a float in {lo}, 1]", lambda v: _real(v) and (0 < v <= 1 if lo_open else 0 <= v <= 1))


_ALPHA = _unit()
_ALPHA_OR_NONE = _Rule("a float in [0, 1] or None", lambda v: v is None or (_real(v) and 0 <= v <= 1))
_POS_INT = _Rule(
    "an int >= 1", lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1
)
_POS_INT_OR_NONE = _Rule("an int >= 1 or None", lambda v: v is None or _POS_INT.ok(v))
_CONVENTIONS = _Rule(f"one of {list(_m.CONVENTIONS)}", lambda v: v in _m.CONVENTIONS)
_VARIANT = _Rule(f"one of {list(_mc.VARIANTS)}", lambda v: v in _mc.VARIANTS)
_COST = _Rule(f"one of {list(_m.COSTS)} or None", lambda v: v is None or v in _m.COSTS)
_ALIAS = _Rule("a non-empty str", lambda v: isinstance(v, str) and v != "")


def fresh_estimator(est: Any) -> Any:
    """An unfitted copy of ``est`` with the same settings (:func:`sklearn.base.clone`); ``est`` itself when it has
    no ``get_params``."""
    return clone(est) if hasattr(est, "get_params") else est


class _Estimator(BaseEstimator):
    """Shared machinery: parameter checks, fit bookkeeping, the fitted check, ``predict`` and ``repr``.

    ``get_params`` and ``set_params`` come from :class:`sklearn.base.BaseEstimator` (read off ``__init__``).
    """

    _rules: ClassVar[dict[str, _Rule]] = {}
    forecast_level_: np.ndarray
    fitted_: np.ndarray | None

    def _check_params(self) -> None:
        for name, rule in self._rules.items():
            value = getattr(self, name)
            if not rule.ok(value):
                raise ZkValueError(
                    f"The {name!r} parameter of {type(self).__name__} must be {rule.describe}. Got {value!r} instead."
                )

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, y: Any, *, fitted: bool = True) -> _Estimator:
        """Fit to ``y`` (n_series, n_periods) [units per period]; ``fitted=False`` skips in-sample forecasts."""
        self._check_params()
        res = self._kernel(y, fitted)
        self.forecast_level_ = res.forecast
        self.fitted_ = res.fitted
        for key, value in res.params.items():
            setattr(self, f"{key}_", value)
        self.n_series_ = int(res.forecast.shape[0])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "forecast_level_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(y) before predict(h) or using its results."
            )

    def predict(self, h: int) -> np.ndarray:
        """Flat forecasts for the next ``h`` periods, shape (n_series, h) [units per period]."""
        self._check_fitted()
        if not _POS_INT.ok(h):
            raise ZkValueError(
                f"The 'h' parameter of predict must be {_POS_INT.describe} [periods]. Got {h!r} instead."
            )
        return np.repeat(self.forecast_level_[:, None], int(h), axis=1)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._rules)
        return f"{type(self).__name__}({args})"


class Naive(_Estimator):
    """Last observed value."""

    _rules: ClassVar[dict[str, _Rule]] = {"alias": _ALIAS}

    def __init__(self, *, alias: str = "naive") -> None:
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _m.naive(y, fitted=fitted)


class HistoricMean(_Estimator):
    """Mean of all observed periods (fitted values: mean of the periods before)."""

    _rules: ClassVar[dict[str, _Rule]] = {"alias": _ALIAS}

    def __init__(self, *, alias: str = "mean") -> None:
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _m.historic_mean(y, fitted=fitted)


class MovingAverage(_Estimator):
    """Mean of the last ``window`` periods [periods] (of all periods while fewer are observed)."""

    _rules: ClassVar[dict[str, _Rule]] = {"window": _POS_INT, "alias": _ALIAS}

    def __init__(self, *, window: int = 4, alias: str = "ma") -> None:
        self.window = window
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _m.moving_average(y, int(self.window), fitted=fitted)


class SES(_Estimator):
    """Simple exponential smoothing; ``alpha=None`` optimises it per series on [0.01, 0.99] (squared errors)."""

    _rules: ClassVar[dict[str, _Rule]] = {"alpha": _ALPHA_OR_NONE, "alias": _ALIAS}

    def __init__(self, *, alpha: float | None = None, alias: str = "ses") -> None:
        self.alpha = alpha
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _m.ses(y, self.alpha, fitted=fitted)


class Croston(_Estimator):
    """Croston's method with one fixed smoothing constant ``alpha`` [-] for sizes and intervals."""

    _variant: ClassVar[str] = "croston"
    _rules: ClassVar[dict[str, _Rule]] = {"alpha": _ALPHA, "conventions": _CONVENTIONS, "alias": _ALIAS}

    def __init__(self, *, alpha: float = 0.1, conventions: str = "zk", alias: str = "croston") -> None:
        self.alpha = alpha
        self.conventions = conventions
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _mc.croston(y, self.alpha, variant=self._variant, conventions=self.conventions, fitted=fitted)


class SBA(Croston):
    """Syntetos-Boylan approximation: Croston times ``1 - alpha/2`` (0.95 under statsforecast conventions)."""

    _variant: ClassVar[str] = "sba"

    def __init__(self, *, alpha: float = 0.1, conventions: str = "zk", alias: str = "sba") -> None:
        super().__init__(alpha=alpha, conventions=conventions, alias=alias)


class SBJ(Croston):
    """Shale-Boylan-Johnston: Croston times ``1 - alpha/(2 - alpha)``."""

    _variant: ClassVar[str] = "sbj"

    def __init__(self, *, alpha: float = 0.1, conventions: str = "zk", alias: str = "sbj") -> None:
        super().__init__(alpha=alpha, conventions=conventions, alias=alias)


class CrostonOptimized(_Estimator):
    """Croston (or ``variant`` SBA / SBJ) with size and interval constants chosen per series.

    ``cost=None`` uses the convention's cost (zk: MSR, r: MAR); statsforecast conventions minimise the squared
    errors of sizes and intervals separately on [0.1, 0.3] (see :func:`~zk_forecast.demand.methods_croston.
    croston_optimized`).
    """

    _rules: ClassVar[dict[str, _Rule]] = {
        "variant": _VARIANT,
        "cost": _COST,
        "conventions": _CONVENTIONS,
        "alias": _ALIAS,
    }

    def __init__(
        self,
        *,
        variant: str = "croston",
        cost: str | None = None,
        conventions: str = "zk",
        alias: str = "croston_opt",
    ) -> None:
        self.variant = variant
        self.cost = cost
        self.conventions = conventions
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _mc.croston_optimized(
            y, variant=self.variant, cost=self.cost, conventions=self.conventions, fitted=fitted
        )


class TSB(_Estimator):
    """Teunter-Syntetos-Babai with constants ``alpha_d`` (sizes) and ``alpha_p`` (demand probability) [-]."""

    _rules: ClassVar[dict[str, _Rule]] = {
        "alpha_d": _ALPHA,
        "alpha_p": _ALPHA,
        "conventions": _CONVENTIONS,
        "alias": _ALIAS,
    }

    def __init__(
        self, *, alpha_d: float = 0.1, alpha_p: float = 0.1, conventions: str = "zk", alias: str = "tsb"
    ) -> None:
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p
        self.conventions = conventions
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _mc.tsb(y, self.alpha_d, self.alpha_p, conventions=self.conventions, fitted=fitted)


class ADIDA(_Estimator):
    """Aggregate-disaggregate: SES on bucket sums of ``aggregation_level`` periods (None: mean interval)."""

    _rules: ClassVar[dict[str, _Rule]] = {
        "aggregation_level": _POS_INT_OR_NONE,
        "conventions": _CONVENTIONS,
        "alias": _ALIAS,
    }

    def __init__(
        self, *, aggregation_level: int | None = None, conventions: str = "zk", alias: str = "adida"
    ) -> None:
        self.aggregation_level = aggregation_level
        self.conventions = conventions
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _ma.adida(y, self.aggregation_level, conventions=self.conventions, fitted=fitted)


class IMAPA(_Estimator):
    """Mean of ADIDA rates over aggregation levels 1..(rounded mean inter-demand interval)."""

    _rules: ClassVar[dict[str, _Rule]] = {"conventions": _CONVENTIONS, "alias": _ALIAS}

    def __init__(self, *, conventions: str = "zk", alias: str = "imapa") -> None:
        self.conventions = conventions
        self.alias = alias

    def _kernel(self, y: Any, fitted: bool) -> _m.MethodResult:
        return _ma.imapa(y, conventions=self.conventions, fitted=fitted)


#: Method names accepted by :func:`zk_forecast.demand.forecast.forecast`, by default alias.
ESTIMATORS: dict[str, type[_Estimator]] = {
    "naive": Naive,
    "mean": HistoricMean,
    "ma": MovingAverage,
    "ses": SES,
    "croston": Croston,
    "sba": SBA,
    "sbj": SBJ,
    "croston_opt": CrostonOptimized,
    "tsb": TSB,
    "adida": ADIDA,
    "imapa": IMAPA,
}
