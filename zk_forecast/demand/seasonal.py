"""Seasonality for sparse parts: seasonal profiles pooled over groups of series, and a seasonal estimator.

A single spare part has too few demands to show the farming year (spring sowing Apr-May, wheat harvest Jun-Jul,
autumn harvest Sep-Oct, idle winter), but the parts of one machine type or one category share it. This module
estimates one seasonal profile per group of series and applies it over the forecast horizon:

    seasonal forecast[i, k] = level[i] × index[group(i), season(T + k)]

where ``level`` is the flat forecast of a base method (SBA by default) fitted to the **deseasonalised** history
``y / index`` and ``index`` has mean 1 over a cycle (the ``season_length`` indices sum to ``season_length``).

Estimation of a group's profile (:func:`seasonal_profiles`), vectorised over series (one sort and one
``np.add.reduceat`` per group aggregation, loops over at most ``season_length`` season positions only):

1. each series is divided by its own mean over its observed periods, so that every series counts alike whatever
   its volume (series without demand are left out);
2. the group's normalised demand per period is the mean of its observed series in that period;
3. trend removal: when the history spans at least two cycles, each period is divided by the centred moving average
   over one cycle (2×``season_length`` for an even period, classical decomposition); otherwise by the group's overall
   mean;
4. the raw index of a season position is the mean of these ratios over the cycles (weighted by the number of
   series observed), then smoothed circularly with a moving average of ``smoothing`` positions (default 1 for
   monthly, 5 for weekly profiles) and scaled to mean 1;
5. shrinkage toward the flat profile: ``index = 1 + w (raw - 1)`` with ``w = d / (d + shrinkage)``, where ``d``
   is the number of periods with demand in the group per season position. A group with little evidence keeps a
   nearly flat profile.

Season positions
----------------
For a :class:`~zk_forecast.demand.panel.Panel` they come from its period starts: the month (``freq="MS"``,
``season_length=12``) or the week of the year counted from 1 January in steps of 7 days with the 53rd partial week folded
into the 52nd (``freq="W-MON"``, ``season_length=52``); ``season_length=12`` on a weekly panel uses the month of each week's
Monday. For a plain array they are ``(phase + column) % season_length``: ``phase`` is the position of column 0
(e.g. ``month - 1`` of the first column of a monthly array).

>>> import numpy as np
>>> y = np.tile([0.0, 0, 4, 0], (3, 6))                # every series peaks in the third of four periods
>>> prof = seasonal_profiles(y, season_length=4, shrinkage=0.0)
>>> prof.round(2).to_numpy().tolist()
[[0.0, 0.0, 4.0, 0.0]]
"""

from __future__ import annotations

import numbers
from typing import Any

import numba
import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.base import BaseEstimator

from zk_forecast.demand.models import ESTIMATORS, NotFittedError, fresh_estimator
from zk_forecast.demand.panel import Panel
from zk_forecast.errors import ZkTypeError, ZkValueError

__all__ = ["MIN_INDEX", "SeasonalAdjusted", "season_positions", "seasonal_indices", "seasonal_profiles"]

#: Floor of a seasonal index when deseasonalising (``y / max(index, MIN_INDEX)``) [-]: a demand in a season the
#: profile calls idle must not blow up the level.
MIN_INDEX = 0.05


# ----------------------------------------------------------------------------------------------------
# checks and helpers


def _check_season_length(season_length: Any) -> int:
    if not isinstance(season_length, numbers.Integral) or isinstance(season_length, bool) or int(season_length) < 2:
        raise ZkValueError(
            f"The 'season_length' parameter must be an int >= 2 [periods per cycle], e.g. 12 for months or 52 for weeks. "
            f"Got {season_length!r} instead."
        )
    return int(season_length)


