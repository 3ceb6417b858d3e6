"""The report writers' vectorised steps against the per-group computations they replace, same run.

* ``early_life``: :func:`zk_forecast.failures.compare.early_life_tests` on every manufacturer x model x component
  of the store's component lives (what the scorecard tests; each manufacturer report tests its own groups),
  against the peer :func:`~zk_forecast.failures.compare.early_life_test` called group by group (a Weibull and an
  exponential fitted with scipy's BFGS per group). Also printed: the largest relative difference of shape, its
  interval, the statistic and the p-value, and whether every flag and sentence is the same.
* ``price_differences``: :func:`zk_forecast.service.price_differences` on one quarter of part issues (the service
  report's), against the same function with the prices-by-depot column made the pandas way (a group transform
  joining every part x period's strings). The tables are compared whole.

Data: a store given with ``--store`` (e.g. the large demo's), else the ``small`` demo (seed 7) ingested into a
temporary folder. Each side run ``--repeat`` times, alternating, best of the repeats.

Prints one JSON line per result: ``seconds`` (ours), ``peer_seconds`` and ``ratio`` = peer / ours.
``/work/venv/bin/python benchmarks/bench_reports.py [--store DIR] [--period 2026Q3] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _best(fn: Callable[[], Any], peer: Callable[[], Any], repeat: int) -> tuple[float, float, Any, Any]:
    ours, theirs = [], []
    out = ref = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = peer()
        theirs.append(time.perf_counter() - t)
    return min(ours), min(theirs), out, ref


def _early_life(lives: pd.DataFrame, repeat: int) -> dict[str, Any]:
    from zk_forecast.failures.compare import EARLY_LIFE_COLUMNS, early_life_test, early_life_tests

    keys = ["manufacturer", "model", "component"]

    def peer() -> pd.DataFrame:
        rows = {}
        for key, g in lives.groupby(keys, sort=True):
            r = early_life_test(g["time"].to_numpy(float), g["censored"].to_numpy(float),
                                g["entry"].to_numpy(float))
            rows[key] = [getattr(r, f) for f in EARLY_LIFE_COLUMNS]
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(EARLY_LIFE_COLUMNS))

    ours, theirs, got, ref = _best(lambda: early_life_tests(lives, keys), peer, repeat)
    num = ["shape", "shape_lower", "shape_upper", "statistic", "p_value"]
    a, b = got[num].to_numpy(float), ref[num].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
    same_text = bool((got[["flagged", "sentence_zh", "sentence_en"]].to_numpy()
                      == ref[["flagged", "sentence_zh", "sentence_en"]].to_numpy()).all())
    return {"bench": "early_life", "groups": len(got), "lives": len(lives), "seconds": round(ours, 4),
            "peer": "early_life_test per group", "peer_seconds": round(theirs, 4), "ratio": round(theirs / ours, 1),
            "max_rel_diff": float(np.nanmax(rel)) if np.isfinite(rel).any() else 0.0,
            "same_flags_and_sentences": same_text}


def _prices(part_issues: pd.DataFrame, repeat: int) -> dict[str, Any]:
    import zk_forecast.service.pricing as P

    def grouped_strings(dp: pd.DataFrame, wanted: np.ndarray) -> np.ndarray:
        txt = dp["depot_id"].astype(str) + " " + dp["depot_price"].map("{:.2f}".format).astype(str)
        return txt.groupby([dp["part_no"], dp["period"]]).transform(lambda s: "; ".join(s)).to_numpy(dtype=object)

    def peer() -> Any:
        ours_fn = P._price_strings
        P._price_strings = grouped_strings  # type: ignore[assignment]
        try:
            return P.price_differences(part_issues)
        finally:
            P._price_strings = ours_fn  # type: ignore[assignment]

    ours, theirs, got, ref = _best(lambda: P.price_differences(part_issues), peer, repeat)
    same = got.table.equals(ref.table) and got.summary.equals(ref.summary)
    return {"bench": "price_differences", "lines": len(part_issues), "rows_listed": len(got.table),
            "seconds": round(ours, 4), "peer": "pandas group transform of the price strings",
            "peer_seconds": round(theirs, 4), "ratio": round(theirs / ours, 1), "same_tables": bool(same)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=None, help="a processed store (default: the small demo)")
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from zk_forecast.data import Store, demo, ingest
    from zk_forecast.reports._html import parse_period
    from zk_forecast.reports._tables import StoreTables

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if store is None:
            demo.generate(Path(tmp) / "raw", scale="small", seed=7)
            ingest(Path(tmp) / "raw", Path(tmp) / "store")
            store = Path(tmp) / "store"
        per = parse_period(args.period)
        lives = StoreTables(store).lives(per.end)
        print(json.dumps(_early_life(lives, args.repeat)), flush=True)
        pi = Store(store).read("part_issues", columns=["issued_on", "depot_id", "part_no", "quantity", "kind",
                                                       "unit_price"])
        pi = pi[(pi["issued_on"] >= per.start) & (pi["issued_on"] < per.end)]
        print(json.dumps(_prices(pi, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
