"""Method selection by rolling-origin evaluation, and the ``"auto"`` method.

Rolling origins
---------------
:func:`rolling_origin` refits every method at each of the last ``n_origins`` forecast origins and compares its
forecasts of the next ``h`` periods with what happened. Origin ``o`` (a column index) fits on ``y[:, :o]`` and
forecasts ``y[:, o:o + h]``; the origins are ``T - h - (n_origins - 1 - k) * step`` for ``k = 0 .. n_origins - 1``
(``T`` periods), so that the last window ends with the last period. With ``h=1, n_origins=12`` they are the last 12
one-step forecasts. All series are evaluated at once (the estimators are vectorised); the loops run over origins
and methods only.

Losses, per series, averaged over every (origin, step) whose actual value is observed:

* scaled MSE: ``mean(e²) / s²``; scaled MAE: ``mean(|e|) / s``; scaled bias: ``mean(e) / s``; and
  ``mse_bias``, the scaled MSE plus ``bias_weight`` times the squared scaled bias, with
  ``e = forecast - actual`` [units per period] and ``s`` the series' in-sample mean demand before the first origin
  [units per period]. A series whose in-sample mean is 0 (or that starts after the first origin) has ``NaN``
  scaled losses; the unscaled ones (``mse``, ``mae``, ``bias``) are kept for it.

Too few periods
---------------
An origin needs at least ``min_train`` periods before it. When the history is too short for ``n_origins``, the
latest origins that fit are used (``n_origins_`` says how many); when not even one fits, :func:`rolling_origin`
raises :class:`~zk_forecast.errors.ZkValueError` and :class:`AutoSelect` falls back to its ``default`` method for
every series (``fallback_`` is True).

Selection (``AutoSelect``)
--------------------------
``select="series"`` picks per series the candidate with the least ``loss``; ``"class"`` picks per Syntetos-Boylan-
Croston class (:func:`~zk_forecast.demand.classify.sbc_category`) the candidate with the least mean scaled loss;
``"global"`` one candidate for all. ``"series"`` can shrink each series' losses toward its class's
(``shrinkage``), and shrinks those of short histories toward the pooled validation of their class (next
section). Ties (e.g. all forecasts exact) go to the earlier candidate in the list.

Short histories
---------------
A dozen inner origins of a short series say little about which candidate will do best; the series of the same
kind say more together. A series with fewer than ``short_history`` (48) periods before its first inner origin
(and a positive in-sample mean) is scored per candidate ``j`` by

    score_j = (n · r_j + m · R_j) / (n + m),

* ``r_j = ln max(L_j, 0.01) - min_k ln max(L_k, 0.01)``: its own scaled ``loss`` relative to its best candidate's,
  on a log scale (scale-free, so that a few series with huge scaled losses do not decide for all);
* ``R_j``: the mean of ``r_j`` over the short series of its pool (the pooled validation of all those series): its
  Syntetos-Boylan-Croston class of the history before the first inner origin × history-length band (< 12,
  12-23, 24-47 periods before the first inner origin);
* ``n``: its observed inner actuals (the evidence of its own losses), ``m = prior_origins`` (32) the weight of the
  pool in the same unit.

With few inner origins the class decides; with twelve the own losses weigh 12/44. Longer histories keep the
per-series choice (the pooling made the MAN weekly benchmark worse, see below). ``prior_origins=0`` turns it off.

How the rule was chosen, inside the fitting window only: every benchmark data set of
``benchmarks/bench_demand_accuracy.py`` was ended 12 periods early (``--shift 12``: the evaluation periods of the
default run are never seen) and the same 12-origin protocol run on what remained, relative RMSE as below. Pooling
weight ``m`` in {0, 16, 32, 64, all weight on the class}: on the short windows (carparts cut to 24 and 36 months
and in full, MAN cut to 52 weeks: 27-39 periods before the first inner origin) ``m = 32`` was best or within
0.001 of the best everywhere (the per-series choice among three candidates -> the pooled one among four:
0.637 -> 0.626, 0.700 -> 0.691, 0.763 -> 0.754, 0.501 -> 0.494), while on the long MAN window (126+ periods)
every ``m > 0`` was worse (0.341 -> 0.354 at 16), hence the 48-period threshold (no window between 40 and 125
periods was measured). Pooling on the mean scaled loss
instead of the log-relative one let a few MAN series with huge scaled losses choose for everybody (0.50 -> 0.75).
The long-run mean was about neutral on those windows (+0.008 on carparts 24, within 0.001 elsewhere) and is kept
for histories whose level is best estimated by all of it; the mean of the last k periods (k = 12, 24, 52) made
every window worse (MAN 52 weeks 0.49 -> 0.61-0.90 with k = 12: exact zeros after quiet quarters) and is left out
(``MovingAverage(window=k)`` can be given as a candidate).

Why the defaults are what they are
----------------------------------
Picking per series the candidate with the least MSE over a dozen inner origins overfits: the winner is often the
one that happened to forecast low over those periods, so the choice is biased low out of sample. On the carparts
(monthly) and MAN (weekly) benchmarks (``benchmarks/bench_demand_accuracy.py``) the least-MSE choice among seven
candidates had a mean scaled bias of -0.19 and -0.74, worse than any single method. Two changes fix it:

* the selection loss is ``mse_bias`` = scaled MSE + ``bias_weight`` · (scaled bias)² with ``bias_weight=8``: a
  candidate has to be unbiased over the inner origins as well as close, which judges the demand *rate* rather than
  period-by-period hits (compare the rate-based costs of Kourentzes 2014);
* the default candidates are only SES with an optimised ``alpha``, SES with ``alpha=0.1`` (label ``"ses_0.1"``:
  slow and unbiased where the optimised one chases recent zeros), TSB (0.1, 0.1) and the long-run mean
  (``"mean"``, where a short history's level is best estimated by all of it): the Croston family (SBA, optimised
  Croston) and the aggregation methods rarely win out of sample and, being many, add selection noise.

With these (h=1, 12 outer origins, relative RMSE = geometric mean of RMSE / RMSE of statsforecast's CrostonSBA;
statsforecast's seven intermittent models CrostonClassic, CrostonOptimized, CrostonSBA, TSB, ADIDA, IMAPA and
HistoricAverage in one call), ``auto`` against the best of them and against the selection before the short-history
rule (``auto_previous`` in the benchmark), relative RMSE / mean scaled bias:

============  ===============  ===============  ======================
data          auto             before           best statsforecast
============  ===============  ===============  ======================
carparts      0.642 / -0.096   0.642 / -0.071   IMAPA 0.743 / -0.198
carparts 36   0.454 / -0.072   0.460 / -0.035   IMAPA 0.736 / -0.078
carparts 24   0.531 / -0.036   0.544 / -0.029   IMAPA 0.773 / -0.043
MAN           0.292 / -0.188   0.294 / -0.132   TSB 0.340 / -0.217
MAN 52 weeks  0.350 / -0.568   0.356 / -0.197   TSB 0.698 / -0.450
============  ===============  ===============  ======================

The scaled MAE fell on every line too; the price is a lower forecast on the short MAN histories (the pooled
choice leans to SES with an optimised ``alpha``, whose bias there is -0.56) and a higher mean scaled MSE on the
monthly ones (carparts 31.0 against 29.1 before; MAN 52 weeks 3106 against 3213 before). The mean scaled MSE is
not the lowest (carparts TSB 28.4; MAN TSB 937 against ``auto`` 957). Tried and worse: shrinkage
toward the SBC class, per-class selection, averaging the best 2-3, a "keep the default unless a candidate beats it
by x %" margin, longer inner windows (18-24 origins; they fit older behaviour on the monthly data), and adding
``naive`` or a moving average (exact zeros and jumps ruin the relative RMSE).

Obsolescence: TSB is a default candidate; its demand probability decays in every period without demand, so a part
whose demand stopped is forecast toward zero (so does SES with an optimised ``alpha``).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from zk_forecast.demand.classify import SBC_CATEGORIES, adi_cv2, sbc_category
from zk_forecast.demand.models import ESTIMATORS, SES, NotFittedError, fresh_estimator
from zk_forecast.demand.seasonal import SeasonalAdjusted
from zk_forecast.errors import ZkTypeError, ZkValueError

__all__ = [
    "DEFAULT_CANDIDATES",
    "LOSSES",
    "AutoSelect",
    "RollingOriginResult",
    "auto_method",
    "evaluation_report",
    "rolling_origin",
]

#: Candidates of :class:`AutoSelect` by default ("seasonal" is added when ``groups`` are given); see the module notes.
DEFAULT_CANDIDATES: tuple[Any, ...] = ("ses", "tsb", SES(alpha=0.1, alias="ses_0.1"), "mean")
#: Losses a selection can minimise (``mse_bias`` = MSE + ``bias_weight`` · bias²).
LOSSES: tuple[str, ...] = ("mse_bias", "mse", "mae", "abs_bias")
#: Weight of the squared bias in the ``mse_bias`` loss by default [-].
DEFAULT_BIAS_WEIGHT = 8.0
_SELECT = ("series", "class", "global")
#: Pooled selection for short histories: prior weight of the class's choice [inner origins], history length below
#: which it applies [periods before the first inner origin], and the floor of the scaled losses compared [-].
DEFAULT_PRIOR_ORIGINS = 32.0
DEFAULT_SHORT_HISTORY = 48
_LOSS_FLOOR = 1e-2
#: Upper edges of the history-length bands that split each SBC class for pooling [periods].
_LENGTH_BANDS = (12, 24)


def _is_int(v: Any, lo: int) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= lo


def _valid_names(seasonal: bool) -> list[str]:
    return [*ESTIMATORS, *(["seasonal"] if seasonal else [])]


def make_estimator(method: Any, *, conventions: str = "zk", groups: Any = None, season_length: int = 12,
                   phase: int = 0) -> Any:
    """A fresh estimator from a method name or an estimator instance (cloned with :func:`sklearn.base.clone`).

    ``"seasonal"`` gives :class:`~zk_forecast.demand.seasonal.SeasonalAdjusted` (base SBA) pooled over ``groups``.
    """
    if isinstance(method, str):
        if method == "seasonal":
            return SeasonalAdjusted(base="sba", season_length=season_length, groups=groups, phase=phase, conventions=conventions)
        if method not in ESTIMATORS:
            raise ZkValueError(
                f"Unknown method {method!r} in the candidates; the valid names are {_valid_names(True)} (or pass "
                "estimator instances such as TSB(alpha_d=0.2, alpha_p=0.05))."
            )
        cls = ESTIMATORS[method]
        return cls(conventions=conventions) if "conventions" in cls._rules else cls()  # type: ignore[call-arg]
    if all(hasattr(method, a) for a in ("fit", "predict")):
        return fresh_estimator(method)
    raise ZkTypeError(f"Each candidate must be a method name or an estimator with fit/predict; got {method!r}.")


def _label(method: Any) -> str:
    return method if isinstance(method, str) else str(getattr(method, "alias", type(method).__name__))


def _as_2d(y: Any) -> np.ndarray:
    a = np.asarray(getattr(y, "values", y), dtype=np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ZkValueError(
            f"Demand 'y' must be a 2-D array (n_series, n_periods) with periods; got shape {a.shape}. Reshape a "
            "single series with y.reshape(1, -1)."
        )
    return a


# ----------------------------------------------------------------------------------------------------
# rolling-origin evaluation


@dataclass(frozen=True)
class RollingOriginResult:
    """Per-series losses of several methods over rolling origins.

    Attributes
    ----------
    methods : list of str
        Method labels (name or alias), in the order given.
    origins : numpy.ndarray of int
        Column indices of the origins (first forecast period of each window) [periods].
    h : int
        Forecast horizon at each origin [periods].
    scale : numpy.ndarray, shape (n_series,)
        In-sample mean demand before the first origin [units per period]; NaN when 0 or unknown.
    mse, mae, bias : numpy.ndarray, shape (n_methods, n_series)
        Unscaled losses [units² per period², units per period, units per period]; bias = mean(forecast - actual).
    forecasts : numpy.ndarray, shape (n_methods, n_series, n_origins, h)
        The forecasts [units per period].
    n_actual : numpy.ndarray of int, shape (n_series,) or None
        Observed actual values the losses average over, per series [-].
    """

    methods: list[str]
    origins: np.ndarray
    h: int
    scale: np.ndarray
    mse: np.ndarray
    mae: np.ndarray
    bias: np.ndarray
    forecasts: np.ndarray
    n_actual: np.ndarray | None = None

    @property
    def smse(self) -> np.ndarray:
        """Scaled MSE (n_methods, n_series) [-]."""
        return self.mse / self.scale[None, :] ** 2

    @property
    def smae(self) -> np.ndarray:
        """Scaled MAE (n_methods, n_series) [-]."""
        return self.mae / self.scale[None, :]

    @property
    def sbias(self) -> np.ndarray:
        """Scaled bias (n_methods, n_series) [-]; positive = over-forecast."""
        return self.bias / self.scale[None, :]

    def loss(self, name: str, scaled: bool = True, bias_weight: float = DEFAULT_BIAS_WEIGHT) -> np.ndarray:
        """One loss of :data:`LOSSES` (``abs_bias`` = |bias|), shape (n_methods, n_series).

        ``mse_bias`` is ``mse + bias_weight · bias²`` (both scaled, or both not).
        """
        if name not in LOSSES:
            raise ZkValueError(f"Unknown loss {name!r}; the valid ones are {list(LOSSES)}.")
        if name == "mse_bias":
            b = self.sbias if scaled else self.bias
            return (self.smse if scaled else self.mse) + float(bias_weight) * b * b
        if name == "mse":
            return self.smse if scaled else self.mse
        if name == "mae":
            return self.smae if scaled else self.mae
        return np.abs(self.sbias if scaled else self.bias)


def _origins(t: int, h: int, n_origins: int, step: int, min_train: int) -> np.ndarray:
    o = t - h - (n_origins - 1 - np.arange(n_origins)) * step
    return o[o >= min_train]


def rolling_origin(
    y: Any,
    methods: Sequence[Any],
    *,
    h: int = 1,
    n_origins: int = 12,
    step: int = 1,
    min_train: int = 4,
    conventions: str = "zk",
    groups: Any = None,
    season_length: int = 12,
    phase: int = 0,
    refit: bool = True,
) -> RollingOriginResult:
    """Evaluate methods over rolling forecast origins (refitting at each origin), vectorised over series.

    Parameters
    ----------
    y : array-like or Panel, shape (n_series, n_periods)
        Demand [units per period]; leading NaN = not yet listed; other NaN actuals are skipped.
    methods : sequence of str or estimators
        Names of :data:`~zk_forecast.demand.models.ESTIMATORS`, ``"seasonal"``, or estimator instances.
    h : int, default 1
        Periods forecast at each origin [periods].
    n_origins : int, default 12
        Number of origins [-]; fewer are used when the history is too short (see the module notes).
    step : int, default 1
        Periods between origins [periods].
    min_train : int, default 4
        Periods needed before an origin [periods].
    conventions : {"zk", "statsforecast", "r"}
        For methods given by name.
    groups, season_length, phase
        For ``"seasonal"``: group label per series, cycle length [periods], season position of column 0.
    refit : bool, default True
        ``False`` (with ``h=1``): parameters are estimated once, on the periods before the first origin, and the
        forecasts at every origin are read off one pass of the method over the whole history (the updating of
        the level with new data is kept; the parameters are not re-estimated). Exactly the refitted forecasts
        for methods without estimated parameters (naive, mean, moving average, SES / Croston / SBA / SBJ / TSB
        with given constants); SES with optimised ``alpha`` keeps the alpha of the first origin; other methods
        are refitted at each origin as with ``True``. One pass instead of ``n_origins`` fits.

    Returns
    -------
    RollingOriginResult

    Raises
    ------
    ZkValueError
        Unknown method name, bad ``h`` / ``n_origins`` / ``step`` / ``min_train``, or no origin fits.
    """
    a = _as_2d(y)
    for name, v, lo in (("h", h, 1), ("n_origins", n_origins, 1), ("step", step, 1), ("min_train", min_train, 1)):
        if not _is_int(v, lo):
            raise ZkValueError(f"The {name!r} parameter must be an int >= {lo} [periods]. Got {v!r} instead.")
    if isinstance(methods, str):
        methods = [methods]
    labels = [_label(m) for m in methods]
    if not labels:
        raise ZkValueError("'methods' is empty; name at least one method, e.g. ['sba', 'tsb'].")
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ZkValueError(f"Several methods share the label(s) {dup}; give each estimator its own alias=....")
    for m in methods:  # fail early on unknown names
        make_estimator(m, conventions=conventions, groups=groups, season_length=season_length, phase=phase)
    n, t = a.shape
    origins = _origins(t, int(h), int(n_origins), int(step), int(min_train))
    if origins.size == 0:
        raise ZkValueError(
            f"Too few periods for rolling origins: {t} periods, but h={h} plus min_train={min_train} need at "
            f"least {int(h) + int(min_train)}. Use a longer history or smaller h / min_train."
        )
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.nanmean(np.where(np.isnan(a[:, : origins[0]]).all(axis=1, keepdims=True), np.nan,
                                    a[:, : origins[0]]), axis=1) if origins[0] > 0 else np.full(n, np.nan)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)
    if not isinstance(refit, bool):
        raise ZkValueError(f"The 'refit' parameter must be True or False. Got {refit!r} instead.")
    if not refit and int(h) != 1:
        raise ZkValueError(f"refit=False reads one-step forecasts off a single pass and needs h=1; got h={h}. "
                           "Use refit=True for longer horizons.")
    fc = np.full((len(methods), n, origins.size, int(h)), np.nan)
    for i, m in enumerate(methods):
        est = make_estimator(m, conventions=conventions, groups=groups, season_length=season_length, phase=phase)
        one_pass = None if refit else _one_step_pass(est, a, int(origins[0]))
        if one_pass is not None:
            fc[i, :, :, 0] = one_pass[:, origins]
            continue
        for j, o in enumerate(origins):
            est = make_estimator(m, conventions=conventions, groups=groups, season_length=season_length, phase=phase)
            fc[i, :, j, :] = np.asarray(est.fit(a[:, :o], fitted=False).predict(int(h)), dtype=np.float64)
    actual = np.stack([a[:, o:o + int(h)] for o in origins], axis=1)  # (n, n_origins, h)
    # an actual before the series starts is not observed; a NaN inside the series is missing: both skipped
    err = fc - actual[None]
    ok = ~np.isnan(err)
    cnt = ok.sum(axis=(2, 3))
    e0 = np.where(ok, err, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = np.where(cnt > 0, (e0 * e0).sum(axis=(2, 3)) / cnt, np.nan)
        mae = np.where(cnt > 0, np.abs(e0).sum(axis=(2, 3)) / cnt, np.nan)
        bias = np.where(cnt > 0, e0.sum(axis=(2, 3)) / cnt, np.nan)
    n_actual = (~np.isnan(actual)).sum(axis=(1, 2))
    return RollingOriginResult(labels, origins, int(h), scale, mse, mae, bias, fc, n_actual)


def _one_step_pass(est: Any, a: np.ndarray, first_origin: int) -> np.ndarray | None:
    """One-step forecasts of every period from a single pass (``rolling_origin(refit=False)``), or None.

    Only for estimators whose fitted value of period ``t`` uses the data before ``t`` alone with parameters
    that do not depend on the data (fixed constants), and for SES with its ``alpha`` optimised on the periods
    before ``first_origin``.
    """
    from zk_forecast.demand import methods as _m
    from zk_forecast.demand.models import SBA, SBJ, SES, TSB, Croston, HistoricMean, MovingAverage, Naive

    if isinstance(est, SES) and est.alpha is None:
        x, start = _m.prepare(a[:, :first_origin])
        seqs, lengths = _m.left_align(x, start)
        del x  # the panel-sized copies go as soon as they are used (large panels)
        alphas = np.full(a.shape[0], 0.5)
        ok = lengths > 0
        if ok.any():
            _, alphas[ok] = _m.ses_ragged(seqs if ok.all() else seqs[ok], lengths[ok], None, (0.01, 0.99))
        del seqs
        xa, start_a = _m.prepare(a)
        _, fit = _m.ses_paths(xa, start_a, alphas, True)
        return fit
    if type(est) in (Naive, HistoricMean, MovingAverage, SES, Croston, SBA, SBJ, TSB):
        est.fit(a, fitted=True)
        return np.asarray(est.fitted_, dtype=np.float64)
    return None


def _sbc(a: np.ndarray) -> np.ndarray:
    st = adi_cv2(a)
    return sbc_category(st["adi"], st["cv2"], st["n_demands"])


def evaluation_report(
    y: Any,
    methods: Sequence[Any] = DEFAULT_CANDIDATES,
    *,
    classes: Any = None,
    result: RollingOriginResult | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Mean losses per method (and per class) over rolling origins.

    Parameters
    ----------
    y : array-like or Panel, shape (n_series, n_periods)
        Demand [units per period].
    methods : sequence of str or estimators
        As for :func:`rolling_origin` (ignored when ``result`` is given).
    classes : None, "sbc" or array-like
        None: one row per method; ``"sbc"``: per Syntetos-Boylan-Croston class of the history before the first
        origin; or one class label per series.
    result : RollingOriginResult, optional
        Reuse an evaluation instead of running one.
    **kwargs
        Passed to :func:`rolling_origin` (``h``, ``n_origins``, ``conventions``, ...).

    Returns
    -------
    pandas.DataFrame
        Index ``method`` (or ``class``, ``method``); columns ``smse``, ``smae``, ``sbias`` [-] (means over the
        series with a positive in-sample mean), ``abs_sbias`` (|mean scaled bias|) [-], ``n_series`` and
        ``best_share`` (share of those series for which the method has the least MSE) [-].
    """
    a = _as_2d(y)
    res = result if result is not None else rolling_origin(a, methods, **kwargs)
    ok = np.isfinite(res.scale)
    if classes is None:
        cls = np.full(a.shape[0], "all", dtype=object)
    elif isinstance(classes, str) and classes == "sbc":
        cls = _sbc(a[:, : res.origins[0]])
    else:
        cls = np.asarray(classes, dtype=object)
        if len(cls) != a.shape[0]:
            raise ZkValueError(f"'classes' has {len(cls)} labels but there are {a.shape[0]} series.")
    mse = np.where(np.isnan(res.mse), np.inf, res.mse)
    best = np.argmin(mse, axis=0)
    rows = []
    for c in pd.unique(cls):
        sel = ok & (cls == c)
        for i, m in enumerate(res.methods):
            with np.errstate(invalid="ignore"):
                sb = float(np.nanmean(res.sbias[i, sel])) if sel.any() else np.nan
                rows.append({"class": c, "method": m,
                             "smse": float(np.nanmean(res.smse[i, sel])) if sel.any() else np.nan,
                             "smae": float(np.nanmean(res.smae[i, sel])) if sel.any() else np.nan,
                             "sbias": sb, "abs_sbias": abs(sb), "n_series": int(sel.sum()),
                             "best_share": float((best[sel] == i).mean()) if sel.any() else np.nan})
    out = pd.DataFrame(rows)
    if classes is None:
        return out.drop(columns="class").set_index("method")
    return out.set_index(["class", "method"])


