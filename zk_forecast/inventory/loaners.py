"""Loaner pool (周转件): how many loaner units per machine type keep the warranty-repair promise.

The promise: a repair under warranty (三包期内) is done within 3 working days, else the customer gets a loaner unit
until the repair is done. This module sizes the pool of loaners from the service tickets.

Glossary
--------
late repair
    A ticket of ``kind == "failure"`` with ``in_warranty`` true whose report-to-resolution time exceeds the promise:
    ``working_days_between(reported_at, resolved_at) > promise_days`` on the Chinese working-day calendar
    (:class:`zk_forecast.calendar.WorkingCalendar`: weekends, statutory holidays and swapped workdays).
    A ticket still open (no ``resolved_at``) is read as resolved at ``as_of`` (its loan is at least that long:
    a censored duration, counted in ``n_open``).
deadline
    Midnight at the end of the ``promise_days``-th working day after the day of the report.
loan duration ``T`` [days]
    ``resolved_at - deadline`` in calendar days: the loaner goes out when the promise is missed and comes back
    when the repair is done (it is out on weekends and holidays too).
rate ``λ`` [per day]
    Late repairs per day for the fleet planned for: late repairs per in-warranty machine-day observed (exposure
    from ``sale_date`` to ``sale_date + warranty_months``, inside the ticket history, before ``retired_date``),
    times the machines in warranty at ``as_of`` (or the ``fleet`` given). Scaling by the exposure keeps a fleet
    that grew over the years from biasing the rate low.
load ``a = λ E[T]`` [loaner units]
    Expected number of loaners out.

The models
----------
Stationary (Palm's theorem). Late repairs arrive as a Poisson process of rate ``λ`` and each holds a loaner for an
i.i.d. time with mean ``E[T]``: the number of loaners wanted at a random moment is Poisson(``a``) whatever the
distribution of ``T`` (Palm 1938; the M/G/∞ queue; Sherbrooke 2004, *Optimal Inventory Modeling of Systems*,
2nd ed., §2.4 on Palm's theorem for repair pipelines). With ``n`` loaners and ``N ~ Poisson(a)``:

* ``criterion="fill"`` (default, **the one used**): by PASTA a late customer sees ``N`` loans wanted by others and
  gets a loaner at once iff ``N < n``; ``n`` is the smallest with ``P(N <= n - 1) >= target``. This is the
  probability the brief asks for ("a customer whose repair runs late gets one").
* ``criterion="ready"``: the smallest ``n`` with ``P(N <= n) >= target`` (Sherbrooke's "no loaner short at a
  random moment"); one unit fewer than ``"fill"`` or the same.
* ``criterion="erlang"``: the Erlang loss view, where a customer who finds no loaner free does without (is lost):
  the smallest ``n`` with ``1 - B(n, a) >= target``, ``B(n, a) = P(N = n) / P(N <= n)`` the Erlang B formula.

Every result reports all three probabilities at the chosen ``n`` (``p_fill``, ``p_ready``, ``erlang_b``).

Time-varying (harvest peaks; Eick, Massey & Whitt 1993, "The physics of the M_t/G/∞ queue", *Operations Research*
41(4):731-742). With a rate ``λ(t)`` the number out at ``t`` is Poisson(``m(t)``),
``m(t) = ∫ λ(u) P(T > t - u) du``. ``λ(t)`` is the stationary rate times a seasonal factor per calendar month
(late repairs per exposure machine-day in that month over the mean; the all-types factors when a group has fewer
than ``min_events`` late repairs). ``m`` is computed on a daily grid over one year, the year repeating
(December's loans run into January): ``m[t] = Σ_k λ[t - k] s̄_k`` with ``s̄_k = ∫_k^{k+1} P(T > x) dx`` taken from
the observed durations, so that ``Σ_k s̄_k = E[T]`` exactly and a constant ``λ`` gives ``m = λ E[T]`` (Palm). The
pool for the season is the largest daily requirement (``pool_size_peak``); per month, the largest in that month.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

from zk_forecast.calendar import WorkingCalendar
from zk_forecast.errors import NotFittedError, ZkValueError
from zk_forecast.schema import require_columns

__all__ = [
    "CRITERIA",
    "LoanerPool",
    "erlang_b",
    "late_repairs",
    "loaner_pool",
    "pool_probabilities",
    "pool_size",
    "time_varying_load",
]

#: Pool-sizing rules; see the module notes.
CRITERIA = ("fill", "ready", "erlang")
_DAY_NS = 86_400 * 10**9
_YEAR_DAYS = 365
_MONTH_OF_DAY = pd.date_range("2001-01-01", periods=_YEAR_DAYS, freq="D").month.to_numpy()  # a non-leap year


# ------------------------------------------------------------------------------------------------ kernels
def _check_target(target: Any) -> float:
    t = float(target)
    if not (0.0 < t < 1.0):
        raise ZkValueError(f"The 'target' probability must lie in (0, 1); got {target!r}. Use e.g. target=0.95.")
    return t


def _loads(load: Any) -> np.ndarray:
    a = np.asarray(load, dtype=np.float64)
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ZkValueError(f"The load (expected loaners out) must be finite and >= 0 [units]; got {load!r}.")
    return a


def erlang_b(n: Any, load: Any) -> np.ndarray:
    """Erlang loss (B) formula: share of late customers who find all ``n`` loaners out [probability].

    ``B(n, a) = P(N = n) / P(N <= n)`` with ``N ~ Poisson(a)`` (the truncated Poisson of the M/G/n/n loss system,
    insensitive to the loan-time distribution).

    Parameters
    ----------
    n : int or array-like of int
        Loaner units [units], >= 0.
    load : float or array-like
        Offered load ``a = λ E[T]`` [units].

    Returns
    -------
    numpy.ndarray
        ``B(n, a)`` [probability]; 0 where ``a = 0``, and ``B(0, a) = 1`` for ``a > 0``.

    Examples
    --------
    >>> float(erlang_b(1, 1.0))  # a / (1 + a)
    0.5
    """
    a = _loads(load)
    k = np.asarray(n)
    if np.any(k < 0):
        raise ZkValueError(f"The number of loaners n must be >= 0 [units]; got {n!r}.")
    with np.errstate(divide="ignore", invalid="ignore"):
        b = stats.poisson.pmf(k, a) / stats.poisson.cdf(k, a)
    return np.where(a > 0, b, 0.0)


def pool_probabilities(n: Any, load: Any) -> dict[str, np.ndarray]:
    """The three service measures of ``n`` loaners at load ``a`` (module notes).

    Returns
    -------
    dict of str to numpy.ndarray
        ``p_fill`` = P(N <= n - 1) (a late customer gets one at once), ``p_ready`` = P(N <= n) (no customer short
        at a random moment), ``erlang_b`` = B(n, a) (share lost in the loss view) [probability].
    """
    a = _loads(load)
    k = np.asarray(n)
    return {
        "p_fill": np.where(k >= 1, stats.poisson.cdf(k - 1, a), np.where(a > 0, 0.0, 1.0)),
        "p_ready": stats.poisson.cdf(k, a),
        "erlang_b": erlang_b(k, a),
    }


def pool_size(load: Any, target: float = 0.95, criterion: str = "fill") -> np.ndarray:
    """Smallest number of loaners meeting ``target`` under ``criterion``, vectorised over loads.

    Parameters
    ----------
    load : float or array-like
        Expected loaners out ``a = λ E[T]`` [units] (Palm's theorem: ``N ~ Poisson(a)``).
    target : float, default 0.95
        Probability in (0, 1).
    criterion : {"fill", "ready", "erlang"}, default "fill"
        ``"fill"``: smallest n with P(N <= n - 1) >= target; ``"ready"``: P(N <= n) >= target; ``"erlang"``:
        1 - B(n, a) >= target. A load of 0 needs no loaner under every criterion.

    Returns
    -------
    numpy.ndarray of int64 [units]

    Examples
    --------
    >>> int(pool_size(2.0, 0.95, "ready"))  # P(N<=4) = 0.947, P(N<=5) = 0.983
    5
    >>> int(pool_size(2.0, 0.95, "fill"))
    6
    """
    t = _check_target(target)
    if criterion not in CRITERIA:
        raise ZkValueError(f"The 'criterion' parameter must be one of {CRITERIA}; got {criterion!r} instead.")
    a = _loads(load)
    ready = stats.poisson.ppf(t, a)  # smallest k with P(N <= k) >= t
    ready = np.where(a > 0, ready, 0.0).astype(np.int64)
    if criterion == "ready":
        return ready
    if criterion == "fill":
        return np.where(a > 0, ready + 1, 0).astype(np.int64)
    # Erlang: B(n, a) falls with n and B(n, a) <= P(N >= n) (since P(N>=n) P(N<=n) - P(N=n) =
    # (1 - P(N>=n)) (1 - P(N<=n)) >= 0), so the Erlang n is at most the "fill" n = ready + 1: search 0..ready+1
    hi = int(np.max(ready, initial=0)) + 2
    flat = a.ravel()
    ok = (1.0 - erlang_b(np.arange(hi)[None, :], flat[:, None])) >= t - 1e-12
    ok[:, -1] = True
    return np.argmax(ok, axis=1).astype(np.int64).reshape(a.shape)


def time_varying_load(rate: Any, durations: Any, *, periodic: bool = True) -> np.ndarray:
    """Expected loaners out per day under a time-varying rate: the M_t/G/∞ mean (Eick, Massey & Whitt 1993).

    ``m[t] = Σ_{k>=0} λ[t - k] s̄_k`` with ``s̄_k = ∫_k^{k+1} P(T > x) dx = E[min(T, k+1)] - E[min(T, k)]``, from
    the observed durations, so ``Σ_k s̄_k = E[T]`` and a constant rate gives ``λ E[T]`` (Palm).

    Parameters
    ----------
    rate : array-like, shape (n_days,) or (n_groups, n_days)
        Arrivals of late repairs per day [per day].
    durations : array-like of float
        Observed loan durations [days], >= 0 (or one array per group: a list of arrays).
    periodic : bool, default True
        The rate repeats with period ``n_days`` (a year), so loans started at the end run into the start.

    Returns
    -------
    numpy.ndarray, the shape of ``rate``
        Expected loaners out on each day [units].
    """
    lam = np.asarray(rate, dtype=np.float64)
    one = lam.ndim == 1
    lam2 = np.atleast_2d(lam)
    if np.any(~np.isfinite(lam2)) or np.any(lam2 < 0):
        raise ZkValueError("The rate of late repairs must be finite and >= 0 [per day].")
    durs = [durations] if one else list(durations)
    if len(durs) != lam2.shape[0]:
        raise ZkValueError(f"Give one duration array per rate row; got {len(durs)} for {lam2.shape[0]} rows.")
    n_days = lam2.shape[1]
    out = np.zeros_like(lam2)
    for g, d in enumerate(durs):  # loop over groups (machine types), vectorised over days and durations
        d = np.asarray(d, dtype=np.float64).ravel()
        if d.size == 0:
            continue
        if np.any(~np.isfinite(d)) or np.any(d < 0):
            raise ZkValueError("Loan durations must be finite and >= 0 [days].")
        kmax = int(np.ceil(d.max())) + 1
        k = np.arange(kmax, dtype=np.float64)
        sbar = np.clip(d[:, None] - k[None, :], 0.0, 1.0).mean(axis=0)  # ∫_k^{k+1} P(T > x) dx
        if periodic:
            reps = kmax // n_days + 2
            tiled = np.tile(lam2[g], reps)
            out[g] = np.convolve(tiled, sbar)[(reps - 1) * n_days: reps * n_days]
        else:
            out[g] = np.convolve(lam2[g], sbar)[:n_days]
    return out[0] if one else out


# --------------------------------------------------------------------------------------------- estimation
def late_repairs(tickets: pd.DataFrame, *, promise_days: int = 3, as_of: Any = None,
                 calendar: WorkingCalendar | None = None) -> pd.DataFrame:
    """The warranty repairs that broke the promise, with their loan durations.

    Parameters
    ----------
    tickets : pandas.DataFrame
        Canonical ``tickets`` (``ticket_id``, ``serial_no``, ``reported_at``, ``resolved_at``, ``kind``,
        ``in_warranty``).
    promise_days : int, default 3
        Promised repair time [working days].
    as_of : date-like, optional
        End of the history; open tickets are read as resolved then. Default: the latest ``reported_at``.
    calendar : WorkingCalendar, optional
        Working days; default the Chinese statutory calendar.

    Returns
    -------
    pandas.DataFrame
        One row per late repair: ``ticket_id``, ``serial_no``, ``reported_at``, ``deadline``, ``resolved_at``,
        ``open`` (bool), ``working_days`` [working days], ``loan_days`` [days] (> 0).
    """
    require_columns(tickets, "tickets", ["ticket_id", "serial_no", "reported_at", "resolved_at", "kind", "in_warranty"])
    if isinstance(promise_days, bool) or not isinstance(promise_days, (int, np.integer)) or promise_days < 0:
        raise ZkValueError(f"'promise_days' must be a whole number of working days >= 0; got {promise_days!r}.")
    cal = calendar if calendar is not None else WorkingCalendar()
    rep = tickets[(tickets["kind"] == "failure") & tickets["in_warranty"].fillna(False).astype(bool)]
    rep = rep[rep["reported_at"].notna()]
    end = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(tickets["reported_at"].max())
    is_open = rep["resolved_at"].isna().to_numpy()
    resolved = rep["resolved_at"].fillna(end)
    resolved = resolved.where(resolved >= rep["reported_at"], rep["reported_at"])
    wd = np.asarray(cal.working_days_between(rep["reported_at"].to_numpy(), resolved.to_numpy()), dtype=np.int64)
    deadline = pd.DatetimeIndex(cal.add_working_days(rep["reported_at"].to_numpy(), int(promise_days)))
    deadline = deadline + pd.Timedelta(days=1)  # midnight ending the promised working day
    late = wd > promise_days
    loan = (resolved.to_numpy() - deadline.to_numpy()).astype("timedelta64[ns]").astype(np.int64) / _DAY_NS
    out = pd.DataFrame({
        "ticket_id": rep["ticket_id"].to_numpy(),
        "serial_no": rep["serial_no"].to_numpy(),
        "reported_at": rep["reported_at"].to_numpy(),
        "deadline": deadline.to_numpy(),
        "resolved_at": resolved.to_numpy(),
        "open": is_open,
        "working_days": wd,
        "loan_days": np.maximum(loan, 0.0),
    })
    return out[late].reset_index(drop=True)


def _exposure(machines: pd.DataFrame, groups: np.ndarray, n_groups: int, start: pd.Timestamp,
              end: pd.Timestamp, default_warranty_months: int) -> tuple[np.ndarray, np.ndarray]:
    """In-warranty machines per day and group (n_groups, n_days) over [start, end], and in warranty at ``end``."""
    d0 = start.normalize().value // _DAY_NS
    d1 = end.normalize().value // _DAY_NS
    n_days = int(d1 - d0 + 1)
    sale = pd.to_datetime(machines["sale_date"])
    months = machines["warranty_months"] if "warranty_months" in machines.columns else None
    wm = (pd.Series(months, index=machines.index).fillna(default_warranty_months) if months is not None
          else pd.Series(default_warranty_months, index=machines.index)).astype(np.int64)
    w_end = pd.Series(_add_months(sale, wm), index=machines.index)
    if "retired_date" in machines.columns:
        ret = pd.to_datetime(machines["retired_date"])
        w_end = w_end.where(ret.isna() | (ret > w_end), ret)
    s = (sale.to_numpy().astype("datetime64[D]").astype(np.int64) - d0).clip(0, n_days)
    e = (pd.DatetimeIndex(w_end).to_numpy().astype("datetime64[D]").astype(np.int64) - d0).clip(0, n_days)
    ok = sale.notna().to_numpy() & (e > s)
    diff = np.zeros((n_groups, n_days + 1))
    np.add.at(diff, (groups[ok], s[ok]), 1.0)
    np.add.at(diff, (groups[ok], e[ok]), -1.0)
    per_day = np.cumsum(diff, axis=1)[:, :n_days]
    return per_day, per_day[:, -1]


def _add_months(dates: pd.Series, months: pd.Series) -> pd.DatetimeIndex:
    """``dates + months`` month by month (day clipped to the month's end), vectorised through periods."""
    d = pd.DatetimeIndex(dates)
    per = d.to_period("M")
    target = (per.asi8 + months.to_numpy()).astype(np.int64)
    tp = pd.PeriodIndex.from_ordinals(target, freq="M")
    day = np.minimum(d.day.to_numpy(), tp.days_in_month.to_numpy())
    out = pd.to_datetime({"year": tp.year, "month": tp.month, "day": day}, errors="coerce")
    return pd.DatetimeIndex(out.where(~d.isna()))


class LoanerPool(BaseEstimator):  # type: ignore[misc]
    """Size the loaner pool per group of machines from the tickets (a scikit-learn estimator; module notes).

    Settings are stored untouched by ``__init__`` (``get_params`` / ``set_params`` / ``sklearn.base.clone``
    work); :meth:`fit` learns the attributes ending in ``_``; using the pool before ``fit`` raises
    :class:`~zk_forecast.errors.NotFittedError`.

    Parameters
    ----------
    target : float, default 0.95
        Probability that a late-repair customer gets a loaner at once (under ``criterion``).
    promise_days : int, default 3
        Promised warranty repair time [working days].
    by : str or list of str, default "machine_type"
        Columns of ``machines`` to group by (``machine_type``, ``model``, ``depot_id``, ``manufacturer``...).
    criterion : {"fill", "ready", "erlang"}, default "fill"
        Pool-sizing rule (module notes).
    as_of : date-like, optional
        End of the history and the date of the fleet planned for; default the latest ``reported_at``.
    fleet : pandas.Series, optional
        Machines in warranty to plan for, indexed by group [machines]; default those in warranty at ``as_of``.
    default_warranty_months : int, default 12
        Warranty of machines without ``warranty_months`` [months].
    min_events : int, default 20
        Fewest late repairs for a group's own seasonal factors; else the all-groups factors [repairs].
    calendar : WorkingCalendar, optional

    Attributes
    ----------
    late_ : pandas.DataFrame
        The late repairs (:func:`late_repairs`) with the group columns.
    summary_ : pandas.DataFrame
        Per group: ``n_late``, ``n_open``, ``exposure_machine_days``, ``fleet_in_warranty``, ``rate_per_day``
        [per day], ``mean_loan_days`` [days], ``load`` [units], ``pool_size`` [units], ``p_fill``, ``p_ready``,
        ``erlang_b`` [probability], ``peak_load`` [units], ``peak_date`` (day of a non-leap year),
        ``pool_size_peak`` [units], ``loaners_issued`` (tickets flagged 是否提供周转件, for comparison).
    monthly_ : pandas.DataFrame
        Group × month 1..12: the largest pool needed on any day of the month [units].
    daily_load_ : pandas.DataFrame
        Group × day of year: expected loaners out ``m(t)`` [units].
    """

    def __init__(self, *, target: float = 0.95, promise_days: int = 3, by: str | list[str] = "machine_type",
                 criterion: str = "fill", as_of: Any = None, fleet: pd.Series | None = None,
                 default_warranty_months: int = 12, min_events: int = 20,
                 calendar: WorkingCalendar | None = None) -> None:
        self.target = target
        self.promise_days = promise_days
        self.by = by
        self.criterion = criterion
        self.as_of = as_of
        self.fleet = fleet
        self.default_warranty_months = default_warranty_months
        self.min_events = min_events
        self.calendar = calendar

    def fit(self, tickets: pd.DataFrame, machines: pd.DataFrame) -> LoanerPool:
        """Estimate rates, durations and pool sizes from the tickets and the installed base."""
        target = _check_target(self.target)
        if self.criterion not in CRITERIA:
            raise ZkValueError(f"The 'criterion' parameter of LoanerPool must be one of {CRITERIA}; "
                               f"got {self.criterion!r} instead.")
        by = [self.by] if isinstance(self.by, str) else list(self.by)
        require_columns(machines, "machines", ["serial_no", "sale_date", *by])
        require_columns(tickets, "tickets", ["reported_at"])
        as_of = pd.Timestamp(self.as_of) if self.as_of is not None else pd.Timestamp(tickets["reported_at"].max())
        start = pd.Timestamp(tickets["reported_at"].min())
        late = late_repairs(tickets, promise_days=self.promise_days, as_of=as_of, calendar=self.calendar)
        late = late[late["reported_at"] <= as_of]
        keys = machines[by].astype("string").fillna("(none)")
        gkey = keys.agg(" / ".join, axis=1) if len(by) > 1 else keys[by[0]]
        codes, names = pd.factorize(gkey, sort=True)
        G = len(names)
        grp_of = pd.Series(codes, index=machines["serial_no"].to_numpy())
        lg = late["serial_no"].map(grp_of)
        unknown = int(lg.isna().sum())
        if unknown:
            raise ZkValueError(f"{unknown} late repairs name machines (serial_no) not in the machines table, e.g. "
                               f"{late['serial_no'][lg.isna()].iloc[0]!r}; ingest tickets and machines together.")
        lcode = lg.to_numpy(dtype=np.int64)
        late = late.assign(**{c: machines.set_index("serial_no")[c].reindex(late["serial_no"]).to_numpy()
                              for c in by})
        per_day, now = _exposure(machines, codes.astype(np.int64), G, start, as_of,
                                 int(self.default_warranty_months))
        exposure = per_day.sum(axis=1)
        fleet = now if self.fleet is None else pd.Series(self.fleet).reindex(names).fillna(0).to_numpy(float)
        n_late = np.bincount(lcode, minlength=G)
        rate_unit = np.divide(n_late, exposure, out=np.zeros(G), where=exposure > 0)  # per machine-day
        lam = rate_unit * fleet
        durs = [late["loan_days"].to_numpy()[lcode == g] for g in range(G)]
        mean_t = np.array([d.mean() if d.size else 0.0 for d in durs])
        load = lam * mean_t
        n = np.asarray(pool_size(load, target, self.criterion)).reshape(G)
        probs = pool_probabilities(n, load)

        # seasonal factors per calendar month: late repairs per exposure machine-day, over the mean
        days = pd.date_range(start.normalize(), as_of.normalize(), freq="D")
        month = days.month.to_numpy() - 1
        expo_m = np.zeros((G, 12))
        np.add.at(expo_m.T, month, per_day.T)
        lmonth = pd.DatetimeIndex(late["deadline"]).month.to_numpy() - 1
        ev_m = np.zeros((G, 12))
        np.add.at(ev_m, (lcode, lmonth), 1.0)
        factor = _season_factor(ev_m, expo_m, int(self.min_events))
        rate_daily = lam[:, None] * factor[:, _MONTH_OF_DAY - 1]
        m_t = time_varying_load(rate_daily, durs) if G else np.zeros((0, _YEAR_DAYS))
        n_t = pool_size(m_t, target, self.criterion) if G else np.zeros((0, _YEAR_DAYS), dtype=np.int64)
        monthly = np.zeros((G, 12), dtype=np.int64)
        np.maximum.at(monthly.T, _MONTH_OF_DAY - 1, np.asarray(n_t).T)
        peak = np.argmax(m_t, axis=1) if G else np.zeros(0, dtype=np.int64)
        day_label = pd.date_range("2001-01-01", periods=_YEAR_DAYS, freq="D").strftime("%m-%d")

        issued = np.zeros(G, dtype=np.int64)
        if "loaner_issued" in tickets.columns:
            fl = tickets[tickets["loaner_issued"].fillna(False).astype(bool) & (tickets["reported_at"] <= as_of)]
            ic = fl["serial_no"].map(grp_of).dropna().to_numpy(dtype=np.int64)
            issued = np.bincount(ic, minlength=G)
        idx = pd.Index(names, name=by[0] if len(by) == 1 else " / ".join(by))
        self.late_ = late.assign(group=np.asarray(names, dtype=object)[lcode]).reset_index(drop=True)
        self.summary_ = pd.DataFrame({
            "n_late": n_late, "n_open": np.bincount(lcode, weights=late["open"].to_numpy(float), minlength=G)
            .astype(np.int64),
            "exposure_machine_days": exposure, "fleet_in_warranty": fleet, "rate_per_day": lam,
            "mean_loan_days": mean_t, "load": load, "pool_size": n, "p_fill": probs["p_fill"],
            "p_ready": probs["p_ready"], "erlang_b": probs["erlang_b"],
            "peak_load": m_t.max(axis=1) if G else np.zeros(0),
            "peak_date": np.asarray(day_label)[peak], "pool_size_peak": np.asarray(n_t).max(axis=1, initial=0),
            "loaners_issued": issued,
        }, index=idx)
        self.monthly_ = pd.DataFrame(monthly, index=idx, columns=pd.Index(range(1, 13), name="month"))
        self.daily_load_ = pd.DataFrame(m_t, index=idx, columns=pd.Index(day_label, name="day"))
        self.criterion_ = self.criterion
        return self

    def _check_fitted(self) -> None:
        if "summary_" not in vars(self):
            raise NotFittedError("This LoanerPool is not fitted yet; call fit(tickets, machines) first "
                                 "/ 周转件池尚未拟合，请先调用 fit(tickets, machines)")

    def _repr_html_(self) -> str:
        self._check_fitted()
        cap = html.escape(f"周转件 loaner pool: target {self.target:.0%} ({self.criterion}), promise "
                          f"{self.promise_days} working days")
        cols = ["n_late", "rate_per_day", "mean_loan_days", "load", "pool_size", "pool_size_peak", "peak_date"]
        return f"<div><p><b>{cap}</b></p>{self.summary_[cols].to_html(float_format=lambda v: f'{v:.3g}')}</div>"

    def plot(self, ax: Any = None) -> Any:
        """Expected loaners out per day of the year per group [units]; returns the axes."""
        self._check_fitted()
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.5))
        x = np.arange(_YEAR_DAYS)
        for name, row in self.daily_load_.iterrows():
            ax.plot(x, row.to_numpy(), label=str(name))
        ax.set_xlabel("day of year / 日")
        ax.set_ylabel("loaners out m(t) [units] / 在用周转件")
        ax.legend(loc="upper left", fontsize="small")
        return ax


