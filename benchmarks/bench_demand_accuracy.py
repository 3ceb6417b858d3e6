"""Forecast accuracy of zk_forecast's intermittent-demand methods (and ``auto``) against statsforecast 2.1.1.

Data (read-only, ``../shared/data`` from the project root; a data set that is absent is skipped with a reason):

* ``carparts/carparts.csv``: 2674 monthly car-part series, 51 months (wide: ``month`` + one column per part; an
  empty cell is not observed);
* ``man/man_weekly_150.csv``: 3451 weekly series of a manufacturer, 150 weeks (``w001`` .. ``w150``).

Short histories: ``carparts_24`` and ``carparts_36`` are carparts cut to its last 24 and 36 months, ``man_52`` is MAN
cut to its last 52 weeks (the same protocol on the cut histories: the outer origins' fitting windows are then
12..23, 24..35 and 40..51 periods long).

Protocol: **one-step-ahead forecasts from 12 rolling origins** over the last 12 periods (h = 1, step 1): at origin
``o`` every method is refitted on periods ``0 .. o-1`` and forecasts period ``o``. statsforecast runs
``cross_validation(h=1, n_windows=12, step_size=1)`` in the same process on the same histories, as its users call
it: one ``StatsForecast`` with its seven intermittent-demand models (CrostonClassic, CrostonOptimized, CrostonSBA,
TSB, ADIDA, IMAPA, HistoricAverage); ``sf_all_seven`` gives the seconds of that call. Unobserved cells
(carparts) are zero demand in the histories fed to both sides and are skipped as actuals.

Tuning windows: ``--shift 12`` ends every data set 12 periods early (before any cut), so that the last 12 periods
of the run (the evaluation periods of the default run) are never seen. The short-history rule of ``auto``
(``prior_origins``, ``short_history``, the long-run mean among the candidates) was chosen on these windows only:
see the notes of :mod:`zk_forecast.demand.select`.

Per method and data set, one JSON line:

* ``smse``, ``smae``, ``sbias``: means over series of the MSE, MAE and mean error (forecast - actual) divided by
  the series' in-sample mean before the first origin (squared for the MSE) [-]; series with an in-sample mean of 0
  are left out (``n_series`` says how many count);
* ``rel_rmse``: geometric mean over series of RMSE(method) / RMSE(statsforecast CrostonSBA) [-], over the series
  where both are positive (``n_rel`` of them);
* ``seconds`` to produce the 12 × n_series forecasts;
* ``best_sf``: on each data set's ``auto`` lines, the best statsforecast model by ``rel_rmse`` and whether ``auto``
  is no worse (``auto_vs_best_sf`` = auto's rel_rmse / the best one's).

Ours run with ``conventions="zk"`` (the defaults); statsforecast's TSB needs constants: 0.1 and 0.1 as ours.
``auto`` is :class:`zk_forecast.demand.select.AutoSelect` with its defaults, refitted at each outer origin (it runs
its own inner rolling origins on the history before that origin only: no look-ahead). ``auto_norefit`` is
``AutoSelect(refit=False)``, the nightly batch's setting: its inner evaluation estimates the candidates' parameters
once, before its first inner origin, and reads the 12 inner one-step forecasts off one pass. ``auto_previous`` is
the selection as it was before the long-run mean and the pooled choice for short histories (three candidates,
each series on its own losses), kept to show the change in the same run.

Run with a Python that has statsforecast (zk_forecast is found through the repository path)::

    python benchmarks/bench_demand_accuracy.py [--data carparts carparts_24 carparts_36 man man_52] [--max-series N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zk_forecast.demand.models import SES  # noqa: E402
from zk_forecast.demand.select import AutoSelect, rolling_origin  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
N_ORIGINS = 12
OURS = ("croston", "sba", "sbj", "tsb", "croston_opt", "ses", "adida", "imapa", "mean", "auto", "auto_norefit",
        "auto_previous")


#: Data sets: (file, periods kept at the end or None for all).
DATASETS = {"carparts": ("carparts", None), "carparts_24": ("carparts", 24), "carparts_36": ("carparts", 36),
            "man": ("man", None), "man_52": ("man", 52)}


def load(name: str, max_series: int | None, shift: int = 0) -> tuple[np.ndarray, str] | str:
    """The (n_series, n_periods) array with NaN = not observed, and the frequency; or why it is absent."""
    source, keep = DATASETS[name]
    if source == "carparts":
        path = DATA / "carparts" / "carparts.csv"
        if not path.exists():
            return f"{path} is absent"
        df = pd.read_csv(path)
        y = df.drop(columns="month").to_numpy(dtype=np.float64).T
        freq = "monthly"
    else:
        path = DATA / "man" / "man_weekly_150.csv"
        if not path.exists():
            return f"{path} is absent"
        df = pd.read_csv(path)
        cols = [c for c in df.columns if c.startswith("w") and c[1:].isdigit()]
        y = df[cols].to_numpy(dtype=np.float64)
        freq = "weekly"
    if shift:
        y = y[:, :-shift]
    if keep is not None:
        y = y[:, -keep:]
    if max_series:
        y = y[:max_series]
    return y, freq


def statsforecast_cv(hist: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """statsforecast one-step rolling forecasts, (n_series, N_ORIGINS) per model, from one call; its seconds."""
    from statsforecast import StatsForecast
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonClassic,
        CrostonOptimized,
        CrostonSBA,
        HistoricAverage,
    )

    n, t = hist.shape
    long = pd.DataFrame({"unique_id": np.repeat(np.arange(n), t), "ds": np.tile(np.arange(1, t + 1), n),
                         "y": hist.ravel()})
    models = {
        "sf_croston": CrostonClassic(alias="sf_croston"), "sf_sba": CrostonSBA(alias="sf_sba"),
        "sf_croston_opt": CrostonOptimized(alias="sf_croston_opt"),
        "sf_tsb": TSB(alpha_d=0.1, alpha_p=0.1, alias="sf_tsb"), "sf_adida": ADIDA(alias="sf_adida"),
        "sf_imapa": IMAPA(alias="sf_imapa"), "sf_mean": HistoricAverage(alias="sf_mean"),
    }
    sf = StatsForecast(models=list(models.values()), freq=1, n_jobs=1)
    t0 = time.perf_counter()
    cv = sf.cross_validation(df=long, h=1, n_windows=N_ORIGINS, step_size=1)
    secs = time.perf_counter() - t0
    cv = cv.sort_values(["unique_id", "ds"])
    out = {label: cv[label].to_numpy(dtype=np.float64).reshape(n, N_ORIGINS) for label in models}
    return out, secs


def auto_methods() -> dict[str, AutoSelect]:
    """``auto`` (the defaults), the nightly batch's ``auto_norefit`` and ``auto_previous``: the selection before
    the pooled choice for short histories and the long-run mean (its three candidates, each series on its own)."""
    return {
        "auto": AutoSelect(),
        "auto_norefit": AutoSelect(refit=False, alias="auto_norefit"),
        "auto_previous": AutoSelect(candidates=("ses", "tsb", SES(alpha=0.1, alias="ses_0.1")), prior_origins=0.0,
                                    alias="auto_previous"),
    }


def metrics(fc: np.ndarray, actual: np.ndarray, scale: np.ndarray, ref_rmse: np.ndarray) -> dict[str, float]:
    """The JSON figures for one method: forecasts and actuals (n_series, N_ORIGINS)."""
    err = fc - actual
    ok = ~np.isnan(err)
    cnt = ok.sum(axis=1)
    e0 = np.where(ok, err, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = (e0 * e0).sum(axis=1) / cnt
        mae = np.abs(e0).sum(axis=1) / cnt
        bias = e0.sum(axis=1) / cnt
        use = np.isfinite(scale) & (cnt > 0)
        rmse = np.sqrt(mse)
        rel_ok = (rmse > 0) & (ref_rmse > 0) & np.isfinite(rmse) & np.isfinite(ref_rmse)
        rel = float(np.exp(np.mean(np.log(rmse[rel_ok] / ref_rmse[rel_ok]))))
    sb = float(np.mean(bias[use] / scale[use]))
    return {"smse": round(float(np.mean(mse[use] / scale[use] ** 2)), 5),
            "smae": round(float(np.mean(mae[use] / scale[use])), 5),
            "sbias": round(sb, 5), "abs_sbias": round(abs(sb), 5), "rel_rmse": round(rel, 5),
            "n_series": int(use.sum()), "n_rel": int(rel_ok.sum())}


def run(name: str, max_series: int | None, skip_auto: bool, only: list[str] | None = None, shift: int = 0) -> None:
    got = load(name, max_series, shift)
    if isinstance(got, str):
        print(json.dumps({"dataset": name, "skipped": got}), flush=True)
        return
    y, freq = got
    n, t = y.shape
    observed = ~np.isnan(y)
    start = np.where(observed.any(axis=1), observed.argmax(axis=1), t)
    hist = np.where(np.isnan(y), 0.0, y)  # NaN = zero demand in the histories (both sides)
    actual = np.stack([y[:, o] for o in range(t - N_ORIGINS, t)], axis=1)
    actual[(np.arange(t - N_ORIGINS, t)[None, :] < start[:, None])] = np.nan
    first = t - N_ORIGINS
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.nanmean(np.where(observed[:, :first], y[:, :first], np.nan), axis=1)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)

    sf_fc, sf_secs = statsforecast_cv(hist)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.sqrt(np.nanmean((sf_fc["sf_sba"] - actual) ** 2, axis=1))
    rows: list[tuple[str, np.ndarray, float | None]] = []
    for label in OURS:
        if (label.startswith("auto") and skip_auto) or (only is not None and label not in only):
            continue
        method = auto_methods().get(label, label)
        t0 = time.perf_counter()
        res = rolling_origin(hist, [method], h=1, n_origins=N_ORIGINS, min_train=1)
        rows.append((label, res.forecasts[0, :, :, 0], time.perf_counter() - t0))
    for label, fc in sf_fc.items():
        rows.append((label, fc, None))
    scores = {label: metrics(fc, actual, scale, ref) for label, fc, _ in rows}
    best_sf = min((lab for lab in sf_fc), key=lambda lab: scores[lab]["rel_rmse"])
    base = {"dataset": name, "freq": freq, "series": n, "periods": t, "protocol": "h=1, 12 rolling origins"}
    if shift:
        base["shift"] = shift
    for label, _, secs in rows:
        line = {**base, "method": label, **scores[label]}
        if secs is not None:
            line["seconds"] = round(secs, 2)
        if label.startswith("auto"):
            ratio = scores[label]["rel_rmse"] / scores[best_sf]["rel_rmse"]
            line.update({"best_sf": best_sf, "best_sf_rel_rmse": scores[best_sf]["rel_rmse"],
                         "auto_vs_best_sf": round(ratio, 4), "no_worse_than_best_sf": bool(ratio <= 1.0)})
        print(json.dumps(line), flush=True)
    print(json.dumps({**base, "method": "sf_all_seven", "seconds": round(sf_secs, 2),
                      "note": "one StatsForecast.cross_validation call with the seven models"}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--max-series", type=int, default=None, help="first N series only (quick runs)")
    ap.add_argument("--skip-auto", action="store_true", help="leave out auto (the slowest)")
    ap.add_argument("--only", nargs="+", default=None, help="only these of our methods (e.g. auto)")
    ap.add_argument("--shift", type=int, default=0,
                    help="end every data set this many periods early (12: the tuning windows, module notes)")
    args = ap.parse_args()
    for name in args.data:
        run(name, args.max_series, args.skip_auto, args.only, args.shift)


if __name__ == "__main__":
    main()
