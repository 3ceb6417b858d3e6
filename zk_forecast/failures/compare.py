"""Did the fix work? Failure rates before and after a design cut-in, compared at equal age; early-life failures.

A manufacturer changes a part from some build date (or serial number) on: the *cut-in*. Units built before and after
it are of different ages today, so their raw failure counts are not comparable. Both groups are therefore restricted
to the age window both have observed (``[0, w]``, ``w`` = the smaller of the two groups' largest observed ages, or a
window the caller gives), and compared there with

(a) an exact conditional Poisson test of the rate ratio ``(failures_after / exposure_after) / (failures_before /
    exposure_before)``: given the total count ``n``, the after-count is binomial with ``p = E_after / (E_after +
    E_before)`` when the rates are equal. The window can be cut into age bands (strata) so that a wear-out hazard,
    which rises with age, does not favour the younger group: the test statistic is then the summed after-count, whose
    exact null distribution is the convolution of the bands' binomials. One band gives the textbook test with the
    Clopper-Pearson interval;
(b) a Weibull likelihood-ratio test (``F(t) = 1 - exp(-(t / scale) ** shape)``, :mod:`zk_forecast.failures.lifetimes`):
    one common shape and scale against separate scales with a common shape (``alternative="scale"``, 1 degree of
    freedom) or separate shapes and scales (``"shape_and_scale"``, 2 degrees of freedom).

Ages are in any one unit (engine hours [h] by default in the sentences; days work the same). Lives follow the
reference CSVs' convention: ``censored`` 1 = suspension (still running), 0 = failure; ``entry`` is the age at which
observation began (left truncation).

The results carry a plain sentence in Chinese and English for a manufacturer's engineer.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.failures.lifetimes import Exponential, Weibull, weibull_loglik

__all__ = [
    "CutInResult",
    "EarlyLifeResult",
    "RateRatioResult",
    "WeibullLRResult",
    "compare_before_after",
    "compare_cut_in",
    "EARLY_LIFE_COLUMNS",
    "early_life_test",
    "early_life_tests",
    "rate_ratio_test",
    "weibull_lr_test",
]

Alternative = Literal["scale", "shape_and_scale"]
UNIT_ZH = {"h": "小时", "hours": "小时", "d": "天", "day": "天", "days": "天", "km": "公里"}


# ------------------------------------------------------------------------------------------------ formatting
def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _pct(x: float) -> str:
    return "∞" if not np.isfinite(x) else f"{100 * abs(x):.0f}%"


def _change(rr: float) -> tuple[str, str]:
    """Chinese and English phrase of a rate ratio as a change: 'fell by 62%' / 'rose by 20%'."""
    if rr < 1:
        return f"降低 {_pct(1 - rr)}", f"fell by {_pct(1 - rr)}"
    return f"升高 {_pct(rr - 1)}", f"rose by {_pct(rr - 1)}"


def _interval_phrase(lo: float, hi: float) -> tuple[str, str]:
    """The interval of a rate ratio as changes: '40%–76%' when both bounds are falls, else 'a 60% fall to a 20% rise'."""
    if hi < 1:
        return f"降低 {_pct(1 - hi)}–{_pct(1 - lo)}", f"a fall of {_pct(1 - hi)}–{_pct(1 - lo)}"
    if lo > 1:
        return f"升高 {_pct(lo - 1)}–{_pct(hi - 1)}", f"a rise of {_pct(lo - 1)}–{_pct(hi - 1)}"
    return (f"从降低 {_pct(1 - lo)} 到升高 {_pct(hi - 1)}",
            f"from a {_pct(1 - lo)} fall to a {_pct(hi - 1)} rise")


def _html(title: str, table: pd.DataFrame, notes: tuple[str, ...] = ()) -> str:
    body = table.to_html(float_format=lambda v: f"{v:.6g}", na_rep="–", index=False)
    extra = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    return f"<div><strong>{html.escape(title)}</strong>{body}{extra}</div>"


def _check_unit_interval(value: float, name: str, example: str) -> float:
    if not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
        raise ZkValueError(f"The '{name}' parameter must be strictly between 0 and 1 (e.g. {example}). "
                           f"Got {value!r} instead.")
    return float(value)


# ----------------------------------------------------------------------------------------- (a) rate ratio test
@dataclass(frozen=True)
class RateRatioResult:
    """Exact conditional test of the failure-rate ratio after / before.

    Attributes
    ----------
    failures_before, failures_after : int
        Failures in the window.
    exposure_before, exposure_after : float
        Unit-time at risk in the window [unit of age, e.g. unit-hours].
    rate_ratio : float
        Conditional MLE of ``rate_after / rate_before`` (with one band: the ratio of the observed rates); ``nan`` when
        there are no failures at all.
    lower, upper : float
        Exact (tail-inversion; Clopper-Pearson for one band) interval at ``level``.
    p_value : float
        Exact two-sided p-value (sum of the null probabilities not above that of the observed count); 1 with no
        failures.
    bands : int
        Age bands (strata) used.
    """

    failures_before: int
    exposure_before: float
    failures_after: int
    exposure_after: float
    rate_ratio: float
    lower: float
    upper: float
    p_value: float
    level: float
    bands: int

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table of the counts, exposures, rate ratio, interval and p-value."""
        return pd.DataFrame({k: [getattr(self, k)] for k in (
            "failures_before", "exposure_before", "failures_after", "exposure_after", "rate_ratio", "lower",
            "upper", "p_value", "level", "bands")})

    def _repr_html_(self) -> str:
        return _html("Failure-rate ratio after / before (exact conditional Poisson test)", self.summary)


