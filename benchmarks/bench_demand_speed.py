"""Speed of zk_forecast's intermittent-demand methods against statsforecast 2.1.1 on the same long DataFrame.

Headline (first lines): all six methods in **one call** on each side, as their users make it:
``zk.forecast(df, h, methods=[six estimators])`` against ``StatsForecast(models=[six models], freq="W-MON",
n_jobs=1).forecast(df=df, h=h)``, on the same long DataFrame of 100,000 weekly series x 156 weeks. ``cold``: the
first call in a fresh process (imports done, data made, then one timed call; our compiled loops come from
numba's on-disk cache when it exists); ``warm``: after a warm-up call on 200 series, the best of ``--repeat``
calls per side, alternating. The line gives both sides' seconds (wall clock), the ratio, the same ratio in CPU
seconds of the process (``*_cpu_ratio``: steadier when the machine is shared) and the largest relative
difference between the two sides' forecasts over all six columns (``max_rel_diff``).

Then one JSON line per method: our seconds, statsforecast's seconds (``n_jobs=1``), their ratio and the largest
relative difference of the point forecasts; then one line for 1,000,000 series (ours only, in chunks): seconds
and peak RSS. Both sides start from the same long DataFrame (unique_id, ds, y) and end at forecasts; ours runs
under ``conventions="statsforecast"`` so that the forecasts must agree.

Run under the environment that has statsforecast (zk_forecast is found through the repository path)::

    /work/venv_sf/bin/python benchmarks/bench_demand_speed.py [--series 100000] [--sf-series 100000]

If statsforecast would take too long, ``--sf-series N`` runs it on the first N series only and scales its time
by series count (the JSON says so with ``"sf_scaled_from"``).

Both sides first run all six methods on 200 series (not counted; reported on a "warm-up" line): ours loads its
compiled loops (numba, cached on disk after the first compilation), statsforecast its modules. Each method is then
timed ``--repeat`` times per side (default 3, interleaved) and the best run of each side counts, as the machine
may be shared. The chunked 1,000,000-series run happens in a fresh process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zk_forecast.demand.forecast import forecast
from zk_forecast.demand.models import ADIDA, IMAPA, SBA, TSB, Croston, CrostonOptimized

N_PERIODS = 156


def make_long(n_series: int, seed: int, offset: int = 0) -> pd.DataFrame:
    """Seeded intermittent weekly series: demand probability 0.05..0.6, Poisson sizes + 1 [units per week]."""
    rng = np.random.default_rng(seed)
    prob = rng.uniform(0.05, 0.6, size=(n_series, 1))
    y = np.where(rng.random((n_series, N_PERIODS)) < prob, rng.poisson(2.0, (n_series, N_PERIODS)) + 1.0, 0.0)
    ids = np.arange(offset, offset + n_series)
    weeks = pd.date_range("2022-01-03", periods=N_PERIODS, freq="W-MON")
    return pd.DataFrame(
        {"unique_id": np.repeat(ids, N_PERIODS), "ds": np.tile(weeks, n_series), "y": y.ravel()}
    )


def ours() -> dict[str, object]:
    c = "statsforecast"
    return {
        "croston": Croston(conventions=c),
        "sba": SBA(conventions=c),
        "croston_opt": CrostonOptimized(conventions=c),
        "tsb": TSB(alpha_d=0.1, alpha_p=0.1, conventions=c),
        "adida": ADIDA(conventions=c),
        "imapa": IMAPA(conventions=c),
    }


def peers() -> dict[str, object]:
    from statsforecast.models import ADIDA as SfADIDA
    from statsforecast.models import IMAPA as SfIMAPA
    from statsforecast.models import TSB as SfTSB
    from statsforecast.models import CrostonClassic, CrostonSBA
    from statsforecast.models import CrostonOptimized as SfCrostonOptimized

    return {
        "croston": CrostonClassic(),
        "sba": CrostonSBA(),
        "croston_opt": SfCrostonOptimized(),
        "tsb": SfTSB(alpha_d=0.1, alpha_p=0.1),
        "adida": SfADIDA(),
        "imapa": SfIMAPA(),
    }


def call_ours(df: pd.DataFrame, h: int) -> pd.DataFrame:
    """All six methods in one call (ours)."""
    return forecast(df, h, methods=list(ours().values()), freq="W-MON")


def call_sf(df: pd.DataFrame, h: int) -> pd.DataFrame:
    """All six models in one call (statsforecast, one process)."""
    from statsforecast import StatsForecast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return StatsForecast(models=list(peers().values()), freq="W-MON", n_jobs=1).forecast(df=df, h=h)


def max_rel_diff(mine: pd.DataFrame, theirs: pd.DataFrame) -> float:
    """Largest relative difference between our six columns and statsforecast's (rows in the same order)."""
    cols = {"croston": "CrostonClassic", "sba": "CrostonSBA", "croston_opt": "CrostonOptimized", "tsb": "TSB",
            "adida": "ADIDA", "imapa": "IMAPA"}
    worst = 0.0
    for ours_col, sf_col in cols.items():
        a = mine[ours_col].to_numpy()
        b = theirs[sf_col].to_numpy()
        if a.shape != b.shape:
            return float("inf")
        d = np.abs(a - b)
        worst = max(worst, float(np.max(d / np.maximum(np.abs(b), 1e-12), where=d > 0, initial=0.0)))
    return worst


