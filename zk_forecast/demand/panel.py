"""Demand panel: parts issues → one demand series per part × depot, on weekly or monthly periods.

A :class:`Panel` holds a float matrix ``values`` of shape (series, periods) [units of issue per period] beside
``series`` (one row per series: ``unique_id``, ``part_no``, ``depot_id``) and ``periods`` (the period starts).
:func:`build_panel` makes one from the canonical ``part_issues`` table (and optionally ``parts``).

Rules (the glossary of this module)
-----------------------------------
series
    One part number at one depot. Its ``unique_id`` is ``"PART|DEPOT"`` (e.g. ``"SF-LQ001A|YC01"``), a plain
    string so that it survives CSV, parquet and statsforecast's long format; ``part_no`` and ``depot_id`` stay
    available as columns of :attr:`Panel.series`. Part numbers and depot ids must therefore not contain ``|``.
    Series are sorted by part number, then depot. A series exists when the part (or a part it supersedes) has at
    least one demand-kind issue at the depot.
demand
    The sum of ``quantity`` over kinds ``repair``, ``maintenance`` and ``counter_sale``, plus returns (stored
    negative) netted into the period they come back in (:data:`zk_forecast.schema.DEMAND_KINDS`). Transfers move
    stock between depots; they are not demand and are only counted in the report.
clipped
    A period whose net demand is negative (more returned than issued) is set to 0. Each such cell is listed in
    :attr:`Panel.clipped` (``unique_id``, ``ds``, ``net``, ``clipped`` = the amount added back) [units].
listed
    A series is listed from the period of its first demand-kind issue, or from the part's introduction date when
    the parts table has an ``introduced_on`` column and that date is earlier. Periods before listing are missing
    (NaN), not zero: the part was not stocked or did not exist. After listing, a period without issues is 0.
gaps stay missing
    Periods the caller marks as missing through ``missing=`` (a depot closed, a stock-out, a window without data)
    are NaN whatever was issued in them; the demand so hidden is counted in ``report.quantity_masked``. Every
    method downstream skips NaN periods rather than reading them as zero demand.
supersession
    ``parts.superseded_by`` names the part that replaces a part; chains (A → B → C) are followed to the final
    successor, whose series receives the history of every part in its chain (summed per period). The mapping is
    :attr:`Panel.supersession` (``part_no``, ``final_part_no``, ``hops``, ``rows``, ``quantity``).
period
    ``freq="W-MON"`` (ISO weeks, labelled by their Monday) or ``"MS"`` (calendar months, labelled by their first
    day); see :func:`zk_forecast.calendar.normalize_freq`. The last period may be partial (the data end mid-week);
    pass ``end=`` to stop at the last complete one.

Accounting: ``report.rows_in == rows_demand + rows_transfer + rows_outside_span``, and
``nansum(values) == quantity_demand + quantity_clipped - quantity_masked``.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import normalize_freq, period_range, period_start
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.schema import DEMAND_KINDS, SERIES_SEP, series_id, split_series_id

__all__ = ["SEP", "Panel", "PanelReport", "build_panel", "resolve_supersession"]

#: Separator between part number and depot id in a ``unique_id``.
SEP = SERIES_SEP
_ISSUE_COLUMNS = ("issued_on", "depot_id", "part_no", "quantity", "kind")
_ALL_KINDS = ("repair", "maintenance", "counter_sale", "transfer", "return")
#: Series per block of the element-wise passes over a panel [series] (small temporaries, reused).
_ROW_BLOCK = 8192


@dataclass(frozen=True)
class PanelReport:
    """What :func:`build_panel` did with the rows it was given.

    Attributes
    ----------
    rows_in : int
        Rows of ``part_issues`` given [rows].
    rows_demand : int
        Demand-kind rows (repair, maintenance, counter_sale, return) inside the panel span [rows].
    rows_transfer : int
        Transfer rows, not demand [rows].
    rows_outside_span : int
        Demand-kind rows dated before ``start`` or after ``end`` [rows].
    quantity_demand : float
        Net demand of the ``rows_demand`` rows (returns negative) [units].
    quantity_clipped : float
        Added back by clipping negative net periods to 0 [units].
    quantity_masked : float
        Demand hidden in periods marked missing [units].
    quantity_in_panel : float
        ``nansum(values)`` = quantity_demand + quantity_clipped - quantity_masked [units].
    """

    rows_in: int
    rows_demand: int
    rows_transfer: int
    rows_outside_span: int
    quantity_demand: float
    quantity_clipped: float
    quantity_masked: float
    quantity_in_panel: float

    def as_dict(self) -> dict[str, float]:
        """The report as a plain dict."""
        return asdict(self)


class Panel:
    """Demand of many series on a common grid of periods.

    Parameters
    ----------
    values : array-like of float, shape (n_series, n_periods)
        Demand per period [units of issue]; NaN where missing (before listing, or marked missing).
    series : pandas.DataFrame
        One row per series, indexed by ``unique_id``, with columns ``part_no`` and ``depot_id``.
    periods : pandas.DatetimeIndex
        Period starts, one per column of ``values``, regular at ``freq``.
    freq : str, default "W-MON"
        Period length (``"W-MON"`` or ``"MS"``).
    clipped, supersession : pandas.DataFrame, optional
        Cells clipped to 0 and the supersession mapping (see the module notes).
    report : PanelReport, optional
        Accounting of the build.
    """

    def __init__(
        self,
        values: Any,
        series: pd.DataFrame,
        periods: pd.DatetimeIndex,
        freq: str = "W-MON",
        *,
        clipped: pd.DataFrame | None = None,
        supersession: pd.DataFrame | None = None,
        report: PanelReport | None = None,
    ) -> None:
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 2:
            raise ZkValueError(f"Panel values must be 2-D (series × periods); got shape {arr.shape}. Reshape them.")
        if arr.shape != (len(series), len(periods)):
            raise ZkValueError(
                f"Panel values have shape {arr.shape} but there are {len(series)} series and {len(periods)} "
                "periods; pass one row per series and one column per period."
            )
        if any(np.any(arr[r0:r0 + _ROW_BLOCK] < 0) for r0 in range(0, arr.shape[0], _ROW_BLOCK)):
            raise ZkValueError("Panel values must not be negative (net negative periods are clipped to 0 on build).")
        self.values = arr
        self.series = series
        self.periods = pd.DatetimeIndex(periods)
        self.freq = normalize_freq(freq)
        self.clipped = clipped if clipped is not None else _empty_clipped()
        self.supersession = supersession if supersession is not None else _empty_supersession()
        self.report = report

    # ---------------------------------------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, int]:
        """(n_series, n_periods)."""
        return self.values.shape  # type: ignore[return-value]

    @property
    def unique_id(self) -> pd.Index:
        """The series ids, ``"PART|DEPOT"``."""
        return self.series.index

    @property
    def part_no(self) -> np.ndarray:
        return self.series["part_no"].to_numpy()

    @property
    def depot_id(self) -> np.ndarray:
        return self.series["depot_id"].to_numpy()

    def __len__(self) -> int:
        return self.values.shape[0]

    def __repr__(self) -> str:
        return (f"Panel({self.shape[0]} series × {self.shape[1]} periods, freq={self.freq!r}, "
                f"{self._span()}, {np.isnan(self.values).mean():.0%} missing)")

    def _span(self) -> str:
        if len(self.periods) == 0:
            return "no periods"
        return f"{self.periods[0]:%Y-%m-%d}..{self.periods[-1]:%Y-%m-%d}"

    def _repr_html_(self) -> str:
        head = self.to_frame().iloc[:10, -8:]
        head.columns = [f"{c:%Y-%m-%d}" for c in head.columns]
        body = head.join(self.series.iloc[:10]).loc[:, ["part_no", "depot_id", *head.columns]]
        caption = html.escape(repr(self))
        return f"<div><p><b>{caption}</b></p>{body.to_html(na_rep='·', float_format=lambda v: f'{v:g}')}</div>"

    def to_frame(self) -> pd.DataFrame:
        """The wide table: one row per ``unique_id``, one column per period start [units]."""
        return pd.DataFrame(self.values, index=self.series.index, columns=self.periods, copy=False)

    def subset(self, rows: Any) -> Panel:
        """The panel restricted to some series (a boolean mask, positions or ``unique_id`` labels)."""
        if isinstance(rows, (list, tuple, pd.Index, np.ndarray)) and len(rows) and isinstance(
            np.asarray(rows).flat[0], str
        ):
            pos = self.series.index.get_indexer(pd.Index(rows))
            if (pos < 0).any():
                bad = [r for r, p in zip(rows, pos) if p < 0][:3]
                raise ZkValueError(f"unique_id {bad} not in the panel; check the 'PART|DEPOT' spelling.")
            rows = pos
        keep = np.arange(len(self))[rows]
        ids = self.series.index[keep]
        return Panel(self.values[keep], self.series.iloc[keep], self.periods, self.freq,
                     clipped=self.clipped[self.clipped["unique_id"].isin(ids)].reset_index(drop=True),
                     supersession=self.supersession)

    def last(self, n: int) -> Panel:
        """The panel restricted to its last ``n`` periods (e.g. ``last(52)`` for the latest year of weeks)."""
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ZkValueError(f"last(n) needs a whole number of periods >= 1; got {n!r}.")
        cut = self.periods[-n:]
        return Panel(self.values[:, -n:], self.series, cut, self.freq,
                     clipped=self.clipped[self.clipped["ds"] >= cut[0]].reset_index(drop=True),
                     supersession=self.supersession)

    # ------------------------------------------------------------------------------------- long format
    def to_long(self) -> pd.DataFrame:
        """Long format ``unique_id, ds, y`` (statsforecast's), one row per non-missing cell, NaN cells dropped."""
        n, t = self.shape
        ok = ~np.isnan(self.values)
        r, c = np.nonzero(ok)
        return pd.DataFrame({
            "unique_id": self.series.index.to_numpy()[r],
            "ds": self.periods.to_numpy()[c],
            "y": self.values[r, c],
        })

    @classmethod
    def from_long(
        cls,
        df: pd.DataFrame,
        freq: str = "W-MON",
        *,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        fill: str = "missing",
    ) -> Panel:
        """Build a panel from long format (the inverse of :meth:`to_long`).

        Parameters
        ----------
        df : pandas.DataFrame
            Columns ``id_col`` (``"PART|DEPOT"`` or any id), ``time_col`` (period starts) and ``target_col``
            [units]; one row per (id, period).
        freq : str, default "W-MON"
            Period length; every ``ds`` must be a period start (a Monday for weeks, the 1st for months).
        fill : {"missing", "zero"}, default "missing"
            What an absent (id, period) row means after the id's first row: ``"missing"`` (NaN; round-trips
            :meth:`to_long`) or ``"zero"`` (no demand; for inputs listing only non-zero demand).
        """
        canonical = normalize_freq(freq)
        if fill not in ("missing", "zero"):
            raise ZkValueError(f"The 'fill' parameter of Panel.from_long must be 'missing' or 'zero'; got {fill!r}.")
        for c in (id_col, time_col, target_col):
            if c not in df.columns:
                raise ZkValueError(f"from_long needs a column {c!r}; the frame has {list(df.columns)}. "
                                   f"Rename it or pass {c!r} through id_col/time_col/target_col.")
        ds = pd.DatetimeIndex(pd.to_datetime(df[time_col]))
        starts = pd.DatetimeIndex(period_start(ds, canonical))
        off = np.flatnonzero(starts != ds)
        if off.size:
            raise ZkValueError(
                f"ds {ds[off[0]]:%Y-%m-%d} is not the start of a {canonical} period ({starts[off[0]]:%Y-%m-%d}); "
                "label periods by their start, e.g. aggregate with calendar.period_start first."
            )
        y = pd.to_numeric(df[target_col]).to_numpy(dtype=np.float64)
        ids = df[id_col].astype(str).to_numpy()
        if len(df) == 0:
            return cls(np.zeros((0, 0)), _series_frame(np.array([], dtype=object)), pd.DatetimeIndex([]), canonical)
        periods = period_range(starts.min(), starts.max(), canonical)
        col = periods.get_indexer(starts)
        codes, uniq = pd.factorize(ids, sort=True)
        flat = codes.astype(np.int64) * len(periods) + col
        if np.unique(flat).size != flat.size:
            raise ZkValueError("from_long got the same (unique_id, ds) twice; sum duplicates first "
                               "(df.groupby([id, ds], as_index=False).sum()).")
        values = np.full((len(uniq), len(periods)), np.nan)
        values.flat[flat] = y
        if fill == "zero":
            first = np.full(len(uniq), len(periods))
            np.minimum.at(first, codes, col)
            after = np.arange(len(periods))[None, :] >= first[:, None]
            values = np.where(np.isnan(values) & after, 0.0, values)
        return cls(values, _series_frame(np.asarray(uniq, dtype=object)), periods, canonical)


# --------------------------------------------------------------------------------------------------- build
def resolve_supersession(parts: pd.DataFrame) -> pd.DataFrame:
    """Follow ``superseded_by`` chains to each part's final successor.

    Parameters
    ----------
    parts : pandas.DataFrame
        Columns ``part_no`` and ``superseded_by`` (empty / NA when the part is current).

    Returns
    -------
    pandas.DataFrame
        One row per superseded part: ``part_no``, ``final_part_no`` and ``hops`` (1 for A → B, 2 for A → B → C).

    Raises
    ------
    ZkValueError
        When the chains form a cycle (A → B → A); the message names the parts to fix.
    """
    if "superseded_by" not in parts.columns or "part_no" not in parts.columns:
        return _empty_supersession().iloc[:, :3]
    succ = parts["superseded_by"].astype("string").str.strip()
    has = succ.notna() & (succ != "") & (succ != parts["part_no"].astype("string"))
    step = pd.Series(succ[has].to_numpy(dtype=object), index=parts["part_no"][has].astype(str).to_numpy())
    step = step[~step.index.duplicated(keep="first")]
    final = step.copy()
    hops = pd.Series(1, index=step.index)
    moving = pd.Series(True, index=step.index)
    for _ in range(len(step) + 1):  # one pass per chain link, not per part
        nxt = final.map(step)
        moving = nxt.notna()
        if not moving.any():
            break
        final = final.where(~moving, nxt)
        hops = hops + moving.astype(int)
    if moving.any():
        bad = sorted(moving.index[moving])[:5]
        raise ZkValueError(
            f"parts.superseded_by forms a cycle through {bad}; a part cannot (indirectly) replace itself. "
            "Correct the 替代件号 of one of them."
        )
    return pd.DataFrame({"part_no": final.index.to_numpy(dtype=object),
                         "final_part_no": final.to_numpy(dtype=object),
                         "hops": hops.to_numpy(dtype=np.int64)}).sort_values("part_no", ignore_index=True)


def build_panel(
    issues: pd.DataFrame,
    parts: pd.DataFrame | None = None,
    *,
    freq: str = "W-MON",
    start: Any = None,
    end: Any = None,
    missing: pd.DataFrame | None = None,
) -> Panel:
    """Build the demand panel (part × depot × period) from parts issues.

    Parameters
    ----------
    issues : pandas.DataFrame
        The canonical ``part_issues`` table (``Store.read("part_issues")``); columns ``issued_on``,
        ``depot_id``, ``part_no``, ``quantity`` [units, returns negative] and ``kind`` are used.
    parts : pandas.DataFrame, optional
        The ``parts`` table: ``superseded_by`` moves history to the final successor; an optional
        ``introduced_on`` [date] lists a series from that date when it is earlier than the first issue.
    freq : str, default "W-MON"
        ``"W-MON"`` (ISO weeks from Monday) or ``"MS"`` (months).
    start, end : date-like, optional
        First and last day of the panel (default: the first demand issue and the last issue of any kind).
        Demand-kind rows outside are counted in ``report.rows_outside_span``.
    missing : pandas.DataFrame, optional
        Windows with no valid data, columns ``start``, ``end`` [dates, inclusive] and optionally ``part_no``
        and ``depot_id`` (NA or absent = every part / every depot). Every period overlapping a window is NaN
        for the matching series.

    Returns
    -------
    Panel
        With ``clipped``, ``supersession`` and ``report``; see the module notes for the rules.

    Notes
    -----
    Vectorised: factorisations of the distinct part numbers and depots, one ``bincount`` of the quantities
    into the (series × periods) cells and array masks; no Python loop over series or rows.
    """
    if not isinstance(issues, pd.DataFrame):
        raise ZkTypeError(f"build_panel needs the part_issues DataFrame; got {type(issues).__name__}. "
                          "Use Store(path).read('part_issues').")
    absent = [c for c in _ISSUE_COLUMNS if c not in issues.columns]
    if absent:
        raise ZkValueError(f"part_issues lacks columns {absent}; it needs {list(_ISSUE_COLUMNS)}. "
                           "Read it with Store(path).read('part_issues').")
    canonical = normalize_freq(freq)
    n_in = len(issues)
    kcode, kuniq = _factorize_text(issues["kind"], use_na_sentinel=False)
    unknown = [k for k in kuniq if k not in _ALL_KINDS]
    if unknown:
        raise ZkValueError(f"part_issues.kind holds {unknown[0]!r}, not one of {_ALL_KINDS}; "
                           "ingest the exports through zk_forecast.ingest, which maps 出库类别 labels.")
    is_demand = np.isin(kuniq, DEMAND_KINDS)[kcode]
    n_transfer = int((~is_demand).sum())
    # the demand rows are never copied as a frame: each column is reduced to numbers (or text codes) first
    for c in _ISSUE_COLUMNS[:4]:
        n_na = int(issues[c].isna().to_numpy()[is_demand].sum())
        if n_na:
            raise ZkValueError(f"{n_na} demand rows of part_issues have no {c}; "
                               "the store rejects such rows, so read the table from the store.")
    qty = issues["quantity"][is_demand].to_numpy(dtype=np.float64)
    days = issues["issued_on"][is_demand].to_numpy(dtype="datetime64[D]").view(np.int64)
    # distinct values first (a few thousand parts), rows only through integer codes
    pcode, puniq = _factorize_text(issues["part_no"], rows=is_demand)
    dcode, duniq = _factorize_text(issues["depot_id"], rows=is_demand)

    # supersession: rename every superseded part number to its final successor
    mapping = resolve_supersession(parts) if parts is not None else _empty_supersession().iloc[:, :3]
    final_of = pd.Series(mapping["final_part_no"].to_numpy(), index=mapping["part_no"].to_numpy())
    if len(final_of):
        moved = pd.Series(puniq).map(final_of)
        hit_u = moved.notna().to_numpy()
        hit = hit_u[pcode]
        stats = (pd.DataFrame({"part_no": puniq[pcode[hit]], "q": qty[hit]}).groupby("part_no")["q"]
                 .agg(["size", "sum"]).rename(columns={"size": "rows", "sum": "quantity"}))
        mapping = mapping.join(stats, on="part_no")
        mapping[["rows", "quantity"]] = mapping[["rows", "quantity"]].fillna(0)
        mapping["rows"] = mapping["rows"].astype(np.int64)
        puniq = np.where(hit_u, moved.to_numpy(dtype=object), puniq)
    else:
        mapping = _empty_supersession()
    for name, arr in (("part_no", puniq), ("depot_id", duniq)):
        if pd.Series(arr, dtype=object).str.contains(SEP, regex=False).any():
            raise ZkValueError(f"a {name} contains {SEP!r}, which separates part and depot in unique_id; "
                               "rename it in the exports.")
    # sorted codes: parts (after renaming) and depots in string order
    pfinal, puniq = pd.factorize(puniq, sort=True)
    dsort, duniq = pd.factorize(duniq, sort=True)
    pcode = pfinal[pcode]
    dcode = dsort[dcode]
    puniq = np.asarray(puniq, dtype=object)
    duniq = np.asarray(duniq, dtype=object)

    # periods: a lookup table over the day range maps each day to its column
    all_dates = issues["issued_on"].dropna()
    first_day = pd.Timestamp(start) if start is not None else (
        pd.Timestamp(np.datetime64(int(days.min()), "D")) if days.size else None)
    last_day = pd.Timestamp(end) if end is not None else (all_dates.max() if len(all_dates) else None)
    if first_day is None or last_day is None:
        periods = pd.DatetimeIndex([], dtype="datetime64[ns]")
        col = np.full(days.size, -1, dtype=np.int64)
    else:
        periods = period_range(first_day, last_day, canonical)
        d0 = int(np.datetime64(first_day.date(), "D").view(np.int64))
        d1 = int(np.datetime64(last_day.date(), "D").view(np.int64))
        if d1 < d0:
            raise ZkValueError(f"build_panel got end {last_day:%Y-%m-%d} before start {first_day:%Y-%m-%d}; swap them.")
        span = np.arange(d0, d1 + 1).view("datetime64[D]")
        table = periods.get_indexer(pd.DatetimeIndex(period_start(pd.DatetimeIndex(span), canonical)))
        rel = days - d0
        ok = (rel >= 0) & (rel <= d1 - d0)
        col = np.full(days.size, -1, dtype=np.int64)
        col[ok] = table[rel[ok]]
    inside = col >= 0
    n_out = int((~inside).sum())
    qty, pcode, dcode, col = qty[inside], pcode[inside], dcode[inside], col[inside]

    # series codes, sorted by part then depot: present (part, depot) pairs ranked through a bincount
    nd = max(len(duniq), 1)
    key = pcode.astype(np.int64) * nd + dcode
    present = np.bincount(key, minlength=len(puniq) * nd) > 0
    rank = np.cumsum(present) - 1
    ukey = np.flatnonzero(present)
    sidx = rank[key]
    ns, nt = ukey.size, len(periods)
    s_part = puniq[ukey // nd]
    s_depot = duniq[ukey % nd]
    ids = series_id(s_part, s_depot)
    series = _series_frame(ids, s_part, s_depot)
    flat = sidx.astype(np.int64) * nt + col
    # float64 (no copy), except that numpy gives int64 for no rows at all
    values = np.bincount(flat, weights=qty, minlength=ns * nt).astype(np.float64, copy=False).reshape(ns, nt)
    first = np.full(ns, nt, dtype=np.int64)
    np.minimum.at(first, sidx, col)

    if parts is not None and "introduced_on" in parts.columns and ns and nt:
        intro = pd.to_datetime(parts["introduced_on"])
        own = parts["part_no"].astype(str)
        intro_part = own.map(final_of).fillna(own).to_numpy(dtype=object)
        by_final = pd.Series(intro.to_numpy(), index=intro_part).dropna().groupby(level=0).min()
        d = pd.Series(s_part).map(by_final)
        ok = d.notna().to_numpy()
        if ok.any():
            icol = np.searchsorted(periods.to_numpy(), period_start(pd.DatetimeIndex(d[ok]), canonical).to_numpy())
            first[ok] = np.minimum(first[ok], icol)

    # clip net negative periods, then blank the unlisted periods; a cell can only be negative where a return
    # went in, so only those cells are looked at (in row-major order, as np.nonzero would list them)
    cand = np.unique(flat[qty < 0])
    neg = cand[values.ravel()[cand] < 0]
    nr, nc = np.divmod(neg, max(nt, 1))
    clipped = pd.DataFrame({"unique_id": series.index.to_numpy()[nr], "ds": periods.to_numpy()[nc],
                            "net": values[nr, nc], "clipped": -values[nr, nc]})
    values.ravel()[neg] = 0.0
    total = float(values.sum())  # before blanking: the unlisted cells hold no issues
    cols = np.arange(nt)[None, :]
    for r0 in range(0, ns, _ROW_BLOCK):  # blocks of series: no mask as large as the panel
        block = values[r0:r0 + _ROW_BLOCK]
        block[cols < first[r0:r0 + _ROW_BLOCK, None]] = np.nan
    masked = 0.0
    if missing is not None and ns and nt:
        mask = _missing_mask(missing, series, periods, canonical)
        masked = float(np.nansum(values[mask]))
        values[mask] = np.nan
    report = PanelReport(
        rows_in=n_in, rows_demand=int(inside.sum()), rows_transfer=n_transfer, rows_outside_span=n_out,
        quantity_demand=float(qty.sum()), quantity_clipped=float(clipped["clipped"].sum()),
        quantity_masked=masked, quantity_in_panel=total - masked,
    )
    return Panel(values, series, periods, canonical, clipped=clipped, supersession=mapping, report=report)


def _factorize_text(col: pd.Series, *, rows: np.ndarray | None = None, use_na_sentinel: bool = True
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values (object array) of a text column as ``pd.factorize(col.astype("string"))[rows]``
    gives them, with the distinct values restricted to those ``rows`` (a boolean mask) hold.

    A column already of pandas' ``string`` dtype (the store's, arrow-backed) is factorised as it is: converting it
    to ``string`` with another storage would copy every value into a Python object first.
    """
    text = col if isinstance(col.dtype, pd.StringDtype) else col.astype("string")
    codes, uniq = pd.factorize(text, use_na_sentinel=use_na_sentinel)
    uniq = np.asarray(uniq, dtype=object)
    if rows is None:
        return codes, uniq
    codes = codes[rows]
    seen = np.zeros(len(uniq) + 1, dtype=bool)  # the last slot: code -1 (missing)
    seen[codes] = True
    keep = seen[:-1]
    if keep.all():
        return codes, uniq
    new = np.cumsum(keep) - 1  # codes renumbered in the same order, over the values the rows hold
    return np.where(codes >= 0, new[codes], -1), uniq[keep]


def _missing_mask(missing: pd.DataFrame, series: pd.DataFrame, periods: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Boolean (series × periods) mask of the windows marked missing; one pass per window kind, not per series."""
    for c in ("start", "end"):
        if c not in missing.columns:
            raise ZkValueError(f"'missing' needs columns 'start' and 'end' (dates, inclusive); it has "
                               f"{list(missing.columns)}. Add optional 'part_no' / 'depot_id' to narrow a window.")
    w = missing.reset_index(drop=True).copy()
    w["w"] = np.arange(len(w))
    s = pd.DatetimeIndex(period_start(pd.DatetimeIndex(pd.to_datetime(w["start"])), freq))
    e = pd.DatetimeIndex(period_start(pd.DatetimeIndex(pd.to_datetime(w["end"])), freq))
    if (e < s).any():
        raise ZkValueError("a 'missing' window ends before it starts; swap its start and end.")
    p = periods.to_numpy()
    w["c0"] = np.searchsorted(p, s.to_numpy(), side="left")
    w["c1"] = np.searchsorted(p, e.to_numpy(), side="right")  # exclusive
    for c in ("part_no", "depot_id"):
        if c not in w.columns:
            w[c] = pd.NA
    sr = series.reset_index(drop=True).reset_index(names="row")[["row", "part_no", "depot_id"]]
    hits = []
    for has_p, has_d in ((True, True), (True, False), (False, True), (False, False)):
        sel = w[(w["part_no"].notna() == has_p) & (w["depot_id"].notna() == has_d)]
        if sel.empty:
            continue
        on = [c for c, h in (("part_no", has_p), ("depot_id", has_d)) if h]
        if on:
            sel = sel.astype({c: str for c in on})
            m = sel[["c0", "c1", *on]].merge(sr, on=on)
        else:
            m = sel[["c0", "c1"]].merge(sr, how="cross")
        hits.append(m[["row", "c0", "c1"]])
    diff = np.zeros((len(series), len(periods) + 1), dtype=np.int64)
    if hits:
        h = pd.concat(hits, ignore_index=True)
        h = h[h["c1"] > h["c0"]]
        np.add.at(diff, (h["row"].to_numpy(), h["c0"].to_numpy()), 1)
        np.add.at(diff, (h["row"].to_numpy(), h["c1"].to_numpy()), -1)
    return np.cumsum(diff, axis=1)[:, :-1] > 0


def _series_frame(ids: np.ndarray, part: Any = None, depot: Any = None) -> pd.DataFrame:
    """The series table: ``unique_id`` index, ``part_no`` and ``depot_id`` (split from the id when not given)."""
    if part is None or depot is None:
        part, depot = split_series_id(ids)
    return pd.DataFrame({"part_no": pd.array(np.asarray(part, dtype=object), dtype="string"),
                         "depot_id": pd.array(np.asarray(depot, dtype=object), dtype="string")},
                        index=pd.Index(ids, name="unique_id", dtype=object))


def _empty_clipped() -> pd.DataFrame:
    return pd.DataFrame({"unique_id": pd.Series([], dtype=object), "ds": pd.Series([], dtype="datetime64[ns]"),
                         "net": pd.Series([], dtype=float), "clipped": pd.Series([], dtype=float)})


def _empty_supersession() -> pd.DataFrame:
    return pd.DataFrame({"part_no": pd.Series([], dtype=object), "final_part_no": pd.Series([], dtype=object),
                         "hops": pd.Series([], dtype=np.int64), "rows": pd.Series([], dtype=np.int64),
                         "quantity": pd.Series([], dtype=float)})

