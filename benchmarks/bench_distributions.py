"""Lead-time demand distributions for many series, beside a practitioner's per-series loop.

Prints one JSON line per method:
  {"bench": "lead_time_demand", "method": ..., "series": 80000, "lead_time": "1..12", "seconds": ...,
   "peak_rss_mb": ..., "peer": ..., "peer_series": ..., "peer_seconds_scaled": ..., "ratio_to_peer": ...,
   "max_abs_pmf_diff": ...}

Data: ``--series`` synthetic weekly histories (``--periods`` weeks, seeded): per-period demand probability
uniform on 0.02..0.5, sizes 1 + negative binomial; lead time plus review uniform on 1..12 weeks per series.

Ours: ``LeadTimeDemand(method=...).fit(y).distribution(L)`` (timed together), each method in its own fresh
process so that peak RSS is its own (the histories are built inside and count towards it).

Peer, a practitioner's baseline on the first ``--peer-series`` series, scaled linearly to all series:
  fitted    a Python loop over series: the same size pmf (from our fit, not timed), then ``np.convolve`` of the
            per-period pmf L times — the textbook recursion — and the same 1e-9 tail cut;
  bootstrap a Python loop over series running the Willemain-Smart-Schwarz bootstrap with numpy vectorised over
            the samples of that series.
``ratio_to_peer`` = peer_seconds_scaled / seconds (> 1: ours is faster). ``max_abs_pmf_diff`` compares the
fitted pmfs on the peer's series (the bootstrap is random, so there it is the difference of the means [units]).

Usage: python benchmarks/bench_distributions.py [--series 80000] [--periods 156] [--n-samples 1000]
       [--peer-series 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from typing import Any

import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _data(n: int, periods: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.5, (n, 1))
    occ = rng.random((n, periods)) < p
    sizes = 1 + rng.negative_binomial(2, rng.uniform(0.3, 0.9, (n, 1)), (n, periods))
    y = np.where(occ, sizes, 0).astype(np.float64)
    lead = rng.integers(1, 13, n)
    return y, lead


def _ours(method: str, n: int, periods: int, n_samples: int, seed: int, q: mp.Queue) -> None:
    from zk_forecast.demand.distributions import LeadTimeDemand

    y, lead = _data(n, periods, seed)
    t0 = time.perf_counter()
    d = LeadTimeDemand(method=method, n_samples=n_samples, random_state=seed).fit(y).distribution(lead)
    secs = time.perf_counter() - t0
    q.put({"seconds": secs, "peak_rss_mb": _peak_mb(), "width": d.pmf.shape[1],
           "mean_sum": float(d.mean().sum())})


def _peer(method: str, n: int, periods: int, n_samples: int, seed: int, n_peer: int, q: mp.Queue) -> None:
    from zk_forecast.demand.distributions import LeadTimeDemand, truncate_tail

    y, lead = _data(n, periods, seed)
    y, lead = y[:n_peer], lead[:n_peer]
    if method == "fitted":
        est = LeadTimeDemand(method="fitted").fit(y)
        ours = est.pmf(lead)
        sizes, p = est.size_pmf_, est.p_
        t0 = time.perf_counter()
        out = []
        for i in range(n_peer):  # the per-series loop
            per = p[i] * sizes[i]
            per[0] += 1.0 - p[i]
            acc = np.array([1.0])
            for _ in range(int(lead[i])):
                acc = np.convolve(acc, per)
            out.append(truncate_tail(acc[None, :], 1e-9)[0])
        secs = time.perf_counter() - t0
        diff = max(float(np.abs(o - ours[i, :o.size]).max()) for i, o in enumerate(out))
    else:
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        means = np.empty(n_peer)
        for i in range(n_peer):  # the per-series loop, samples vectorised
            h = y[i]
            occ = h > 0
            nz = h[occ]
            prev, nxt = occ[:-1], occ[1:]
            p01 = (nxt & ~prev).sum() / max((~prev).sum(), 1)
            p11 = (nxt & prev).sum() / max(prev.sum(), 1)
            state = np.full(n_samples, occ[-1])
            total = np.zeros(n_samples)
            for _ in range(int(lead[i])):
                state = rng.random(n_samples) < np.where(state, p11, p01)
                x = rng.choice(nz, n_samples) if nz.size else np.zeros(n_samples)
                j = 1 + np.trunc(x + rng.standard_normal(n_samples) * np.sqrt(x))
                total += np.where(state, np.where(j <= 0, x, j), 0.0)
            np.bincount(total.astype(np.int64))
            means[i] = total.mean()
        secs = time.perf_counter() - t0
        ours = LeadTimeDemand(method="bootstrap", n_samples=n_samples, random_state=seed).fit(y).mean(lead)
        diff = float(np.abs(means - ours).mean())
    q.put({"seconds": secs, "peak_rss_mb": _peak_mb(), "diff": diff})


def _run(target: Any, *args: Any) -> dict:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=80_000)
    ap.add_argument("--periods", type=int, default=156)
    ap.add_argument("--n-samples", type=int, default=1000)
    ap.add_argument("--peer-series", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    n_peer = min(args.peer_series, args.series)
    for method in ("fitted", "bootstrap"):
        ours = _run(_ours, method, args.series, args.periods, args.n_samples, args.seed)
        peer = _run(_peer, method, args.series, args.periods, args.n_samples, args.seed, n_peer)
        scaled = peer["seconds"] * args.series / n_peer
        line = {
            "bench": "lead_time_demand", "method": method, "series": args.series, "periods": args.periods,
            "lead_time": "1..12", "n_samples": args.n_samples if method == "bootstrap" else None,
            "seconds": round(ours["seconds"], 3), "peak_rss_mb": round(ours["peak_rss_mb"], 1),
            "pmf_width": ours["width"],
            "peer": ("per-series loop: np.convolve of the per-period pmf L times" if method == "fitted"
                     else "per-series loop: Willemain bootstrap, numpy over the samples"),
            "peer_series": n_peer, "peer_seconds": round(peer["seconds"], 3),
            "peer_seconds_scaled": round(scaled, 2), "peer_peak_rss_mb": round(peer["peak_rss_mb"], 1),
            "ratio_to_peer": round(scaled / ours["seconds"], 2),
            ("max_abs_pmf_diff" if method == "fitted" else "mean_abs_diff_of_means_units"): peer["diff"],
        }
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
