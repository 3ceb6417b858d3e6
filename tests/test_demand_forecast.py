"""Tests of zk_forecast.demand.forecast.forecast: the long-DataFrame face of the demand methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.demand.forecast import forecast
from zk_forecast.demand.models import SBA, Croston
from zk_forecast.errors import ZkTypeError, ZkValueError


def _df() -> pd.DataFrame:
    weeks = pd.date_range("2024-01-01", periods=8, freq="W-MON")
    return pd.DataFrame(
        {
            "unique_id": ["P1@YC"] * 8 + ["P2@PL"] * 3,
            "ds": list(weeks) + list(weeks[5:]),
            "y": [0, 2, 0, 0, 3, 0, 1, 0, 4, 0, 1.0],
        }
    )


def test_output_shape_dates_and_values() -> None:
    df = _df()
    out = forecast(df, h=3, methods=["croston", "sba", "tsb"])
    assert list(out.columns) == ["unique_id", "ds", "croston", "sba", "tsb"]
    assert out["unique_id"].tolist() == ["P1@YC"] * 3 + ["P2@PL"] * 3
    assert out["ds"].iloc[0] == pd.Timestamp("2024-02-26") and out["ds"].iloc[2] == pd.Timestamp("2024-03-11")
    y = df.loc[df.unique_id == "P2@PL", "y"].to_numpy()[None, :]
    assert out["sba"].iloc[3] == pytest.approx(SBA().fit(y).predict(1)[0, 0])


def test_monthly_frequency_inferred() -> None:
    df = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=4, freq="MS"), "y": [1, 0, 0, 2.0]}
    )
    out = forecast(df, h=2, methods=["naive"])
    assert out["ds"].tolist() == [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")]


def test_missing_period_inside_a_series_is_zero() -> None:
    df = _df()
    gap = df.drop(index=[2, 3])  # two zero weeks of P1 left out
    pd.testing.assert_frame_equal(forecast(gap, 2, methods=["sba", "imapa"]), forecast(df, 2, methods=["sba", "imapa"]))


def test_estimator_instances_and_aliases() -> None:
    out = forecast(_df(), 1, methods=[Croston(alpha=0.05, alias="croston_05"), "croston"])
    assert {"croston_05", "croston"} <= set(out.columns)
    with pytest.raises(ZkValueError, match="share the output column"):
        forecast(_df(), 1, methods=[Croston(), "croston"])


def test_intervals_are_clipped_and_ordered() -> None:
    out = forecast(_df(), 2, methods=["sba"], level=[0.8, 0.95])
    assert (out["sba-lo-95"] >= 0).all()
    assert (out["sba-lo-95"] <= out["sba-lo-80"]).all() and (out["sba-lo-80"] <= out["sba"]).all()
    assert (out["sba"] <= out["sba-hi-80"]).all() and (out["sba-hi-80"] <= out["sba-hi-95"]).all()


def test_unsorted_periods_name_the_series() -> None:
    df = _df()
    df.loc[[0, 1], "ds"] = df.loc[[1, 0], "ds"].to_numpy()
    with pytest.raises(ZkValueError, match=r"'P1@YC' has unsorted periods"):
        forecast(df, 1, methods=["sba"])


def test_duplicated_periods_name_the_series() -> None:
    df = _df()
    df.loc[9, "ds"] = df.loc[8, "ds"]
    with pytest.raises(ZkValueError, match=r"'P2@PL' has duplicated periods"):
        forecast(df, 1, methods=["sba"])


def test_negative_demand_points_to_netting_returns() -> None:
    df = _df()
    df.loc[4, "y"] = -1.0
    with pytest.raises(ZkValueError, match="net returns"):
        forecast(df, 1, methods=["sba"])


def test_non_numeric_demand() -> None:
    df = _df().astype({"y": str})
    with pytest.raises(ZkTypeError, match="must be numeric"):
        forecast(df, 1, methods=["sba"])


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(ZkValueError, match=r"Unknown method 'holt'.*'croston'.*'imapa'"):
        forecast(_df(), 1, methods=["holt"])


@pytest.mark.parametrize("h", [0, -1, 1.5, True])
def test_bad_horizon(h) -> None:
    with pytest.raises(ZkValueError, match="'h' parameter"):
        forecast(_df(), h, methods=["sba"])


def test_extra_columns_error_or_ignored() -> None:
    df = _df().assign(depot_id="YC", price=1.0)
    with pytest.raises(ZkValueError, match=r"extra column\(s\) \['depot_id', 'price'\]"):
        forecast(df, 1, methods=["sba"])
    pd.testing.assert_frame_equal(forecast(df, 1, methods=["sba"], ignore_extra=True),
                                  forecast(_df(), 1, methods=["sba"]))


def test_auto_is_served_by_the_selection_module() -> None:
    out = forecast(_df(), 2)  # methods=("auto",) by default
    assert "auto" in out.columns and len(out) == 2 * _df()["unique_id"].nunique()
    assert (out["auto"] >= 0).all()


@pytest.mark.parametrize("name", ["croston", "sba", "sbj", "tsb", "croston_opt", "adida", "imapa"])
@pytest.mark.parametrize("conventions", ["zk", "statsforecast", "r"])
def test_forecast_only_paths_equal_the_fitted_paths(name: str, conventions: str) -> None:
    # the compiled forecast-only loops (fitted=False) must give the same forecasts as the full in-sample path
    from zk_forecast.demand.models import ESTIMATORS

    rng = np.random.default_rng(11)
    y = rng.poisson(0.8, size=(40, 60)) * (rng.random((40, 60)) < 0.35)
    y = y.astype(float)
    y[:3, :10] = np.nan  # not yet listed
    y[5] = 0.0
    y[6, :] = 0.0
    y[6, 30] = 4.0  # a single demand
    kwargs = {"alpha_d": 0.1, "alpha_p": 0.1} if name == "tsb" else {}
    if name in ("croston", "sba", "sbj", "croston_opt", "adida", "imapa", "tsb"):
        kwargs["conventions"] = conventions
    a = ESTIMATORS[name](**kwargs).fit(y, fitted=True).predict(3)
    b = ESTIMATORS[name](**kwargs).fit(y, fitted=False).predict(3)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


def test_dates_must_be_period_starts_and_freq_valid() -> None:
    df = _df()
    df.loc[0, "ds"] = pd.Timestamp("2023-12-27")
    with pytest.raises(ZkValueError, match="period"):
        forecast(df, 1, methods=["sba"])
    with pytest.raises(ZkValueError, match="freq"):
        forecast(_df(), 1, methods=["sba"], freq="D")


def test_renamed_columns_and_conventions() -> None:
    df = _df().rename(columns={"unique_id": "part", "ds": "week", "y": "qty"})
    out = forecast(
        df, 1, methods=["sba"], id_col="part", time_col="week", target_col="qty", conventions="statsforecast"
    )
    assert list(out.columns) == ["part", "week", "sba"]
    with pytest.raises(ZkValueError, match="conventions"):
        forecast(_df(), 1, methods=["sba"], conventions="python")


def test_forecast_panel_equals_forecast_of_the_long_frame() -> None:
    # the nightly batch forecasts build_panel's Panel directly; same numbers as the long route
    from zk_forecast.demand.forecast import forecast_panel
    from zk_forecast.demand.panel import Panel

    rng = np.random.default_rng(1)
    n, t = 50, 70
    y = ((rng.random((n, t)) < 0.3) * rng.geometric(0.4, (n, t))).astype(float)
    for i in range(n):
        y[i, : rng.integers(0, 30)] = np.nan  # series listed at different times
    ds = pd.date_range("2024-01-01", periods=t, freq="W-MON")
    long = pd.DataFrame({"unique_id": np.repeat([f"S{i:02d}" for i in range(n)], t), "ds": np.tile(ds, n),
                         "y": y.ravel()}).dropna()
    a = forecast(long, 5, methods=["auto", "sba"], level=[0.9])
    b = forecast_panel(Panel.from_long(long), 5, methods=["auto", "sba"], level=[0.9])
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("order", [("croston", "sba", "adida", "imapa", "croston_opt", "tsb"),
                                   ("imapa", "adida", "sba", "croston", "tsb", "croston_opt")])
@pytest.mark.parametrize("conventions", ["zk", "statsforecast"])
def test_one_call_equals_each_method_alone(order: tuple[str, ...], conventions: str) -> None:
    # methods fitted in one call share work (Croston/SBA recursions, ADIDA/IMAPA top level): same numbers exactly
    rng = np.random.default_rng(8)
    n, t = 40, 60
    y = ((rng.random((n, t)) < rng.uniform(0.05, 0.6, (n, 1))) * rng.poisson(2.0, (n, t))).astype(float)
    df = pd.DataFrame({"unique_id": np.repeat(np.arange(n), t),
                       "ds": np.tile(pd.date_range("2023-01-02", periods=t, freq="W-MON"), n), "y": y.ravel()})
    together = forecast(df, 4, methods=list(order), conventions=conventions)
    for m in order:
        alone = forecast(df, 4, methods=[m], conventions=conventions)
        np.testing.assert_array_equal(together[m].to_numpy(), alone[m].to_numpy())
