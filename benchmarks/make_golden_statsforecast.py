"""Write ``tests/data/statsforecast_golden.json``: statsforecast's forecasts and fitted values on seeded series.

The tests compare :mod:`zk_forecast.demand` under ``conventions="statsforecast"`` with these values to 1e-9
relative, without statsforecast installed. Regenerate (only when the set of series or the peer version changes)
in a separate environment that has statsforecast::

    python3 -m venv /work/venv_sf && /work/venv_sf/bin/pip install statsforecast==2.1.1 pandas numpy
    /work/venv_sf/bin/python benchmarks/make_golden_statsforecast.py

Series: ~200 synthetic intermittent series (seed 20240601) of 10..200 periods: Poisson sizes with demand
probabilities 0.03..0.9, some all zero, some with one demand, some starting with runs of zeros, a few with
fractional sizes; plus the PBS immune-sera series from ``../shared/data/pbs`` when present.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PBS = ROOT.parent / "shared" / "data" / "pbs" / "pbs_immune_sera.csv"
OUT = ROOT / "tests" / "data" / "statsforecast_golden.json"
SEED = 20240601


def make_series(seed: int = SEED, n: int = 200) -> list[list[float]]:
    """Seeded synthetic intermittent series of varying length [units per period]."""
    rng = np.random.default_rng(seed)
    out: list[list[float]] = []
    for i in range(n):
        length = int(rng.integers(10, 201))
        kind = i % 10
        if kind == 0:
            y = np.zeros(length)
        elif kind == 1:
            y = np.zeros(length)
            y[rng.integers(0, length)] = float(rng.integers(1, 6))
        else:
            prob = rng.uniform(0.03, 0.9)
            occ = rng.random(length) < prob
            y = np.where(occ, rng.poisson(rng.uniform(0.5, 6.0), length) + 1.0, 0.0)
            if kind == 2:
                y[: rng.integers(1, max(2, length // 2))] = 0.0
            if kind == 3:
                y = np.round(y * rng.uniform(0.3, 2.0, length), 2)
        out.append([float(v) for v in y])
    return out


def main() -> None:
    import statsforecast
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonClassic,
        CrostonOptimized,
        CrostonSBA,
        HistoricAverage,
        Naive,
        SimpleExponentialSmoothing,
        SimpleExponentialSmoothingOptimized,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    series = make_series()
    names = [f"s{i:03d}" for i in range(len(series))]
    if PBS.exists():
        import pandas as pd

        series.append([float(v) for v in pd.read_csv(PBS)["Scripts"]])
        names.append("pbs_immune_sera")
    models = {
        "croston": CrostonClassic,
        "sba": CrostonSBA,
        "croston_opt": CrostonOptimized,
        "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.1),
        "adida": ADIDA,
        "imapa": IMAPA,
        "ses": lambda: SimpleExponentialSmoothing(alpha=0.1),
        "ses_opt": SimpleExponentialSmoothingOptimized,
        "naive": Naive,
        "mean": HistoricAverage,
    }
    h = 3
    result: dict[str, object] = {
        "source": "statsforecast models' forecast(y, h, fitted=True), one series at a time",
        "statsforecast_version": statsforecast.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "h": h,
        "tsb": {"alpha_d": 0.2, "alpha_p": 0.1},
        "ses": {"alpha": 0.1},
        "names": names,
        "series": series,
        "forecast": {},
        "fitted": {},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, make in models.items():
            fcs, fits = [], []
            for y in series:
                res = make().forecast(y=np.asarray(y), h=h, fitted=True)
                mean = np.asarray(res["mean"], dtype=float)
                assert np.allclose(mean, mean[0], rtol=0, atol=0) or np.isnan(mean).all(), name
                fcs.append(float(mean[0]))
                fits.append(
                    [None if np.isnan(v) else float(v) for v in np.asarray(res["fitted"], dtype=float)]
                )
            result["forecast"][name] = fcs  # type: ignore[index]
            result["fitted"][name] = fits  # type: ignore[index]
            print(f"{name}: done", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
