"""Life-data benchmarks against surpyval, lifelines and statsmodels (``--what groups|km|threshold|installed_base|all``).

``groups`` (default): many Weibull life models at once, ``fit_groups`` against surpyval and lifelines fitting group
by group (below). ``km``: Kaplan-Meier with Greenwood bounds on ``--km-groups`` groups of ``--units`` units, our
``KaplanMeier`` against statsmodels' ``SurvfuncRight`` and lifelines' ``KaplanMeierFitter``, the largest difference
of S(t) and of its standard error. ``threshold``: the three-parameter Weibull (``Weibull3P``) on ``--threshold-sets``
seeded data sets against surpyval's ``Weibull.fit(..., offset=True)``: seconds and the largest differences of the
parameters and the log-likelihood. ``installed_base``: 26-week backtests of the installed-base forecast on the demo
from ``--origins`` (errors per depot and part class, interval coverage; see :func:`bench_installed_base`).
``cox``: ``hazard_ratios`` (the Cox regression of the manufacturer reports) on each manufacturer's lives, from a
store of the large demo (``--cox-store``, lives known at the end of ``--cox-period``) or seeded lives of the same
size (6 makers x ``--cox-machines`` machines), against statsmodels' ``PHReg`` fit + score residuals + sandwich on
the same design in the same run: seconds, speedups, largest relative differences of coefficients and standard
errors (see :func:`bench_cox`).

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
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.groups import fit_groups
from zk_forecast.failures.nonparametric import KaplanMeier
from zk_forecast.failures.threshold import Weibull3P


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


def bench_km(args: argparse.Namespace) -> None:
    """Kaplan-Meier per group: ours, statsmodels SurvfuncRight, lifelines KaplanMeierFitter (same groups)."""
    df = make_data(args.km_groups, args.units, args.seed)
    groups = [(g["hours"].to_numpy(), g["censored"].to_numpy().astype(int)) for _, g in df.groupby("group")]
    base = {"bench": "failures_kaplan_meier", "groups": args.km_groups, "units_per_group": args.units,
            "seed": args.seed}

    def ours() -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for x, c in groups:
            tab = KaplanMeier().fit(x, c).table_
            out.append((tab["survival"].to_numpy(), tab["se"].to_numpy()))
        return out

    t0 = time.perf_counter()
    mine = ours()
    zk_secs = time.perf_counter() - t0
    print(json.dumps(base | {"impl": "zk_forecast.KaplanMeier", "seconds": round(zk_secs, 4)}))
    peers: dict[str, Any] = {}
    try:
        import statsmodels.api as sm

        def sm_fit(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            r = sm.SurvfuncRight(x, 1 - c)
            return np.asarray(r.surv_prob), np.asarray(r.surv_prob_se)

        peers["statsmodels.SurvfuncRight"] = sm_fit
    except ImportError:  # pragma: no cover
        print(json.dumps(base | {"impl": "statsmodels", "skipped": "statsmodels not installed"}))
    try:
        from lifelines import KaplanMeierFitter

        def ll_fit(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            k = KaplanMeierFitter().fit(x, event_observed=1 - c)
            times = np.unique(x[c == 0])
            return k.survival_function_at_times(times).to_numpy(), np.full(times.size, np.nan)

        peers["lifelines.KaplanMeierFitter"] = ll_fit
    except ImportError:
        print(json.dumps(base | {"impl": "lifelines", "skipped": "lifelines not installed"}))
    for name, fit in peers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est = [fit(x, c) for x, c in groups]
            secs = time.perf_counter() - t0
        d_s = max(float(np.max(np.abs(a[0] - b[0]))) for a, b in zip(mine, est))
        d_se = [float(np.nanmax(np.abs(a[1] - b[1]))) for a, b in zip(mine, est) if np.isfinite(b[1]).any()]
        print(json.dumps(base | {"impl": name, "seconds": round(secs, 4), "zk_seconds": round(zk_secs, 4),
                                 "speedup_vs_this_peer": round(secs / zk_secs, 2), "max_abs_diff_survival": d_s,
                                 "max_abs_diff_se": max(d_se) if d_se else None}))


def bench_threshold(args: argparse.Namespace) -> None:
    """Three-parameter Weibull: ours against surpyval's offset fit on the same seeded data sets."""
    rng = np.random.default_rng(args.seed)
    sets = []
    for _ in range(args.threshold_sets):
        shape, scale, loc = rng.uniform(1.3, 3.5), rng.uniform(200.0, 2000.0), rng.uniform(100.0, 1000.0)
        life = loc + scale * rng.weibull(shape, 40)
        stop = np.quantile(life, 0.8)
        sets.append((np.minimum(life, stop), (life > stop).astype(int)))
    base = {"bench": "failures_weibull_3p", "data_sets": args.threshold_sets, "units_per_set": 40,
            "seed": args.seed}
    t0 = time.perf_counter()
    fitted: list[Weibull3P | None] = []
    for x, c in sets:
        try:
            fitted.append(Weibull3P().fit(x, c))
        except ZkValueError:  # likelihood unbounded at the first age, no interior maximum: refused
            fitted.append(None)
    zk_secs = time.perf_counter() - t0
    refused = sum(m is None for m in fitted)
    print(json.dumps(base | {"impl": "zk_forecast.Weibull3P", "seconds": round(zk_secs, 4),
                             "refused_unbounded": refused}))
    try:
        import surpyval
    except ImportError:
        print(json.dumps(base | {"impl": "surpyval", "skipped": "surpyval not installed"}))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        theirs = [surpyval.Weibull.fit(x=x, c=c, offset=True) for x, c in sets]
        secs = time.perf_counter() - t0
    # surpyval lets the threshold go below 0 (failures before age 0); ours stays >= 0: compare where both can agree
    negative = sum(m is not None and float(p.gamma) < 0 for m, p in zip(fitted, theirs))
    pairs = [(m, p) for m, p in zip(fitted, theirs) if m is not None and float(p.gamma) >= 0]
    d_thr = max(abs(m.threshold_ - float(p.gamma)) / float(p.gamma) for m, p in pairs)
    d_shape = max(abs(m.shape_ - float(p.params[1])) / float(p.params[1]) for m, p in pairs)
    d_ll = max(m.loglik_ + float(p.neg_ll()) for m, p in pairs)  # > 0: ours higher
    low_ll = min(m.loglik_ + float(p.neg_ll()) for m, p in pairs)
    peer_shape_refused = [float(p.params[1]) for m, p in zip(fitted, theirs) if m is None]
    print(json.dumps(base | {"impl": "surpyval.Weibull offset", "seconds": round(secs, 4),
                             "zk_seconds": round(zk_secs, 4), "speedup_vs_this_peer": round(secs / zk_secs, 2),
                             "common_sets": len(pairs), "peer_threshold_below_zero_sets": negative,
                             "max_rel_diff_threshold": d_thr,
                             "max_rel_diff_shape": d_shape, "loglik_ours_minus_peer_max": d_ll,
                             "loglik_ours_minus_peer_min": low_ll,
                             "peer_shape_where_we_refused": [round(v, 3) for v in peer_shape_refused]}))


