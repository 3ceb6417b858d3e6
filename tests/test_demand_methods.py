"""Tests of the intermittent-demand kernels and estimators (zk_forecast.demand.methods*, models).

Reference numbers: ``tests/data/statsforecast_golden.json`` is statsforecast 2.1.1's output on seeded series
(written by ``benchmarks/make_golden_statsforecast.py``); the PBS figures are R ``forecast::croston`` as quoted in
``../shared/data/README.md``; the small Croston example is a hand calculation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zk_forecast.demand import methods as m
from zk_forecast.demand import methods_aggregate as ma
from zk_forecast.demand import methods_croston as mc
from zk_forecast.demand.models import (
    ADIDA,
    IMAPA,
    SBA,
    SBJ,
    SES,
    TSB,
    Croston,
    CrostonOptimized,
    HistoricMean,
    MovingAverage,
    Naive,
    NotFittedError,
)
from zk_forecast.errors import ZkTypeError, ZkValueError

GOLDEN = Path(__file__).parent / "data" / "statsforecast_golden.json"
PBS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pbs" / "pbs_immune_sera.csv"
RTOL = 1e-9


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def _padded(series: list[list[float]]) -> np.ndarray:
    width = max(map(len, series))
    y = np.full((len(series), width), np.nan)
    for i, s in enumerate(series):
        y[i, width - len(s) :] = s
    return y


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-12, equal_nan=True)


SF_KERNELS = {
    "croston": lambda y, g: mc.croston(y, 0.1, conventions="statsforecast"),
    "sba": lambda y, g: mc.croston(y, 0.1, variant="sba", conventions="statsforecast"),
    "croston_opt": lambda y, g: mc.croston_optimized(y, conventions="statsforecast"),
    "tsb": lambda y, g: mc.tsb(y, g["tsb"]["alpha_d"], g["tsb"]["alpha_p"], conventions="statsforecast"),
    "adida": lambda y, g: ma.adida(y, conventions="statsforecast"),
    "imapa": lambda y, g: ma.imapa(y, conventions="statsforecast"),
    "ses": lambda y, g: m.ses(y, g["ses"]["alpha"]),
    "ses_opt": lambda y, g: m.ses(y),
    "naive": lambda y, g: m.naive(y),
    "mean": lambda y, g: m.historic_mean(y),
}


@pytest.mark.parametrize("name", list(SF_KERNELS))
def test_statsforecast_golden(golden: dict, name: str) -> None:
    """Forecasts and fitted values equal statsforecast 2.1.1 (golden file) to 1e-9 relative."""
    assert golden["statsforecast_version"] == "2.1.1"
    series = golden["series"]
    y = _padded(series)
    res = SF_KERNELS[name](y, golden)
    _close(res.forecast, np.asarray(golden["forecast"][name]))
    if name == "mean":
        return  # statsforecast's HistoricAverage "fitted" values are the full-sample mean, not one-step forecasts
    assert res.fitted is not None
    for i, s in enumerate(series):
        expected = np.array([np.nan if v is None else v for v in golden["fitted"][name][i]])
        _close(res.fitted[i, y.shape[1] - len(s) :], expected)


@pytest.mark.skipif(not PBS.exists(), reason="../shared/data/pbs is absent (only in the project workspace)")
@pytest.mark.parametrize(("alpha", "expected"), [(0.1, 0.8688921), (0.5, 0.6754646), (0.05, 1.405808)])
def test_r_croston_pbs(alpha: float, expected: float) -> None:
    """R forecast::croston on the PBS immune-sera series (values from ../shared/data/README.md)."""
    import pandas as pd

    y = pd.read_csv(PBS)["Scripts"].to_numpy(dtype=float)[None, :]
    fc = Croston(alpha=alpha, conventions="r").fit(y).predict(3)
    np.testing.assert_allclose(fc, expected, rtol=5e-7)


def test_croston_hand_calculation() -> None:
    """Demands 2 then 3 after intervals 2 and 3, alpha 0.5: z = 2.5, p = 2.5, rate 1; SBA 0.75; SBJ 2/3."""
    y = np.array([[0.0, 2, 0, 0, 3, 0]])
    assert Croston(alpha=0.5).fit(y).forecast_level_[0] == pytest.approx(1.0)
    assert SBA(alpha=0.5).fit(y).forecast_level_[0] == pytest.approx(0.75)
    assert SBA(alpha=0.5, conventions="statsforecast").fit(y).forecast_level_[0] == pytest.approx(0.95)
    assert SBJ(alpha=0.5).fit(y).forecast_level_[0] == pytest.approx(1 - 0.5 / 1.5)


# ----------------------------------------------------------------------------------------------------
# the shared estimator test


def _panel() -> np.ndarray:
    rng = np.random.default_rng(3)
    y = np.where(rng.random((6, 24)) < 0.35, rng.poisson(2.0, (6, 24)) + 1.0, 0.0)
    y[0] = 0.0  # all zero
    y[1, :20] = np.nan  # listed late: 4 periods
    y[2, :-1] = np.nan  # one observation
    y[2, -1] = 4.0
    y[3, :5] = 0.0  # leading zeros
    return y


ESTIMATORS = [
    Naive(),
    HistoricMean(),
    MovingAverage(window=3),
    SES(alpha=0.2),
    SES(),
    Croston(),
    SBA(),
    SBJ(alpha=0.2),
    CrostonOptimized(),
    CrostonOptimized(conventions="r", variant="sba"),
    CrostonOptimized(conventions="statsforecast"),
    TSB(alpha_d=0.2, alpha_p=0.1),
    ADIDA(),
    ADIDA(aggregation_level=2),
    IMAPA(),
    Croston(conventions="statsforecast"),
]
KERNELS = {
    Naive: lambda e, y: m.naive(y),
    HistoricMean: lambda e, y: m.historic_mean(y),
    MovingAverage: lambda e, y: m.moving_average(y, e.window),
    SES: lambda e, y: m.ses(y, e.alpha),
    Croston: lambda e, y: mc.croston(y, e.alpha, conventions=e.conventions),
    SBA: lambda e, y: mc.croston(y, e.alpha, variant="sba", conventions=e.conventions),
    SBJ: lambda e, y: mc.croston(y, e.alpha, variant="sbj", conventions=e.conventions),
    CrostonOptimized: lambda e, y: mc.croston_optimized(y, variant=e.variant, conventions=e.conventions),
    TSB: lambda e, y: mc.tsb(y, e.alpha_d, e.alpha_p, conventions=e.conventions),
    ADIDA: lambda e, y: ma.adida(y, e.aggregation_level, conventions=e.conventions),
    IMAPA: lambda e, y: ma.imapa(y, conventions=e.conventions),
}


def _rolling(est, y: np.ndarray, i: int, t: int) -> float:
    """One-step forecast for period t of row i from periods before t, computed by a fresh fit."""
    prefix = y[i : i + 1, :t]
    if isinstance(est, SES) and est.alpha is None:
        return float(m.ses(prefix, float(est.alpha_[i])).forecast[0])
    if isinstance(est, CrostonOptimized) and est.conventions != "statsforecast":
        return float(
            mc.croston(
                prefix, est.alpha_d_[i], est.alpha_p_[i], variant=est.variant, conventions=est.conventions
            ).forecast[0]
        )
    return float(type(est)(**est.get_params()).fit(prefix).predict(1)[0, 0])


@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_every_estimator(est) -> None:
    """fit+predict = kernel; fitted = rolling one-step forecasts; zeros -> 0; one value defined; >= 0; deterministic."""
    y = _panel()
    fitted = type(est)(**est.get_params()).fit(y)
    pred = fitted.predict(5)
    assert pred.shape == (6, 5)
    _close(pred, np.repeat(KERNELS[type(est)](est, y).forecast[:, None], 5, axis=1))
    assert fitted.forecast_level_[0] == 0.0  # all-zero series
    assert np.isfinite(pred).all() and (pred >= 0).all()  # one observation: defined
    assert fitted.fitted_ is not None and np.nanmin(fitted.fitted_) >= 0
    for i in (1, 3, 4):
        start = int(np.argmax(~np.isnan(y[i])))
        assert np.isnan(fitted.fitted_[i, : start + 1]).all()
        for t in range(start + 1, y.shape[1], 4):
            assert fitted.fitted_[i, t] == pytest.approx(_rolling(fitted, y, i, t), rel=1e-9, abs=1e-12), (
                i,
                t,
            )
    again = type(est)(**est.get_params()).fit(y)
    assert np.array_equal(again.predict(5), pred) and np.array_equal(
        again.fitted_, fitted.fitted_, equal_nan=True
    )
    nofit = type(est)(**est.get_params()).fit(y, fitted=False)
    # bit for bit on any processor: both paths do the same correctly rounded + - * / in the same order
    assert nofit.fitted_ is None and np.array_equal(nofit.predict(5), pred)


def test_one_observation_forecasts() -> None:
    """A series with one observation forecasts that value (Croston: value / interval 1)."""
    y = np.array([[np.nan, np.nan, 4.0]])
    for est in (Naive(), HistoricMean(), SES(), Croston(), TSB(), ADIDA(), IMAPA()):
        assert est.fit(y).predict(1)[0, 0] == pytest.approx(4.0)


def test_leading_nan_is_a_later_start_and_inner_nan_is_zero() -> None:
    y = np.array([[np.nan, np.nan, 0, 3, np.nan, 0, 2], [np.nan, 1, 0, 3, 0, 0, 2]])
    a = SBA().fit(y[:1]).fitted_
    b = SBA().fit(np.array([[0.0, 3, 0, 0, 2]])).fitted_
    assert a is not None and b is not None
    np.testing.assert_allclose(a[0, 2:], b[0], equal_nan=True)
    all_nan = Croston().fit(np.full((1, 4), np.nan))
    assert np.isnan(all_nan.predict(1)).all()


def test_bad_parameters_read_the_same() -> None:
    with pytest.raises(
        ZkValueError, match=r"The 'alpha' parameter of Croston must be a float in \[0, 1\]. Got 1.5"
    ):
        Croston(alpha=1.5).fit(np.zeros((1, 3)))
    with pytest.raises(ZkValueError, match="The 'conventions' parameter of TSB must be one of"):
        TSB(conventions="sf").fit(np.zeros((1, 3)))
    with pytest.raises(ZkValueError, match="The 'window' parameter of MovingAverage must be an int >= 1"):
        MovingAverage(window=0).fit(np.zeros((1, 3)))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SBA().predict(3)
    with pytest.raises(ZkValueError, match="'h' parameter of predict"):
        SBA().fit(np.zeros((1, 3))).predict(0)
    assert repr(SBA()) == "SBA(alpha=0.1, conventions='zk', alias='sba')"


def test_bad_input_arrays() -> None:
    with pytest.raises(ZkValueError, match="negative"):
        m.naive(np.array([[1.0, -1.0]]))
    with pytest.raises(ZkValueError, match="2-D"):
        m.naive(np.array([1.0, 2.0]))
    with pytest.raises(ZkTypeError, match="numeric"):
        m.naive(np.array([["a", "b"]]))


def test_rate_cost_target() -> None:
    """MSR/MAR compare with the cumulative mean; the first ceil(0.3 n) take the value at that point (hand calc)."""
    x = np.array([[0.0, 2, 0, 0, 3, 1, 0, 0, 0, 4]])
    target = m.cost_target(x, np.array([0]), "msr")
    cummean = np.cumsum(x[0]) / np.arange(1, 11)
    expected = np.r_[[cummean[2]] * 3, cummean[3:]]
    np.testing.assert_allclose(target[0], expected)
    assert m.cost_value(np.array([np.nan, 1.0, 3.0]), np.array([0.0, 0.0, 1.0]), "msr") == pytest.approx(2.5)
    assert m.cost_value(np.array([np.nan, 1.0, 3.0]), np.array([0.0, 0.0, 1.0]), "mar") == pytest.approx(1.5)


def test_optimised_croston_picks_from_grid() -> None:
    y = _panel()
    est = CrostonOptimized().fit(y)
    assert np.isin(est.alpha_d_, m.ALPHA_GRID).all() and np.isin(est.alpha_p_, m.ALPHA_GRID).all()
    sf = CrostonOptimized(conventions="statsforecast").fit(y)
    assert ((sf.alpha_d_ >= 0.1) & (sf.alpha_d_ <= 0.3)).all()
