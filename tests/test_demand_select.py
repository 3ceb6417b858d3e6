"""Tests of rolling-origin evaluation and automatic selection (zk_forecast.demand.select)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.demand import TSB, Croston, forecast
from zk_forecast.demand.models import ESTIMATORS
from zk_forecast.demand.select import AutoSelect, auto_method, evaluation_report, rolling_origin
from zk_forecast.errors import ZkValueError


def _intermittent(n: int, t: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.random((n, t)) < 0.3) * rng.poisson(4, (n, t))).astype(float)


def test_rolling_origin_by_hand() -> None:
    # hand calculation: the historic mean at origins 4 and 5 of (1, 1, 1, 1, 3, 0) forecasts 1 and 1.4
    y = np.array([[1.0, 1, 1, 1, 3, 0]])
    res = rolling_origin(y, ["mean"], h=1, n_origins=2)
    assert res.origins.tolist() == [4, 5]
    np.testing.assert_allclose(res.forecasts[0, 0, :, 0], [1.0, 1.4])
    e = np.array([1.0 - 3.0, 1.4 - 0.0])
    assert res.mse[0, 0] == pytest.approx(np.mean(e**2))
    assert res.bias[0, 0] == pytest.approx(np.mean(e))
    assert res.scale[0] == pytest.approx(1.0)  # mean of the four periods before the first origin
    assert res.smae[0, 0] == pytest.approx(np.mean(np.abs(e)))


def test_h_step_origins_end_with_the_last_period() -> None:
    res = rolling_origin(_intermittent(5, 30), ["sba", "tsb"], h=3, n_origins=4)
    assert res.origins.tolist() == [24, 25, 26, 27]
    assert res.forecasts.shape == (2, 5, 4, 3)


def test_too_few_periods_uses_fewer_origins_then_falls_back() -> None:
    y = _intermittent(4, 8)
    res = rolling_origin(y, ["sba"], n_origins=12, min_train=4)
    assert res.origins.tolist() == [4, 5, 6, 7]
    with pytest.raises(ZkValueError, match="Too few periods"):
        rolling_origin(y[:, :4], ["sba"], min_train=4)
    est = AutoSelect().fit(y[:, :4])
    assert est.fallback_ and set(est.choice_) == {"sba"}
    assert est.predict(2).shape == (4, 2)


def test_unknown_candidate_lists_the_valid_ones() -> None:
    with pytest.raises(ZkValueError, match="valid names are .*'tsb'"):
        AutoSelect(candidates=["sba", "prophet"]).fit(_intermittent(3, 30))
    with pytest.raises(ZkValueError, match="loss"):
        AutoSelect(loss="rmsse").fit(_intermittent(3, 30))
    with pytest.raises(ZkValueError, match="bias_weight"):
        AutoSelect(bias_weight=-1.0).fit(_intermittent(3, 30))


def test_auto_combines_the_chosen_methods_per_series() -> None:
    y = _intermittent(40, 60)
    est = AutoSelect(candidates=["sba", "tsb", "ses"], loss="mse").fit(y)
    assert est.choice_.shape == (40,)
    f = est.predict(3)
    fitted = est.fitted_
    assert fitted is not None
    for lab in set(est.choice_):
        rows = est.choice_ == lab
        m = ESTIMATORS[lab]().fit(y[rows])
        np.testing.assert_allclose(f[rows], m.predict(3))
        assert m.fitted_ is not None
        np.testing.assert_allclose(fitted[rows], m.fitted_)
    # the choice minimises each series' rolling-origin MSE
    res = est.evaluation_
    assert res is not None
    best = np.asarray(res.methods)[np.argmin(res.smse, axis=0)]
    ok = np.isfinite(res.scale)
    assert (best[ok] == est.choice_[ok]).all()


def test_default_loss_penalises_bias() -> None:
    # the default loss is scaled MSE + bias_weight * scaled bias², and the default choice minimises it
    y = _intermittent(60, 60, seed=7)
    est = AutoSelect(candidates=["sba", "tsb", "ses", "mean"]).fit(y)
    res = est.evaluation_
    assert res is not None and est.loss == "mse_bias" and est.bias_weight == 8.0
    score = res.smse + 8.0 * res.sbias**2
    np.testing.assert_allclose(res.loss("mse_bias"), score)
    np.testing.assert_allclose(res.loss("mse_bias", bias_weight=0.0), res.smse)
    ok = np.isfinite(res.scale)
    assert (np.asarray(res.methods)[np.argmin(score, axis=0)][ok] == est.choice_[ok]).all()
    # with bias_weight=0 it is the plain MSE choice
    plain = AutoSelect(candidates=["sba", "tsb", "ses", "mean"], bias_weight=0.0).fit(y)
    assert (np.asarray(res.methods)[np.argmin(res.smse, axis=0)][ok] == plain.choice_[ok]).all()
    # a candidate that is biased low over the inner origins loses to an unbiased one of equal MSE
    chosen_bias = np.abs(res.sbias[[res.methods.index(c) for c in est.choice_[ok]], np.flatnonzero(ok)])
    plain_bias = np.abs(res.sbias[[res.methods.index(c) for c in plain.choice_[ok]], np.flatnonzero(ok)])
    assert chosen_bias.mean() <= plain_bias.mean()


def test_default_candidates() -> None:
    est = AutoSelect().fit(_intermittent(10, 40))
    assert est.evaluation_ is not None and est.evaluation_.methods == ["ses", "tsb", "ses_0.1", "mean"]
    assert set(est.choice_) <= {"ses", "tsb", "ses_0.1", "mean"}
    f = est.predict(2)
    assert f.shape == (10, 2) and np.isfinite(f).all()


def test_pooled_scores_by_hand() -> None:
    # hand calculation: two candidates, three series of one class and band, 4 observed inner actuals each,
    # prior weight 4. Scaled losses (floored at 0.01) -> log-relative losses per series:
    #   series 0: (1, 2)   -> (0, ln 2);  series 1: (1, 4) -> (0, ln 4);  series 2: (3, 1) -> (ln 3, 0)
    # class mean: (ln 3 / 3, (ln 2 + ln 4) / 3) = (0.3662, 0.6931); score = (4 own + 4 pool) / 8
    from zk_forecast.demand.select import _pooled_scores

    loss = np.array([[1.0, 1.0, 3.0], [2.0, 4.0, 1.0]])
    got = _pooled_scores(loss, np.array(["smooth"] * 3, dtype=object), np.array([30, 30, 30]),
                         np.array([4, 4, 4]), 4.0)
    pool = np.array([np.log(3) / 3, (np.log(2) + np.log(4)) / 3])
    own = np.array([[0.0, 0.0, np.log(3)], [np.log(2), np.log(4), 0.0]])
    np.testing.assert_allclose(got, (own + pool[:, None]) / 2.0)
    # series 2 keeps candidate 1: (ln 3 + 0.3662) / 2 = 0.732 against (0 + 0.6931) / 2 = 0.347
    assert list(np.argmin(got, axis=0)) == [0, 0, 1]


def test_short_histories_follow_their_class_long_ones_do_not() -> None:
    y = _intermittent(60, 40)  # 28 periods before the first inner origin: short
    own = AutoSelect(prior_origins=0.0).fit(y)
    pooled = AutoSelect(prior_origins=1e9).fit(y)
    res = pooled.evaluation_
    assert res is not None
    ok = np.isfinite(res.scale)
    cls = adi_cv2_classes(y[:, : res.origins[0]])
    for c in set(cls[ok]):
        assert len(set(pooled.choice_[ok & (cls == c)])) == 1  # one choice per class (one length band here)
    assert (own.choice_ != pooled.choice_).any()
    # prior 0: the per-series choice (the least scaled loss of each series)
    best = np.asarray(res.methods)[np.argmin(res.loss("mse_bias"), axis=0)]
    assert (own.choice_[ok] == best[ok]).all()
    # a long history (>= short_history periods before the first inner origin) ignores the prior
    long_y = _intermittent(40, 80)
    a = AutoSelect(prior_origins=0.0).fit(long_y).choice_
    b = AutoSelect(prior_origins=1e9).fit(long_y).choice_
    assert (a == b).all()
    c = AutoSelect(prior_origins=1e9, short_history=100).fit(long_y).choice_
    assert (a != c).any()


def test_prior_origins_and_short_history_are_checked() -> None:
    with pytest.raises(ZkValueError, match="prior_origins"):
        AutoSelect(prior_origins=-1.0).fit(_intermittent(3, 30))
    with pytest.raises(ZkValueError, match="short_history"):
        AutoSelect(short_history=2.5).fit(_intermittent(3, 30))


def adi_cv2_classes(y: np.ndarray) -> np.ndarray:
    from zk_forecast.demand.classify import adi_cv2, sbc_category

    st = adi_cv2(y)
    return np.asarray(sbc_category(st["adi"], st["cv2"], st["n_demands"]), dtype=object)


def test_obsolete_part_decays_toward_zero() -> None:
    # demand in the first half (36 months), nothing in the last 36: auto must forecast near zero, below Croston
    rng = np.random.default_rng(5)
    first = (rng.random(36) < 0.5) * rng.integers(1, 6, 36)
    y = np.r_[first, np.zeros(36)].astype(float)[None, :]
    y = np.vstack([y, _intermittent(10, 72)])
    est = auto_method(y, conventions="zk").fit(y)
    auto = est.predict(1)[0, 0]
    croston = Croston().fit(y).predict(1)[0, 0]
    assert est.choice_[0] in ("tsb", "ses", "imapa", "adida")
    assert auto < croston
    assert auto < 0.05 * croston
    # TSB itself decays: its probability fell by 0.9 per zero period
    assert TSB().fit(y).predict(1)[0, 0] < 0.05 * croston


def test_evaluation_report_per_method_and_class() -> None:
    y = _intermittent(30, 50)
    rep = evaluation_report(y, ["sba", "tsb", "mean"], n_origins=6)
    assert list(rep.index) == ["sba", "tsb", "mean"]
    assert {"smse", "smae", "sbias", "n_series", "best_share"} <= set(rep.columns)
    assert rep["best_share"].sum() == pytest.approx(1.0)
    by = evaluation_report(y, ["sba", "tsb"], n_origins=6, classes="sbc")
    assert by.index.names == ["class", "method"]


def test_seasonal_candidate_with_groups() -> None:
    t = np.arange(48)
    rng = np.random.default_rng(0)
    y = rng.poisson(np.where(t % 12 < 3, 4.0, 0.3), (30, 48)).astype(float)
    est = AutoSelect(candidates=["sba", "seasonal"], groups=["g"] * 30, season_length=12).fit(y)
    assert (est.choice_ == "seasonal").mean() > 0.5
    f = est.predict(12)
    assert f[:, :3].mean() > 3 * f[:, 3:].mean()


def test_forecast_auto_hook() -> None:
    y = _intermittent(3, 40)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 40),
                       "ds": np.tile(pd.date_range("2020-01-01", periods=40, freq="MS"), 3), "y": y.ravel()})
    out = forecast(df, h=2, methods=["auto", "sba"], level=[0.8])
    assert {"auto", "auto-lo-80", "auto-hi-80"} <= set(out.columns)
    assert np.isfinite(out["auto"]).all()
    # the chosen method per series: the column after auto's bounds, the choice of AutoSelect on the same array
    cols = list(out.columns)
    assert cols.index("auto-method") == cols.index("auto-hi-80") + 1
    choice = AutoSelect().fit(y).choice_
    assert out["auto-method"].tolist() == np.repeat(choice, 2).tolist()
    assert "sba-method" not in cols


def test_forecast_names_each_series_combination() -> None:
    y = _intermittent(4, 40)
    df = pd.DataFrame({"unique_id": np.repeat(list("abcd"), 40),
                       "ds": np.tile(pd.date_range("2020-01-06", periods=40, freq="W-MON"), 4), "y": y.ravel()})
    est = AutoSelect(candidates=["sba", "tsb", "ses"], combine=2, alias="best2")
    out = forecast(df, h=1, methods=[est])
    fitted = AutoSelect(candidates=["sba", "tsb", "ses"], combine=2).fit(y)
    assert out["best2-method"].tolist() == ["+".join(r) for r in fitted.chosen_]


@pytest.mark.parametrize("conventions", ["zk", "statsforecast", "r"])
def test_rolling_origin_without_refit_equals_refit_for_fixed_constants(conventions: str) -> None:
    # fixed-constant filters use only the data before each period: one pass gives the refitted forecasts
    from zk_forecast.demand.models import SES

    rng = np.random.default_rng(3)
    n, t = 60, 90
    y = ((rng.random((n, t)) < rng.uniform(0.05, 0.7, n)[:, None]) * rng.geometric(0.3, (n, t))).astype(float)
    for i in range(n):
        y[i, : rng.integers(0, 40)] = np.nan
    methods = ["naive", "mean", "ma", "croston", "sba", "sbj", "tsb", SES(alpha=0.2, alias="ses_0.2")]
    a = rolling_origin(y, methods, conventions=conventions, n_origins=12)
    b = rolling_origin(y, methods, conventions=conventions, n_origins=12, refit=False)
    np.testing.assert_array_equal(np.isnan(a.forecasts), np.isnan(b.forecasts))
    np.testing.assert_allclose(a.forecasts, b.forecasts, rtol=0, atol=1e-12)


def test_rolling_origin_without_refit_keeps_the_first_origins_ses_alpha() -> None:
    # hand route: alpha optimised on the periods before the first origin, then SES run over everything
    from zk_forecast.demand import methods as m
    from zk_forecast.demand.models import SES

    rng = np.random.default_rng(4)
    y = rng.poisson(3.0, (5, 40)).astype(float)
    res = rolling_origin(y, ["ses"], n_origins=6, refit=False)
    first = int(res.origins[0])
    alpha = SES().fit(y[:, :first]).alpha_
    _, fit = m.ses_paths(y, np.zeros(5, dtype=np.int64), np.asarray(alpha), True)
    np.testing.assert_allclose(res.forecasts[0, :, :, 0], fit[:, res.origins])
    with pytest.raises(ZkValueError, match="h=1"):
        rolling_origin(y, ["ses"], h=2, refit=False)
