"""Component lives in engine hours from service tickets, and the machines' usage over the calendar.

Three functions, each one vectorised over machines (pandas groupby and numpy; no Python loop per machine):

:func:`usage_profile`
    Engine hours per calendar month by machine type [h/month], estimated from the tickets' ``machine_hours``.
:func:`machine_hours`
    Each machine's usage factor and its estimated hours [h] at a date (``as_of``).
:func:`build_lives`
    The life table per machine x component in engine hours, ready for
    :func:`~zk_forecast.failures.groups.fit_groups` and :mod:`zk_forecast.failures.installed_base`.

How the engine hours are read and estimated
-------------------------------------------
* **Readings.** Every ticket with ``machine_hours`` (any kind: failure, maintenance, installation, inspection,
  training) is a reading of the machine's hour meter on the day it was reported; the sale date is a reading of 0 h
  (machines start working when sold). Within a machine the readings are made non-decreasing in date order (running
  maximum), so a mistyped low reading never makes the meter run backwards. Negative hours are an error.
* **Profile.** Between two successive readings of a machine the meter advanced ``dh`` [h]; the span covers
  ``x_k`` months of calendar month ``k`` (fractions at the ends). Per machine type, non-negative least squares of
  ``dh`` on ``x`` (12 columns) gives the hours per month of each calendar month: the type's seasonal profile. A type
  without any usable span gets the profile fitted to all types together.
* **Usage factor.** A machine works ``f`` times the profile of its type:
  ``f = (H_last + s) / (P_last + s)``, with ``H_last`` its last reading [h], ``P_last`` the profile hours from its
  sale to that reading [h] and ``s = shrinkage_hours`` (default 50 h) pulling machines with little history
  towards ``f = 1``.
* **Hours at a date.** Between two readings: interpolated along the profile (the meter advances in proportion to
  the profile hours in between). After the last reading: ``H_last + f * (profile hours from the last reading to the
  date)``. Hence a machine's *current* hours at ``as_of`` are its last known hours plus its expected usage since
  then. Failure tickets without ``machine_hours`` get their hours the same way (column ``hours_imputed``).

The life table
--------------
Each failure ticket (``kind == "failure"``) of a component replaces it, ending a life: ``time`` = hours at the
failure minus hours at the previous replacement of that component on that machine (or 0 h, new). The last life of
every machine x component is a suspension (``censored = 1``) at the machine's hours at ``as_of`` (or at its
``retired_date`` if it retired before). The components of a machine are those of its model in ``component_parts``
plus any component seen in its failure tickets, so machines without a failure of a component contribute one
censored life. Duplicate failure tickets (same machine, component and hours) count once; lives of zero length
(a suspension right at a replacement) are dropped, as they carry no information.

**Left truncation (``entry``).** Service records begin at ``history_start`` (by default the first ticket's date).
For a machine sold earlier, replacements before that date are unknown; the first recorded life of each component
is taken to start at 0 h (the original part) and to be observed only from the machine's hours at
``history_start``: ``entry`` = those hours [h], so the likelihood is conditioned on the part surviving to then.
``entry`` is 0 for every later life and for machines sold after ``history_start``, and is set to 0 where the
estimate is not below the life's end (the estimate cannot be trusted there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize
from threadpoolctl import threadpool_limits

from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.schema import require_columns

__all__ = ["build_lives", "machine_hours", "usage_profile"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
LIFE_COLUMNS = [
    "serial_no",
    "model",
    "manufacturer",
    "machine_type",
    "depot_id",
    "component",
    "build_date",
    "sale_date",
    "life_no",
    "start_hours",
    "end_hours",
    "time",
    "censored",
    "entry",
    "usage_factor",
    "hours_imputed",
]
_UNKNOWN_TYPE = "(unknown)"
_KEY = np.int64(1 << 20)  # day numbers since 1970 stay far below this


# ------------------------------------------------------------------------------------------------- helpers
def _days(values: Any) -> IntArray:
    """Day numbers since 1970-01-01 (time of day dropped); NaT becomes the smallest int64."""
    s = pd.Series(values)
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind == "M"):  # dates already need no parsing
        s = pd.to_datetime(s)
    arr = s.to_numpy(dtype="datetime64[ns]")
    return arr.astype("datetime64[D]").astype(np.int64)


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ZkValueError(f"`{name}` must be a date such as '2026-05-04'; got {value!r}.") from exc
    if ts is pd.NaT:
        raise ZkValueError(f"`{name}` must be a date such as '2026-05-04'; got {value!r}.")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _types(machines: pd.DataFrame) -> pd.Series:
    if "machine_type" in machines.columns:
        return machines["machine_type"].astype(object).fillna(_UNKNOWN_TYPE).astype(str)
    return pd.Series(_UNKNOWN_TYPE, index=machines.index)


def month_exposure(day0: int, n_days: int) -> FloatArray:
    """Cumulative months of each calendar month from ``day0`` to the start of each later day.

    Parameters
    ----------
    day0 : int [days since 1970-01-01]
        First day.
    n_days : int [days]
        Number of days covered.

    Returns
    -------
    array (12, n_days + 1) [months]
        Column ``j``: months of January ... December elapsed from ``day0`` to the start of day ``day0 + j``
        (each day counts ``1 / days in its month``).
    """
    days = (day0 + np.arange(n_days)).astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    moy = month.astype(np.int64) % 12
    dim = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    w = np.zeros((12, n_days + 1))
    w[moy, np.arange(n_days) + 1] = 1.0 / dim
    return np.cumsum(w, axis=1)


def profile_hours(profile: pd.DataFrame, day0: int, n_days: int) -> FloatArray:
    """Cumulative profile hours of each machine type from ``day0`` to the start of each later day.

    Parameters
    ----------
    profile : DataFrame
        Index machine types, columns calendar months 1..12, values [h/month] (as :func:`usage_profile` returns).
    day0 : int [days since 1970-01-01]
    n_days : int [days]

    Returns
    -------
    array (n_types, n_days + 1) [h]
    """
    return profile.to_numpy(dtype=np.float64) @ month_exposure(day0, n_days)


def _check_profile(usage: Any) -> pd.DataFrame:
    if not isinstance(usage, pd.DataFrame):
        raise ZkTypeError(
            f"`usage` must be a DataFrame (machine types x months 1..12 [h/month], as usage_profile returns); "
            f"got {type(usage).__name__}."
        )
    if list(usage.columns) != list(range(1, 13)):
        raise ZkValueError(
            f"`usage` must have the columns 1..12 (calendar months); got {list(usage.columns)}. "
            "Fix: build it with usage_profile(tickets, machines)."
        )
    vals = usage.to_numpy(dtype=np.float64)
    if not np.isfinite(vals).all() or (vals < 0).any():
        raise ZkValueError("`usage` hours per month must be finite and >= 0. Fix: build it with usage_profile.")
    out = usage.copy()
    out.index = out.index.astype(str)
    return out


class _Readings:
    """Machines' hour-meter readings (sale = 0 h), sorted, made monotone, for vectorised look-ups."""

    def __init__(self, tickets: pd.DataFrame, machines: pd.DataFrame, as_of: pd.Timestamp) -> None:
        self.machines = machines.reset_index(drop=True)
        self.serial = self.machines["serial_no"].astype(str)
        self.code_of = pd.Series(np.arange(len(self.machines)), index=self.serial.to_numpy())
        self.mtype = _types(self.machines).to_numpy()
        self.sale_day = _days(self.machines["sale_date"])
        t = tickets[tickets["reported_at"] < as_of]
        t = t[t["machine_hours"].notna() & t["serial_no"].astype(str).isin(self.code_of.index)]
        code = self.code_of.reindex(t["serial_no"].astype(str).to_numpy()).to_numpy()
        day = _days(t["reported_at"])
        hours = t["machine_hours"].to_numpy(dtype=np.float64)
        code = np.r_[code, np.arange(len(self.machines))]
        day = np.r_[day, self.sale_day]
        hours = np.r_[hours, np.zeros(len(self.machines))]
        keep = day >= self.sale_day[code]  # a reading before the sale is a data error: ignored
        code, day, hours = code[keep], day[keep], hours[keep]
        order = np.lexsort((hours, day, code))
        code, day, hours = code[order], day[order], hours[order]
        hours = pd.Series(hours).groupby(code).cummax().to_numpy()
        last_of_day = np.r_[(code[1:] != code[:-1]) | (day[1:] != day[:-1]), True]
        self.code, self.day, self.hours = code[last_of_day], day[last_of_day], hours[last_of_day]
        self.key = self.code * _KEY + self.day
        self.day0 = int(min(self.sale_day.min(), self.day.min()))

    def spans(self) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
        """Successive reading pairs: machine code, first day, second day, hours advanced [h]."""
        same = self.code[1:] == self.code[:-1]
        return (self.code[1:][same], self.day[:-1][same], self.day[1:][same],
                (self.hours[1:] - self.hours[:-1])[same])

    def state(self, profile: pd.DataFrame, shrinkage_hours: float, day1: int
              ) -> tuple[FloatArray, FloatArray, IntArray]:
        """Cumulative profile table (types x days from day0), usage factor and type row per machine."""
        prof = profile.reindex(np.unique(self.mtype))
        if prof.isna().any().any():
            raise ZkValueError(
                f"`usage` has no profile for machine type(s) {sorted(prof.index[prof.isna().any(axis=1)])}. "
                "Fix: estimate it with usage_profile(tickets, machines) or add those rows."
            )
        self.type_row = pd.Series(np.arange(len(prof)), index=prof.index).reindex(self.mtype).to_numpy()
        self.cum = profile_hours(prof, self.day0, max(day1, int(self.day.max()) + 1) - self.day0 + 1)
        last = np.r_[self.code[1:] != self.code[:-1], True]
        lc, ld, lh = self.code[last], self.day[last], self.hours[last]
        p_last = self._cum(lc, ld) - self._cum(lc, self.sale_day[lc])
        factor = np.ones(len(self.machines))
        factor[lc] = (lh + shrinkage_hours) / (p_last + shrinkage_hours)
        self.factor = factor
        return self.cum, factor, self.type_row

    def _cum(self, code: IntArray, day: IntArray) -> FloatArray:
        idx = np.clip(day - self.day0, 0, self.cum.shape[1] - 1)
        return self.cum[self.type_row[code], idx]

    def hours_at(self, code: IntArray, day: IntArray) -> FloatArray:
        """Estimated meter hours [h] of machines ``code`` at the start of ``day`` (see the module docstring)."""
        code = np.asarray(code, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        pos = np.searchsorted(self.key, code * _KEY + day, side="right") - 1
        ok = (pos >= 0) & (self.code[np.maximum(pos, 0)] == code)
        p = np.maximum(pos, 0)
        h1, d1 = self.hours[p], self.day[p]
        nxt = np.minimum(p + 1, self.code.size - 1)
        has_next = ok & (nxt > p) & (self.code[nxt] == code)
        c_q, c_1, c_2 = self._cum(code, day), self._cum(code, d1), self._cum(code, self.day[nxt])
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(c_2 > c_1, (c_q - c_1) / (c_2 - c_1),
                            (day - d1) / np.maximum(self.day[nxt] - d1, 1))
        inter = h1 + (self.hours[nxt] - h1) * np.clip(frac, 0.0, 1.0)
        extra = h1 + self.factor[code] * np.maximum(c_q - c_1, 0.0)
        return np.where(ok, np.where(has_next, inter, extra), 0.0)


def _prepare(tickets: Any, machines: Any, as_of: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    tickets = require_columns(tickets, "tickets", ["serial_no", "reported_at", "machine_hours"])
    machines = require_columns(machines, "machines", ["serial_no", "model", "sale_date"])
    if machines["serial_no"].duplicated().any():
        dup = machines.loc[machines["serial_no"].duplicated(), "serial_no"].iloc[0]
        raise ZkValueError(f"The machines table lists serial_no {dup!r} twice; serial numbers must be unique.")
    if machines["sale_date"].isna().any():
        bad = machines.loc[machines["sale_date"].isna(), "serial_no"].iloc[0]
        raise ZkValueError(f"Machine {bad!r} has no sale_date; every machine needs one (usage starts at the sale).")
    hours = pd.to_numeric(tickets["machine_hours"], errors="coerce").astype("float64")
    neg = hours < 0
    if neg.any():
        row = tickets.loc[neg].iloc[0]
        raise ZkValueError(
            f"Negative machine_hours {float(row['machine_hours'])!r} on the ticket of machine {row['serial_no']!r} "
            f"reported {row['reported_at']}: engine hours are >= 0. Fix: correct or blank the reading."
        )
    if not np.isfinite(hours.dropna().to_numpy()).all():
        raise ZkValueError("machine_hours must be finite numbers [h]; found inf. Fix: correct or blank the reading.")
    tickets = tickets.assign(machine_hours=hours, reported_at=pd.to_datetime(tickets["reported_at"]))
    tickets = tickets[tickets["reported_at"].notna()]
    machines = machines.assign(sale_date=pd.to_datetime(machines["sale_date"]))
    first = min(machines["sale_date"].min(), tickets["reported_at"].min()) if len(tickets) else machines[
        "sale_date"].min()
    if as_of is None:
        if len(tickets) == 0:
            raise ZkValueError("No tickets, so no default `as_of`; pass as_of='YYYY-MM-DD'.")
        as_of_ts = tickets["reported_at"].max().normalize() + pd.Timedelta(days=1)
    else:
        as_of_ts = _timestamp(as_of, "as_of")
    if len(machines) == 0 or not as_of_ts > first:
        raise ZkValueError(
            f"`as_of` {as_of_ts.date()} is not after the start of the data ({first}); nothing was in service then. "
            "Fix: pass a later as_of (the day after the last ticket by default)."
        )
    in_service = machines[machines["sale_date"] < as_of_ts]
    return tickets, in_service, as_of_ts


# ------------------------------------------------------------------------------------------------- public
def usage_profile(tickets: pd.DataFrame, machines: pd.DataFrame, *, as_of: Any = None) -> pd.DataFrame:
    """Engine hours per calendar month by machine type, estimated from the tickets' hour-meter readings.

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets (``serial_no``, ``reported_at``, ``machine_hours`` [h]); tickets without hours are skipped.
    machines : DataFrame
        Canonical machines (``serial_no``, ``model``, ``sale_date``, ``machine_type``; a missing type is
        ``"(unknown)"``).
    as_of : date-like, optional
        Use only tickets reported before this date. Default: the day after the last ticket.

    Returns
    -------
    DataFrame
        Index ``machine_type``, columns the calendar months 1..12, values [h/month] for a typical machine of the
        type (non-negative least squares over all reading spans; see the module docstring). ``attrs["n_spans"]``
        counts the spans used per type.

    Raises
    ------
    ZkValueError
        Missing columns, negative hours, or ``as_of`` before the data.
    """
    tickets, machines, as_of_ts = _prepare(tickets, machines, as_of)
    return _usage(_Readings(tickets, machines, as_of_ts))


def _usage(r: _Readings) -> pd.DataFrame:
    """:func:`usage_profile` from the machines' readings."""
    code, d1, d2, dh = r.spans()
    n_days = int(r.day.max()) - r.day0 + 1
    expo = month_exposure(r.day0, n_days)
    x = (expo[:, d2 - r.day0] - expo[:, d1 - r.day0]).T  # (spans, 12) [months]
    types = r.mtype[code]
    names = sorted(set(r.mtype))
    rows, counts = {}, {}
    # one BLAS thread: the solver's many small vector operations only wait for each other across threads (on a
    # busy machine 70 times slower than in one thread; the same solution)
    with threadpool_limits(limits=1, user_api="blas"):
        pooled = optimize.nnls(x, dh)[0] if dh.size else np.zeros(12)
        for name in names:  # a handful of machine types
            sel = types == name
            counts[name] = int(sel.sum())
            rows[name] = optimize.nnls(x[sel], dh[sel])[0] if sel.sum() >= 12 else pooled
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(range(1, 13)))
    out.index.name = "machine_type"
    out.columns.name = "month"
    out.attrs["n_spans"] = counts
    return out


def machine_hours(tickets: pd.DataFrame, machines: pd.DataFrame, *, as_of: Any = None,
                  usage: pd.DataFrame | None = None, shrinkage_hours: float = 50.0) -> pd.DataFrame:
    """Each machine's usage factor and estimated engine hours at ``as_of``.

    Parameters
    ----------
    tickets, machines : DataFrame
        Canonical tables (see :func:`usage_profile`).
    as_of : date-like, optional
        Knowledge date: tickets reported before it are used, hours are estimated at its start. Default: the day
        after the last ticket.
    usage : DataFrame, optional
        Profile [h/month] from :func:`usage_profile`; estimated from the tickets when omitted.
    shrinkage_hours : float [h]
        Pseudo-hours pulling the usage factor of machines with little history towards 1. Default 50.

    Returns
    -------
    DataFrame
        One row per machine sold before ``as_of``: ``serial_no``, ``machine_type``, ``last_reading_day`` (date),
        ``last_reading_hours`` [h], ``usage_factor`` [-], ``hours`` [h] (estimated at ``as_of``).
    """
    tickets, machines, as_of_ts = _prepare(tickets, machines, as_of)
    prof = _check_profile(usage) if usage is not None else usage_profile(tickets, machines, as_of=as_of_ts)
    _check_shrinkage(shrinkage_hours)
    r = _Readings(tickets, machines, as_of_ts)
    q = int(_days([as_of_ts])[0])
    r.state(prof, shrinkage_hours, q + 1)
    codes = np.arange(len(r.machines))
    last = np.r_[r.code[1:] != r.code[:-1], True]
    return pd.DataFrame({
        "serial_no": r.serial.to_numpy(),
        "machine_type": r.mtype,
        "last_reading_day": pd.to_datetime(r.day[last].astype("datetime64[D]")),
        "last_reading_hours": r.hours[last],
        "usage_factor": r.factor,
        "hours": r.hours_at(codes, np.full(codes.size, q)),
    })


def _check_shrinkage(value: Any) -> None:
    if not (isinstance(value, float | int) and np.isfinite(value) and value >= 0):
        raise ZkValueError(f"`shrinkage_hours` must be a number >= 0 [h]; got {value!r}.")


def build_lives(
    tickets: pd.DataFrame,
    machines: pd.DataFrame,
    component_parts: pd.DataFrame | None = None,
    *,
    as_of: Any = None,
    usage: pd.DataFrame | None = None,
    history_start: Any = None,
    shrinkage_hours: float = 50.0,
) -> pd.DataFrame:
    """Component lives per machine x component in engine hours: failures end lives, the last life is censored.

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets: ``serial_no``, ``reported_at``, ``kind``, ``component``, ``machine_hours`` [h].
    machines : DataFrame
        Canonical machines: ``serial_no``, ``model``, ``sale_date``; also used when present: ``manufacturer``,
        ``machine_type``, ``depot_id``, ``build_date``, ``retired_date``.
    component_parts : DataFrame, optional
        Canonical component_parts; its (model, component) pairs say which components each machine carries.
        Default: the components seen in failure tickets of machines of the same model.
    as_of : date-like, optional
        Knowledge date (exclusive): tickets reported before it are used, machines sold before it are in service,
        the last lives are censored at the hours estimated at its start. Default: the day after the last ticket.
    usage : DataFrame, optional
        Usage profile [h/month] (:func:`usage_profile`); estimated from the tickets when omitted.
    history_start : date-like, optional
        The date service records begin. Default: the first ticket's date. Machines sold before it get left
        truncation on their first lives (see the module docstring).
    shrinkage_hours : float [h]
        See :func:`machine_hours`.

    Returns
    -------
    DataFrame
        One row per life, sorted by ``serial_no``, ``component``, ``life_no``: ``serial_no``, ``model``,
        ``manufacturer``, ``machine_type``, ``depot_id``, ``component``, ``build_date``, ``sale_date``,
        ``life_no`` (1, 2, ...), ``start_hours`` [h], ``end_hours`` [h], ``time`` = end - start [h] (> 0),
        ``censored`` (1 suspension / 0 failure), ``entry`` [h] (age of the part when observation began; left
        truncation), ``usage_factor`` [-] (the machine's, see :func:`machine_hours`) and ``hours_imputed``
        (True where the failure's hours were estimated). ``attrs``: ``as_of``, ``history_start``, ``usage``
        (the profile as a dict type -> 12 values [h/month]).

    Raises
    ------
    ZkValueError
        Missing columns, negative hours, ``as_of`` before the data, duplicated serial numbers.

    Examples
    --------
    >>> lives = build_lives(store.read("tickets"), store.read("machines"),
    ...                     store.read("component_parts"))  # doctest: +SKIP
    >>> fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry")  # doctest: +SKIP
    """
    require_columns(tickets, "tickets", ["serial_no", "reported_at", "kind", "component", "machine_hours"])
    tickets, machines, as_of_ts = _prepare(tickets, machines, as_of)
    _check_shrinkage(shrinkage_hours)
    r = _Readings(tickets, machines, as_of_ts)
    # the profile from the same readings (usage_profile(tickets, machines, as_of=as_of_ts) would read them again)
    prof = _check_profile(usage) if usage is not None else _usage(r)
    h_start = tickets["reported_at"].min() if history_start is None else _timestamp(history_start, "history_start")
    m = r.machines
    q = int(_days([as_of_ts])[0])
    end_day = np.full(len(m), q, dtype=np.int64)
    if "retired_date" in m.columns:
        ret = m["retired_date"].notna().to_numpy()
        end_day = np.where(ret, np.minimum(_days(m["retired_date"]), q), q)
    r.state(prof, shrinkage_hours, q + 1)

    # failures, with hours (read or estimated); only those before the machine's end of observation
    f = tickets[(tickets["kind"] == "failure") & tickets["component"].notna()]
    f = f[f["serial_no"].astype(str).isin(r.code_of.index)]
    f_code = r.code_of.reindex(f["serial_no"].astype(str).to_numpy()).to_numpy()
    f_day = _days(f["reported_at"])
    keep = f_day < end_day[f_code]
    f, f_code, f_day = f[keep], f_code[keep], f_day[keep]
    missing = f["machine_hours"].isna().to_numpy()
    # read hours made monotone: at least the machine's highest reading of the days before
    raw = f["machine_hours"].to_numpy(dtype=np.float64, na_value=0.0)
    pos = np.searchsorted(r.key, f_code * _KEY + f_day - 1, side="right") - 1
    prior = np.where((pos >= 0) & (r.code[np.maximum(pos, 0)] == f_code), r.hours[np.maximum(pos, 0)], 0.0)
    f_hours = np.where(missing, r.hours_at(f_code, f_day), np.maximum(raw, prior))
    fail = pd.DataFrame({"code": f_code, "component": f["component"].astype(str).to_numpy(), "hours": f_hours,
                         "event": 1, "imputed": missing})
    fail = fail.drop_duplicates(["code", "component", "hours"])

    # machine x component pairs: from component_parts and from the failures themselves
    models = m["model"].astype(str)
    if component_parts is not None:
        require_columns(component_parts, "component_parts", ["model", "component"])
        pairs = component_parts[["model", "component"]].astype(str).drop_duplicates()
    else:
        pairs = pd.DataFrame({"model": models.to_numpy()[fail["code"].to_numpy()],
                              "component": fail["component"].to_numpy()}).drop_duplicates()
    owned = pd.DataFrame({"code": np.arange(len(m)), "model": models.to_numpy()}).merge(pairs, on="model")
    owned = pd.concat([owned[["code", "component"]], fail[["code", "component"]]]).drop_duplicates()
    end_hours = r.hours_at(np.arange(len(m)), end_day)
    ends = owned.assign(hours=end_hours[owned["code"].to_numpy()], event=0, imputed=False)
    ev = pd.concat([fail, ends], ignore_index=True).sort_values(["code", "component", "hours", "event"],
                                                                 kind="stable")
    grp = ev.groupby(["code", "component"], sort=False)
    ev["start_hours"] = grp["hours"].shift(1, fill_value=0.0)
    ev = ev[ev["hours"] > ev["start_hours"]].copy()
    ev["life_no"] = ev.groupby(["code", "component"], sort=False).cumcount() + 1
    code = ev["code"].to_numpy()

    # left truncation of first lives of machines sold before the records began
    hs_day = int(_days([h_start])[0])
    early = (r.sale_day[code] < hs_day) & (ev["life_no"].to_numpy() == 1)
    entry = np.where(early, r.hours_at(code, np.full(code.size, hs_day)), 0.0)
    entry = np.where(entry < ev["hours"].to_numpy(), entry, 0.0)

    def col(name: str, default: Any = pd.NA) -> Any:
        return m[name].to_numpy()[code] if name in m.columns else np.full(code.size, default, dtype=object)

    out = pd.DataFrame({
        "serial_no": r.serial.to_numpy()[code],
        "model": models.to_numpy()[code],
        "manufacturer": col("manufacturer"),
        "machine_type": r.mtype[code],
        "depot_id": col("depot_id"),
        "component": ev["component"].to_numpy(),
        "build_date": col("build_date", pd.NaT),
        "sale_date": m["sale_date"].to_numpy()[code],
        "life_no": ev["life_no"].to_numpy().astype(np.int64),
        "start_hours": ev["start_hours"].to_numpy(dtype=np.float64),
        "end_hours": ev["hours"].to_numpy(dtype=np.float64),
        "time": (ev["hours"] - ev["start_hours"]).to_numpy(dtype=np.float64),
        "censored": (1 - ev["event"]).to_numpy().astype(np.int64),
        "entry": entry,
        "usage_factor": r.factor[code],
        "hours_imputed": ev["imputed"].to_numpy(dtype=bool),
    })
    out = out.sort_values(["serial_no", "component", "life_no"], kind="stable").reset_index(drop=True)
    out.attrs.update({
        "as_of": as_of_ts,
        "history_start": h_start,
        "usage": {str(k): [float(v) for v in row] for k, row in prof.iterrows()},
    })
    return out
