"""Price check: the same part sold at different prices across depots in the same period.

The promise is one price everywhere. Per part × period (month by default) × depot the *depot price* is the
median unit price [CNY] of that depot's sales lines (issue kinds ``repair``, ``maintenance``, ``counter_sale`` by
default; transfers move stock at cost and returns refund, so neither is a sale). Only part × period pairs sold by
at least two depots are compared. The *reference price* of a pair is

* ``reference="mode"`` (default): the price charged by the most depots; a tie goes to the lowest of the tied
  prices (a customer's grievance is being charged more), or
* ``reference="median"``: the median of the depot prices.

Prices within ``tolerance`` (default 0.5 %) of each other count as one price when the most common one is sought,
and a depot is listed only when its price differs from the reference by more than ``tolerance`` (relative) — so
rounding to the fen or the jiao never shows up as a difference.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zk_forecast.calendar import normalize_freq, period_start
from zk_forecast.errors import ZkValueError
from zk_forecast.schema import require_columns
from zk_forecast.service.kpis import _datetime

__all__ = ["PRICE_COLUMNS", "PriceDifferences", "price_differences"]

#: Columns of :attr:`PriceDifferences.table`: name → (Chinese label, English label).
PRICE_COLUMNS: dict[str, tuple[str, str]] = {
    "part_no": ("存货编码", "part number"),
    "period": ("期间", "period"),
    "depot_id": ("网点", "depot"),
    "depot_price": ("网点售价(元)", "depot price [CNY]"),
    "reference_price": ("参考价(元)", "reference price [CNY]"),
    "difference_cny": ("差价(元)", "difference [CNY]"),
    "difference_pct": ("差价率(%)", "difference [%]"),
    "quantity": ("销售数量", "quantity sold"),
    "amount_cny": ("差价金额(元)", "difference x quantity [CNY]"),
    "n_depots": ("销售网点数", "depots selling"),
    "depot_prices": ("各网点售价", "prices by depot"),
}
_SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "depot_id": ("网点", "depot"),
    "part_no": ("存货编码", "part number"),
    "periods": ("差价期间数", "periods with a difference"),
    "first_period": ("首次出现", "first period"),
    "last_period": ("最近出现", "last period"),
    "median_difference_pct": ("差价率中位数(%)", "median difference [%]"),
    "quantity": ("销售数量", "quantity sold"),
    "amount_cny": ("差价金额合计(元)", "total difference x quantity [CNY]"),
}


@dataclass
class PriceDifferences:
    """Depots that sold a part at a different price from the other depots in the same period.

    Attributes
    ----------
    table : DataFrame
        One row per part × period × depot whose price differs from the reference (columns of
        :data:`PRICE_COLUMNS`; ``difference_pct`` in percent, signed: positive = dearer than the reference).
    summary : DataFrame
        Per depot × part: periods with a difference, median difference [%], quantity and the total of
        difference × quantity [CNY] (what customers paid above, or below, the reference).
    reference : str
    tolerance : float [-]
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    reference: str
    tolerance: float

    def to_report(self, lang: str = "zh", table: str = "table") -> pd.DataFrame:
        """``table`` or ``summary`` with Chinese (default) or English column labels."""
        if lang not in ("zh", "en"):
            raise ZkValueError(f"The 'lang' parameter must be 'zh' or 'en'; got {lang!r} instead.")
        if table not in ("table", "summary"):
            raise ZkValueError(f"The 'table' parameter must be 'table' or 'summary'; got {table!r} instead.")
        df = getattr(self, table).copy()
        cols = PRICE_COLUMNS if table == "table" else _SUMMARY_COLUMNS
        for c in ("period", "first_period", "last_period"):
            if c in df.columns:
                df[c] = df[c].dt.strftime("%Y-%m-%d")
        i = 0 if lang == "zh" else 1
        return df.rename(columns={k: v[i] for k, v in cols.items()})

    def _repr_html_(self) -> str:
        head = (f"<b>各网点价格差异 Price differences</b>: {len(self.table)} rows, "
                f"{len(self.summary)} depot × part pairs (reference {html.escape(self.reference)}, "
                f"tolerance {self.tolerance:.2%})")
        return head + self.to_report("zh", "summary").to_html(index=False)


