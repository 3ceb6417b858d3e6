"""Price check on hand-made issues: one depot dearer by 8 %, rounding within tolerance ignored."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.errors import ZkValueError
from zk_forecast.service import price_differences


def _issues(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["issued_on", "depot_id", "part_no", "unit_price"])
    df["issued_on"] = pd.to_datetime(df["issued_on"])
    df["kind"] = "repair"
    df["quantity"] = 2
    return df


def test_one_dearer_depot_found_rounding_ignored() -> None:
    df = _issues([
        ("2024-01-05", "YC01", "P", 10.00), ("2024-01-09", "PL01", "P", 10.00),
        ("2024-01-20", "QT01", "P", 10.03),  # +0.3 %: rounding, within the 0.5 % tolerance
        ("2024-01-21", "GY01", "P", 10.80),
        ("2024-02-01", "GY01", "P", 10.80),  # February: GY01 alone, nothing to compare
    ])
    r = price_differences(df)
    assert len(r.table) == 1
    row = r.table.iloc[0]
    assert (row["depot_id"], row["part_no"], row["period"]) == ("GY01", "P", pd.Timestamp("2024-01-01"))
    assert row["reference_price"] == 10.00 and row["difference_cny"] == pytest.approx(0.80)
    assert row["difference_pct"] == pytest.approx(8.0) and row["amount_cny"] == pytest.approx(1.60)
    assert row["depot_prices"] == "GY01 10.80; PL01 10.00; QT01 10.03; YC01 10.00"
    assert r.summary.iloc[0]["periods"] == 1
    assert "差价率(%)" in r.to_report("zh").columns and "difference [%]" in r.to_report("en").columns


def test_two_depot_tie_goes_to_lower_price_median_splits() -> None:
    df = _issues([("2024-03-02", "PL01", "P", 20.0), ("2024-03-03", "GY01", "P", 21.6)])
    assert price_differences(df).table["depot_id"].tolist() == ["GY01"]
    # the median of two prices lies between them: both depots are listed, 4 % either side (hand calculation)
    med = price_differences(df, reference="median").table
    assert sorted(med["difference_pct"].round(2)) == [-3.85, 3.85]


def test_transfers_and_weeks() -> None:
    df = _issues([("2024-03-04", "PL01", "P", 20.0), ("2024-03-11", "GY01", "P", 21.6)])
    assert len(price_differences(df).table) == 1  # same month
    assert len(price_differences(df, freq="W-MON").table) == 0  # different weeks
    df.loc[1, "kind"] = "transfer"
    assert len(price_differences(df).table) == 0


def test_bad_input() -> None:
    with pytest.raises(ZkValueError, match=r"lacks column\(s\) \['unit_price'\]"):
        price_differences(_issues([]).drop(columns="unit_price"))
    with pytest.raises(ZkValueError, match="tolerance"):
        price_differences(_issues([]), tolerance=5)
    with pytest.raises(ZkValueError, match="reference"):
        price_differences(_issues([]), reference="mean")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["2024-01-05", "2024-01-25", "2024-02-10"]),
                          st.sampled_from(["YC01", "PL01", "QT01", "GY01"]), st.sampled_from(["P", "Q", "R"]),
                          st.sampled_from([9.95, 10.0, 10.03, 10.5, 10.8, 11.0])), max_size=40),
       st.sampled_from(["mode", "median"]))
def test_depot_prices_list_every_depot_of_the_pair(rows: list[tuple[str, str, str, float]], reference: str) -> None:
    # property: a listed row's "prices by depot" names every depot that sold the part in that month, in depot order,
    # each with the median of its own prices (recounted here from the issues, one group at a time)
    df = _issues(rows)
    r = price_differences(df, reference=reference)
    month = df["issued_on"].dt.to_period("M").dt.to_timestamp()
    for row in r.table.itertuples(index=False):
        sold = df[(df["part_no"] == row.part_no) & (month == row.period)]
        med = sold.groupby("depot_id", sort=True)["unit_price"].median()
        assert row.depot_prices == "; ".join(f"{d} {p:.2f}" for d, p in med.items())
        assert row.n_depots == len(med) >= 2
        assert row.depot_price == med[row.depot_id]
