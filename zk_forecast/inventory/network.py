"""Two echelons: suppliers → Yinchuan (central, YC01) → branches, with a METRIC estimate of the central delay.

Model (Sherbrooke 1968, "METRIC: a multi-echelon technique for recoverable item control", *Operations Research*
16(1):122-141; Sherbrooke 2004, *Optimal Inventory Modeling of Systems* 2nd ed., ch. 2-3)
----------------------------------------------------------------------------------------------------------------
* Demand at each depot is Poisson with rate ``λ_j`` [units per period]; the central warehouse sees the sum over all
  depots ``λ_0 = Σ λ_j`` (one-for-one replenishment passes Poisson demand upstream; a branch that does not stock
  a part passes its demand straight on).
* The central warehouse holds base stock ``S_0`` against its supplier lead time ``L_0`` [periods]. Its expected
  backorders are ``EBO_0 = E[(X_0 - S_0)^+]`` with ``X_0 ~ Poisson(λ_0 L_0)`` (Palm's theorem; Sherbrooke 2004
  eq. 2.1), and by Little's law the expected delay of a request at the central warehouse is
  ``W_0 = EBO_0 / λ_0`` [periods] (Sherbrooke 2004, ch. 3, the METRIC delay).
* A branch's effective lead time is ``T_j + W_0`` [periods], ``T_j`` the transfer time; a fractional value is
  mixed between its floor and ceiling with weights that keep its mean (exact mixture of the two pmfs).

Where a part is stocked (the promises, DESIGN.md)
-------------------------------------------------
A request at a branch served from Yinchuan takes ``transfer_days + W_0 × working_days_per_period`` working days
on average. If that is within the promise (``5`` working days for wear-list parts, ``15`` for other parts), the
branch holds no stock of the part (``s = -1, S = 0``; ``stocked = False``, reason ``"central"``); otherwise the
branch holds base stock for its own target (reason ``"promise"``). The central warehouse always holds stock of
a part with demand somewhere in the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.policy import expected_backorders, reorder_policy
from zk_forecast.schema import central_depot, split_series_id

__all__ = ["metric_delay", "network_inputs", "plan_network", "poisson_pmf"]

WEAR_PROMISE_DAYS = 5
OTHER_PROMISE_DAYS = 15
#: Calendar days per weekly period (supplier lead times in days → weeks) [days].
DAYS_PER_WEEK = 7.0
#: Working days per weekly period (transfer days → periods) [working days].
WORKING_DAYS_PER_WEEK = 5.0
#: Weeks of history whose mean is a series' demand rate in the network plan [weeks].
RATE_WEEKS = 52


def network_inputs(panel: Any, parts: pd.DataFrame, depots: pd.DataFrame, *, transfer_days: Any,
                   wear_parts: Any = (), rate_weeks: int = RATE_WEEKS
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three tables :func:`plan_network` takes, from the weekly demand panel and the canonical tables.

    Parameters
    ----------
    panel : zk_forecast.demand.Panel
        Weekly demand per series ``PART|DEPOT`` [units per week].
    parts : pandas.DataFrame
        Canonical parts table (``part_no``, ``lead_time_days`` [days]).
    depots : pandas.DataFrame
        Canonical depots table (``depot_id``, ``role``: exactly one ``central``).
    transfer_days : mapping of str → float
        Branch id → transfer time from the central warehouse [working days]; every branch needs one.
    wear_parts : collection of str
        Part numbers on the wear-part list (their promise is 5 working days, else 15).
    rate_weeks : int, default 52
        The demand rate is the mean of the last ``rate_weeks`` weeks [weeks]; a series with no week in them
        is left out.

    Returns
    -------
    (demand, parts, depots) : tuple of pandas.DataFrame
        ``demand``: ``part_no``, ``depot_id``, ``rate`` [units per week], series of known depots in id order;
        ``parts``: indexed by ``part_no``, ``lead_time`` [weeks, rounded up], ``wear_list``;
        ``depots``: indexed by ``depot_id``, ``role``, ``transfer_days`` [working days], ``transfer_time``
        [weeks, rounded up].

    Raises
    ------
    ZkValueError
        No single central depot, or a branch without a transfer time.
    """
    dep = depots.set_index("depot_id")
    ids = [str(x) for x in dep.index]
    central = central_depot(depots)
    miss = [i for i in ids if i != central and i not in transfer_days]
    if miss:
        raise ZkValueError(f"transfer_days has no entry for branch {miss[0]!r}; fix: add {miss[0]} = 1 (working "
                           f"days from the central warehouse) under [depots.transfer_days] in zk.toml "
                           f"/ 缺少分库 {miss[0]} 的调拨天数，请在 [depots.transfer_days] 中补充")
    tdays = np.array([0.0 if i == central else float(transfer_days[i]) for i in ids])
    depot_frame = pd.DataFrame({"role": ["central" if i == central else "branch" for i in ids],
                                "transfer_days": tdays, "transfer_time": np.ceil(tdays / WORKING_DAYS_PER_WEEK)},
                               index=pd.Index(ids, name="depot_id"))
    recent = panel.values[:, -rate_weeks:]  # the last weeks [units per week]; series listed in them only
    seen = ~np.isnan(recent).all(axis=1)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(seen[:, None], recent, 0.0), axis=1)
    rate = pd.Series(mean[seen], index=pd.Index(panel.unique_id.astype(str)[seen], name="unique_id")).sort_index()
    part_no, depot_id = split_series_id(rate.index)
    demand = pd.DataFrame({"part_no": part_no, "depot_id": depot_id, "rate": rate.to_numpy(dtype=float)})
    demand = demand[demand["depot_id"].isin(ids)]
    p = parts.set_index("part_no")
    listed = {str(x) for x in wear_parts}
    part_frame = pd.DataFrame({"lead_time": np.ceil(p["lead_time_days"].to_numpy(dtype=float) / DAYS_PER_WEEK)
                               .astype(int),
                               "wear_list": [str(x) in listed for x in p.index]}, index=p.index.astype(str))
    return demand, part_frame, depot_frame