# ----------------------------------------------------------------------------------------------------
# the auto estimator


class AutoSelect(BaseEstimator):
    """Fit candidate methods, evaluate them over rolling origins, and forecast each series with its best one.

    Parameters
    ----------
    candidates : sequence of str or estimators, optional
        Default :data:`DEFAULT_CANDIDATES`, plus ``"seasonal"`` when ``groups`` is given.
    h : int, default 1
        Horizon of the evaluation [periods].
    n_origins : int, default 12
        Rolling origins of the evaluation [-].
    loss : {"mse_bias", "mse", "mae", "abs_bias"}, default "mse_bias"
        What the selection minimises; ``mse_bias`` = scaled MSE + ``bias_weight`` · (scaled bias)².
    bias_weight : float, default 8.0
        Weight of the squared bias in ``mse_bias`` [-]; 0 gives the plain MSE.
    select : {"series", "class", "global"}, default "series"
        Per series, per SBC class, or one method for all.
    shrinkage : float, default 0.0
        ``"series"`` only: each series' scaled losses become ``(L_i + shrinkage · L_class) / (1 + shrinkage)``
        with ``L_class`` the mean over its SBC class [-]; 0 = pure per-series choice (the default: on the
        carparts and MAN benchmarks shrinking toward the class made the choice worse). Applies to the series with
        a long history; short ones follow ``prior_origins``.
    prior_origins : float, default 32.0
        ``"series"`` only: for a series with fewer than ``short_history`` periods before the first inner origin,
        the weight of its class's pooled validation against its own ``n`` inner origins [inner origins] (module
        notes, "Short histories"); 0 = its own losses alone, as for long histories.
    short_history : int, default 48
        History length below which ``prior_origins`` applies [periods before the first inner origin].
    combine : int, default 1
        Forecast with the mean of the ``combine`` best candidates of each series (1 = the best alone).
    default : str or estimator, default "sba"
        The method when the history is too short for any origin.
    min_train : int, default 4
        Periods needed before the first origin [periods].
    groups, season_length, phase
        Seasonal pooling for the ``"seasonal"`` candidate (see :class:`~zk_forecast.demand.seasonal.
        SeasonalAdjusted`).
    conventions : {"zk", "statsforecast", "r"}, default "zk"
        For candidates given by name.
    alias : str, default "auto"
    refit : bool, default True
        Re-estimate the candidates' parameters at every origin (``True``) or once, before the first origin, with
        the forecasts of all origins read off one pass (``False``, :func:`rolling_origin`; needs ``h=1``): the
        same choice for the default candidates except through SES's optimised alpha, at a fraction of the work
        (the nightly batch uses it).

    Attributes
    ----------
    choice_ : numpy.ndarray of str, shape (n_series,)
        Chosen method label per series.
    evaluation_ : RollingOriginResult or None
        The evaluation (None after a fallback).
    report_ : pandas.DataFrame or None
        :func:`evaluation_report` per SBC class.
    n_origins_ : int
        Origins actually used.
    fallback_ : bool
        True when the history was too short and ``default`` forecasts every series.
    forecast_level_ : numpy.ndarray, shape (n_series,)
        One-step forecast [units per period].
    fitted_ : numpy.ndarray or None, shape (n_series, n_periods)
        In-sample one-step forecasts of each series' chosen method [units per period].
    """

    def __init__(
        self,
        *,
        candidates: Sequence[Any] | None = None,
        h: int = 1,
        n_origins: int = 12,
        loss: str = "mse_bias",
        bias_weight: float = DEFAULT_BIAS_WEIGHT,
        select: str = "series",
        shrinkage: float = 0.0,
        combine: int = 1,
        default: Any = "sba",
        min_train: int = 4,
        groups: Any = None,
        season_length: int = 12,
        phase: int = 0,
        conventions: str = "zk",
        alias: str = "auto",
        refit: bool = True,
        prior_origins: float = DEFAULT_PRIOR_ORIGINS,
        short_history: int = DEFAULT_SHORT_HISTORY,
    ) -> None:
        self.candidates = candidates
        self.h = h
        self.n_origins = n_origins
        self.loss = loss
        self.bias_weight = bias_weight
        self.select = select
        self.shrinkage = shrinkage
        self.combine = combine
        self.default = default
        self.min_train = min_train
        self.groups = groups
        self.season_length = season_length
        self.phase = phase
        self.conventions = conventions
        self.alias = alias
        self.refit = refit
        self.prior_origins = prior_origins
        self.short_history = short_history

    choice_: np.ndarray
    chosen_: np.ndarray
    n_series_: int
    evaluation_: RollingOriginResult | None
    report_: pd.DataFrame | None
    n_origins_: int
    fallback_: bool
    forecast_level_: np.ndarray
    fitted_: np.ndarray | None
    parts_: list[tuple[np.ndarray, Any, bool]]

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.get_params(deep=False).items() if k != "groups"}
        return f"AutoSelect({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def _candidates(self) -> list[Any]:
        if self.candidates is None:
            return [*DEFAULT_CANDIDATES, *(["seasonal"] if self.groups is not None else [])]
        cands = [self.candidates] if isinstance(self.candidates, str) else list(self.candidates)
        if not cands:
            raise ZkValueError("'candidates' is empty; name at least one, e.g. ['sba', 'tsb'].")
        return cands

    def _make(self, m: Any) -> Any:
        return make_estimator(m, conventions=self.conventions, groups=self.groups, season_length=self.season_length,
                              phase=self.phase)

    def fit(self, y: Any, *, fitted: bool = True) -> AutoSelect:
        """Evaluate the candidates on ``y`` (n_series, n_periods) [units per period], choose, and refit.

        Parameters
        ----------
        y : array-like, shape (n_series, n_periods)
            Demand [units per period]; leading NaN = not yet listed.
        fitted : bool, default True
            Compute ``fitted_`` (in-sample one-step forecasts of the chosen methods).

        Returns
        -------
        AutoSelect
            ``self``.
        """
        if self.loss not in LOSSES:
            raise ZkValueError(f"The 'loss' parameter must be one of {list(LOSSES)}. Got {self.loss!r} instead.")
        if self.select not in _SELECT:
            raise ZkValueError(f"The 'select' parameter must be one of {list(_SELECT)}. Got {self.select!r} instead.")
        if not _is_int(self.combine, 1):
            raise ZkValueError(f"The 'combine' parameter must be an int >= 1 [-]. Got {self.combine!r} instead.")
        bw = self.bias_weight
        if not isinstance(bw, numbers.Real) or isinstance(bw, bool) or not np.isfinite(bw) or bw < 0:
            raise ZkValueError(f"The 'bias_weight' parameter must be a float >= 0 [-]. Got {bw!r} instead.")
        if not isinstance(self.shrinkage, numbers.Real) or isinstance(self.shrinkage, bool) or self.shrinkage < 0:
            raise ZkValueError(f"The 'shrinkage' parameter must be a float >= 0 [-]. Got {self.shrinkage!r} instead.")
        po = self.prior_origins
        if not isinstance(po, numbers.Real) or isinstance(po, bool) or not np.isfinite(po) or po < 0:
            raise ZkValueError(f"The 'prior_origins' parameter must be a float >= 0 [inner origins]. Got {po!r} "
                               "instead; 0 turns the pooled choice for short histories off.")
        if not _is_int(self.short_history, 0):
            raise ZkValueError(f"The 'short_history' parameter must be an int >= 0 [periods]. Got "
                               f"{self.short_history!r} instead.")
        a = _as_2d(y)
        n, t = a.shape
        cands = self._candidates()
        labels = [_label(m) for m in cands]
        for m in cands:
            self._make(m)
        default_label = _label(self.default)
        self._make(self.default)
        try:
            res = rolling_origin(a, cands, h=self.h, n_origins=self.n_origins, min_train=self.min_train,
                                 conventions=self.conventions, groups=self.groups, season_length=self.season_length,
                                 phase=self.phase, refit=self.refit)
        except ZkValueError as exc:
            if "Too few periods" not in str(exc):
                raise
            res = None
        self.evaluation_ = res
        self.fallback_ = res is None
        if res is None:
            self.n_origins_ = 0
            self.report_ = None
            choice = np.full((n, 1), default_label, dtype=object)
            by_label = {default_label: self.default}
        else:
            self.n_origins_ = int(res.origins.size)
            cls = _sbc(a[:, : res.origins[0]])
            self.report_ = evaluation_report(a, result=res, classes=cls)
            observed = ~np.isnan(a)
            start = np.where(observed.any(axis=1), observed.argmax(axis=1), t)
            history = np.maximum(int(res.origins[0]) - start, 0)
            choice = self._choose(res, cls, labels, history)
            by_label = dict(zip(labels, cands))
        self.choice_ = choice[:, 0]
        self.chosen_ = choice
        # refit each chosen method on the rows that chose it (the seasonal one on all rows: it pools)
        self.parts_ = []
        k = choice.shape[1]
        self.fitted_ = np.zeros((n, t)) if fitted else None
        level = np.zeros(n)
        for lab in pd.unique(choice.ravel()):
            rows = np.flatnonzero((choice == lab).any(axis=1))
            est = self._make(by_label[lab])
            pooled = isinstance(est, SeasonalAdjusted)
            est.fit(a if pooled else a[rows], fitted=fitted)
            self.parts_.append((rows, est, pooled))
            f1 = np.asarray(est.predict(1), dtype=np.float64)[:, 0]
            level[rows] += (f1[rows] if pooled else f1) / k
            if fitted and self.fitted_ is not None:
                fv = np.asarray(est.fitted_) if est.fitted_ is not None else np.full((len(f1), t), np.nan)
                self.fitted_[rows] += (fv[rows] if pooled else fv) / k
        self.forecast_level_ = level
        self.n_series_ = n
        return self

    def _choose(self, res: RollingOriginResult, cls: np.ndarray, labels: list[str],
                history: np.ndarray) -> np.ndarray:
        loss = res.loss(self.loss, scaled=True, bias_weight=self.bias_weight)
        raw = res.loss(self.loss, scaled=False, bias_weight=self.bias_weight)
        n = loss.shape[1]
        ok = np.isfinite(res.scale)
        big = np.inf
        # class means of the scaled losses (series with a positive in-sample mean)
        cls_mean = np.full_like(loss, np.nan)
        for c in SBC_CATEGORIES:
            sel = (cls == c) & ok
            if sel.any():
                cls_mean[:, cls == c] = np.nanmean(loss[:, sel], axis=1, keepdims=True)
        glob = np.nanmean(np.where(ok[None, :], loss, np.nan), axis=1) if ok.any() else np.zeros(len(labels))
        cls_mean = np.where(np.isnan(cls_mean), glob[:, None], cls_mean)
        if self.select == "global":
            score = np.repeat(glob[:, None], n, axis=1)
        elif self.select == "class":
            score = cls_mean
        else:
            lam = float(self.shrinkage)
            own = np.where(ok[None, :], loss, np.nan)
            score = np.where(np.isnan(own), cls_mean, (own + lam * cls_mean) / (1.0 + lam))
            # series without a scale (zero in-sample mean): their own unscaled loss decides
            no_scale = ~ok & np.isfinite(raw).any(axis=0)
            score[:, no_scale] = raw[:, no_scale]
            short = ok & (history < int(self.short_history))
            if float(self.prior_origins) > 0 and short.any() and res.n_actual is not None:
                score[:, short] = _pooled_scores(loss[:, short], cls[short], history[short],
                                                 res.n_actual[short], float(self.prior_origins))
        score = np.where(np.isnan(score), big, score)
        k = min(int(self.combine), len(labels))
        order = np.argsort(score, axis=0, kind="stable")[:k].T  # (n, k), best first
        return np.asarray(labels, dtype=object)[order]

    def predict(self, h: int) -> np.ndarray:
        """Forecasts for the next ``h`` periods from each series' chosen method, shape (n_series, h) [units]."""
        if not hasattr(self, "choice_"):
            raise NotFittedError("This AutoSelect is not fitted yet; call fit(y) before predict(h).")
        if not _is_int(h, 1):
            raise ZkValueError(f"The 'h' parameter of predict must be an int >= 1 [periods]. Got {h!r} instead.")
        k = self.chosen_.shape[1]
        out = np.zeros((self.n_series_, int(h)))
        for rows, est, pooled in self.parts_:
            p = np.asarray(est.predict(int(h)), dtype=np.float64)
            out[rows] += (p[rows] if pooled else p) / k
        return out