def cold_call(side: str, n_series: int, h: int) -> None:
    """One timed call in this (fresh) process; prints its seconds as JSON."""
    df = make_long(n_series, seed=1)
    if side == "sf":
        import statsforecast.models  # noqa: F401 - the import is not part of the call
    t0, c0 = time.perf_counter(), time.process_time()
    (call_sf if side == "sf" else call_ours)(df, h)
    print(json.dumps({"side": side, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}),
          flush=True)


def one_call_line(n_series: int, h: int, repeat: int) -> None:
    """The headline: all six methods in one call per side, cold (fresh processes) and warm (best of repeat)."""
    import statsforecast

    cold = {}
    for side in ("ours", "sf"):
        cmd = [sys.executable, __file__, "--cold", side, "--series", str(n_series), "--h", str(h)]
        got = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        cold[side] = json.loads(got)
    small = make_long(200, seed=0)
    call_ours(small, h)
    call_sf(small, h)
    df = make_long(n_series, seed=1)
    t_ours = t_sf = c_ours = c_sf = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        mine = call_ours(df, h)
        t_ours, c_ours = min(t_ours, time.perf_counter() - t0), min(c_ours, time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        theirs = call_sf(df, h)
        t_sf, c_sf = min(t_sf, time.perf_counter() - t0), min(c_sf, time.process_time() - c0)
    line = {
        "bench": "demand_speed", "method": "all six, one call per side (headline)", "series": n_series,
        "periods": N_PERIODS, "h": h, "warm_ours_s": round(t_ours, 3), "warm_sf_s": round(t_sf, 3),
        "warm_ratio": round(t_sf / t_ours, 2), "cold_ours_s": round(cold["ours"]["seconds"], 3),
        "cold_sf_s": round(cold["sf"]["seconds"], 3),
        "cold_ratio": round(cold["sf"]["seconds"] / cold["ours"]["seconds"], 2),
        "warm_cpu_ratio": round(c_sf / c_ours, 2), "cold_cpu_ratio": round(cold["sf"]["cpu"] / cold["ours"]["cpu"], 2),
        "repeat": repeat,
        "max_rel_diff": max_rel_diff(mine, theirs), "target_ratio": 10.0,
        "target_met": bool(t_sf / t_ours >= 10.0), "statsforecast": statsforecast.__version__,
    }
    print(json.dumps(line), flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument(
        "--sf-series", type=int, default=None, help="run statsforecast on this many series only"
    )
    parser.add_argument("--million", type=int, default=1_000_000, help="series for the large run (0 = skip)")
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--h", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side and method; the best counts")
    parser.add_argument("--million-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cold", choices=["ours", "sf"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--headline-only", action="store_true", help="only the one-call comparison")
    args = parser.parse_args()
    if args.million_only:
        million_line(args.million, args.chunk, args.h)
        return
    if args.cold:
        cold_call(args.cold, args.series, args.h)
        return
    one_call_line(args.series, args.h, args.repeat)
    if args.headline_only:
        return
    import statsforecast
    from statsforecast import StatsForecast

    # compile / load the cached compiled loops (ours) and import everything (both) on a small frame first;
    # the seconds are reported, not counted
    small = make_long(200, seed=0)
    t0 = time.perf_counter()
    forecast(small, args.h, methods=list(ours().values()), freq="W-MON")
    warm_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        StatsForecast(models=list(peers().values()), freq="W-MON", n_jobs=1).forecast(df=small, h=args.h)
    warm_sf = time.perf_counter() - t0
    print(
        json.dumps(
            {"bench": "demand_speed", "method": "warm-up (200 series, all six, not counted)",
             "ours_s": round(warm_ours, 3), "sf_s": round(warm_sf, 3)}
        ),
        flush=True,
    )

    df = make_long(args.series, seed=1)
    n_sf = args.sf_series or args.series
    df_sf = df.iloc[: n_sf * N_PERIODS]
    totals = {"ours_s": 0.0, "sf_s": 0.0}
    for name in ours():
        t_ours = t_sf = float("inf")
        for _ in range(args.repeat):  # the machine may be shared: best of --repeat runs, for both sides alike
            est = ours()[name]
            t0 = time.perf_counter()
            mine = forecast(df, args.h, methods=[est], freq="W-MON")
            t_ours = min(t_ours, time.perf_counter() - t0)
            sf = StatsForecast(models=[peers()[name]], freq="W-MON", n_jobs=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                theirs = sf.forecast(df=df_sf, h=args.h)
                t_sf = min(t_sf, (time.perf_counter() - t0) * (args.series / n_sf))
        col = [c for c in theirs.columns if c not in ("unique_id", "ds")][0]
        a = mine[name].to_numpy()[: len(theirs)]
        b = theirs[col].to_numpy()
        rel = float(
            np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300), where=np.abs(a - b) > 1e-12, initial=0.0)
        )
        totals["ours_s"] += t_ours
        totals["sf_s"] += t_sf
        line = {
            "bench": "demand_speed",
            "method": name,
            "series": args.series,
            "periods": N_PERIODS,
            "ours_s": round(t_ours, 3),
            "sf_s": round(t_sf, 3),
            "ratio": round(t_sf / t_ours, 2),
            "repeat": args.repeat,
            "max_rel_diff": rel,
            "statsforecast": statsforecast.__version__,
        }
        if n_sf != args.series:
            line["sf_scaled_from"] = n_sf
        print(json.dumps(line), flush=True)
    print(
        json.dumps(
            {
                "bench": "demand_speed",
                "method": "total",
                "series": args.series,
                "ours_s": round(totals["ours_s"], 3),
                "sf_s": round(totals["sf_s"], 3),
                "ratio": round(totals["sf_s"] / totals["ours_s"], 2),
            }
        ),
        flush=True,
    )
    if args.million:
        del df, df_sf
        # in a fresh process, so that the peak RSS is that of the chunked run alone
        cmd = [sys.executable, __file__, "--million-only", "--million", str(args.million), "--chunk", str(args.chunk)]
        subprocess.run([*cmd, "--h", str(args.h)], check=True)


def million_line(n_series: int, chunk: int, h: int) -> None:
    forecast(make_long(200, seed=0), h, methods=list(ours().values()), freq="W-MON")  # load the compiled loops
    t_all = 0.0
    for lo in range(0, n_series, chunk):
        part = make_long(min(chunk, n_series - lo), seed=2 + lo, offset=lo)  # not timed
        t0 = time.perf_counter()
        forecast(part, h, methods=list(ours().values()), freq="W-MON")
        t_all += time.perf_counter() - t0
    print(
        json.dumps(
            {
                "bench": "demand_speed",
                "method": "all six, chunked",
                "series": n_series,
                "chunk": chunk,
                "ours_s": round(t_all, 3),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