def poisson_pmf(mean: Any, tail: float = 1e-10) -> np.ndarray:
    """pmf of Poisson(``mean``) over 0..K-1 [units], one row per series; each row's upper tail (at most ``tail``)
    folded into the last bin its block of similar means keeps."""
    mu = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    if np.any(~np.isfinite(mu)) or np.any(mu < 0):
        raise ZkValueError("Poisson means must be finite and >= 0 [units].")
    top = int(stats.poisson.ppf(1 - tail, mu.max(initial=0.0))) + 2
    p = np.zeros((mu.size, top))
    # rows in blocks of similar mean, each block only as wide as its own largest mean needs
    order = np.argsort(mu, kind="stable")
    log_fact = special.gammaln(np.arange(top) + 1.0)
    for b in range(0, mu.size, 4096):
        rows = order[b:b + 4096]
        m = mu[rows][:, None]
        w = min(int(stats.poisson.ppf(1 - tail, float(m.max()))) + 2, top)
        k = np.arange(w)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):  # in place: one temporary per block
            logp: np.ndarray = k * np.log(m)
            logp -= m
            logp -= log_fact[:w][None, :]
        logp[m[:, 0] <= 0] = np.where(k[0] == 0, 0.0, -np.inf)  # mean 0: all mass at 0
        block = np.exp(logp, out=logp)
        # the tail into the block's own last bin: rows stay as narrow as their means need, so the level search
        # (reorder_policy) works on short rows instead of every row at the widest one's width
        block[:, -1] += np.maximum(1.0 - block.sum(axis=1), 0.0)
        p[rows, :w] = block
    return p


def metric_delay(rate: Any, lead_time: Any, base_stock: Any) -> np.ndarray:
    """Expected delay at the central warehouse ``W_0 = E[(X - S_0)^+] / λ_0`` [periods], ``X ~ Poisson(λ_0 L_0)``.

    Parameters
    ----------
    rate : array-like, shape (n,)
        ``λ_0`` [units per period]; a part without demand has delay 0.
    lead_time : array-like, shape (n,)
        Supplier lead time ``L_0`` [periods], >= 0.
    base_stock : array-like of int, shape (n,)
        ``S_0`` [units].

    Examples
    --------
    ``λ_0 = 1``, ``L_0 = 2``, ``S_0 = 2``: ``EBO = 2 - 2 + 2 e^-2 + 1 · 2 e^-2 = 4 e^-2``.

    >>> round(float(metric_delay([1.0], [2.0], [2])[0]), 4)
    0.5413
    """
    lam = np.atleast_1d(np.asarray(rate, dtype=np.float64))
    L0 = np.broadcast_to(np.asarray(lead_time, dtype=np.float64), lam.shape)
    if np.any(L0 < 0) or np.any(lam < 0):
        raise ZkValueError("rate and lead_time must be >= 0 [units per period], [periods].")
    return _delay(lam, poisson_pmf(lam * L0), base_stock)


