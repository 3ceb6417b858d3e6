"""The failure engine against the synthetic dealer's ground truth (issue 4's correctness criteria).

The demo (``zk_forecast.data.demo``, small, seed 7) draws every model x component life from a known Weibull in
engine hours, renews parts on failure, and plants an early-life defect and a design fix. The tests build the life
table with :func:`build_lives` from the ingested tickets only, and check that the fitted models recover the truth,
that the planted effects are found and that unplanted groups rarely raise alarms, and that the installed-base
forecast predicts the last 26 weeks of repair issues from the data before them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.failures.compare import compare_cut_in, early_life_test
from zk_forecast.failures.groups import fit_groups
from zk_forecast.failures.installed_base import InstalledBaseForecaster
from zk_forecast.failures.lives import build_lives

BACKTEST_AS_OF = pd.Timestamp("2026-05-04")  # Monday; 26 weeks of history follow, to END = 2026-10-31


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("demo_failures")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", Store(root / "store"))
    store = Store(root / "store")
    tables = {name: store.read(name) for name in ("tickets", "machines", "component_parts", "part_issues")}
    truth = json.loads((root / "raw" / "ground_truth.json").read_text(encoding="utf-8"))
    lives = build_lives(tables["tickets"], tables["machines"], tables["component_parts"])
    return {**tables, "truth": truth, "lives": lives}


def _truth_table(truth: dict) -> pd.DataFrame:
    rows = [(*key.split("|"), v["shape"], v["scale_h"]) for key, v in truth["weibull"].items()]
    return pd.DataFrame(rows, columns=["model", "component", "true_shape", "true_scale"]).set_index(
        ["model", "component"])


def _fits(world: dict) -> pd.DataFrame:
    """fit_groups per model x component; the design-fix group is split at its cut-in into two groups
    (component "离合器<before" / "离合器>=after"), each with its own true scale."""
    lives = world["lives"].copy()
    fix = world["truth"]["planted_effects"]["design_fix"]
    sel = (lives["model"] == fix["model"]) & (lives["component"] == fix["component"])
    after = lives["build_date"] >= pd.Timestamp(fix["cut_in_build_date"])
    lives.loc[sel & ~after, "component"] = fix["component"] + "<cut"
    lives.loc[sel & after, "component"] = fix["component"] + ">=cut"
    fits = fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry")
    truth = _truth_table(world["truth"])
    for tag, scale in (("<cut", fix["scale_h_before"]), (">=cut", fix["scale_h_after"])):
        truth.loc[(fix["model"], fix["component"] + tag), ["true_shape", "true_scale"]] = [fix["shape"], scale]
    return fits.join(truth, how="inner")


def test_wald_intervals_cover_the_true_parameters(world: dict) -> None:
    """Rule: groups with >= 10 failures (Wald intervals need some failures to be near their nominal level).

    With about 58 such groups and true coverage 0.95 per parameter, the number covered is about
    Binomial(58, 0.95): sd = sqrt(58 * 0.95 * 0.05) = 1.7 groups = 0.029 of the rate, so a rate below 0.85 would be
    3.5 sd low (a biased life table, not bad luck). Both parameters at once: at least 0.95 * 0.95 = 0.90 if the
    two were independent (they are correlated, which raises it); below 0.78 would be 3.5 sd (0.035) low.
    Measured on the demo (seed 7): shape 0.95, scale 0.91, both 0.86 over 58 groups (the design fix's group after
    the cut-in has < 10 failures and drops out by the rule); median scale / true scale 0.99."""
    fits = _fits(world)
    tested = fits[(fits["n_failures"] >= 10) & (fits["status"] == "ok")]
    assert len(tested) >= 50
    shape_in = (tested["shape_lo"] <= tested["true_shape"]) & (tested["true_shape"] <= tested["shape_hi"])
    scale_in = (tested["scale_lo"] <= tested["true_scale"]) & (tested["true_scale"] <= tested["scale_hi"])
    assert shape_in.mean() >= 0.85 and scale_in.mean() >= 0.85
    assert (shape_in & scale_in).mean() >= 0.78
    # no systematic bias in the scale (a censoring error would shift every group the same way): the median
    # ratio estimate / truth stays within 5 %
    assert abs(np.median(tested["scale"] / tested["true_scale"]) - 1) < 0.05


def test_planted_effects_are_found(world: dict) -> None:
    lives, planted = world["lives"], world["truth"]["planted_effects"]
    early = planted["early_life_defect"]
    sel = lives[(lives["model"] == early["model"]) & (lives["component"] == early["component"])]
    fit = fit_groups(sel, "model", "time", censored="censored", entry="entry").iloc[0]
    assert fit["shape_hi"] < 1 and fit["shape_lo"] <= early["shape"] <= fit["shape_hi"]
    assert early_life_test(sel["time"], sel["censored"], sel["entry"]).flagged
    fix = planted["design_fix"]
    sel = lives[(lives["model"] == fix["model"]) & (lives["component"] == fix["component"])]
    res = compare_cut_in(sel, fix["cut_in_build_date"])
    assert res.improved and res.p_value < 0.05 and res.rate_ratio < 1


def test_false_alarms_on_unplanted_groups(world: dict) -> None:
    """Early-life alarm = the 95% Wald interval of the shape lies below 1. Unplanted shapes are 1.4-2.4, so a
    one-sided 2.5 % error on a shape of 1.4 or more needs the estimate below 1 by chance: expected alarms ~0 of
    ~75 groups; allowed: at most 1. (The cut-in false-alarm rate on the same life table is bounded in
    tests/test_failures_compare.py::test_demo_false_alarm_rate_on_unplanted_groups.)
    Measured on the demo (seed 7): 0 early-life alarms of 77 unplanted groups."""
    lives, planted = world["lives"], world["truth"]["planted_effects"]
    skip = {(planted[k]["model"], planted[k]["component"]) for k in ("design_fix", "early_life_defect")}
    fits = fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry")
    unplanted = fits[[key not in skip for key in fits.index]]
    early_alarms = int((unplanted["shape_hi"] < 1).sum())
    assert len(unplanted) >= 60 and early_alarms <= 1


def test_installed_base_forecast_of_the_last_26_weeks(world: dict) -> None:
    """Fitted on the tickets before 2026-05-04 only; compared with the parts the failures of the 26 weeks after
    needed: their repair issues, and for the failures whose parts were still on order when the data end (harvest
    orders wait for the supplier's lead time), their bill of materials. Repair issues by issue date in the window
    fall short of that by 116 units (9 %): the forecast says when parts are needed, not when an order arrives.

    Total: given the parameters, units are compound Poisson, var = sum over parts of qty * expected units
    (each failure issues qty units). The forecast total must be within 3 such sd plus 5 % (parameter and usage
    uncertainty) of the needed total, and stay above the issues by date.
    Intervals: for parts with >= 10 expected units the 90% intervals of the 26-week totals should cover about
    90%; with ~30 parts, Binomial sd = sqrt(0.09 / 30) = 0.055, so at least 0.75 (2.7 sd below 0.90).
    Measured on the demo (seed 7): forecast 1411 units (bias-corrected point; the plug-in point gave 1435),
    needed 1376 (+2.6 %, 0.4 Poisson sd), issued by date 1260; coverage 0.93 of 55 parts with >= 5 expected units
    (``benchmarks/bench_failures.py --what installed_base`` prints this per depot and part class for four
    origins)."""
    machines, cp = world["machines"], world["component_parts"]
    lives = build_lives(world["tickets"], machines, cp, as_of=BACKTEST_AS_OF)
    sold = machines[machines["sale_date"] >= BACKTEST_AS_OF]
    sales = pd.DataFrame({"ds": sold["sale_date"].dt.to_period("W-SUN").dt.start_time, "model": sold["model"],
                          "depot_id": sold["depot_id"], "quantity": 1})
    sales = sales.groupby(["ds", "model", "depot_id"], as_index=False)["quantity"].sum()
    fc = InstalledBaseForecaster(level=(0.9,), n_draws=40, n_rep=25).fit(lives, machines, cp)
    tot = fc.predict_totals(26, future_sales=sales)
    issues = world["part_issues"]
    repair = issues[issues["kind"] == "repair"]
    tickets = world["tickets"]
    failed = tickets[(tickets["kind"] == "failure") & (tickets["reported_at"] >= BACKTEST_AS_OF)]
    issued_for = repair[repair["ticket_id"].isin(failed["ticket_id"])].groupby("part_no")["quantity"].sum()
    pending = failed[~failed["ticket_id"].isin(repair["ticket_id"])].merge(machines[["serial_no", "model"]],
                                                                          on="serial_no")
    on_order = pending.merge(cp, on=["model", "component"]).groupby("part_no")["qty_per_replacement"].sum()
    actual = issued_for.astype(float).add(on_order.astype(float), fill_value=0.0)
    by_date = repair[repair["issued_on"] >= BACKTEST_AS_OF]["quantity"].sum()
    both = tot.join(actual.rename("actual"), how="outer").fillna(0.0)
    qty = cp.groupby("part_no")["qty_per_replacement"].max().astype(float)
    sd = float(np.sqrt((both["installed_base"] * qty.reindex(both.index).fillna(1.0)).sum()))
    pred, act = both["installed_base"].sum(), both["actual"].sum()
    assert abs(pred - act) <= 3 * sd + 0.05 * act, (pred, act, sd)
    assert by_date < act and pred > by_date
    big = both[both["installed_base"] >= 10]
    covered = (big["installed_base-lo-90"] <= big["actual"]) & (big["actual"] <= big["installed_base-hi-90"])
    assert len(big) >= 30 and covered.mean() >= 0.75, (len(big), covered.mean())
    weekly = fc.predict(26, future_sales=sales)
    assert weekly["ds"].nunique() == 26 and weekly["ds"].min() == BACKTEST_AS_OF
    assert weekly["installed_base"].sum() == pytest.approx(pred)