def bench_installed_base(args: argparse.Namespace) -> None:
    """26-week backtests of the installed-base forecast on the demo (small, seed 7) from several May origins.

    Actual demand two ways: repair issues by issue date in the window (what the stock saw), and the units the
    failures reported in the window needed (their linked repair issues, whenever issued, plus the bill-of-material
    quantity of failures whose parts were still on order when the data end). Errors per depot and part class;
    coverage of the 90 % intervals of the parts' totals (parts with >= 5 expected units). Peers in the same run:
    the plug-in point forecast (``bias_correction=False``) and a seasonal naive forecast (the same 26 weeks of the
    year before, repair issues by issue date).
    """
    import tempfile
    from pathlib import Path

    from zk_forecast.data import Store, demo, ingest
    from zk_forecast.failures.installed_base import InstalledBaseForecaster
    from zk_forecast.failures.lives import build_lives

    with tempfile.TemporaryDirectory(prefix="zk_bench_ib_") as tmp:
        root = Path(tmp)
        demo.generate(root / "raw", scale="small", seed=7)
        ingest(root / "raw", Store(root / "store"))
        store = Store(root / "store")
        tables = {n: store.read(n) for n in ("tickets", "machines", "component_parts", "part_issues", "parts")}
    tickets, machines, cp = tables["tickets"], tables["machines"], tables["component_parts"]
    issues, parts = tables["part_issues"], tables["parts"]
    rep = issues[issues["kind"] == "repair"]
    cls = parts.set_index("part_no")["category"].astype(str)
    comp_parts: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for (m, c, p), q in cp.groupby(["model", "component", "part_no"])["qty_per_replacement"].sum().items():
        comp_parts.setdefault((m, c), []).append((p, float(q)))
    model_of = machines.set_index("serial_no")["model"]
    for origin in args.origins:
        o = pd.Timestamp(origin)
        e = o + pd.Timedelta(weeks=26)
        lives = build_lives(tickets, machines, cp, as_of=o)
        sold = machines[(machines["sale_date"] >= o) & (machines["sale_date"] < e)]
        sales = pd.DataFrame({"ds": sold["sale_date"].dt.to_period("W-SUN").dt.start_time, "model": sold["model"],
                              "depot_id": sold["depot_id"], "quantity": 1})
        sales = sales.groupby(["ds", "model", "depot_id"], as_index=False)["quantity"].sum()
        preds = {}
        t0 = time.perf_counter()
        for name, bc in (("zk_forecast", True), ("plug_in", False)):
            fc = InstalledBaseForecaster(level=(0.9,), n_draws=args.ib_draws, n_rep=20,
                                         bias_correction=bc).fit(lives, machines, cp)
            w = fc.predict(26, future_sales=sales)
            part_depot = w["unique_id"].str.split("|", n=1, expand=True)
            w = w.assign(part_no=part_depot[0], depot_id=part_depot[1])
            preds[name] = w.groupby(["part_no", "depot_id"])[["installed_base", "installed_base-lo-90",
                                                                "installed_base-hi-90"]].sum()
            if name == "zk_forecast":
                tot = fc.predict_totals(26, future_sales=sales)
        secs = time.perf_counter() - t0
        by_date = rep[(rep["issued_on"] >= o) & (rep["issued_on"] < e)].groupby(["part_no", "depot_id"])[
            "quantity"].sum().astype(float)
        ft = tickets[(tickets["kind"] == "failure") & (tickets["reported_at"] >= o) & (tickets["reported_at"] < e)]
        linked = rep[rep["ticket_id"].isin(ft["ticket_id"])].groupby(["part_no", "depot_id"])["quantity"].sum()
        pending = ft[~ft["ticket_id"].isin(rep["ticket_id"])].assign(model=lambda d: d["serial_no"].map(model_of))
        pend_rows = [(p, dep, q) for m, c, dep in zip(pending["model"], pending["component"], pending["depot_id"])
                     for p, q in comp_parts.get((m, c), [])]
        needed = linked.astype(float)
        if pend_rows:  # failures whose parts were still on order when the data end
            pend = pd.DataFrame(pend_rows, columns=["part_no", "depot_id", "quantity"])
            needed = needed.add(pend.groupby(["part_no", "depot_id"])["quantity"].sum(), fill_value=0.0)
        prev = rep[(rep["issued_on"] >= o - pd.Timedelta(weeks=52)) & (rep["issued_on"] < e - pd.Timedelta(weeks=52))]
        naive = prev.groupby(["part_no", "depot_id"])["quantity"].sum().astype(float)
        frame = preds["zk_forecast"].join(preds["plug_in"]["installed_base"].rename("plug_in"), how="outer")
        frame = frame.join(by_date.rename("issued"), how="outer").join(needed.rename("needed"), how="outer")
        frame = frame.join(naive.rename("seasonal_naive"), how="outer").fillna(0.0).reset_index()
        frame["class"] = frame["part_no"].map(cls).fillna("(unknown)")
        base = {"bench": "failures_installed_base_backtest", "demo": "small seed 7", "origin": origin,
                "weeks": 26, "n_draws": args.ib_draws}

        def pct(a: float, b: float) -> float | None:
            return round(100.0 * (a - b) / b, 1) if b else None

        per_part = tot.join(needed.groupby(level=0).sum().rename("needed"), how="outer").fillna(0.0)
        big = per_part[per_part["installed_base"] >= 5]
        cover = float(((big["installed_base-lo-90"] <= big["needed"])
                       & (big["needed"] <= big["installed_base-hi-90"])).mean()) if len(big) else None
        totals = frame[["installed_base", "plug_in", "seasonal_naive", "issued", "needed"]].sum()
        print(json.dumps(base | {
            "impl": "summary", "seconds_both_fits": round(secs, 2),
            "forecast": round(float(totals["installed_base"]), 1), "plug_in": round(float(totals["plug_in"]), 1),
            "seasonal_naive": round(float(totals["seasonal_naive"]), 1), "actual_issued": float(totals["issued"]),
            "actual_needed": float(totals["needed"]),
            "error_pct_vs_needed": pct(totals["installed_base"], totals["needed"]),
            "error_pct_vs_issued": pct(totals["installed_base"], totals["issued"]),
            "plug_in_error_pct_vs_needed": pct(totals["plug_in"], totals["needed"]),
            "seasonal_naive_error_pct_vs_needed": pct(totals["seasonal_naive"], totals["needed"]),
            "coverage_90_parts_ge5": None if cover is None else round(cover, 3), "parts_ge5": int(len(big))}))
        for key in ("depot_id", "class"):
            g = frame.groupby(key)[["installed_base", "plug_in", "seasonal_naive", "issued", "needed"]].sum()
            for name, r in g.iterrows():
                print(json.dumps(base | {
                    "impl": f"by_{key}", key: name, "forecast": round(float(r["installed_base"]), 1),
                    "actual_needed": float(r["needed"]), "actual_issued": float(r["issued"]),
                    "error_pct_vs_needed": pct(r["installed_base"], r["needed"]),
                    "plug_in_error_pct_vs_needed": pct(r["plug_in"], r["needed"]),
                    "seasonal_naive_error_pct_vs_needed": pct(r["seasonal_naive"], r["needed"])}))


