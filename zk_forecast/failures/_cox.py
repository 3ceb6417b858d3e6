"""Stratified Cox regression by partial likelihood: Efron's ties, delayed entry, Newton-Raphson, vectorised over rows.

The kernel of :func:`zk_forecast.failures.covariates.hazard_ratios` (pure numpy, no pandas).

Notation. Row i has time t_i [h] (failure or censoring), entry e_i [h] (left truncation, 0 for none), event
d_i (1 = failed), covariates x_i (p values) and stratum s_i. In a stratum, u_1 < ... < u_K are the distinct
failure times; row i is *at risk* at u when e_i <= u <= t_i (statsmodels' ``PHReg`` convention: a row entering at
a failure time counts in its risk set). With w_i = exp(x_i b), R_k the risk set at u_k and D_k the m_k rows failing
there, the risk-set sums are S0_k = sum_{R_k} w, S1_k = sum_{R_k} w x, S2_k = sum_{R_k} w x x^T, and D0_k, D1_k,
D2_k the same over D_k. Efron's approximation (Efron 1977; Therneau & Grambsch 2000, sec. 3.3) gives

    l(b) = sum_k [ sum_{i in D_k} x_i b - sum_{j=0}^{m_k-1} log c_kj ],   c_kj = S0_k - (j / m_k) D0_k,
    U(b) = sum_k [ sum_{i in D_k} x_i - sum_j g_kj ],                     g_kj = (S1_k - (j / m_k) D1_k) / c_kj,
    I(b) = sum_k sum_j [ (S2_k - (j / m_k) D2_k) / c_kj - g_kj g_kj^T ],

each stratum with its own baseline (the sums never mix strata).

Computation. The failure times of all strata are laid end to end (stratum by stratum, in time order; index k).
Row i is at risk over one contiguous block lo_i..hi_i of them, so S_k is a reverse cumulative sum within the
stratum of the rows whose block ends at or after k (hi_i >= k) minus those who enter after it (lo_i > k). The
second-moment term is rearranged as sum_k a_k S2_k = sum_i w_i (a_{lo_i} + ... + a_{hi_i}) x_i x_i^T with
a_k = sum_j 1 / c_kj, so no p x p matrix per failure time is ever formed. One evaluation costs a few passes over
the rows; Python loops only over strata (cumulative sums that must not run across a stratum's boundary).

Score residuals (for the Lin-Wei cluster-robust sandwich) are the ones statsmodels' ``PHReg.score_residuals``
returns, Breslow's increments even when the fit uses Efron's ties:
r_i = sum_{k: e_i <= u_k <= t_i} (x_i - S1_k / S0_k) (dN_i(u_k) - w_i m_k / S0_k). A row at risk at no failure
time (censored before its stratum's first failure, entering after its last one, or entering and leaving between
two failure times, or in a stratum without failures) scores 0. (statsmodels gives NaN for the first kinds and, for
a row entering and leaving between two failure times, a non-zero residual over earlier failure times when it was
not at risk; removing such rows, which carry no information, makes both agree.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CoxFit", "cluster_covariance", "fit_cox"]


@dataclass(frozen=True)
class CoxFit:
    """Result of :func:`fit_cox`.

    Attributes
    ----------
    coef : ndarray, shape (p,)
        Log hazard ratios per unit of each covariate (all NaN when the fit did not converge; NaN for a held
        coefficient, see ``runaway``).
    cov : ndarray, shape (p, p)
        Model-based covariance: the inverse of the observed information at ``coef`` (NaN when not converged or
        singular).
    score_residuals : ndarray, shape (n, p)
        Score residual of each input row at ``coef`` (0 for a row at risk at no failure time).
    loglik : float
        Log partial likelihood at ``coef`` (Efron).
    n_iter : int
        Newton iterations done.
    converged : bool
        True when the last full Newton step of the coefficients not running off was below the tolerance.
    runaway : ndarray of bool, shape (p,)
        Coefficients running off to +-inf (separation: e.g. a dummy whose lives never fail, or a covariate that
        orders the failures perfectly; the likelihood has no maximum in them). Newton holds each once its
        information falls below 1e-10 of its value at 0, and fits the others, which then hold their limits (the
        held ones' influence on them is below that fraction); their ``coef``, ``cov`` and ``score_residuals``
        are NaN. A covariate that never varies among the lives at risk together (information 0 at the start) is
        held at 0 the same way, without being flagged here.
    message : str
        Why the fit stopped when it did not converge, or which coefficients run off; else empty.
    """

    coef: np.ndarray
    cov: np.ndarray
    score_residuals: np.ndarray
    loglik: float
    n_iter: int
    converged: bool
    runaway: np.ndarray
    message: str


#: a coefficient is running off to +-inf once its information falls below this fraction of its value at 0
_RUNAWAY = 1e-10


@dataclass(frozen=True)
class _Layout:
    """Index structure of the data, built once per fit (rows at risk at some failure time only)."""

    rows: np.ndarray  # input row of each active row, active rows ordered by hi (then input order)
    x: np.ndarray  # (n_a, p) centred covariates of the active rows
    hi: np.ndarray  # last failure-time index at which the row is at risk
    lo: np.ndarray  # first failure-time index at which the row is at risk
    lo_first: np.ndarray  # lo is the first failure time of its stratum
    delayed: bool  # some row enters after its stratum's first failure time
    hi_starts: np.ndarray  # first active row of each failure time (rows sorted by hi)
    fail: np.ndarray  # positions (in active rows) of the failures, ordered by failure time
    f_starts: np.ndarray  # first failure of each failure time within `fail`
    f_k: np.ndarray  # failure-time index of each failure
    f_frac: np.ndarray  # j / m_k of each failure (Efron's fraction, j = 0..m_k-1 within a tied group)
    m: np.ndarray  # failures per failure time
    seg: np.ndarray  # first failure-time index of each stratum with failures, plus K at the end
    row_seg: np.ndarray  # first active row of each such stratum, plus n_a at the end


def _layout(time: np.ndarray, event: np.ndarray, entry: np.ndarray, strata: np.ndarray,
            x: np.ndarray) -> _Layout:
    s = np.unique(strata, return_inverse=True)[1].astype(np.int64).ravel()
    values = np.unique(np.concatenate([time, entry]))
    r = np.int64(values.size)
    key_t = s * r + np.searchsorted(values, time)
    key_e = s * r + np.searchsorted(values, entry)
    fkeys = np.unique(key_t[event])  # the failure times of every stratum, stratum by stratum, in time order
    k_total = fkeys.size
    fstrat = fkeys // r
    hi = np.searchsorted(fkeys, key_t, side="right") - 1
    lo = np.searchsorted(fkeys, key_e, side="left")
    ok = (hi >= 0) & (lo < k_total)
    ok &= (fstrat[np.clip(hi, 0, None)] == s) & (fstrat[np.clip(lo, None, k_total - 1)] == s) & (lo <= hi)
    active = np.flatnonzero(ok)
    order = active[np.argsort(hi[active], kind="stable")]
    hi_a, lo_a = hi[order], lo[order]
    seg = np.flatnonzero(np.r_[True, fstrat[1:] != fstrat[:-1]])
    first_of_k = np.repeat(seg, np.diff(np.r_[seg, k_total]))  # first failure-time index of k's stratum
    lo_first = lo_a == first_of_k[lo_a]
    hi_starts = np.searchsorted(hi_a, np.arange(k_total), side="left")
    fail = np.flatnonzero(event[order])  # ordered by hi = own failure time, since rows are sorted by hi
    f_k = hi_a[fail]
    f_starts = np.searchsorted(f_k, np.arange(k_total), side="left")
    m = np.diff(np.r_[f_starts, fail.size])
    f_frac = (np.arange(fail.size) - f_starts[f_k]) / m[f_k]
    xa = x[order]
    xa = xa - xa.mean(axis=0) if xa.size else xa  # centring changes no estimate, only the rounding
    return _Layout(rows=order, x=xa, hi=hi_a, lo=lo_a, lo_first=lo_first, delayed=not bool(lo_first.all()),
                   hi_starts=hi_starts, fail=fail, f_starts=f_starts, f_k=f_k, f_frac=f_frac, m=m,
                   seg=np.r_[seg, k_total], row_seg=np.r_[np.searchsorted(hi_a, seg, side="left"), hi_a.size])


def _reverse_cumsum(a: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Cumulative sums from the end of each stratum's block backwards (rows of ``a`` are failure times)."""
    out = np.empty_like(a)
    for b, e in zip(seg[:-1], seg[1:]):
        out[b:e] = np.cumsum(a[b:e][::-1], axis=0)[::-1]
    return out


def _forward_cumsum(a: np.ndarray, seg: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    for b, e in zip(seg[:-1], seg[1:]):
        out[b:e] = np.cumsum(a[b:e], axis=0)
    return out


def _block_sum(c: np.ndarray, lay: _Layout) -> np.ndarray:
    """sum_{k = lo_i}^{hi_i} of the values whose forward cumulative sum within strata is ``c``, per active row."""
    total = c[lay.hi]
    if lay.delayed:
        before = c[np.maximum(lay.lo - 1, 0)]
        total = total - np.where(lay.lo_first if c.ndim == 1 else lay.lo_first[:, None], 0.0, before)
    return total


def _weights(lay: _Layout, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear predictor and exp of it, shifted in each stratum so that its largest weight is 1 (no overflow)."""
    eta = lay.x @ beta
    shift = np.maximum.reduceat(eta, lay.row_seg[:-1]) if eta.size else eta
    eta = eta - np.repeat(shift, np.diff(lay.row_seg))
    return eta, np.exp(eta)


def _risk_sums(lay: _Layout, v: np.ndarray) -> np.ndarray:
    """S_k = sum of ``v`` over the rows at risk at each failure time k (rows of ``v``: active rows)."""
    s = _reverse_cumsum(np.add.reduceat(v, lay.hi_starts, axis=0), lay.seg)
    if lay.delayed:  # take out the rows that enter after k (lo > k) within the stratum
        k_total = lay.hi_starts.size
        by_lo = np.zeros_like(s)
        np.add.at(by_lo, lay.lo, v)
        later = _reverse_cumsum(by_lo, lay.seg)
        nxt = np.zeros_like(s)
        inner = np.ones(k_total, dtype=bool)
        inner[lay.seg[1:] - 1] = False  # the last failure time of a stratum has no later one
        nxt[inner] = later[np.flatnonzero(inner) + 1]
        s = s - nxt
    return s


def _evaluate(lay: _Layout, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Efron's log partial likelihood, its gradient and the observed information at ``beta``."""
    eta, w = _weights(lay, beta)
    x = lay.x
    v = np.concatenate([w[:, None], w[:, None] * x], axis=1)
    s = _risk_sums(lay, v)
    d = np.add.reduceat(v[lay.fail], lay.f_starts, axis=0)
    k, frac = lay.f_k, lay.f_frac
    c = s[k, 0] - frac * d[k, 0]
    g = (s[k, 1:] - frac[:, None] * d[k, 1:]) / c[:, None]
    xf = x[lay.fail]
    loglik = float(np.sum(eta[lay.fail]) - np.sum(np.log(c)))
    grad = xf.sum(axis=0) - g.sum(axis=0)
    a = np.add.reduceat(1.0 / c, lay.f_starts)
    b = np.add.reduceat(frac / c, lay.f_starts)
    alpha = _block_sum(_forward_cumsum(a, lay.seg), lay)
    info = (x.T * (w * alpha)) @ x - (xf.T * (w[lay.fail] * b[k])) @ xf - g.T @ g
    return loglik, grad, info


def _score_residuals(lay: _Layout, beta: np.ndarray, n: int) -> np.ndarray:
    _, w = _weights(lay, beta)
    x = lay.x
    s = _risk_sums(lay, np.concatenate([w[:, None], w[:, None] * x], axis=1))
    dlam = lay.m / s[:, 0]  # Breslow increments of the baseline cumulative hazard
    xbar = s[:, 1:] / s[:, :1]
    cum = _block_sum(_forward_cumsum(np.concatenate([dlam[:, None], xbar * dlam[:, None]], axis=1), lay.seg), lay)
    res = -w[:, None] * (x * cum[:, :1] - cum[:, 1:])
    res[lay.fail] += x[lay.fail] - xbar[lay.f_k]
    out = np.zeros((n, x.shape[1]))
    out[lay.rows] = res
    return out


def fit_cox(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    entry: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    *,
    max_iter: int = 50,
    tol: float = 1e-9,
) -> CoxFit:
    """Fit a stratified Cox model by Newton-Raphson with step halving (Efron's ties, delayed entry).

    Parameters
    ----------
    time : ndarray, shape (n,) [h]
        Failure or censoring time of each row, > 0.
    event : ndarray, shape (n,)
        1 (or True) where the row failed at ``time``, 0 where it was censored.
    x : ndarray, shape (n, p)
        Covariates [per unit of each].
    entry : ndarray, shape (n,) [h], optional
        Entry (left-truncation) time, 0 <= entry <= time; default 0.
    strata : ndarray, shape (n,), optional
        Stratum labels; each stratum has its own baseline hazard. Default: one stratum.
    max_iter : int
        Newton iterations at most.
    tol : float
        Converged when every coefficient's full Newton step is below ``tol * max(1, |coef|)``.

    Returns
    -------
    CoxFit
        Coefficients, model-based covariance, score residuals per row. Coefficients running off to +-inf
        (separation) are flagged in ``runaway`` and NaN, the others fitted; a covariate without information (never
        varying among lives at risk together) is NaN too. When the fit does not converge (a
        singular information matrix: collinear covariates; or the iteration budget spent), ``converged`` is False, ``message`` says why and ``coef``, ``cov`` and
        ``score_residuals`` are NaN.
    """
    t = np.asarray(time, dtype=float)
    ev = np.asarray(event).astype(bool)
    xm = np.asarray(x, dtype=float)
    if xm.ndim == 1:
        xm = xm[:, None]
    n, p = xm.shape
    e = np.zeros(n) if entry is None else np.asarray(entry, dtype=float)
    st = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    if not (t.shape == ev.shape == e.shape == st.shape == (n,)):
        raise ValueError("time, event, entry and strata must be 1-d with one value per row of x")
    if not ev.any():
        return CoxFit(coef=np.full(p, np.nan), cov=np.full((p, p), np.nan), score_residuals=np.full((n, p), np.nan),
                      loglik=np.nan, n_iter=0, converged=False, runaway=np.zeros(p, dtype=bool),
                      message="no failures")
    lay = _layout(t, ev, e, st, xm)
    beta = np.zeros(p)
    with np.errstate(all="ignore"):
        ll, grad, info = _evaluate(lay, beta)
        info0 = np.diag(info).copy()
        # a covariate that never varies among lives at risk together carries no information: held at 0, no estimate
        spread = np.sum(lay.x**2, axis=0) * lay.fail.size / max(lay.x.shape[0], 1)
        idle = ~(info0 > _RUNAWAY * spread)
        runaway = np.zeros(p, dtype=bool)
        converged, message, it = False, "", 0
        while not converged:
            # a coefficient whose information has all but vanished is running off to +-inf (separation): hold it
            runaway |= ~idle & ~(np.diag(info) > _RUNAWAY * info0)
            live = np.flatnonzero(~(runaway | idle))
            if it == max_iter or live.size == 0:
                message = (f"no convergence in {max_iter} Newton iterations" if live.size
                           else "no coefficient can be estimated (separation, or no variation within risk sets)")
                break
            it += 1
            step = np.zeros(p)
            try:
                step[live] = np.linalg.solve(info[np.ix_(live, live)], grad[live])
            except np.linalg.LinAlgError:
                step[live] = np.nan
            if not np.all(np.isfinite(step)):
                message = f"singular information matrix at iteration {it}"
                break
            converged = bool(np.all(np.abs(step) <= tol * np.maximum(1.0, np.abs(beta))))
            for _ in range(40):
                new = beta + step
                ll_new, grad_new, info_new = _evaluate(lay, new)
                if np.isfinite(ll_new) and ll_new >= ll - 1e-10 * (1.0 + abs(ll)):
                    break
                step = step / 2.0
            else:
                message = "step halving failed to raise the partial likelihood"
                converged = False
                break
            beta, ll, grad, info = new, ll_new, grad_new, info_new
        cov = np.full((p, p), np.nan)
        resid = np.full((n, p), np.nan)
        if converged:
            live = np.flatnonzero(~(runaway | idle))
            try:
                cov[np.ix_(live, live)] = np.linalg.inv(info[np.ix_(live, live)])
            except np.linalg.LinAlgError:
                pass
            resid[:, live] = _score_residuals(lay, beta, n)[:, live]
            beta = np.where(runaway | idle, np.nan, beta)
            held = [f"{j} runs off to +-inf (separation)" for j in np.flatnonzero(runaway)]
            held += [f"{j} never varies within a risk set" for j in np.flatnonzero(idle)]
            message = "; ".join(f"coefficient {h}" for h in held)
        else:
            beta = np.full(p, np.nan)
    return CoxFit(coef=beta, cov=cov, score_residuals=resid, loglik=float(ll), n_iter=it, converged=converged,
                  runaway=runaway, message=message)


def cluster_covariance(fit: CoxFit, clusters: np.ndarray) -> np.ndarray:
    """Lin & Wei's (1989) cluster-robust covariance: V (sum_g U_g U_g^T) V.

    Parameters
    ----------
    fit : CoxFit
        A converged fit (V = ``fit.cov``).
    clusters : ndarray, shape (n,)
        Cluster label of each row (e.g. the machine's serial number); U_g sums the score residuals of cluster g.

    Returns
    -------
    ndarray, shape (p, p)
        NaN in the rows and columns of coefficients without an estimate.
    """
    codes = np.unique(np.asarray(clusters), return_inverse=True)[1].ravel()
    p = fit.coef.size
    live = np.flatnonzero(np.isfinite(fit.coef))
    out = np.full((p, p), np.nan)
    resid = fit.score_residuals[:, live]
    summed = np.zeros((int(codes.max()) + 1 if codes.size else 0, live.size))
    np.add.at(summed, codes, resid)
    bread = fit.cov[np.ix_(live, live)]
    out[np.ix_(live, live)] = bread @ (summed.T @ summed) @ bread
    return out