def _null_pmf(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Distribution of the summed after-count: the convolution of Binomial(n_b, p_b) over bands."""
    pmf = np.ones(1)
    for nb, pb in zip(n, p):
        pmf = np.convolve(pmf, stats.binom.pmf(np.arange(nb + 1), nb, pb))
    return pmf


def _p_of(theta: float, e_after: np.ndarray, e_before: np.ndarray) -> np.ndarray:
    return theta * e_after / (theta * e_after + e_before)


def rate_ratio_test(failures_before: Any, exposure_before: Any, failures_after: Any, exposure_after: Any, *,
                    level: float = 0.95) -> RateRatioResult:
    """Exact conditional Poisson test and interval for the failure-rate ratio after / before.

    Given the ``n_b`` failures of age band ``b``, the after-count is Binomial(``n_b``, ``p_b``) with
    ``p_b = theta E_after,b / (theta E_after,b + E_before,b)`` and ``theta`` the common rate ratio. The test of
    ``theta = 1`` uses the exact distribution of the summed after-count; the interval inverts its two tails
    (for one band this is the Clopper-Pearson interval for ``p`` mapped to ``theta = p / (1 - p) * E_before /
    E_after``).

    Parameters
    ----------
    failures_before, failures_after : int or array of int
        Failures, one value per age band.
    exposure_before, exposure_after : float or array of float
        Unit-time at risk per band [unit-hours, unit-days, ...], > 0 in total on each side.
    level : float
        Confidence level of the interval.

    Returns
    -------
    RateRatioResult
        With no failures at all: ``rate_ratio = nan``, interval ``(0, inf)``, ``p_value = 1`` (no evidence either
        way). All failures after: ratio and upper bound ``inf``; none after: ratio and lower bound 0.
    """
    level = _check_unit_interval(level, "level", "0.95")
    arrs = [np.atleast_1d(np.asarray(v, dtype=float)) for v in
            (failures_before, exposure_before, failures_after, exposure_after)]
    if len({a.shape for a in arrs}) != 1 or arrs[0].ndim != 1:
        raise ZkValueError("Failures and exposures must be scalars or 1-D arrays of the same length (one per band).")
    xb, eb, xa, ea = arrs
    if not all(np.isfinite(a).all() and (a >= 0).all() for a in arrs):
        raise ZkValueError("Failures and exposures must be finite and >= 0.")
    if np.any(xb != np.round(xb)) or np.any(xa != np.round(xa)):
        raise ZkValueError("Failure counts must be whole numbers.")
    if eb.sum() <= 0 or ea.sum() <= 0:
        side = "before" if eb.sum() <= 0 else "after"
        raise ZkValueError(f"The exposure {side} the cut-in is 0: there is nothing to compare. Give unit-time > 0.")
    if np.any((xa > 0) & (ea == 0)) or np.any((xb > 0) & (eb == 0)):
        raise ZkValueError("A band has failures but no exposure on the same side; exposures must cover the failures.")
    keep = (xa + xb > 0) & (ea > 0) & (eb > 0)
    n = (xa + xb)[keep].astype(int)
    s = int(xa[keep].sum())
    common: dict[str, Any] = dict(failures_before=int(xb.sum()), exposure_before=float(eb.sum()),
                                  failures_after=int(xa.sum()), exposure_after=float(ea.sum()), level=level,
                                  bands=int(xb.size))
    if n.sum() == 0:
        return RateRatioResult(rate_ratio=float("nan"), lower=0.0, upper=float("inf"), p_value=1.0, **common)
    ea_k, eb_k = ea[keep], eb[keep]
    pmf0 = _null_pmf(n, _p_of(1.0, ea_k, eb_k))
    p_value = float(min(1.0, pmf0[pmf0 <= pmf0[s] * (1 + 1e-7)].sum()))
    total = int(n.sum())
    a = 1.0 - level

    def upper_tail(log_t: float) -> float:  # P(S >= s; theta)
        return float(_null_pmf(n, _p_of(math.exp(log_t), ea_k, eb_k))[s:].sum())

    def lower_tail(log_t: float) -> float:  # P(S <= s; theta)
        return float(_null_pmf(n, _p_of(math.exp(log_t), ea_k, eb_k))[: s + 1].sum())

    def solve(f: Any) -> float:
        return math.exp(optimize.brentq(f, -40.0, 40.0, xtol=1e-12))

    if s == 0:
        est, lo = 0.0, 0.0
    else:
        lo = solve(lambda lt: upper_tail(lt) - a / 2)
    if s == total:
        est, hi = float("inf"), float("inf")
    else:
        hi = solve(lambda lt: lower_tail(lt) - a / 2)
    if 0 < s < total:
        est = solve(lambda lt: float(np.sum(n * _p_of(math.exp(lt), ea_k, eb_k))) - s)
    return RateRatioResult(rate_ratio=est, lower=lo, upper=hi, p_value=p_value, **common)


# ------------------------------------------------------------------------------------- (b) Weibull LR test
@dataclass(frozen=True)
class WeibullLRResult:
    """Weibull likelihood-ratio test: one life distribution for both groups against separate ones.

    Attributes
    ----------
    alternative : str
        ``"scale"`` (common shape, separate scales) or ``"shape_and_scale"``.
    shape_before, shape_after : float
        Weibull shapes [-] under the alternative (equal for ``"scale"``).
    scale_before, scale_after : float
        Weibull scales (characteristic lives) [unit of age].
    scale_ratio, lower, upper : float
        ``scale_after / scale_before`` with its Wald interval (log scale) at ``level``; > 1 means longer lives after.
    statistic, dof, p_value : float
        ``2 (loglik_alt - loglik_null)``, its chi-square degrees of freedom, and the p-value.
    """

    alternative: str
    shape_null: float
    scale_null: float
    shape_before: float
    shape_after: float
    scale_before: float
    scale_after: float
    scale_ratio: float
    lower: float
    upper: float
    loglik_null: float
    loglik_alt: float
    statistic: float
    dof: int
    p_value: float
    level: float

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table of the fits and the test."""
        return pd.DataFrame({k: [getattr(self, k)] for k in self.__dataclass_fields__})

    def _repr_html_(self) -> str:
        return _html("Weibull likelihood-ratio test, F(t) = 1 - exp(-(t/scale)^shape)", self.summary)


def _lives(time: Any, censored: Any, entry: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        t = np.atleast_1d(np.asarray(time, dtype=float))
        c = np.zeros(t.size) if censored is None else np.atleast_1d(np.asarray(censored, dtype=float))
        e = np.zeros(t.size) if entry is None else np.atleast_1d(np.asarray(entry, dtype=float))
    except (TypeError, ValueError) as exc:
        raise ZkTypeError(f"The {name} lives must be numeric arrays (time, censored, entry).") from exc
    if t.ndim != 1 or c.shape != t.shape or e.shape != t.shape:
        raise ZkValueError(f"The {name} time, censored and entry arrays must be 1-D and of equal length.")
    if t.size == 0:
        raise ZkValueError(f"No units {name} the cut-in: both sides need at least one unit to compare.")
    if not (np.isfinite(t).all() and (t > 0).all()):
        raise ZkValueError(f"The {name} times must be finite ages > 0.")
    if not np.isin(c, (0.0, 1.0)).all():
        raise ZkValueError(f"The {name} 'censored' values must be 1 (suspension) or 0 (failure).")
    if not (np.isfinite(e).all() and (e >= 0).all() and (e < t).all()):
        raise ZkValueError(f"The {name} entry ages must satisfy 0 <= entry < time.")
    return t, c, e


def _profile_scale(k: float, t: np.ndarray, c: np.ndarray, e: np.ndarray) -> float:
    """Weibull scale maximising the likelihood at shape ``k``: ``(sum (t^k - entry^k) / failures) ** (1/k)``."""
    r = float((c == 0).sum())
    if r == 0:
        return float("inf")
    m = float(t.max())  # scaled by the largest time so that t**k cannot overflow for a large shape
    return m * float((np.sum((t / m) ** k - (e / m) ** k) / r) ** (1.0 / k))


def _loglik(k: float, scale: float, t: np.ndarray, c: np.ndarray, e: np.ndarray) -> float:
    if not np.isfinite(scale):  # no failures: the supremum as the scale grows without bound is 0
        return 0.0
    return weibull_loglik(k, scale, t, c, None, e)


def weibull_lr_test(time_before: Any, time_after: Any, *, censored_before: Any = None, censored_after: Any = None,
                    entry_before: Any = None, entry_after: Any = None, alternative: Alternative = "scale",
                    level: float = 0.95) -> WeibullLRResult:
    """Likelihood-ratio test of one Weibull for both groups against separate Weibulls.

    Parameters
    ----------
    time_before, time_after : array-like
        Ages at failure or suspension [unit of age], > 0.
    censored_before, censored_after : array-like of 0/1, optional
        1 = suspension, 0 = failure; default all failures.
    entry_before, entry_after : array-like, optional
        Ages at which observation began (left truncation) [unit of age].
    alternative : {"scale", "shape_and_scale"}
        ``"scale"`` (default): common shape, separate scales (1 degree of freedom; a design fix that stretches lives
        by a factor). ``"shape_and_scale"``: separate Weibull fits (2 degrees of freedom; needs failures on both
        sides).
    level : float
        Confidence level of the interval on the scale ratio.

    Returns
    -------
    WeibullLRResult
    """
    level = _check_unit_interval(level, "level", "0.95")
    if alternative not in ("scale", "shape_and_scale"):
        raise ZkValueError(f"The 'alternative' parameter of weibull_lr_test must be 'scale' or 'shape_and_scale'. "
                           f"Got {alternative!r} instead.")
    tb, cb, eb = _lives(time_before, censored_before, entry_before, "before")
    ta, ca, ea = _lives(time_after, censored_after, entry_after, "after")
    t, c, e = np.r_[tb, ta], np.r_[cb, ca], np.r_[eb, ea]
    if (c == 0).sum() == 0:
        raise ZkValueError("No failures on either side: the Weibull likelihood-ratio test has nothing to fit.")
    null = Weibull()
    null.fit(t, c, None, e)
    z = stats.norm.ppf(0.5 + level / 2)
    if alternative == "shape_and_scale":
        if (cb == 0).sum() == 0 or (ca == 0).sum() == 0:
            raise ZkValueError("alternative='shape_and_scale' needs failures on both sides; use alternative='scale'.")
        fb, fa = Weibull(), Weibull()
        fb.fit(tb, cb, None, eb)
        fa.fit(ta, ca, None, ea)
        k_b, k_a, s_b, s_a = fb.shape_, fa.shape_, fb.scale_, fa.scale_
        ll_alt = fb.loglik_ + fa.loglik_
        se = math.sqrt(float(fb.cov_.iloc[1, 1] + fa.cov_.iloc[1, 1]))
        dof = 2
    else:
        def nll(log_k: float) -> float:
            k = math.exp(log_k)
            return -(_loglik(k, _profile_scale(k, tb, cb, eb), tb, cb, eb)
                     + _loglik(k, _profile_scale(k, ta, ca, ea), ta, ca, ea))

        k0 = math.log(null.shape_)
        res = optimize.minimize_scalar(nll, bounds=(k0 - 4.0, k0 + 4.0), method="bounded",
                                       options={"xatol": 1e-9})
        k_b = k_a = math.exp(float(res.x))
        s_b, s_a = _profile_scale(k_b, tb, cb, eb), _profile_scale(k_a, ta, ca, ea)
        ll_alt = -float(res.fun)
        se = _se_log_ratio(k_b, s_b, s_a, (tb, cb, eb), (ta, ca, ea))
        dof = 1
    stat = max(0.0, 2.0 * (ll_alt - null.loglik_))
    ratio = s_a / s_b
    lr = math.log(ratio) if 0 < ratio < float("inf") else float("nan")
    lo, hi = (math.exp(lr - z * se), math.exp(lr + z * se)) if np.isfinite(lr) and np.isfinite(se) else (
        float("nan"), float("nan"))
    return WeibullLRResult(alternative=alternative, shape_null=null.shape_, scale_null=null.scale_,
                           shape_before=k_b, shape_after=k_a, scale_before=s_b, scale_after=s_a, scale_ratio=ratio,
                           lower=lo, upper=hi, loglik_null=float(null.loglik_), loglik_alt=float(ll_alt),
                           statistic=stat, dof=dof, p_value=float(stats.chi2.sf(stat, dof)), level=level)


def _se_log_ratio(k: float, s_b: float, s_a: float, before: tuple[np.ndarray, ...],
                  after: tuple[np.ndarray, ...]) -> float:
    """Standard error of ln(scale_after / scale_before) from the observed information of (ln k, ln s_b, ln s_a)."""
    if not (np.isfinite(s_b) and np.isfinite(s_a)):
        return float("nan")
    theta = np.log([k, s_b, s_a])

    def ll(th: np.ndarray) -> float:
        kk, sb, sa = np.exp(th)
        return _loglik(kk, sb, *before) + _loglik(kk, sa, *after)

    h = np.zeros((3, 3))
    eps = 1e-4
    for i in range(3):
        for j in range(i, 3):
            d = np.zeros((4, 3))
            d[:, i] += eps * np.array([1, 1, -1, -1])
            d[:, j] += eps * np.array([1, -1, 1, -1])
            f = [ll(theta + row) for row in d]
            h[i, j] = h[j, i] = (f[0] - f[1] - f[2] + f[3]) / (4 * eps * eps)
    try:
        cov = np.linalg.inv(-h)
    except np.linalg.LinAlgError:
        return float("nan")
    g = np.array([0.0, -1.0, 1.0])
    v = float(g @ cov @ g)
    return math.sqrt(v) if v > 0 else float("nan")


# --------------------------------------------------------------------------------------- early-life failures
@dataclass(frozen=True)
class EarlyLifeResult:
    """Test of Weibull shape < 1 (a falling hazard: early-life failures, infant mortality) against the exponential.

    Attributes
    ----------
    shape, shape_lower, shape_upper : float
        Weibull shape [-] with its Wald interval at ``level``.
    scale : float
        Weibull scale [unit of age].
    statistic : float
        ``2 (loglik_weibull - loglik_exponential)``.
    p_value : float
        One-sided (alternative: shape < 1), from the signed root of the statistic.
    flagged : bool
        ``p_value < alpha``: early-life failures.
    sentence_zh, sentence_en : str
        The evidence in plain words.
    """

    shape: float
    shape_lower: float
    shape_upper: float
    scale: float
    failures: int
    statistic: float
    p_value: float
    alpha: float
    flagged: bool
    sentence_zh: str
    sentence_en: str

    @property
    def sentence(self) -> str:
        """Chinese sentence, then the English one."""
        return f"{self.sentence_zh} / {self.sentence_en}"

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table of the test."""
        return pd.DataFrame({k: [getattr(self, k)] for k in self.__dataclass_fields__})

    def _repr_html_(self) -> str:
        return _html("Early-life failures: Weibull shape < 1?", self.summary.drop(columns=["sentence_zh",
                                                                                           "sentence_en"]),
                     (self.sentence_zh, self.sentence_en))


def early_life_test(time: Any, censored: Any = None, entry: Any = None, *, alpha: float = 0.05,
                    level: float = 0.95, min_failures: int = 3) -> EarlyLifeResult:
    """Flag early-life failures: likelihood-ratio test of Weibull shape < 1 against the exponential (shape 1).

    The signed root ``r = sign(1 - shape) * sqrt(2 (ll_weibull - ll_exponential))`` is standard normal under
    shape = 1; the one-sided p-value is ``1 - Phi(r)``.

    Parameters
    ----------
    time : array-like
        Ages at failure or suspension [unit of age], > 0.
    censored : array-like of 0/1, optional
        1 = suspension, 0 = failure.
    entry : array-like, optional
        Ages at which observation began (left truncation).
    alpha : float
        Significance level of the flag.
    level : float
        Confidence level of the shape interval.
    min_failures : int
        Fewer failures give no flag (``p_value = 1``, shape ``nan``): too little evidence to judge.

    Returns
    -------
    EarlyLifeResult
    """
    alpha = _check_unit_interval(alpha, "alpha", "0.05")
    level = _check_unit_interval(level, "level", "0.95")
    t, c, e = _lives(time, censored, entry, "observed")
    r = int((c == 0).sum())
    if r < min_failures:
        return _too_few_failures(r, alpha)
    w, x = Weibull(level=level), Exponential()
    w.fit(t, c, None, e)
    x.fit(t, c, None, e)
    stat = max(0.0, 2.0 * (w.loglik_ - x.loglik_))
    root = math.copysign(math.sqrt(stat), 1.0 - w.shape_)
    p = float(stats.norm.sf(root))
    lo, hi = w.wald_interval("shape", level)
    flagged = p < alpha
    zh, en = _early_life_sentences(float(w.shape_), lo, hi, p, r, level, flagged)
    return EarlyLifeResult(float(w.shape_), lo, hi, float(w.scale_), r, stat, p, alpha, flagged, zh, en)


def _too_few_failures(r: int, alpha: float) -> EarlyLifeResult:
    """The result of a group with fewer failures than the test needs: no shape, no flag."""
    nan = float("nan")
    return EarlyLifeResult(nan, nan, nan, nan, r, 0.0, 1.0, alpha, False,
                           f"故障数太少（{r} 次），无法判断是否存在早期故障",
                           f"Too few failures ({r}) to judge whether there are early-life failures")


def _early_life_sentences(shape: float, lo: float, hi: float, p: float, r: int, level: float,
                          flagged: bool) -> tuple[str, str]:
    """The Chinese and English sentences of an early-life test (shape [-] with its interval, one-sided p)."""
    ci = f"{level:.0%}"
    if flagged:
        zh = (f"存在早期故障（婴儿期失效）：威布尔形状参数 {shape:.2f} < 1（{ci} 置信区间 {lo:.2f}–{hi:.2f}，"
              f"单侧 {_fmt_p(p)}，{r} 次故障），故障集中在使用初期")
        en = (f"Early-life failures (infant mortality): Weibull shape {shape:.2f} < 1 ({ci} CI {lo:.2f}–{hi:.2f}, "
              f"one-sided {_fmt_p(p)}, {r} failures); failures concentrate early in life")
    else:
        zh = f"没有早期故障的证据：威布尔形状参数 {shape:.2f}（{ci} 置信区间 {lo:.2f}–{hi:.2f}，单侧 {_fmt_p(p)}）"
        en = f"No evidence of early-life failures: Weibull shape {shape:.2f} ({ci} CI {lo:.2f}–{hi:.2f}, one-sided {_fmt_p(p)})"
    return zh, en


#: Columns of :func:`early_life_tests`: the fields of :class:`EarlyLifeResult`, one row per group.
EARLY_LIFE_COLUMNS = ("shape", "shape_lower", "shape_upper", "scale", "failures", "statistic", "p_value", "alpha",
                      "flagged", "sentence_zh", "sentence_en")


def early_life_tests(lives: pd.DataFrame, by: str | list[str], *, time: str = "time", censored: str = "censored",
                     entry: str | None = "entry", alpha: float = 0.05, level: float = 0.95,
                     min_failures: int = 3) -> pd.DataFrame:
    """:func:`early_life_test` for every group of a table, the fits of all groups solved together.

    The Weibull and the exponential of every group come from :func:`zk_forecast.failures.fit_groups` (one
    vectorised solve per family instead of two optimiser runs per group); the statistic, p-value, interval and
    sentences are those of :func:`early_life_test`, whose results these equal to 1e-6 relative (the same to the
    printed digits). A group the vectorised solve does not fit by maximum likelihood (a Weibull shape without
    bound, a solve not converged) is tested by :func:`early_life_test` itself, with its errors.

    Parameters
    ----------
    lives : DataFrame
        One row per unit.
    by : str or list of str
        Column(s) naming the groups, e.g. ``["model", "component"]``.
    time, censored, entry : str
        Columns of the ages at failure or suspension [unit of age] (> 0), the suspension flags (1 = suspension,
        0 = failure) and the ages at which observation began [unit of age] (``None``: 0).
    alpha, level, min_failures :
        As :func:`early_life_test`.

    Returns
    -------
    DataFrame
        Indexed by the group keys (sorted), columns :data:`EARLY_LIFE_COLUMNS`; a group with fewer than
        ``min_failures`` failures has NaN shape, p-value 1 and no flag, as :func:`early_life_test` gives it.
    """
    from zk_forecast.failures.groups import fit_groups

    alpha = _check_unit_interval(alpha, "alpha", "0.05")
    level = _check_unit_interval(level, "level", "0.95")
    by_cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by_cols, time, censored] + ([entry] if entry is not None else []) if c not in lives]
    if missing:
        raise ZkValueError(f"early_life_tests: column(s) {missing} are not in the lives; its columns are "
                           f"{list(lives.columns)}.")
    if len(lives) == 0:
        return pd.DataFrame(columns=list(EARLY_LIFE_COLUMNS), index=pd.MultiIndex.from_arrays(
            [[] for _ in by_cols], names=by_cols) if len(by_cols) > 1 else pd.Index([], name=by_cols[0]))
    t_all, c_all, e_all = _lives(lives[time].to_numpy(float), lives[censored].to_numpy(float),
                                 None if entry is None else lives[entry].to_numpy(float), "observed")
    data = pd.DataFrame({**{f"_k{i}": lives[c].to_numpy() for i, c in enumerate(by_cols)},
                         "t": t_all, "c": c_all, "e": e_all})
    keys = [f"_k{i}" for i in range(len(by_cols))]
    wb = fit_groups(data, keys, "t", censored="c", entry="e", family="weibull", level=level)
    ex = fit_groups(data, keys, "t", censored="c", entry="e", family="exponential", level=level)
    r = wb["n_failures"].to_numpy(float).round().astype(int)
    shape = wb["shape"].to_numpy(float)
    stat = np.maximum(0.0, 2.0 * (wb["loglik"].to_numpy(float) - ex["loglik"].to_numpy(float)))
    with np.errstate(invalid="ignore"):
        root = np.copysign(np.sqrt(stat), 1.0 - shape)
    p = stats.norm.sf(root)
    vectorised = ((wb["status"] == "ok") & wb["converged"].astype(bool) & (ex["status"] == "ok")
                  & ex["converged"].astype(bool)).to_numpy()
    rows = []
    groups = None
    for i, key in enumerate(wb.index):
        if r[i] < min_failures:
            rows.append(_too_few_failures(int(r[i]), alpha))
        elif vectorised[i]:
            lo, hi = float(wb["shape_lo"].iloc[i]), float(wb["shape_hi"].iloc[i])
            flagged = bool(p[i] < alpha)
            zh, en = _early_life_sentences(float(shape[i]), lo, hi, float(p[i]), int(r[i]), level, flagged)
            rows.append(EarlyLifeResult(float(shape[i]), lo, hi, float(wb["scale"].iloc[i]), int(r[i]),
                                        float(stat[i]), float(p[i]), alpha, flagged, zh, en))
        else:
            if groups is None:
                groups = data.groupby(keys, sort=True).indices
            idx = groups[key]
            rows.append(early_life_test(t_all[idx], c_all[idx], e_all[idx], alpha=alpha, level=level,
                                        min_failures=min_failures))
    out = pd.DataFrame([[getattr(x, f) for f in EARLY_LIFE_COLUMNS] for x in rows], columns=list(EARLY_LIFE_COLUMNS),
                       index=wb.index.rename(by_cols if len(by_cols) > 1 else by_cols[0]))
    return out


# ---------------------------------------------------------------------------------------- before / after
@dataclass(frozen=True)
class CutInResult:
    """Before/after comparison of a design cut-in at equal age.

    Attributes
    ----------
    window : float
        Upper end of the common age window ``[0, window]`` [unit of age].
    units_before, units_after : int
        Lives (units or component lives) on each side with exposure in the window.
    rate : RateRatioResult
        The exact conditional Poisson test (the headline effect and p-value).
    weibull : WeibullLRResult or None
        The Weibull likelihood-ratio test; ``None`` when there are no failures in the window.
    improved : bool
        Rate lower after and ``rate.p_value < alpha``.
    sentence_zh, sentence_en : str
        The verdict in plain words.
    """

    window: float
    unit: str
    units_before: int
    units_after: int
    rate: RateRatioResult
    weibull: WeibullLRResult | None
    alpha: float
    improved: bool
    sentence_zh: str
    sentence_en: str

    @property
    def rate_ratio(self) -> float:
        """Rate after / rate before in the window."""
        return self.rate.rate_ratio

    @property
    def p_value(self) -> float:
        """Exact two-sided p-value of the rate-ratio test."""
        return self.rate.p_value

    @property
    def sentence(self) -> str:
        """Chinese sentence, then the English one."""
        return f"{self.sentence_zh} / {self.sentence_en}"

    @property
    def summary(self) -> pd.DataFrame:
        """Two rows: the rate-ratio test and the Weibull test, with effect, interval and p-value."""
        rows = [{"test": "exact conditional Poisson", "effect": "rate ratio (after/before)",
                 "estimate": self.rate.rate_ratio, "lower": self.rate.lower, "upper": self.rate.upper,
                 "p_value": self.rate.p_value, "failures_before": self.rate.failures_before,
                 "failures_after": self.rate.failures_after, "exposure_before": self.rate.exposure_before,
                 "exposure_after": self.rate.exposure_after, "window": self.window}]
        if self.weibull is not None:
            w = self.weibull
            rows.append({"test": f"Weibull LR ({w.alternative})", "effect": "scale ratio (after/before)",
                         "estimate": w.scale_ratio, "lower": w.lower, "upper": w.upper, "p_value": w.p_value,
                         "failures_before": self.rate.failures_before, "failures_after": self.rate.failures_after,
                         "exposure_before": self.rate.exposure_before, "exposure_after": self.rate.exposure_after,
                         "window": self.window})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return _html("Did the fix work? (equal-age comparison)", self.summary, (self.sentence_zh, self.sentence_en))


def _window_counts(t: np.ndarray, c: np.ndarray, e: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Failures and exposure per age band ``(edges[j], edges[j+1]]``."""
    lo, hi = edges[:-1][None, :], edges[1:][None, :]
    w = edges[-1]
    end = np.minimum(t, w)[:, None]
    expo = (np.clip(end, lo, hi) - np.clip(e[:, None], lo, hi)).sum(axis=0)
    fail = (c == 0) & (t <= w)
    band = np.clip(np.searchsorted(edges, t[fail], side="left") - 1, 0, edges.size - 2)
    return np.bincount(band, minlength=edges.size - 1).astype(float), expo


def _sentences(rate: RateRatioResult, window: float, unit: str, alpha: float) -> tuple[str, str, bool]:
    unit_zh = UNIT_ZH.get(unit, unit)
    where_zh = f"在相同使用时长（0–{window:,.0f} {unit_zh}）内比较，"
    where_en = f"Compared over the same age window (0–{window:,.0f} {unit}), "
    if rate.failures_before + rate.failures_after == 0:
        return (where_zh + "切换前后都没有故障，数据不足以判断改进是否有效",
                where_en + "there were no failures before or after the cut-in: the data cannot tell whether the "
                "fix worked", False)
    ci = f"{rate.level:.0%}"
    ch_zh, ch_en = _change(rate.rate_ratio)
    iv_zh, iv_en = _interval_phrase(rate.lower, rate.upper)
    p = _fmt_p(rate.p_value)
    significant = rate.p_value < alpha
    if significant:
        zh = f"切换后故障率{ch_zh}（{ci} 置信区间：{iv_zh}，{p}）"
        en = f"after the cut-in the failure rate {ch_en} ({ci} CI: {iv_en}, {p})"
    else:
        zh = f"切换后故障率{ch_zh}，但差异不显著（{ci} 置信区间：{iv_zh}，{p}）"
        en = f"after the cut-in the failure rate {ch_en}, but the difference is not significant ({ci} CI: {iv_en}, {p})"
    return where_zh + zh, where_en + en, bool(significant and rate.rate_ratio < 1)


def compare_before_after(time_before: Any, time_after: Any, *, censored_before: Any = None,
                         censored_after: Any = None, entry_before: Any = None, entry_after: Any = None,
                         window: float | None = None, age_bands: int = 4, alternative: Alternative = "scale",
                         level: float = 0.95, alpha: float = 0.05, unit: str = "h") -> CutInResult:
    """Compare lives before and after a cut-in at equal age (array face of :func:`compare_cut_in`).

    Both groups are cut to the age window ``[0, window]``: a life longer than the window becomes a suspension at
    ``window``, one entering observation after it drops out. Failures and unit-time of exposure in the window feed
    the exact rate-ratio test (over ``age_bands`` equal-width age bands) and the Weibull likelihood-ratio test.

    Parameters
    ----------
    time_before, time_after : array-like
        Ages at failure or suspension [unit of age], > 0 (one per life: a unit, or a component life that a repair
        renewed).
    censored_before, censored_after : array-like of 0/1, optional
        1 = suspension, 0 = failure; default all failures.
    entry_before, entry_after : array-like, optional
        Ages at which observation began [unit of age]; default 0.
    window : float, optional
        Upper end of the common age window [unit of age]; default the smaller of the two groups' largest ages.
    age_bands : int
        Strata of the rate test (default 4: a hazard rising with age does not favour the younger group);
        1 gives the textbook single conditional binomial test with the Clopper-Pearson interval.
    alternative : {"scale", "shape_and_scale"}
        Alternative of the Weibull test (see :func:`weibull_lr_test`).
    level, alpha : float
        Confidence level of the intervals; significance level of the verdict.
    unit : str
        Unit of age for the sentences (``"h"`` = 小时, ``"days"`` = 天).

    Returns
    -------
    CutInResult
        With no failures in the window on either side: ``improved = False``, rate ratio ``nan``, p-value 1,
        ``weibull = None`` and a sentence saying the data cannot tell.
    """
    level = _check_unit_interval(level, "level", "0.95")
    alpha = _check_unit_interval(alpha, "alpha", "0.05")
    if not isinstance(age_bands, (int, np.integer)) or age_bands < 1:
        raise ZkValueError(f"The 'age_bands' parameter must be a whole number >= 1. Got {age_bands!r} instead.")
    tb, cb, eb = _lives(time_before, censored_before, entry_before, "before")
    ta, ca, ea = _lives(time_after, censored_after, entry_after, "after")
    w = float(min(tb.max(), ta.max())) if window is None else float(window)
    if not np.isfinite(w) or w <= 0:
        raise ZkValueError(f"The equal-age window must be an age > 0; got {window!r}.")
    in_b, in_a = eb < w, ea < w
    if not in_b.any() or not in_a.any():
        side = "before" if not in_b.any() else "after"
        raise ZkValueError(f"The equal-age window [0, {w:g}] is empty {side} the cut-in: every unit there entered "
                           f"observation after age {w:g}. Widen the window or check the entry ages.")
    tb, cb, eb, ta, ca, ea = tb[in_b], cb[in_b], eb[in_b], ta[in_a], ca[in_a], ea[in_a]
    edges = np.linspace(0.0, w, int(age_bands) + 1)
    fb, xb = _window_counts(tb, cb, eb, edges)
    fa, xa = _window_counts(ta, ca, ea, edges)
    rate = rate_ratio_test(fb, xb, fa, xa, level=level)
    # lives cut at the window: beyond it they are suspensions at w
    tbw, cbw = np.minimum(tb, w), np.where(tb > w, 1.0, cb)
    taw, caw = np.minimum(ta, w), np.where(ta > w, 1.0, ca)
    weib: WeibullLRResult | None = None
    if rate.failures_before + rate.failures_after > 0:
        alt = alternative if (cbw == 0).any() and (caw == 0).any() else "scale"
        weib = weibull_lr_test(tbw, taw, censored_before=cbw, censored_after=caw, entry_before=eb, entry_after=ea,
                               alternative=alt, level=level)
    zh, en, improved = _sentences(rate, w, unit, alpha)
    return CutInResult(window=w, unit=unit, units_before=int(tb.size), units_after=int(ta.size), rate=rate,
                       weibull=weib, alpha=alpha, improved=improved, sentence_zh=zh, sentence_en=en)


def _show_date(v: Any) -> str:
    return str(pd.Timestamp(v).date())


def _show_text(v: Any) -> str:
    return str(v)


def compare_cut_in(df: pd.DataFrame, cut_in: Any, *, by: str = "build_date", time: str = "time",
                   censored: str | None = "censored", entry: str | None = None, window: float | None = None,
                   age_bands: int = 4, alternative: Alternative = "scale", level: float = 0.95,
                   alpha: float = 0.05, unit: str = "h") -> CutInResult:
    """Did the fix work? Compare lives of units before and after a cut-in, at equal age.

    Parameters
    ----------
    df : DataFrame
        One row per life: ``time`` [unit of age], ``censored`` (1 = suspension, 0 = failure), optionally ``entry``,
        and the ``by`` column of the unit it belongs to.
    cut_in : date-like or str
        The first build date (``by="build_date"``) or serial number (``by="serial_no"``) with the fix. Units with
        ``by >= cut_in`` are *after*. Serial numbers compare as text, which follows build order when they share one
        pattern (prefix, year, month, sequence) as one model's serials do.
    by : str
        Column deciding the side: a build date or a serial number.
    time, censored, entry : str
        Column names; ``censored=None`` means all failures, ``entry=None`` means observed from age 0.
    window, age_bands, alternative, level, alpha, unit
        As in :func:`compare_before_after`.

    Returns
    -------
    CutInResult

    Raises
    ------
    ZkValueError
        A missing column; a cut-in outside the data's range of ``by`` (the message names the range); no units on one
        side; an empty equal-age window.
    """
    if not isinstance(df, pd.DataFrame):
        raise ZkTypeError(f"compare_cut_in expects a pandas DataFrame of lives. Got {type(df).__name__}.")
    cols = [c for c in (by, time, censored, entry) if c is not None]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ZkValueError(f"The lives table lacks column(s) {missing}; it has {list(df.columns)}.")
    key = df[by]
    if key.isna().any():
        raise ZkValueError(f"Column '{by}' has {int(key.isna().sum())} missing value(s); every life needs a side. "
                           f"Drop or fill those rows.")
    if pd.api.types.is_datetime64_any_dtype(key):
        try:
            cut = pd.Timestamp(cut_in)
        except (TypeError, ValueError) as exc:
            raise ZkValueError(f"The cut-in {cut_in!r} is not a date; give e.g. '2023-03-01'.") from exc
        if cut.tzinfo is None and getattr(key.dt, "tz", None) is not None:
            cut = cut.tz_localize(key.dt.tz)
        lo_v, hi_v = key.min(), key.max()
        show: Any = _show_date
    else:
        key = key.astype(str)
        cut = str(cut_in)
        lo_v, hi_v = key.min(), key.max()
        show = _show_text
    if cut < lo_v or cut > hi_v:
        raise ZkValueError(f"The cut-in {show(cut)} lies outside the data: '{by}' runs from {show(lo_v)} to "
                           f"{show(hi_v)}. Give a cut-in inside that range.")
    after = (key >= cut).to_numpy()
    if after.all() or not after.any():
        side = "before" if after.all() else "after"
        raise ZkValueError(f"No units {side} the cut-in {show(cut)} ('{by}' runs from {show(lo_v)} to "
                           f"{show(hi_v)}): both sides need units to compare.")
    t = df[time].to_numpy(dtype=float, na_value=np.nan)
    c = None if censored is None else df[censored].to_numpy(dtype=float, na_value=np.nan)
    e = None if entry is None else df[entry].to_numpy(dtype=float, na_value=np.nan)
    return compare_before_after(
        t[~after], t[after],
        censored_before=None if c is None else c[~after], censored_after=None if c is None else c[after],
        entry_before=None if e is None else e[~after], entry_after=None if e is None else e[after],
        window=window, age_bands=age_bands, alternative=alternative, level=level, alpha=alpha, unit=unit)