def price_differences(
    part_issues: pd.DataFrame,
    *,
    freq: str = "MS",
    reference: str = "mode",
    tolerance: float = 0.005,
    kinds: Iterable[str] = ("repair", "maintenance", "counter_sale"),
) -> PriceDifferences:
    """List the parts sold at different prices across depots in the same period (module docstring for rules).

    Parameters
    ----------
    part_issues : DataFrame
        Canonical part issues: ``issued_on``, ``depot_id``, ``part_no``, ``kind``, ``unit_price`` [CNY];
        ``quantity`` used when present. Lines without a price are skipped.
    freq : str, default "MS"
        Period: calendar months (``"MS"``) or weeks from Monday (``"W-MON"``).
    reference : {"mode", "median"}
        How the reference price of a part × period is chosen.
    tolerance : float [-], default 0.005
        Relative difference below which two prices count as the same (0.005 = 0.5 %).
    kinds : iterable of str
        Issue kinds that are sales to customers.

    Returns
    -------
    PriceDifferences
    """
    if reference not in ("mode", "median"):
        raise ZkValueError(f"The 'reference' parameter must be 'mode' or 'median'; got {reference!r} instead.")
    if not (isinstance(tolerance, float | int) and 0 <= tolerance < 1):
        raise ZkValueError(f"The 'tolerance' parameter must be a fraction in [0, 1) such as 0.005 (= 0.5 %); "
                           f"got {tolerance!r} instead.")
    canonical = normalize_freq(freq)
    require_columns(part_issues, "part_issues", ["issued_on", "depot_id", "part_no", "kind", "unit_price"])
    pi = part_issues[part_issues["kind"].isin(list(kinds)) & part_issues["unit_price"].notna()]
    qty = (pd.to_numeric(pi["quantity"], errors="coerce").fillna(0).to_numpy(dtype=float)
           if "quantity" in pi.columns else np.ones(len(pi)))
    lines = pd.DataFrame({
        "part_no": pi["part_no"].astype(str).to_numpy(),
        "period": period_start(_datetime(pi, "issued_on", "part_issues"), canonical).to_numpy(),
        "depot_id": pi["depot_id"].astype(str).to_numpy(),
        "price": pd.to_numeric(pi["unit_price"], errors="coerce").to_numpy(dtype=float),
        "quantity": qty,
    })
    lines = lines[lines["period"].notna() & np.isfinite(lines["price"])]
    dp = lines.groupby(["part_no", "period", "depot_id"], sort=True).agg(
        depot_price=("price", "median"), quantity=("quantity", "sum")).reset_index()
    dp["n_depots"] = dp.groupby(["part_no", "period"])["depot_id"].transform("size")
    dp = dp[dp["n_depots"] >= 2].reset_index(drop=True)
    ref = _reference(dp, reference, tolerance)
    dp["reference_price"] = ref
    dp["difference_cny"] = (dp["depot_price"] - ref).round(2)
    dp["difference_pct"] = ((dp["depot_price"] / ref - 1.0) * 100).round(2)
    dp["amount_cny"] = (dp["difference_cny"] * dp["quantity"]).round(2)
    differs = ((dp["depot_price"] - ref).abs() > tolerance * ref).to_numpy(dtype=bool)
    dp["depot_prices"] = _price_strings(dp, differs)
    table = dp[differs].reset_index(drop=True)
    table = table[list(PRICE_COLUMNS)]
    summary = table.groupby(["depot_id", "part_no"], sort=True).agg(
        periods=("period", "size"), first_period=("period", "min"), last_period=("period", "max"),
        median_difference_pct=("difference_pct", "median"), quantity=("quantity", "sum"),
        amount_cny=("amount_cny", "sum")).reset_index()
    summary = summary.sort_values(["amount_cny", "depot_id", "part_no"], ascending=[False, True, True],
                                  kind="stable").reset_index(drop=True)
    return PriceDifferences(table=table, summary=summary, reference=reference, tolerance=float(tolerance))


def _reference(dp: pd.DataFrame, reference: str, tolerance: float) -> np.ndarray:
    """Reference price [CNY] of each row's part × period (rows sorted by part, period, depot)."""
    keys = ["part_no", "period"]
    if reference == "median":
        return dp.groupby(keys)["depot_price"].transform("median").to_numpy(dtype=float)
    # mode: for each depot price, count the depots of the same pair within tolerance of it (a self-join within
    # the pair: pairs have at most a handful of depots), keep the price with most votes, ties to the lowest.
    d = dp[[*keys, "depot_price"]].reset_index()
    j = d.merge(d, on=keys, suffixes=("", "_o"))
    close = (j["depot_price_o"] - j["depot_price"]).abs() <= tolerance * j["depot_price"]
    votes = close.groupby(j["index"]).sum()
    d["votes"] = votes.reindex(d["index"]).to_numpy()
    best = d.sort_values([*keys, "votes", "depot_price"], ascending=[True, True, False, True], kind="stable")
    best = best.drop_duplicates(keys).set_index(keys)["depot_price"]
    return best.reindex(pd.MultiIndex.from_frame(dp[keys])).to_numpy(dtype=float)


def _price_strings(dp: pd.DataFrame, wanted: np.ndarray) -> np.ndarray:
    """'GY01 72.74; PL01 67.35' per row: all depot prices of the row's part × period.

    ``dp`` is sorted by part, period and depot, so each part × period is a run of rows. Only the pairs holding a
    ``wanted`` row (a depot listed for its difference) are written out; the other rows get None. The work is one
    ``str.join`` per written pair, not a pandas group apply per pair.
    """
    n = len(dp)
    out = np.full(n, None, dtype=object)
    if n == 0 or not wanted.any():
        return out
    part = dp["part_no"].to_numpy(dtype=object)
    period = dp["period"].to_numpy()
    new_pair = np.ones(n, dtype=bool)
    new_pair[1:] = (part[1:] != part[:-1]) | (period[1:] != period[:-1])
    starts = np.flatnonzero(new_pair)
    ends = np.append(starts[1:], n)
    pair = np.cumsum(new_pair) - 1
    keep = np.zeros(len(starts), dtype=bool)
    keep[pair[wanted]] = True
    depot = dp["depot_id"].to_numpy(dtype=object)
    price = dp["depot_price"].to_numpy(dtype=float)
    for s, e in zip(starts[keep].tolist(), ends[keep].tolist()):
        out[s:e] = "; ".join(f"{d} {x:.2f}" for d, x in zip(depot[s:e], price[s:e]))
    return out