def make_cox_lives(n_makers: int, machines_per_maker: int, seed: int) -> dict[str, tuple[pd.DataFrame, None]]:
    """Seeded life tables shaped like ``build_lives`` per manufacturer (what the manufacturer reports fit).

    Each manufacturer has 3 models x 5 components (15 strata, each its own Weibull baseline) and
    ``machines_per_maker`` machines at 4 depots; per machine x component, renewal lives in engine hours (shape 1.5)
    until a censoring horizon of 300-3000 h, hazard x1.2 per 100 h/season of usage, x0.97 per build year and x0.9
    at one depot; times rounded to 1 h (tied failures); 20 % of the machines under left truncation (the first life
    entered at 30 % of its length). With 700 machines: about 8,300 lives per manufacturer, 58 % of them failures
    (the large demo: 47,300 lives, 22,350 failures over its 6 manufacturers)."""
    rng = np.random.default_rng(seed)
    usage = {"tractor": [0.0, 10, 60, 130, 100, 70, 90, 40, 100, 110, 40, 0.0],
             "combine": [0.0] * 6 + [150, 0, 150, 0, 0, 0]}
    yearly = {k: float(sum(v)) for k, v in usage.items()}
    out: dict[str, tuple[pd.DataFrame, None]] = {}
    for mk in range(n_makers):
        n = machines_per_maker
        model = rng.integers(0, 3, n)
        mtype = np.where(model == 2, "combine", "tractor")
        factor = rng.uniform(0.5, 1.6, n)
        hps = factor * np.array([yearly[t] for t in mtype])
        depot = np.array(["YC01", "PL01", "QT01", "GY01"])[rng.integers(0, 4, n)]
        build = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
        byear = build.year + (build.dayofyear - 1) / 365.25
        warranty = rng.choice([12.0, 24.0], n)
        horizon = rng.uniform(300.0, 3000.0, n)
        truncated = rng.uniform(size=n) < 0.2
        frames = []
        for comp in range(5):
            base = 1200.0 * (1 + 0.5 * comp) * (1 + 0.3 * model)
            mult = 1.2 ** (hps / 100) * 0.97 ** (byear - 2020) * np.where(depot == "QT01", 0.9, 1.0)
            eta = base / mult ** (1 / 1.5)
            start = np.zeros(n)
            for k in range(8):
                life = np.maximum(np.round(eta * rng.weibull(1.5, n)), 1.0)
                alive = start < horizon
                end = np.minimum(start + life, horizon)
                cens = (start + life >= horizon).astype(int)
                t = end - start
                entry = np.where(truncated & (k == 0), np.floor(0.3 * t), 0.0)
                ok = alive & (t > 0)
                frames.append(pd.DataFrame({
                    "serial_no": [f"M{mk}-{i:05d}" for i in np.flatnonzero(ok)],
                    "model": np.char.add(f"M{mk}-", model[ok].astype(str)),
                    "machine_type": mtype[ok], "depot_id": depot[ok], "component": f"C{comp}",
                    "build_date": build[ok], "sale_date": build[ok] + pd.Timedelta(days=90), "time": t[ok],
                    "censored": cens[ok], "entry": entry[ok], "usage_factor": factor[ok],
                    "warranty_months": warranty[ok]}))
                start = start + life
        lives = pd.concat(frames, ignore_index=True)
        lives.attrs["usage"] = usage
        out[f"maker{mk}"] = (lives, None)
    return out


