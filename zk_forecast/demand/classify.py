"""Demand classification: Syntetos-Boylan-Croston patterns, ABC by value and XYZ by variability.

Definitions (all over the non-missing periods of a series; NaN periods are skipped, never read as zero)
------------------------------------------------------------------------------------------------------
ADI [periods]
    Average inter-demand interval = observed periods / periods with demand (``y > 0``). It is the mean interval
    between demands when the observation window is counted as whole renewal cycles, i.e. ``1 / p`` for the
    per-period demand probability ``p``; trailing zero periods therefore raise it (unlike the mean of the gaps
    between the first and last demand, which ignores them).
CV² [-]
    Squared coefficient of variation of the non-zero demand sizes, ``var / mean²`` with the plug-in variance
    (``ddof=0``).
SBC category (Syntetos, Boylan & Croston 2005, *J. Oper. Res. Soc.* 56(5):495-503; cut-offs ADI 1.32, CV² 0.49)
    ``smooth`` (ADI ≤ 1.32, CV² ≤ 0.49), ``erratic`` (ADI ≤ 1.32, CV² > 0.49), ``intermittent`` (ADI > 1.32,
    CV² ≤ 0.49), ``lumpy`` (ADI > 1.32, CV² > 0.49). A value exactly on a cut-off goes to the smooth side.
    A series with no demand in its observed periods is ``no_demand``; one with exactly one demand period is
    ``single`` (one size has no variation to measure, and one interval is no average).
ABC by value
    Annual demand value [CNY/year] = mean demand per observed period × periods per year × ``unit_cost``. Series
    are ranked by value (descending; ties by ``unique_id``) and the cumulative value share *before* each series
    decides: share before < 80 % → A, < 95 % → B, else C (``abc_cutoffs``). So the top series is always A and the
    series that crosses 80 % is still A. Series without a unit cost get no class (NA); zero-value series are C.
XYZ by variability
    CV of the per-period demand (zeros included, ``ddof=0``): CV ≤ 0.5 → X, ≤ 1.0 → Y, else Z
    (``xyz_cutoffs``). These defaults are a practitioner convention rather than a published standard: texts
    using monthly data often draw tighter lines (e.g. 0.25 / 0.5), under which nearly every weekly spare-part
    series would be Z. Pass the cut-offs that suit your period length. A series with no demand has no XYZ (NA).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.demand.panel import Panel
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.schema import split_series_id

__all__ = ["ADI_CUTOFF", "CV2_CUTOFF", "SBC_CATEGORIES", "adi_cv2", "classify", "sbc_category"]

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
#: Categories :func:`sbc_category` returns, in this order.
SBC_CATEGORIES = ("smooth", "erratic", "intermittent", "lumpy", "single", "no_demand")
_PERIODS_PER_YEAR = {"W-MON": 365.2425 / 7.0, "MS": 12.0}


def adi_cv2(y: Any) -> dict[str, np.ndarray]:
    """Per-series demand statistics of a (series × periods) array, vectorised.

    Parameters
    ----------
    y : array-like of float, shape (n_series, n_periods)
        Demand per period [units]; NaN = missing period; must not be negative.

    Returns
    -------
    dict of str to numpy.ndarray, each shape (n_series,)
        ``n_periods`` (observed) [periods], ``n_demands`` (periods with ``y > 0``) [periods],
        ``adi`` [periods] (NaN without demand), ``mean_size`` [units], ``cv2`` [-] (NaN without demand),
        ``mean`` [units/period] and ``cv`` [-] of the per-period demand (NaN when the mean is 0).
    """
    a = _as_2d(y)
    obs = ~np.isnan(a)
    z = np.where(obs, a, 0.0)
    pos = z > 0
    n_obs = obs.sum(axis=1)
    n_dem = pos.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(n_dem > 0, n_obs / np.maximum(n_dem, 1), np.nan)
        s1 = z.sum(axis=1)
        mean_size = np.where(n_dem > 0, s1 / np.maximum(n_dem, 1), np.nan)
        # deviations squared in place, one (series x periods) array at a time (large panels)
        dev = z - mean_size[:, None]
        dev[~pos] = 0.0
        np.multiply(dev, dev, out=dev)
        var_size = dev.sum(axis=1) / np.maximum(n_dem, 1)
        cv2 = np.where(n_dem > 0, var_size / mean_size**2, np.nan)
        mean = np.where(n_obs > 0, s1 / np.maximum(n_obs, 1), np.nan)
        np.subtract(z, mean[:, None], out=dev)
        dev[~obs] = 0.0
        np.multiply(dev, dev, out=dev)
        sd = np.sqrt(dev.sum(axis=1) / np.maximum(n_obs, 1))
        del dev
        cv = np.where(mean > 0, sd / mean, np.nan)
    return {"n_periods": n_obs, "n_demands": n_dem, "adi": adi, "mean_size": mean_size, "cv2": cv2,
            "mean": mean, "cv": cv}


def sbc_category(adi: Any, cv2: Any, n_demands: Any, *, adi_cutoff: float = ADI_CUTOFF,
                 cv2_cutoff: float = CV2_CUTOFF) -> np.ndarray:
    """The Syntetos-Boylan-Croston category of each series.

    Parameters
    ----------
    adi : array-like of float
        Average inter-demand interval [periods].
    cv2 : array-like of float
        Squared CV of the non-zero demand sizes [-].
    n_demands : array-like of int
        Periods with demand [periods]: 0 gives ``no_demand``, 1 gives ``single``.
    adi_cutoff, cv2_cutoff : float
        Cut-offs; a value above a cut-off is on the intermittent (ADI) or erratic (CV²) side.

    Returns
    -------
    numpy.ndarray of str (object)
        One of :data:`SBC_CATEGORIES` per series.
    """
    adi_a = np.asarray(adi, dtype=np.float64)
    cv2_a = np.asarray(cv2, dtype=np.float64)
    n = np.asarray(n_demands)
    idx = (adi_a > adi_cutoff).astype(np.int64) * 2 + (cv2_a > cv2_cutoff).astype(np.int64)
    idx = np.where(n == 1, 4, idx)
    idx = np.where(n <= 0, 5, idx)
    return np.asarray(SBC_CATEGORIES, dtype=object)[idx]


def classify(
    y: Panel | pd.DataFrame | np.ndarray,
    *,
    unit_cost: Any = None,
    periods_per_year: float | None = None,
    adi_cutoff: float = ADI_CUTOFF,
    cv2_cutoff: float = CV2_CUTOFF,
    abc_cutoffs: tuple[float, float] = (0.80, 0.95),
    xyz_cutoffs: tuple[float, float] = (0.5, 1.0),
    abc_by: str | None = None,
) -> pd.DataFrame:
    """Classify every series: SBC pattern, ABC by annual value, XYZ by variability.

    Parameters
    ----------
    y : Panel, pandas.DataFrame or numpy.ndarray
        A :class:`~zk_forecast.demand.panel.Panel`, a wide frame (index ``unique_id``, one column per period) or
        a (series × periods) array [units per period]; NaN = missing.
    unit_cost : float, pandas.Series, pandas.DataFrame or array-like, optional
        [CNY per unit]. A Series indexed by ``part_no`` (e.g. ``parts.set_index("part_no")["unit_cost"]``) or by
        ``unique_id``; the ``parts`` table (``part_no``, ``unit_cost``); one value per series; or one scalar.
        Without it ``annual_value`` and ``abc`` are NA.
    periods_per_year : float, optional
        [periods/year]; default from the panel's ``freq`` (52.18 weekly, 12 monthly), else 52.18.
    adi_cutoff, cv2_cutoff : float, default 1.32 and 0.49
        SBC cut-offs [periods] and [-].
    abc_cutoffs : (float, float), default (0.80, 0.95)
        Cumulative value shares [-] closing classes A and B.
    xyz_cutoffs : (float, float), default (0.5, 1.0)
        CV limits [-] of classes X and Y.
    abc_by : {None, "depot_id"}, default None
        Rank all series together (None) or within each depot.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unique_id``: ``part_no``, ``depot_id``, ``n_periods``, ``n_demands``, ``adi``, ``cv2``,
        ``mean_size``, ``sbc``, ``mean`` [units/period], ``cv``, ``xyz``, ``annual_quantity`` [units/year],
        ``annual_value`` [CNY/year], ``value_share`` [-], ``abc``.
    """
    a, series, freq = _unpack(y)
    lo, hi = _check_pair("abc_cutoffs", abc_cutoffs, upper=1.0)
    x_lim, y_lim = _check_pair("xyz_cutoffs", xyz_cutoffs, upper=np.inf)
    for name, v in (("adi_cutoff", adi_cutoff), ("cv2_cutoff", cv2_cutoff)):
        if not np.isfinite(v) or v < 0:
            raise ZkValueError(f"The {name!r} parameter of classify must be a finite number >= 0; got {v!r}.")
    if abc_by not in (None, "depot_id"):
        raise ZkValueError(f"The 'abc_by' parameter of classify must be None or 'depot_id'; got {abc_by!r}.")
    ppy = periods_per_year if periods_per_year is not None else _PERIODS_PER_YEAR.get(freq or "W-MON", 52.1775)
    if not np.isfinite(ppy) or ppy <= 0:
        raise ZkValueError(f"The 'periods_per_year' parameter must be > 0 [periods/year]; got {ppy!r}.")

    st = adi_cv2(a)
    out = series.copy()
    out["n_periods"] = st["n_periods"]
    out["n_demands"] = st["n_demands"]
    out["adi"] = st["adi"]
    out["cv2"] = st["cv2"]
    out["mean_size"] = st["mean_size"]
    out["sbc"] = pd.Categorical(sbc_category(st["adi"], st["cv2"], st["n_demands"], adi_cutoff=adi_cutoff,
                                             cv2_cutoff=cv2_cutoff), categories=list(SBC_CATEGORIES))
    out["mean"] = st["mean"]
    out["cv"] = st["cv"]
    cv = st["cv"]
    xyz = np.where(cv <= x_lim, "X", np.where(cv <= y_lim, "Y", "Z")).astype(object)
    xyz[np.isnan(cv)] = None
    out["xyz"] = pd.Categorical(xyz, categories=["X", "Y", "Z"])

    out["annual_quantity"] = st["mean"] * ppy
    cost = _unit_cost(unit_cost, series)
    value = out["annual_quantity"].to_numpy() * cost
    out["annual_value"] = value
    out["value_share"], out["abc"] = _abc(value, series, lo, hi, abc_by)
    return out


def _abc(value: np.ndarray, series: pd.DataFrame, lo: float, hi: float, by: str | None) -> tuple[np.ndarray, Any]:
    """Value shares and ABC classes, ranked within groups (all series, or per depot); vectorised."""
    n = value.size
    known = ~np.isnan(value)
    group = (pd.factorize(series["depot_id"].astype("string"), use_na_sentinel=False)[0] if by
             else np.zeros(n, dtype=np.int64))
    v = np.where(known, value, 0.0)
    ids = series.index.to_numpy(dtype=object).astype(str)
    order = np.lexsort((ids, -v, group))  # group, then value descending, then unique_id
    g, vs = group[order], v[order] * known[order]
    total = np.bincount(g, weights=vs, minlength=int(g.max(initial=-1)) + 1)
    csum = np.cumsum(vs)
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1] if n else np.zeros(0, dtype=np.int64)
    offset = np.zeros(n)
    if n:
        seg = np.repeat(np.arange(start.size), np.diff(np.r_[start, n]))
        offset = (csum - vs)[start][seg]
    before = csum - vs - offset
    denom = total[g]
    with np.errstate(invalid="ignore", divide="ignore"):
        share_before = np.where(denom > 0, before / denom, 1.0)
        share = np.where(denom > 0, vs / denom, 0.0)
    cls = np.where(share_before < lo, "A", np.where(share_before < hi, "B", "C")).astype(object)
    cls[vs <= 0] = "C"
    share_out = np.empty(n)
    cls_out = np.empty(n, dtype=object)
    share_out[order] = share
    cls_out[order] = cls
    share_out[~known] = np.nan
    cls_out[~known] = None
    return share_out, pd.Categorical(cls_out, categories=["A", "B", "C"])


def _unit_cost(unit_cost: Any, series: pd.DataFrame) -> np.ndarray:
    n = len(series)
    if unit_cost is None:
        return np.full(n, np.nan)
    if isinstance(unit_cost, pd.DataFrame):
        if not {"part_no", "unit_cost"} <= set(unit_cost.columns):
            raise ZkValueError("unit_cost as a DataFrame must be the parts table with 'part_no' and 'unit_cost' "
                               f"[CNY]; it has {list(unit_cost.columns)}.")
        unit_cost = pd.Series(unit_cost["unit_cost"].to_numpy(dtype=np.float64, na_value=np.nan),
                              index=unit_cost["part_no"].astype(str).to_numpy())
    if isinstance(unit_cost, pd.Series):
        idx = unit_cost.index.astype(str)
        s = pd.Series(unit_cost.to_numpy(dtype=np.float64, na_value=np.nan), index=idx)
        s = s[~s.index.duplicated()]
        by_id = s.reindex(series.index.astype(str)).to_numpy()
        by_part = s.reindex(series["part_no"].astype(str).to_numpy()).to_numpy()
        cost = np.where(np.isnan(by_id), by_part, by_id)
    elif np.ndim(unit_cost) == 0:
        cost = np.full(n, float(unit_cost))
    else:
        cost = np.asarray(unit_cost, dtype=np.float64)
        if cost.shape != (n,):
            raise ZkValueError(f"unit_cost has shape {cost.shape}; give one value per series ({n}) [CNY], a "
                               "Series indexed by part_no, or a scalar.")
    if np.any(cost < 0):
        raise ZkValueError("unit_cost must not be negative [CNY]; check the parts table's 参考成本.")
    return cost


def _check_pair(name: str, pair: Any, upper: float) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ZkValueError(f"The {name!r} parameter of classify must be two numbers (low, high); "
                           f"got {pair!r}.") from None
    if not (0 < lo < hi <= upper):
        raise ZkValueError(f"The {name!r} parameter of classify must satisfy 0 < low < high"
                           f"{' <= 1' if upper == 1.0 else ''}; got {pair!r}.")
    return lo, hi


def _unpack(y: Any) -> tuple[np.ndarray, pd.DataFrame, str | None]:
    if isinstance(y, Panel):
        return y.values, y.series, y.freq
    if isinstance(y, pd.DataFrame):
        a = y.to_numpy(dtype=np.float64, na_value=np.nan)
        ids = y.index.astype(str).to_numpy(dtype=object)
    elif isinstance(y, np.ndarray) or isinstance(y, (list, tuple)):
        a = _as_2d(y)
        ids = np.arange(a.shape[0]).astype(str).astype(object)
    else:
        raise ZkTypeError(f"classify takes a Panel, a wide DataFrame or a 2-D array; got {type(y).__name__}.")
    a = _as_2d(a)
    part_no, depot_id = split_series_id(ids)
    series = pd.DataFrame({"part_no": pd.array(part_no, dtype="string"),
                           "depot_id": pd.array(depot_id, dtype="string")},
                          index=pd.Index(ids, name="unique_id", dtype=object))
    return a, series, None


def _as_2d(y: Any) -> np.ndarray:
    a = np.asarray(y, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ZkValueError(f"demand must be 2-D (series × periods); got shape {a.shape}.")
    if np.any(a < 0):
        raise ZkValueError("demand must not be negative [units]; build it with build_panel, which clips net "
                           "returns to 0.")
    return a
