"""Forecast many demand series from a long DataFrame: ``forecast(df, h, methods=[...])``.

Input: one row per series and period, columns ``unique_id`` (series), ``ds`` (period start) and ``y`` (demand
[units per period]); the names are overridable. Output: one row per series and future period with ``unique_id``,
``ds`` and one column per method (the estimator's ``alias``), in the order the series first appear.

Rules
-----
* ``ds`` must be period starts (Mondays for ``"W-MON"``, first days of months for ``"MS"``), strictly increasing
  within each series in row order; unsorted or duplicated periods are an error naming the series.
* A period missing inside a series (between its first and last row) is zero demand: the demand panel marks
  periods without issues as zero. A series starts at its first row; its forecasts start after its last row.
* ``y`` must be numeric, finite and >= 0 (net returns into demand first, DESIGN.md); missing ``y`` is an error
  (drop the row if the period had no issues: it then counts as zero).
* Columns other than the three are an error listing them, unless ``ignore_extra=True`` (then they are ignored).

Prediction intervals
--------------------
``level=[80, 95]`` adds ``<alias>-lo-<level>`` and ``<alias>-hi-<level>``: forecast -/+ z * sigma, where sigma is
the root mean square of the series' in-sample one-step-ahead residuals (periods with a fitted value) and z the
standard normal quantile of 0.5 + level/200; the same width for every horizon, the lower bound clipped at 0. A
series without residuals (one period) gets ``NaN`` bounds. This is a simple normal approximation; the demand
distributions for stock levels come from :mod:`zk_forecast.demand.distributions`.

Automatic selection
-------------------
``"auto"`` is served by a hook: if a module ``zk_forecast.demand.select`` defines ``auto_method(y, *,
conventions)`` returning an estimator (fit / predict / ``fitted_``), it is used under the column name ``auto``.
Until that module exists ``"auto"`` raises :class:`~zk_forecast.errors.ZkValueError`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import normalize_freq
from zk_forecast.demand.methods import CONVENTIONS
from zk_forecast.demand.models import ESTIMATORS
from zk_forecast.errors import ZkTypeError, ZkValueError

__all__ = ["forecast"]


def _estimators(methods: Any, conventions: str) -> list[Any]:
    if isinstance(methods, str) or not isinstance(methods, Iterable):
        methods = [methods]
    out: list[Any] = []
    for m in methods:
        if isinstance(m, str):
            if m == "auto":
                out.append(_auto(conventions))
                continue
            if m not in ESTIMATORS:
                raise ZkValueError(
                    f"Unknown method {m!r}; the valid names are {['auto', *ESTIMATORS]} (or pass an estimator "
                    "instance such as Croston(alpha=0.05))."
                )
            cls = ESTIMATORS[m]
            out.append(cls(conventions=conventions) if "conventions" in cls._rules else cls())  # type: ignore[call-arg]
        elif all(hasattr(m, a) for a in ("fit", "predict", "alias")):
            out.append(type(m)(**m.get_params()) if hasattr(m, "get_params") else m)
        else:
            raise ZkTypeError(
                f"Each method must be a method name or an estimator (with fit, predict and alias); got {m!r}."
            )
    if not out:
        raise ZkValueError(
            "The 'methods' parameter is empty; name at least one method, e.g. methods=['sba']."
        )
    aliases = [e.alias for e in out]
    dup = sorted({a for a in aliases if aliases.count(a) > 1})
    if dup:
        raise ZkValueError(
            f"Several methods share the output column name(s) {dup}; give each an own alias=...."
        )
    return out


def _auto(conventions: str) -> Any:
    try:
        select = importlib.import_module("zk_forecast.demand.select")
    except ModuleNotFoundError:
        select = None
    found = getattr(select, "auto_method", None)
    if found is None:
        raise ZkValueError(
            "Method 'auto' (automatic selection) is not available yet: zk_forecast.demand.select.auto_method is "
            "missing. Name the methods instead, e.g. methods=['sba', 'tsb']."
        )

    hook: Callable[..., Any] = found

    class _Auto:
        alias = "auto"

        def fit(self, y: np.ndarray, *, fitted: bool = True) -> _Auto:
            self.est_ = hook(y, conventions=conventions)
            self.est_.fit(y, fitted=fitted)
            self.fitted_ = self.est_.fitted_
            return self

        def predict(self, h: int) -> np.ndarray:
            return np.asarray(self.est_.predict(h))

    return _Auto()


def _infer_freq(ds: pd.Series) -> str:
    if (ds.dt.day == 1).all() and (ds.dt.normalize() == ds).all():
        return "MS"
    if (ds.dt.day_of_week == 0).all() and (ds.dt.normalize() == ds).all():
        return "W-MON"
    raise ZkValueError(
        "Cannot infer the period length from 'ds': its values are neither all Mondays nor all first days of a "
        "month. Pass freq='W-MON' or freq='MS' and period starts (zk_forecast.calendar.period_start)."
    )


def _period_number(ds: pd.Series, freq: str) -> np.ndarray:
    days = ds.to_numpy(dtype="datetime64[D]")
    if freq == "MS":
        return days.astype("datetime64[M]").astype(np.int64)
    return (days.astype(np.int64) - 4) // 7  # 1970-01-05 was a Monday


def _period_dates(number: np.ndarray, freq: str) -> np.ndarray:
    if freq == "MS":
        return number.astype("datetime64[M]").astype("datetime64[ns]")
    return (number * 7 + 4).astype("datetime64[D]").astype("datetime64[ns]")


def _check_frame(df: Any, id_col: str, time_col: str, target_col: str, ignore_extra: bool) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ZkTypeError(f"'df' must be a pandas DataFrame in long format; got {type(df).__name__}.")
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ZkValueError(
            f"'df' lacks the column(s) {missing}; it has {list(df.columns)}. Rename them or pass id_col=, "
            "time_col=, target_col=."
        )
    extra = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    if extra and not ignore_extra:
        raise ZkValueError(
            f"'df' has extra column(s) {extra} that the demand methods do not use; drop them or pass "
            "ignore_extra=True."
        )
    y = df[target_col]
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        raise ZkTypeError(
            f"Column {target_col!r} must be numeric demand [units per period]; got dtype {y.dtype}."
        )
    values = y.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ZkValueError(
            f"Column {target_col!r} has missing values; drop those rows if the periods had no demand (they then "
            "count as zero) or fill them."
        )
    if not np.isfinite(values).all():
        raise ZkValueError(f"Column {target_col!r} has infinite values; demand must be finite.")
    if (values < 0).any():
        ids = pd.unique(df.loc[values < 0, id_col])[:5].tolist()
        raise ZkValueError(
            f"Column {target_col!r} has negative demand (series {ids}); net returns into the demand of the period "
            "they come back in (DESIGN.md) so that every period's demand is >= 0."
        )


def forecast(
    df: pd.DataFrame,
    h: int,
    methods: Sequence[Any] | str | Any = ("auto",),
    freq: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    level: Sequence[float] | None = None,
    conventions: str = "zk",
    ignore_extra: bool = False,
) -> pd.DataFrame:
    """Point forecasts (and optional intervals) for every series of a long DataFrame.

    Parameters
    ----------
    df : pandas.DataFrame
        Long format: ``id_col``, ``time_col`` (period starts), ``target_col`` (demand [units per period]).
    h : int
        Forecast horizon [periods], >= 1.
    methods : sequence of str or estimators, default ("auto",)
        Method names (``"croston"``, ``"sba"``, ``"sbj"``, ``"croston_opt"``, ``"tsb"``, ``"adida"``,
        ``"imapa"``, ``"ses"``, ``"naive"``, ``"mean"``, ``"ma"``, ``"auto"``) or estimator instances from
        :mod:`zk_forecast.demand.models`; each gives a column named by its ``alias``.
    freq : str or None
        ``"W-MON"`` or ``"MS"`` (see :func:`zk_forecast.calendar.normalize_freq`); ``None`` infers it from ``ds``.
    id_col, time_col, target_col : str
        Column names.
    level : sequence of float or None
        Interval coverages in percent, each in (0, 100), e.g. ``[80, 95]``.
    conventions : {"zk", "statsforecast", "r"}
        Passed to the methods given by name (see :mod:`zk_forecast.demand.methods`).
    ignore_extra : bool, default False
        Ignore columns other than the three instead of raising.

    Returns
    -------
    pandas.DataFrame
        ``id_col``, ``time_col`` (future period starts) and one float column per method (and interval bounds).
    """
    _check_frame(df, id_col, time_col, target_col, ignore_extra)
    if not isinstance(h, (int, np.integer)) or isinstance(h, bool) or h < 1:
        raise ZkValueError(f"The 'h' parameter must be an int >= 1 [periods]. Got {h!r} instead.")
    if conventions not in CONVENTIONS:
        raise ZkValueError(
            f"The 'conventions' parameter must be one of {list(CONVENTIONS)}. Got {conventions!r} instead."
        )
    levels = [] if level is None else list(level)
    for lv in levels:
        if not isinstance(lv, (int, float, np.integer, np.floating)) or not 0 < lv < 100:
            raise ZkValueError(f"Each 'level' must be a coverage in percent in (0, 100). Got {lv!r} instead.")
    estimators = _estimators(methods, conventions)
    if len(df) == 0:
        raise ZkValueError("'df' has no rows; there is no demand history to forecast from.")

    try:
        ds = pd.Series(pd.to_datetime(df[time_col]), index=df.index)
    except (ValueError, TypeError) as exc:
        raise ZkTypeError(f"Column {time_col!r} must hold dates (period starts): {exc}") from exc
    if ds.isna().any():
        raise ZkValueError(f"Column {time_col!r} has missing dates; every row needs its period start.")
    canonical = _infer_freq(ds) if freq is None else normalize_freq(freq)
    period = _period_number(ds, canonical)
    if not np.array_equal(_period_dates(period, canonical), ds.to_numpy(dtype="datetime64[ns]")):
        raise ZkValueError(
            f"Column {time_col!r} must hold period starts for freq {canonical!r}; map dates with "
            "zk_forecast.calendar.period_start first."
        )
    codes, uniques = pd.factorize(df[id_col], sort=False)
    step = np.diff(period)
    same = codes[1:] == codes[:-1]
    bad = same & (step <= 0)
    if bad.any():
        sid = uniques[codes[1:][bad][0]]
        what = "duplicated" if (step[bad] == 0).any() else "unsorted"
        raise ZkValueError(
            f"Series {sid!r} has {what} periods in {time_col!r}; each series needs strictly increasing, unique "
            f"period starts (sort by [{id_col!r}, {time_col!r}] and aggregate duplicates)."
        )
    # rows of a series must be contiguous
    starts_of_run = np.r_[True, ~same]
    if np.bincount(codes[starts_of_run], minlength=len(uniques)).max(initial=0) > 1:
        sid = uniques[np.argmax(np.bincount(codes[starts_of_run], minlength=len(uniques)))]
        raise ZkValueError(
            f"The rows of series {sid!r} are not together; sort df by [{id_col!r}, {time_col!r}]."
        )

    n = len(uniques)
    run_first = np.nonzero(starts_of_run)[0]  # one run per series, in order of first appearance
    first = period[run_first]
    last = period[np.r_[run_first[1:], codes.size] - 1]
    width = int((last - first).max()) + 1 if n else 1
    y = np.full((n, width), np.nan)
    mask = np.arange(width)[None, :] >= (width - 1 - (last - first))[:, None]
    y[mask] = 0.0  # periods inside a series without a row are zero demand
    y[codes, width - 1 - (last[codes] - period)] = df[target_col].to_numpy(dtype=np.float64)

    out: dict[str, Any] = {
        id_col: np.repeat(uniques.to_numpy() if hasattr(uniques, "to_numpy") else np.asarray(uniques), h),
        time_col: _period_dates((last[:, None] + np.arange(1, h + 1)[None, :]).ravel(), canonical),
    }
    zs = [NormalDist().inv_cdf(0.5 + float(lv) / 200.0) for lv in levels]
    for est in estimators:
        est.fit(y, fitted=bool(levels))
        point = np.asarray(est.predict(h), dtype=np.float64)
        out[est.alias] = point.ravel()
        if levels:
            res = y - est.fitted_
            sq = res * res
            n_res = (~np.isnan(sq)).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                sigma = np.sqrt(np.where(np.isnan(sq), 0.0, sq).sum(axis=1) / n_res)
            for lv, z in zip(levels, zs):
                tag = f"{lv:g}"
                out[f"{est.alias}-lo-{tag}"] = np.maximum(point - z * sigma[:, None], 0.0).ravel()
                out[f"{est.alias}-hi-{tag}"] = (point + z * sigma[:, None]).ravel()
    return pd.DataFrame(out)