def _cox_lives_from_store(store_dir: str, period: str) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per manufacturer, the lives and machines its report fits (as ``reports.manufacturer._hazards`` gets them)."""
    from zk_forecast.data import Store
    from zk_forecast.failures.lives import build_lives
    from zk_forecast.reports._html import parse_period

    store = Store(store_dir)
    tickets, machines, cp = store.read("tickets"), store.read("machines"), store.read("component_parts")
    end = parse_period(period).end
    lives = build_lives(tickets[pd.to_datetime(tickets["reported_at"]) < end], machines, cp, as_of=end)
    out = {}
    for m in sorted(machines["manufacturer"].dropna().astype(str).unique()):
        mach = machines[machines["manufacturer"].astype(str) == m].sort_values("serial_no", kind="stable")
        out[m] = (lives[lives["manufacturer"].astype(str) == m].reset_index(drop=True), mach.reset_index(drop=True))
    return out


def _at_risk_somewhere(time: np.ndarray, event: np.ndarray, entry: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Rows at risk (entry <= u <= time) at some failure time u of their stratum."""
    out = np.zeros(time.size, dtype=bool)
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        u = np.unique(time[rows][event[rows] == 1])
        if u.size:
            i = np.searchsorted(u, entry[rows], side="left")
            out[rows] = (i < u.size) & (u[np.minimum(i, u.size - 1)] <= time[rows])
    return out


