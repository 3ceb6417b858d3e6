"""Many Weibull life models at once: ``fit_groups`` against surpyval and lifelines fitting group by group.

Data: ``--groups`` groups (default 10,000) x ``--units`` units (default 200), seeded; each group has its own true
shape (uniform 0.8..3.0) and scale (uniform 500..5000 h), right-censored by a uniform random inspection time so that
about 45 % of the units are suspensions.

* zk_forecast: ``fit_groups(df, "group", "hours", "censored")`` over all groups in one call (best of ``--repeat``).
* surpyval (``surpyval.Weibull.fit(x, c)``) and lifelines (``WeibullFitter().fit(durations, event_observed)``):
  one fit per group over the first ``--subset`` groups (default 200), timed once and scaled linearly to all groups
  (the JSON says so: ``peer_groups_timed`` and ``peer_seconds_scaled``).

Accuracy: the largest relative difference of shape and scale between zk_forecast and each peer over the groups both
fitted (the subset).

Prints one JSON line per result. Run with a venv holding the peers, e.g.
``python3 -m venv /work/venv_rel && /work/venv_rel/bin/pip install surpyval lifelines -e .`` then
``/work/venv_rel/bin/python benchmarks/bench_failures.py``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

from zk_forecast.failures.groups import fit_groups


def make_data(n_groups: int, n_units: int, seed: int) -> pd.DataFrame:
    """Seeded right-censored Weibull data, one row per unit; times [h]."""
    rng = np.random.default_rng(seed)
    shape = rng.uniform(0.8, 3.0, n_groups)
    scale = rng.uniform(500.0, 5000.0, n_groups)
    g = np.repeat(np.arange(n_groups), n_units)
    life = scale[g] * rng.weibull(1.0, g.size) ** (1.0 / shape[g])
    inspect = rng.uniform(0.0, 1.9 * scale[g])
    return pd.DataFrame(
        {"group": g, "hours": np.minimum(life, inspect), "censored": (inspect < life).astype(np.int8)}
    )


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--subset", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    df = make_data(args.groups, args.units, args.seed)
    cens_frac = float(df["censored"].mean())

    best = np.inf
    res = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = fit_groups(df, "group", "hours", "censored")
        best = min(best, time.perf_counter() - t0)
    assert res is not None
    ok = res["status"] == "ok"
    base = {
        "bench": "failures_fit_groups",
        "groups": args.groups,
        "units_per_group": args.units,
        "censored_fraction": round(cens_frac, 4),
        "seed": args.seed,
    }
    print(
        json.dumps(
            base
            | {
                "impl": "zk_forecast.fit_groups",
                "seconds": round(best, 4),
                "timing": f"best of {args.repeat}, all groups in one call",
                "groups_ok": int(ok.sum()),
                "groups_converged": int(res["converged"].sum()),
                "max_iterations": int(res["iterations"].max()),
            }
        )
    )

    sub = df[df["group"] < args.subset]
    ours = res.loc[np.arange(args.subset)]
    peers = {}
    try:
        import surpyval

        def fit_surpyval(x: np.ndarray, c: np.ndarray) -> tuple[float, float]:
            m = surpyval.Weibull.fit(x=x, c=c)
            return float(m.beta), float(m.alpha)

        peers["surpyval"] = fit_surpyval
    except ImportError:
        print(json.dumps(base | {"impl": "surpyval", "skipped": "surpyval not installed"}))
    try:
        from lifelines import WeibullFitter

        def fit_lifelines(x: np.ndarray, c: np.ndarray) -> tuple[float, float]:
            m = WeibullFitter().fit(x, event_observed=1 - c)
            return float(m.rho_), float(m.lambda_)

        peers["lifelines"] = fit_lifelines
    except ImportError:
        print(json.dumps(base | {"impl": "lifelines", "skipped": "lifelines not installed"}))

    groups = [(g["hours"].to_numpy(), g["censored"].to_numpy().astype(int)) for _, g in sub.groupby("group")]
    peer_scaled: dict[str, float] = {}
    peer_lines = {}
    for name, fit in peers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est = np.array([fit(x, c) for x, c in groups])
            secs = time.perf_counter() - t0
        scaled = secs * args.groups / args.subset
        peer_scaled[name] = scaled
        peer_lines[name] = base | {
            "impl": name,
            "peer_groups_timed": args.subset,
            "peer_seconds": round(secs, 4),
            "peer_seconds_scaled": round(scaled, 3),
            "scaling": f"timed on {args.subset} groups one by one, scaled x{args.groups / args.subset:g} to {args.groups}",
            "zk_seconds": round(best, 4),
            "speedup_vs_this_peer": round(scaled / best, 1),
            "max_rel_diff_shape": _rel(ours["shape"].to_numpy(), est[:, 0]),
            "max_rel_diff_scale": _rel(ours["scale"].to_numpy(), est[:, 1]),
            "common_groups": args.subset,
        }
    if peer_scaled:
        fastest = min(peer_scaled, key=lambda k: peer_scaled[k])
        for line in peer_lines.values():
            print(json.dumps(line | {"fastest_peer": fastest}))
        print(
            json.dumps(
                base
                | {
                    "impl": "summary",
                    "zk_seconds": round(best, 4),
                    "fastest_peer": fastest,
                    "fastest_peer_seconds_scaled": round(peer_scaled[fastest], 3),
                    "ratio_to_fastest_peer": round(peer_scaled[fastest] / best, 1),
                    "max_rel_diff_any_peer": max(
                        max(v["max_rel_diff_shape"], v["max_rel_diff_scale"]) for v in peer_lines.values()
                    ),
                }
            )
        )


if __name__ == "__main__":
    main()