def _delay(lam: np.ndarray, pmf_l: np.ndarray, base_stock: Any) -> np.ndarray:
    """:func:`metric_delay` given the pmf of ``X ~ Poisson(λ_0 L_0)`` [periods]."""
    ebo = expected_backorders(pmf_l, np.broadcast_to(np.asarray(base_stock), lam.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(lam > 0, ebo / np.where(lam > 0, lam, 1.0), 0.0)
    return out


def _split(x: np.ndarray) -> np.ndarray:
    """Weights over 0..ceil(max) keeping the mean of a fractional lead time, shape (n, ceil(max)+1)."""
    lo = np.floor(x).astype(np.int64)
    frac = x - lo
    w = np.zeros((x.size, int(np.ceil(x.max(initial=0.0))) + 2))
    r = np.arange(x.size)
    w[r, lo] = 1.0 - frac
    w[r, lo + 1] += frac
    return w


def plan_network(demand: pd.DataFrame, parts: pd.DataFrame, depots: pd.DataFrame, *, central_fill_rate: float = 0.95,
                 branch_fill_rate: float = 0.95, working_days_per_period: float = 5.0) -> pd.DataFrame:
    """Base stock per part × depot in the two-echelon network, with stocking locations set by the promises.

    Parameters
    ----------
    demand : pandas.DataFrame
        Columns ``part_no``, ``depot_id``, ``rate`` [units per period] (mean demand; Poisson assumed).
    parts : pandas.DataFrame
        Indexed by ``part_no``: ``lead_time`` (supplier to Yinchuan) [periods], ``wear_list`` (bool).
    depots : pandas.DataFrame
        Indexed by ``depot_id``: ``role`` (``central`` / ``branch``), ``transfer_time`` [periods] and
        ``transfer_days`` [working days] from the central warehouse (0 for it).
    central_fill_rate, branch_fill_rate : float, default 0.95
        Fill-rate targets in (0, 1) [probability].
    working_days_per_period : float, default 5
        Converts the METRIC delay to working days [working days per period].

    Returns
    -------
    pandas.DataFrame
        One row per part × depot: ``rate``, ``stocked`` (bool), ``reorder_point``, ``order_up_to`` [units],
        ``lead_time`` (effective) [periods], ``central_delay`` [periods], ``delivery_days`` from Yinchuan
        [working days], ``promise_days``, ``reason`` (``central_warehouse`` / ``central`` / ``promise``).
    """
    for name, val in (("central_fill_rate", central_fill_rate), ("branch_fill_rate", branch_fill_rate)):
        if not 0 < val < 1:
            raise ZkValueError(f"{name} must lie strictly between 0 and 1; got {val!r}.")
    centrals = depots.index[depots["role"] == "central"]
    if len(centrals) != 1:
        raise ZkValueError(f"depots needs exactly one role 'central' (Yinchuan); got {list(centrals)}.")
    c = centrals[0]
    miss = sorted(set(demand["part_no"]) - set(parts.index))
    if miss:
        raise ZkValueError(f"part {miss[0]!r} has demand but is not in parts; add it with its lead_time.")
    missd = sorted(set(demand["depot_id"]) - set(depots.index))
    if missd:
        raise ZkValueError(f"depot {missd[0]!r} has demand but is not in depots; add it with its transfer_time.")
    if (demand["rate"] < 0).any():
        raise ZkValueError("demand rate must be >= 0 [units per period].")
    have_c = set(demand.loc[demand["depot_id"] == c, "part_no"])
    add = sorted(set(demand["part_no"]) - have_c)
    if add:  # every part with demand is stocked centrally: give it a central row (own demand 0)
        demand = pd.concat([demand[["part_no", "depot_id", "rate"]],
                            pd.DataFrame({"part_no": add, "depot_id": c, "rate": 0.0})], ignore_index=True)
    demand = demand.sort_values(["part_no", "depot_id"], key=lambda x: x.astype(str), kind="stable")
    lam0 = demand.groupby("part_no")["rate"].sum().reindex(parts.index).fillna(0.0)
    L0 = parts["lead_time"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(L0)) or np.any(L0 < 0) or np.any(L0 != np.rint(L0)):
        i = int(np.flatnonzero(~np.isfinite(L0) | (L0 < 0) | (L0 != np.rint(L0)))[0])
        raise ZkValueError(f"part {parts.index[i]!r} has lead_time {L0[i]!r}; it must be whole periods >= 0.")
    lam = lam0.to_numpy()
    L0i = L0.astype(np.int64)
    # central base stock (R = 1) for its fill rate on Poisson demand
    a, b, f = poisson_pmf(lam * (L0i + 1)), poisson_pmf(lam * L0i), poisson_pmf(lam)
    cen = reorder_policy(a, b, f, central_fill_rate)
    S0 = cen["order_up_to"]
    W0 = _delay(lam, b, S0)  # metric_delay(lam, L0i, S0), whose pmf is b
    delay = pd.Series(W0, index=parts.index)

    out = demand[["part_no", "depot_id", "rate"]].copy().reset_index(drop=True)
    is_c = (out["depot_id"] == c).to_numpy()
    wear = parts["wear_list"].reindex(out["part_no"]).fillna(False).astype(bool).to_numpy()
    tdays = depots["transfer_days"].reindex(out["depot_id"]).to_numpy(dtype=np.float64)
    ttime = depots["transfer_time"].reindex(out["depot_id"]).to_numpy(dtype=np.float64)
    w0 = delay.reindex(out["part_no"]).to_numpy()
    deliver = tdays + w0 * working_days_per_period
    promise = np.where(wear, WEAR_PROMISE_DAYS, OTHER_PROMISE_DAYS)
    stock_branch = ~is_c & (deliver > promise) & (out["rate"].to_numpy() > 0)
    out["central_delay"] = w0
    out["delivery_days"] = np.where(is_c, 0.0, deliver)
    out["promise_days"] = promise
    out["lead_time"] = np.where(is_c, L0[parts.index.get_indexer(out["part_no"])], ttime + w0)
    out["stocked"] = is_c | stock_branch
    out["reason"] = np.where(is_c, "central_warehouse", np.where(stock_branch, "promise", "central"))
    s = np.full(len(out), -1, dtype=np.int64)
    S = np.zeros(len(out), dtype=np.int64)
    pi = parts.index.get_indexer(out.loc[is_c, "part_no"])
    s[is_c], S[is_c] = cen["reorder_point"][pi], S0[pi]
    rows = np.flatnonzero(stock_branch)
    if rows.size:
        r = out["rate"].to_numpy()[rows]
        lt = _split(out["lead_time"].to_numpy()[rows])
        parts_lr: list[np.ndarray] = []
        parts_l: list[np.ndarray] = []
        for lag in np.flatnonzero(lt.any(axis=0)):  # loop over lead-time values, vectorised over rows
            parts_lr.append(lt[:, lag][:, None] * poisson_pmf(r * (lag + 1)))
            parts_l.append(lt[:, lag][:, None] * poisson_pmf(r * lag))
        K1 = max(p.shape[1] for p in parts_lr)
        K2 = max(p.shape[1] for p in parts_l)
        lr, ll = np.zeros((rows.size, K1)), np.zeros((rows.size, K2))
        for p in parts_lr:
            lr[:, : p.shape[1]] += p
        for p in parts_l:
            ll[:, : p.shape[1]] += p
        br = reorder_policy(lr, ll, poisson_pmf(r), branch_fill_rate)
        s[rows], S[rows] = br["reorder_point"], br["order_up_to"]
    out["reorder_point"] = s
    out["order_up_to"] = S
    return out.set_index(["part_no", "depot_id"])
