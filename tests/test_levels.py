"""``level`` is a fraction in (0, 1) everywhere (zk_forecast.levels); columns keep the percent figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zk_forecast.errors import ZkValueError
from zk_forecast.levels import check_levels, level_label, level_quantiles


def test_fractions_accepted_percentages_refused_with_the_fix() -> None:
    assert check_levels([0.8, 0.95], owner="f") == (0.8, 0.95) and check_levels(0.9, owner="f") == (0.9,)
    with pytest.raises(ZkValueError, match=r"'level' parameter of forecast.*write 0\.8 for 80 %.*0\.8"):
        check_levels([80], owner="forecast")
    for bad in (0, 1, -0.1, 100, True, "0.9", float("nan")):
        with pytest.raises(ZkValueError, match="fractions in \\(0, 1\\)"):
            check_levels([bad], owner="f")


def test_labels_are_percent_figures() -> None:
    assert [level_label(v) for v in (0.8, 0.9, 0.95, 0.975, 0.5)] == ["80", "90", "95", "97.5", "50"]


@given(st.floats(min_value=1e-6, max_value=1 - 1e-6))
def test_quantiles_are_central_and_cover_the_level(level: float) -> None:
    lo, hi = level_quantiles(level)
    assert 0 < lo < 0.5 < hi < 1 and hi - lo == pytest.approx(level, abs=1e-12)
    assert lo + hi == pytest.approx(1.0, abs=1e-12)


def test_the_same_interval_as_percent_levels_gave() -> None:
    # 0.5 + level / 2 equals the former 0.5 + percent / 200 bit for bit (division by 2 is exact)
    for pct in (50, 80, 90, 95, 99):
        assert level_quantiles(pct / 100)[1] == 0.5 + pct / 200.0
        assert level_quantiles(pct / 100)[0] == 0.5 - pct / 200.0


def test_forecast_and_installed_base_take_fractions() -> None:
    from zk_forecast.demand.forecast import forecast
    from zk_forecast.failures.installed_base import InstalledBaseForecaster

    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=10, freq="W-MON"),
                       "y": np.arange(10.0) % 3})
    out = forecast(df, 2, methods=["sba"], level=[0.9])
    assert {"sba-lo-90", "sba-hi-90"} <= set(out.columns)
    with pytest.raises(ZkValueError, match="write 0.9 for 90 %"):
        forecast(df, 2, methods=["sba"], level=[90])
    with pytest.raises(ZkValueError, match="write 0.9 for 90 %"):
        InstalledBaseForecaster(level=(90,))._check_settings()