def _check_shrinkage(shrinkage: Any) -> float:
    if not isinstance(shrinkage, numbers.Real) or isinstance(shrinkage, bool) or not (0 <= float(shrinkage) < np.inf):
        raise ZkValueError(
            f"The 'shrinkage' parameter must be a finite float >= 0 [demand periods per season position]. "
            f"Got {shrinkage!r} instead."
        )
    return float(shrinkage)


def _check_smoothing(smoothing: Any, season_length: int) -> int:
    if smoothing is None:
        return 1 if season_length <= 12 else max(1, int(round(season_length / 12)) // 2 * 2 + 1)
    if (not isinstance(smoothing, numbers.Integral) or isinstance(smoothing, bool) or int(smoothing) < 1
            or int(smoothing) % 2 == 0 or int(smoothing) > season_length):
        raise ZkValueError(
            f"The 'smoothing' parameter must be None or an odd int in [1, season_length={season_length}] [season positions]. "
            f"Got {smoothing!r} instead."
        )
    return int(smoothing)


def _as_values(y: Any) -> np.ndarray:
    a = y.values if isinstance(y, Panel) else np.asarray(y.to_numpy() if isinstance(y, pd.DataFrame) else y,
                                                          dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ZkValueError(
            f"Demand must be a Panel or a 2-D array (n_series, n_periods); got shape {a.shape}. Reshape a single "
            "series with y.reshape(1, -1)."
        )
    if np.any(a < 0) or np.isinf(a).any():
        raise ZkValueError("Demand must be finite and >= 0 [units per period]; net returns into demand first.")
    return a


def season_positions(y: Any, season_length: int, phase: int = 0, n_periods: int | None = None) -> np.ndarray:
    """Season position (0 .. season_length-1) of each column of ``y``.

    Parameters
    ----------
    y : Panel, numpy.ndarray or None
        A panel (positions from its period starts, see the module notes) or an array (positions
        ``(phase + column) % season_length``).
    season_length : int
        Periods per seasonal cycle [periods], e.g. 12 or 52.
    phase : int, default 0
        Season position of column 0 of an array [periods]; ignored for a panel.
    n_periods : int, optional
        Number of columns when ``y`` is None.

    Returns
    -------
    numpy.ndarray of int64, shape (n_periods,)
    """
    season_length = _check_season_length(season_length)
    if isinstance(y, Panel):
        ds = pd.DatetimeIndex(y.periods)
        if y.freq == "MS" and season_length == 12:
            return (ds.month.to_numpy() - 1).astype(np.int64)
        if y.freq == "W-MON" and season_length == 12:
            return (ds.month.to_numpy() - 1).astype(np.int64)
        if y.freq == "W-MON" and season_length == 52:
            return np.minimum((ds.day_of_year.to_numpy() - 1) // 7, 51).astype(np.int64)
        start = 0
        n = len(ds)
    else:
        start = int(phase)
        n = int(n_periods) if n_periods is not None else _as_values(y).shape[1]
    return ((start + np.arange(n)) % season_length).astype(np.int64)


def _group_codes(groups: Any, y: Any, n: int) -> tuple[np.ndarray, pd.Index]:
    """Codes 0..G-1 per series and the group labels."""
    if groups is None:
        return np.zeros(n, dtype=np.int64), pd.Index(["all"], name="group")
    if isinstance(groups, str):
        if not isinstance(y, Panel):
            raise ZkTypeError(
                f"groups={groups!r} names a column of the panel's series table, but y is not a Panel; pass one "
                "group label per series instead."
            )
        if groups not in y.series.columns:
            raise ZkValueError(
                f"groups={groups!r} is not a column of the panel's series table {list(y.series.columns)}; add it "
                "(e.g. panel.series['machine_type'] = ...) or pass one label per series."
            )
        labels: Any = y.series[groups].to_numpy()
    elif isinstance(groups, pd.Series) and isinstance(y, Panel) and not groups.index.equals(pd.RangeIndex(n)):
        # a mapping: by unique_id, else by part_no
        by_id = groups.reindex(y.series.index)
        labels = by_id.to_numpy() if by_id.notna().any() else groups.reindex(y.series["part_no"]).to_numpy()
    else:
        labels = np.asarray(groups, dtype=object)
    if len(labels) != n:
        raise ZkValueError(
            f"'groups' has {len(labels)} labels but there are {n} series; pass one group label per series."
        )
    labels = np.where(pd.isna(labels), "(none)", labels)
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object), sort=True)
    return codes.astype(np.int64), pd.Index(uniques, name="group")


def _position_sum(x: np.ndarray, pos: np.ndarray, season_length: int, op: Any = np.add) -> np.ndarray:
    """``op`` over the columns of each season position, shape (n_rows, season_length) (0 where a position has
    no column).

    One pass per occurrence of a position (a few for a few years of history) instead of one per position: the
    columns of each position are added in their order, which is what ``x[:, pos == k].sum(axis=1)`` does while a
    position has fewer than 8 columns (numpy's pairwise summation starts at 8); with more, that plain sum is used.
    """
    counts = np.bincount(pos, minlength=season_length)
    if op is np.add and counts.max(initial=0) >= 8:
        return np.stack([x[:, pos == k].sum(axis=1) for k in range(season_length)], axis=1)
    out = np.zeros((x.shape[0], season_length), dtype=np.float64 if op is np.add else bool)
    cols = np.argsort(pos, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    for j in range(int(counts.max(initial=0))):  # the j-th column of each position that has one
        has = np.flatnonzero(counts > j)
        out[:, has] = op(out[:, has], x[:, cols[starts[has] + j]]) if j else x[:, cols[starts[has]]]
    return out


@numba.njit(cache=True)
def _group_sums(a, level, codes, cnt, s, n_dem):  # pragma: no cover - compiled
    """Per group and period: observed periods of series with demand (``cnt``), the sum of demand over each
    series' mean level (``s``), and per group the periods with demand (``n_dem``); one pass over the rows, in row
    order (the sums equal a row-by-row numpy accumulation bit for bit), no temporary of the panel's size."""
    n, t_len = a.shape
    for i in range(n):
        g = codes[i]
        lv = level[i]
        for t in range(t_len):
            x = a[i, t]
            if x != x:  # not observed
                continue
            if x > 0.0:
                n_dem[g] += 1
            if lv > 0.0:
                cnt[g, t] += 1.0
                s[g, t] += x / lv


def _profiles(a: np.ndarray, codes: np.ndarray, n_groups: int, pos: np.ndarray, season_length: int,
              shrinkage: float, smoothing: int) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal indices (n_groups, season_length) and the demand periods per group (n_groups,)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        n_obs = (~np.isnan(a)).sum(axis=1)
        level = np.where(n_obs > 0, np.nansum(a, axis=1) / np.maximum(n_obs, 1), 0.0)
    cnt = np.zeros((n_groups, a.shape[1]))
    s = np.zeros((n_groups, a.shape[1]))
    n_dem = np.zeros(n_groups, dtype=np.int64)
    _group_sums(a, level, codes, cnt, s, n_dem)
    n_dem = n_dem.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(cnt > 0, s / np.where(cnt > 0, cnt, 1.0), np.nan)  # normalised group demand per period
        overall = np.nanmean(np.where(cnt > 0, g, np.nan), axis=1) if g.shape[1] else np.full(n_groups, np.nan)
    t_len = g.shape[1]
    ratio = g / overall[:, None]
    if t_len >= 2 * season_length:
        # centred moving average over one cycle (2 x season_length when it is even), full windows only
        w = np.ones(season_length + 1) if season_length % 2 == 0 else np.ones(season_length)
        if season_length % 2 == 0:
            w[0] = w[-1] = 0.5
        w = w / w.sum()
        half = len(w) // 2
        gz = np.where(np.isnan(g), 0.0, g)
        ok = (~np.isnan(g)).astype(np.float64)
        cma = np.full_like(g, np.nan)
        full = np.full_like(g, False, dtype=bool)
        if t_len >= len(w):
            # all groups at once (w has odd length and is symmetric: centred windows, no reversal); the full
            # windows are the columns half .. t_len - half - 1
            conv = ndimage.correlate1d(gz, w, axis=1, mode="constant")[:, half:t_len - half]
            cover = ndimage.correlate1d(ok, np.ones(len(w)), axis=1, mode="constant")[:, half:t_len - half]
            cma[:, half:t_len - half] = conv
            full[:, half:t_len - half] = cover >= len(w) - 1e-9
        good = full & (cma > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(good, g / np.where(good, cma, 1.0), np.nan)
        # positions never covered by a full window (short or gappy groups) fall back to the overall mean
        covered = _position_sum(good, pos, season_length, np.logical_or)
        fallback = ~covered[:, pos]
        ratio = np.where(fallback, g / overall[:, None], ratio)
    wt = np.where(np.isnan(ratio), 0.0, cnt)
    rv = np.where(np.isnan(ratio), 0.0, ratio)
    num = _position_sum(rv * wt, pos, season_length)
    den = _position_sum(wt, pos, season_length)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    raw = np.where(np.isnan(raw), np.nanmean(raw, axis=1, keepdims=True) if season_length else raw, raw)
    raw = np.where(np.isnan(raw), 1.0, raw)
    if smoothing > 1:
        half = smoothing // 2
        idx = (np.arange(season_length)[:, None] + np.arange(-half, half + 1)[None, :]) % season_length
        raw = raw[:, idx].mean(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = raw.mean(axis=1, keepdims=True)
        raw = np.where(m > 0, raw / np.where(m > 0, m, 1.0), 1.0)
    d = n_dem / season_length
    wgt = d / (d + shrinkage) if shrinkage > 0 else (n_dem > 0).astype(np.float64)
    return 1.0 + wgt[:, None] * (raw - 1.0), n_dem


# ----------------------------------------------------------------------------------------------------
# public functions


def seasonal_profiles(
    y: Panel | np.ndarray | pd.DataFrame,
    groups: Any = None,
    season_length: int = 12,
    *,
    shrinkage: float = 2.0,
    smoothing: int | None = None,
    phase: int = 0,
) -> pd.DataFrame:
    """Seasonal indices pooled over groups of series.

    Parameters
    ----------
    y : Panel, numpy.ndarray or pandas.DataFrame, shape (n_series, n_periods)
        Demand [units per period]; NaN = not observed (before listing or missing).
    groups : None, str, array-like or pandas.Series
        The pool of each series: None pools all series; a str names a column of ``y.series`` (a Panel), e.g. a
        ``machine_type`` or ``category`` column you added; an array-like gives one label per series; a Series
        indexed by ``unique_id`` or ``part_no`` maps a panel's series to labels. Missing labels form the group
        ``"(none)"``.
    season_length : int, default 12
        Periods per cycle [periods]: 12 for months, 52 for weeks.
    shrinkage : float, default 2.0
        Pseudo-count toward the flat profile [demand periods per season position]: the raw profile gets weight
        ``d / (d + shrinkage)`` with ``d`` the group's periods with demand divided by ``season_length``; 0 = no
        shrinkage.
    smoothing : int or None
        Width of the circular moving average over season positions [positions], odd; None: 1 for
        ``season_length <= 12``, ``round(season_length / 12)`` made odd (5 for 52) otherwise.
    phase : int, default 0
        Season position of column 0 of an array (ignored for a Panel) [periods].

    Returns
    -------
    pandas.DataFrame
        One row per group (index ``group``, sorted), one column per season position ``1 .. season_length`` (months
        1-12, weeks 1-52) holding the index [-]; each row sums to ``season_length``. ``attrs["n_demands"]`` holds the
        periods with demand per group.

    Raises
    ------
    ZkValueError
        Bad ``season_length``, ``shrinkage``, ``smoothing``, or ``groups`` of the wrong length.
    """
    season_length = _check_season_length(season_length)
    shrink = _check_shrinkage(shrinkage)
    smooth = _check_smoothing(smoothing, season_length)
    a = _as_values(y)
    codes, labels = _group_codes(groups, y, a.shape[0])
    pos = season_positions(y if isinstance(y, Panel) else None, season_length, phase, n_periods=a.shape[1])
    idx, n_dem = _profiles(a, codes, len(labels), pos, season_length, shrink, smooth)
    out = pd.DataFrame(idx, index=labels, columns=pd.RangeIndex(1, season_length + 1, name="season"))
    out.attrs["n_demands"] = dict(zip(labels.tolist(), n_dem.astype(int).tolist()))
    return out


def seasonal_indices(profiles: pd.DataFrame, labels: Any) -> np.ndarray:
    """Index rows (n_series, season_length) for group ``labels``; unknown or missing groups get the flat profile 1."""
    lab = pd.Index(np.where(pd.isna(np.asarray(labels, dtype=object)), "(none)", np.asarray(labels, dtype=object)))
    pos = profiles.index.get_indexer(lab)
    flat = np.ones((1, profiles.shape[1]))
    table = np.vstack([profiles.to_numpy(dtype=np.float64), flat])
    return table[np.where(pos < 0, len(profiles), pos)]


# ----------------------------------------------------------------------------------------------------
# the estimator


class SeasonalAdjusted(BaseEstimator):
    """A flat base method on the deseasonalised history, reseasonalised by pooled profiles.

    Parameters
    ----------
    base : str or estimator, default "sba"
        A method name of :data:`zk_forecast.demand.models.ESTIMATORS` or an estimator instance (cloned).
    season_length : int, default 12
        Periods per cycle [periods]: 12 (months) or 52 (weeks).
    groups : None or array-like
        One group label per series of the ``y`` given to ``fit`` (e.g. machine type); None pools all series.
    shrinkage : float, default 2.0
        See :func:`seasonal_profiles` [demand periods per season position].
    smoothing : int or None
        See :func:`seasonal_profiles` [season positions].
    phase : int, default 0
        Season position of column 0 of ``y`` [periods]: for a monthly array starting in April, ``phase=3``.
    profiles : pandas.DataFrame or None
        Profiles from :func:`seasonal_profiles` (e.g. estimated once on the whole network) to use instead of
        estimating them from ``y``; rows are looked up by ``groups``, unknown groups are flat.
    conventions : {"zk", "statsforecast", "r"}, default "zk"
        Passed to a base given by name.
    alias : str, default "seasonal"
        Output column name in :func:`zk_forecast.demand.forecast.forecast`.

    Attributes
    ----------
    profiles_ : pandas.DataFrame
        The profiles used (group × season position) [-].
    indices_ : numpy.ndarray, shape (n_series, season_length)
        Each series' seasonal indices [-].
    forecast_level_ : numpy.ndarray, shape (n_series,)
        The base method's deseasonalised level [units per period, deseasonalised].
    fitted_ : numpy.ndarray or None, shape (n_series, n_periods)
        In-sample one-step forecasts, reseasonalised [units per period].
    base_ : estimator
        The fitted base estimator.
    """

    def __init__(
        self,
        *,
        base: Any = "sba",
        season_length: int = 12,
        groups: Any = None,
        shrinkage: float = 2.0,
        smoothing: int | None = None,
        phase: int = 0,
        profiles: pd.DataFrame | None = None,
        conventions: str = "zk",
        alias: str = "seasonal",
    ) -> None:
        self.base = base
        self.season_length = season_length
        self.groups = groups
        self.shrinkage = shrinkage
        self.smoothing = smoothing
        self.phase = phase
        self.profiles = profiles
        self.conventions = conventions
        self.alias = alias

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.get_params(deep=False).items() if k not in ("groups", "profiles")}
        return f"SeasonalAdjusted({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def _make_base(self) -> Any:
        b = self.base
        if isinstance(b, str):
            if b not in ESTIMATORS:
                raise ZkValueError(f"Unknown base method {b!r}; the valid names are {list(ESTIMATORS)}.")
            cls = ESTIMATORS[b]
            return cls(conventions=self.conventions) if "conventions" in cls._rules else cls()  # type: ignore[call-arg]
        if all(hasattr(b, a) for a in ("fit", "predict")):
            return fresh_estimator(b)
        raise ZkTypeError(f"'base' must be a method name or an estimator with fit/predict; got {b!r}.")

    def fit(self, y: Any, *, fitted: bool = True) -> SeasonalAdjusted:
        """Estimate the profiles (unless given), deseasonalise ``y`` and fit the base method.

        Parameters
        ----------
        y : array-like, shape (n_series, n_periods)
            Demand [units per period]; leading NaN = not yet listed.
        fitted : bool, default True
            Compute the in-sample one-step forecasts ``fitted_``.

        Returns
        -------
        SeasonalAdjusted
            ``self``.
        """
        season_length = _check_season_length(self.season_length)
        if not isinstance(self.phase, numbers.Integral) or isinstance(self.phase, bool):
            raise ZkValueError(f"The 'phase' parameter must be an int [periods]. Got {self.phase!r} instead.")
        a = _as_values(y)
        n, t = a.shape
        if self.profiles is not None:
            if not isinstance(self.profiles, pd.DataFrame) or self.profiles.shape[1] != season_length:
                raise ZkValueError(
                    f"'profiles' must be a DataFrame from seasonal_profiles with {season_length} columns (one per season "
                    "position)."
                )
            labels = np.full(n, "all", dtype=object) if self.groups is None else np.asarray(self.groups, object)
            if len(labels) != n:
                raise ZkValueError(f"'groups' has {len(labels)} labels but y has {n} series; pass one per series.")
            self.profiles_ = self.profiles
            self.indices_ = seasonal_indices(self.profiles, labels)
        else:
            codes, labels_idx = _group_codes(self.groups, a, n)
            self.profiles_ = seasonal_profiles(a, codes, season_length, shrinkage=self.shrinkage,
                                               smoothing=self.smoothing, phase=int(self.phase))
            self.profiles_.index = labels_idx
            self.indices_ = self.profiles_.to_numpy()[codes]
        col_idx = self.indices_[:, season_positions(None, season_length, int(self.phase), n_periods=t)]
        adj = a / np.maximum(col_idx, MIN_INDEX)
        self.base_ = self._make_base().fit(adj, fitted=fitted)
        self.forecast_level_ = np.asarray(self.base_.forecast_level_, dtype=np.float64) if hasattr(
            self.base_, "forecast_level_") else np.asarray(self.base_.predict(1), dtype=np.float64)[:, 0]
        base_fit = getattr(self.base_, "fitted_", None)
        self.fitted_ = None if (not fitted or base_fit is None) else np.asarray(base_fit) * col_idx
        self.n_series_ = n
        self.n_periods_ = t
        return self

    def predict(self, h: int) -> np.ndarray:
        """Seasonal forecasts for the next ``h`` periods, shape (n_series, h) [units per period]."""
        if not hasattr(self, "base_"):
            raise NotFittedError("This SeasonalAdjusted is not fitted yet; call fit(y) before predict(h).")
        if not isinstance(h, numbers.Integral) or isinstance(h, bool) or h < 1:
            raise ZkValueError(f"The 'h' parameter of predict must be an int >= 1 [periods]. Got {h!r} instead.")
        season_length = int(self.season_length)
        fut = (int(self.phase) + self.n_periods_ + np.arange(int(h))) % season_length
        return np.asarray(self.base_.predict(int(h)), dtype=np.float64) * self.indices_[:, fut]