def _season_factor(events: np.ndarray, exposure: np.ndarray, min_events: int) -> np.ndarray:
    """Monthly factors (mean over months = 1 per group), pooled across groups where events are few."""
    def factors(ev: np.ndarray, ex: np.ndarray) -> np.ndarray:
        r = np.divide(ev, ex, out=np.zeros_like(ev), where=ex > 0)
        m = r.mean(axis=-1, keepdims=True)
        return np.divide(r, m, out=np.ones_like(r), where=m > 0)

    pooled = factors(events.sum(axis=0), exposure.sum(axis=0))
    own = factors(events, exposure)
    few = events.sum(axis=1) < min_events
    return np.where(few[:, None], pooled[None, :], own)


def loaner_pool(tickets: pd.DataFrame, machines: pd.DataFrame, target: float = 0.95, promise_days: int = 3,
                by: str | list[str] = "machine_type", **kwargs: Any) -> pd.DataFrame:
    """Loaner units per group of machines so that a late warranty repair gets one with probability ``target``.

    The DataFrame face of :class:`LoanerPool` (see the module notes for the models).

    Parameters
    ----------
    tickets, machines : pandas.DataFrame
        Canonical ``tickets`` and ``machines`` tables.
    target : float, default 0.95
        Probability [0-1] a late-repair customer gets a loaner at once.
    promise_days : int, default 3
        Promised warranty repair time [working days].
    by : str or list of str, default "machine_type"
        Grouping columns of ``machines``.
    **kwargs
        Further settings of :class:`LoanerPool` (``criterion``, ``as_of``, ``fleet``...).

    Returns
    -------
    pandas.DataFrame
        :attr:`LoanerPool.summary_` with the monthly pool sizes as columns ``m01``..``m12`` [units].
    """
    pool = LoanerPool(target=target, promise_days=promise_days, by=by, **kwargs).fit(tickets, machines)
    monthly = pool.monthly_.rename(columns=lambda m: f"m{m:02d}")
    return pool.summary_.join(monthly)