def _pooled_scores(loss: np.ndarray, cls: np.ndarray, history: np.ndarray, n_actual: np.ndarray,
                   prior: float) -> np.ndarray:
    """Scores of short-history series: own log-relative loss shrunk toward its class's mean (module notes).

    ``loss`` (n_methods, n_short) scaled losses of series with a scale; ``cls`` their SBC class, ``history``
    their periods before the first inner origin, ``n_actual`` their observed inner actuals.
    """
    floored = np.maximum(np.where(np.isnan(loss), np.inf, loss), _LOSS_FLOOR)
    with np.errstate(invalid="ignore"):
        rel = np.log(floored) - np.log(floored.min(axis=0, keepdims=True))
    rel = np.where(np.isfinite(rel), rel, np.nan)
    band = np.searchsorted(np.asarray(_LENGTH_BANDS), history, side="right")
    key = pd.factorize(pd.Series(cls.astype(str)) + "|" + pd.Series(band.astype(str)))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        overall = np.nanmean(rel, axis=1)
        pool = np.empty_like(rel)
        for k in np.unique(key):
            sel = key == k
            mean_k = np.nanmean(rel[:, sel], axis=1)
            filled = np.asarray(np.where(np.isnan(mean_k), overall, mean_k), dtype=np.float64)
            pool[:, sel] = filled[:, None]
    pool = np.where(np.isnan(pool), 0.0, pool)
    n = n_actual.astype(np.float64)[None, :]
    return np.where(np.isnan(rel), np.inf, (n * np.nan_to_num(rel) + prior * pool) / (n + prior))


def auto_method(y: Any, *, conventions: str = "zk") -> AutoSelect:
    """The estimator behind ``methods=["auto"]`` of :func:`~zk_forecast.demand.forecast.forecast`.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        The demand it will be fitted to [units per period] (not used to configure it).
    conventions : {"zk", "statsforecast", "r"}
        For the candidate methods.

    Returns
    -------
    AutoSelect
        With the default candidates and settings, unfitted.
    """
    return AutoSelect(conventions=conventions)