def bench_cox(args: argparse.Namespace) -> None:
    """hazard_ratios (our vectorised Cox kernel) against statsmodels PHReg fit + score_residuals, per manufacturer."""
    import zk_forecast.failures.covariates as covariates
    from zk_forecast.failures.covariates import hazard_ratios

    if args.cox_store:
        data: dict[str, Any] = _cox_lives_from_store(args.cox_store, args.cox_period)
        source = f"store {args.cox_store}, lives known at the end of {args.cox_period}, per manufacturer"
    else:
        data = make_cox_lives(6, args.cox_machines, args.seed)
        source = f"seeded (seed {args.seed}), 6 makers x {args.cox_machines} machines"
    fit_cox, cluster_cov = covariates.fit_cox, covariates.cluster_covariance
    calls: dict[str, dict[str, Any]] = {}
    maker = ""

    def fit_recorded(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        res = fit_cox(*a, **k)
        calls[maker].update(args=a, kwargs=k, fit=res, kernel=time.perf_counter() - t0)
        return res

    def cluster_recorded(fit: Any, codes: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        res = cluster_cov(fit, codes)
        calls[maker].update(codes=codes, robust=res, kernel=calls[maker]["kernel"] + time.perf_counter() - t0)
        return res

    best, kernel = np.inf, np.inf
    covariates.fit_cox, covariates.cluster_covariance = fit_recorded, cluster_recorded  # type: ignore[assignment]
    try:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for maker, (lives, mach) in data.items():
                calls[maker] = {}
                hazard_ratios(lives, mach)
            best = min(best, time.perf_counter() - t0)
            kernel = min(kernel, sum(c["kernel"] for c in calls.values()))
    finally:
        covariates.fit_cox, covariates.cluster_covariance = fit_cox, cluster_cov
    n_lives = sum(len(v[0]) for v in data.values())
    n_fail = sum(int((v[0]["censored"] == 0).sum()) for v in data.values())
    n_strata = sum(v[0].groupby(["model", "component"]).ngroups for v in data.values())
    base = {"bench": "failures_cox_hazard_ratios", "data": source, "makers": len(data), "lives": n_lives,
            "failures": n_fail, "strata": n_strata}
    try:
        from statsmodels.duration.hazard_regression import PHReg
    except ImportError:  # pragma: no cover
        print(json.dumps(base | {"impl": "statsmodels", "skipped": "statsmodels not installed"}))
        return
    peer_secs, d_coef, d_se, d_cl = 0.0, 0.0, 0.0, 0.0
    for c in calls.values():
        t, ev, x = c["args"]
        entry, strata = c["kwargs"]["entry"], c["kwargs"]["strata"]
        # rows at risk at no failure time change no estimate; statsmodels mis-scores some of them (see _cox)
        keep = _at_risk_somewhere(t, ev, entry, strata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            model = PHReg(t[keep], x[keep], status=ev[keep], entry=entry[keep] if (entry > 0).any() else None,
                          strata=strata[keep], ties="efron")
            res = model.fit()
            resid = np.nan_to_num(np.asarray(model.score_residuals(res.params)))
            summed = np.zeros((int(c["codes"].max()) + 1, x.shape[1]))
            np.add.at(summed, c["codes"][keep], resid)
            cov = np.asarray(res.cov_params())
            robust = cov @ summed.T @ summed @ cov
            peer_secs += time.perf_counter() - t0
        fit = c["fit"]
        d_coef = max(d_coef, _rel(fit.coef, np.asarray(res.params)))
        d_se = max(d_se, _rel(np.sqrt(np.diag(fit.cov)), np.sqrt(np.diag(cov))))
        d_cl = max(d_cl, _rel(np.sqrt(np.diag(c["robust"])), np.sqrt(np.diag(robust))))
    print(json.dumps(base | {
        "impl": "summary", "terms": int(sum(c["fit"].coef.size for c in calls.values())),
        "zk_seconds": round(best, 4), "zk_kernel_seconds": round(kernel, 4),
        "timing": f"hazard_ratios over all makers, best of {args.repeat}; kernel = fit_cox + cluster_covariance",
        "peer": "statsmodels PHReg(ties='efron').fit + score_residuals + sandwich", "peer_seconds": round(peer_secs, 3),
        "speedup_hazard_ratios": round(peer_secs / best, 1), "speedup_kernel": round(peer_secs / kernel, 1),
        "max_rel_diff_coef": d_coef, "max_rel_diff_se": d_se, "max_rel_diff_se_cluster": d_cl}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--what", choices=("groups", "km", "threshold", "installed_base", "cox", "all"), default="groups")
    ap.add_argument("--groups", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--subset", type=int, default=200)
    ap.add_argument("--km-groups", type=int, default=500)
    ap.add_argument("--threshold-sets", type=int, default=30)
    ap.add_argument("--origins", nargs="+", default=["2023-05-01", "2024-05-06", "2025-05-05", "2026-05-04"])
    ap.add_argument("--ib-draws", type=int, default=100)
    ap.add_argument("--cox-store", default=None, help="a store of the large demo (default: seeded lives)")
    ap.add_argument("--cox-period", default="2026Q3")
    ap.add_argument("--cox-machines", type=int, default=700)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.what in ("km", "all"):
        bench_km(args)
    if args.what in ("threshold", "all"):
        bench_threshold(args)
    if args.what in ("installed_base", "all"):
        bench_installed_base(args)
    if args.what in ("cox", "all"):
        bench_cox(args)
    if args.what in ("groups", "all"):
        bench_groups(args)


def bench_groups(args: argparse.Namespace) -> None:
    """Many Weibull groups in one fit_groups call against surpyval and lifelines group by group."""
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
