"""Inventory benchmark: exact (R, s, S) policies vs SBA + normal safety stock, replayed by the simulator.

Data: ``../shared/data/man/man_weekly_150.csv`` (3451 SKUs, 150 weeks, unit cost, order cost, holding cost per
unit-year, lead time [weeks], MOQ, units per pack). Plan on weeks 1-100, simulate weeks 101-150 (start: on hand =
S, nothing on order). Both methods use the same review (weekly), lead time (order in week t available from
week t + L + 1, i.e. L weeks later) and lot size ``Q = S - s`` (EOQ from order and holding cost, at least the MOQ,
a multiple of the pack).

Baseline (practitioner): SBA (Croston with the Syntetos-Boylan correction, alpha 0.1, written below) gives the
mean demand per week ``f``; ``σ`` is the RMSE of its one-step-ahead errors over the history; over the protection
period ``L + 1`` weeks the demand is Normal(``f (L+1)``, ``σ² (L+1)``); ``k`` solves the normal loss equation
``σ_{L+1} G(k) = (1 - β) max(Q, f)`` (Silver, Pyke & Thomas 2017, ch. 6-7); ``s = ceil(f (L+1) + k σ_{L+1})``,
``S = s + Q``.

Prints one JSON line per target and one for the speed of 100,000 synthetic part × depot series.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from zk_forecast.demand.distributions import LeadTimeDemand
from zk_forecast.inventory.plan import plan
from zk_forecast.inventory.policy import order_quantity, reorder_policy
from zk_forecast.inventory.simulate import simulate_policy

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "man" / "man_weekly_150.csv"
TARGETS = (0.90, 0.95, 0.98)
N_FIT = 100


def sba(y: np.ndarray, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """SBA forecast per series (last value) and RMSE of one-step forecasts [units per week]; NaN before start."""
    n, T = y.shape
    z = np.full(n, np.nan)   # size level
    p = np.full(n, np.nan)   # interval level
    q = np.ones(n)           # periods since last demand
    f = np.full(n, np.nan)
    se = np.zeros(n)
    cnt = np.zeros(n)
    for t in range(T):
        yt = y[:, t]
        have = ~np.isnan(f)
        e = np.where(have, yt - f, 0.0)
        se += e * e
        cnt += have
        d = yt > 0
        first = d & np.isnan(z)
        z = np.where(first, yt, np.where(d, z + alpha * (yt - z), z))
        p = np.where(first, q, np.where(d & ~first, p + alpha * (q - p), p))
        q = np.where(d, 1.0, q + 1.0)
        f = np.where(np.isnan(z), np.nan, (1 - alpha / 2) * z / p)
    rmse = np.sqrt(se / np.maximum(cnt, 1))
    return np.nan_to_num(f), rmse


def normal_loss_k(target_loss: np.ndarray) -> np.ndarray:
    """k with G(k) = φ(k) - k (1 - Φ(k)) = target_loss (vectorised bisection on [-4, 6])."""
    def G(k: np.ndarray) -> np.ndarray:
        return stats.norm.pdf(k) - k * stats.norm.sf(k)

    lo, hi = np.full(target_loss.shape, -4.0), np.full(target_loss.shape, 6.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        big = G(mid) > target_loss
        lo, hi = np.where(big, mid, lo), np.where(big, hi, mid)
    return (lo + hi) / 2


def main() -> int:
    if not DATA.exists():
        print(json.dumps({"skipped": f"{DATA} not found"}))
    else:
        df = pd.read_csv(DATA)
        wcols = [c for c in df.columns if c.startswith("w")]
        y = df[wcols].to_numpy(dtype=np.float64)
        fit, test = y[:, :N_FIT], y[:, N_FIT:]
        ids = df["sku"].astype(str).to_numpy()
        L = df["lead_time_weeks"].to_numpy().astype(np.int64)
        cost = df["unit_cost_eur"].to_numpy(dtype=np.float64)
        h_week = df["holding_cost_eur_per_unit_year"].to_numpy(dtype=np.float64) / 52
        ds = pd.date_range("2020-01-06", periods=N_FIT, freq="W-MON")
        long = pd.DataFrame({"unique_id": np.repeat(ids, N_FIT), "ds": np.tile(ds, len(ids)), "y": fit.ravel()})
        first = np.argmax(fit > 0, axis=1)
        long = long[np.repeat(np.arange(N_FIT)[None, :] >= first[:, None], 1, axis=0).ravel()
                    | False]  # from first demand on; before it the part was not listed
        long = long[(long.groupby("unique_id")["y"].transform("sum") > 0)]
        items = pd.DataFrame({"lead_time": L, "unit_cost": cost, "moq": df["moq_units"].to_numpy(),
                              "pack_size": df["units_per_pack"].to_numpy(), "order_cost": df["order_cost_eur"],
                              "holding_cost": h_week}, index=pd.Index(ids, name="unique_id"))
        f, rmse = sba(fit)
        Qb = order_quantity(f, moq=items["moq"].to_numpy(), pack_size=items["pack_size"].to_numpy(),
                            order_cost=items["order_cost"].to_numpy(), holding_cost=h_week)
        for tg in TARGETS:
            t0 = time.perf_counter()
            pol = plan(long, items, fill_rate=tg)
            secs = time.perf_counter() - t0
            sim = simulate_policy(test, pol["reorder_point"], pol["order_up_to"], L,
                                  pack_size=items["pack_size"], moq=items["moq"], unit_cost=cost)
            sig = np.maximum(rmse * np.sqrt(L + 1), 1e-9)
            k = normal_loss_k((1 - tg) * np.maximum(Qb, f) / sig)
            s_b = np.where(f > 0, np.ceil(f * (L + 1) + k * sig), -1).astype(np.int64)
            S_b = np.where(f > 0, s_b + Qb, 0)
            s_b = np.where(f > 0, s_b, -1)
            base = simulate_policy(test, s_b, S_b, L, pack_size=items["pack_size"], moq=items["moq"], unit_cost=cost)
            a, b = sim.total, base.total
            print(json.dumps({
                "target": tg, "plan_seconds": round(secs, 2),
                "exact": {"fill_rate": round(a["fill_rate"], 4), "mean_item_fill_rate": round(a["mean_item_fill_rate"], 4),
                          "avg_on_hand_value": round(a["avg_on_hand_value"], 1), "orders": int(a["orders"])},
                "sba_normal": {"fill_rate": round(b["fill_rate"], 4),
                               "mean_item_fill_rate": round(b["mean_item_fill_rate"], 4),
                               "avg_on_hand_value": round(b["avg_on_hand_value"], 1), "orders": int(b["orders"])},
                "value_ratio_exact_over_baseline": round(a["avg_on_hand_value"] / b["avg_on_hand_value"], 3),
            }), flush=True)
    # speed: 100,000 synthetic part × depot series, 52 weeks, lead times 1..8 weeks
    rng = np.random.default_rng(7)
    n = 100_000
    y = (rng.random((n, 52)) < rng.uniform(0.02, 0.5, n)[:, None]) * rng.geometric(0.5, (n, 52))
    Ls = rng.integers(1, 9, n)
    t0 = time.perf_counter()
    est = LeadTimeDemand().fit(y.astype(np.float64))
    a, b, r = est.pmf(Ls + 1), est.pmf(Ls), est.pmf(np.ones(n, dtype=np.int64))
    t1 = time.perf_counter()
    res = reorder_policy(a, b, r, 0.95, order_quantity=rng.integers(1, 5, n))
    t2 = time.perf_counter()
    print(json.dumps({"speed_series": n, "seconds_total": round(t2 - t0, 2), "seconds_fit_and_pmfs": round(t1 - t0, 2),
                      "seconds_policy_search": round(t2 - t1, 2), "min_fill_rate": round(float(res["fill_rate"].min()), 4),
                      "target_seconds": 10}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
