"""The follow-up and maintenance-due list: which machines need a service or a visit/call in the next days.

Maintenance (one row per machine × service level due)
-----------------------------------------------------
The ``maintenance_plans`` of a machine's model list its service levels (e.g. 250小时保养 every 250 h or 180 days,
whichever comes first) and each level's kit. For every machine in service at ``as_of`` (sold before it, not
retired) and every level of its model:

* **Last done.** A maintenance ticket (``kind == "maintenance"``) did a level when the maintenance issues linked
  to it (``part_issues`` with that ``ticket_id``) include every part of the level's kit; so a 500 h service, whose
  kit holds the 250 h kit, also counts as a 250 h service. Without ``part_issues`` every maintenance ticket counts
  as every level. Never done: the sale (0 h, the sale date).
* **Due by hours.** At ``last hours + interval_hours`` [h]. The machine's hours at ``as_of`` and its usage factor
  come from :func:`zk_forecast.failures.lives.machine_hours`; later hours follow its type's seasonal profile
  (:func:`~zk_forecast.failures.lives.usage_profile`) × the factor, so a combine in winter accrues nothing. A
  level already past its hours is due at ``as_of``. A last service without an hour reading leaves only the days.
* **Due by days.** ``interval_days`` after the last service.
* The **due date** is the earlier of the two (``due_by`` says which). Rows with a due date up to
  ``as_of + horizon_days`` are listed; an earlier due date is ``overdue``.
* A one-off level (its name matches ``first_service_pattern``, e.g. 首次保养(50小时)) is due once after the sale and
  never again once done. When several levels of a machine fall due in the window, a level whose kit is contained in
  another due level's kit is left out (the larger service covers it).

Follow-up (one row per machine)
-------------------------------
A machine whose last contact (its latest ticket of any kind, else its sale date) is ``follow_up_days`` or more
before ``as_of + horizon_days`` is due a follow-up visit/call (回访) on ``last contact + follow_up_days``.

The list is sorted by depot, due date and serial number; :attr:`Reminders.kits` adds the parts each depot needs
for the maintenance rows.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.lives import machine_hours, profile_hours, usage_profile
from zk_forecast.schema import require_columns
from zk_forecast.service.kpis import _datetime

__all__ = ["REMINDER_COLUMNS", "Reminders", "maintenance_due"]

#: Columns of :attr:`Reminders.table`: name → (Chinese label, English label).
REMINDER_COLUMNS: dict[str, tuple[str, str]] = {
    "depot_id": ("网点", "depot"),
    "due_date": ("到期日期", "due date"),
    "serial_no": ("出厂编号", "serial number"),
    "model": ("机型", "model"),
    "customer_id": ("客户编码", "customer"),
    "task": ("任务", "task"),
    "service": ("保养项目", "service"),
    "due_by": ("到期依据", "due by"),
    "overdue": ("已逾期", "overdue"),
    "hours_now": ("当前小时数(估)", "hours now (est.) [h]"),
    "due_hours": ("到期小时数", "due at [h]"),
    "last_done": ("上次保养/联系", "last service/contact"),
    "kit": ("所需配件", "kit (part x quantity)"),
}
_VALUE_ZH = {"maintenance": "保养", "follow_up": "回访", "hours": "按工作小时", "days": "按天数", "contact": "距上次联系"}
_FOLLOW_UP_ZH = "回访 follow-up"


@dataclass
class Reminders:
    """Machines due maintenance or a follow-up in the window ``[.., as_of + horizon_days]``.

    Attributes
    ----------
    table : DataFrame
        Columns of :data:`REMINDER_COLUMNS`; ``task`` is ``"maintenance"`` or ``"follow_up"``, ``due_by``
        ``"hours"``, ``"days"`` or ``"contact"``; hours in [h].
    kits : DataFrame
        Per depot × part: ``quantity`` [units] for all maintenance rows and ``machines`` needing it.
    as_of : pandas.Timestamp
    horizon_days : int [days]
    """

    table: pd.DataFrame
    kits: pd.DataFrame
    as_of: pd.Timestamp
    horizon_days: int

    def to_report(self, lang: str = "zh") -> pd.DataFrame:
        """The list with Chinese (default, values translated too) or English column labels."""
        if lang not in ("zh", "en"):
            raise ZkValueError(f"The 'lang' parameter must be 'zh' or 'en'; got {lang!r} instead.")
        df = self.table.copy()
        df["due_date"] = df["due_date"].dt.strftime("%Y-%m-%d")
        df["last_done"] = df["last_done"].dt.strftime("%Y-%m-%d")
        df["hours_now"] = df["hours_now"].round(0)
        if lang == "zh":
            df["task"] = df["task"].map(_VALUE_ZH)
            df["due_by"] = df["due_by"].map(_VALUE_ZH)
            df["overdue"] = np.where(df["overdue"], "是", "")
        i = 0 if lang == "zh" else 1
        return df.rename(columns={k: v[i] for k, v in REMINDER_COLUMNS.items()})

    def by_depot(self) -> dict[str, pd.DataFrame]:
        """The list split per depot (each sorted by due date)."""
        return {str(k): g.reset_index(drop=True) for k, g in self.table.groupby("depot_id", sort=True)}

    def _repr_html_(self) -> str:
        n = self.table["task"].value_counts()
        head = (f"<b>保养与回访提醒 Maintenance and follow-up due</b> by {(self.as_of + pd.Timedelta(days=self.horizon_days)).date()}"
                f": {int(n.get('maintenance', 0))} services, {int(n.get('follow_up', 0))} follow-ups")
        return head + html.unescape(self.to_report("zh").head(30).to_html(index=False))


def maintenance_due(
    machines: pd.DataFrame,
    tickets: pd.DataFrame,
    maintenance_plans: pd.DataFrame,
    part_issues: pd.DataFrame | None = None,
    *,
    as_of: Any = None,
    horizon_days: int = 30,
    follow_up_days: int | None = 180,
    usage: pd.DataFrame | None = None,
    first_service_pattern: str = r"首次|first|initial",
) -> Reminders:
    """List the machines due a maintenance service or a follow-up within ``horizon_days`` (module docstring).

    Parameters
    ----------
    machines : DataFrame
        Canonical machines: ``serial_no``, ``model``, ``depot_id``, ``sale_date``; ``customer_id``,
        ``machine_type`` and ``retired_date`` used when present.
    tickets : DataFrame
        Canonical tickets: ``ticket_id``, ``serial_no``, ``reported_at``, ``kind``, ``machine_hours`` [h].
    maintenance_plans : DataFrame
        Canonical plans: ``model``, ``service``, ``interval_hours`` [h], ``interval_days`` [days], ``part_no``,
        ``quantity`` [units].
    part_issues : DataFrame, optional
        Canonical part issues; the maintenance issues of a ticket tell which level it did.
    as_of : date-like, optional
        Today [date]. Default: the day after the last ticket.
    horizon_days : int [days], default 30
        Look-ahead window.
    follow_up_days : int [days] or None, default 180
        Contact interval for follow-up visits/calls; None lists no follow-ups.
    usage : DataFrame, optional
        Usage profile [h/month] from :func:`~zk_forecast.failures.lives.usage_profile`; estimated when omitted.
    first_service_pattern : str
        Regular expression for one-off service levels.

    Returns
    -------
    Reminders
    """
    require_columns(machines, "machines", ["serial_no", "model", "depot_id", "sale_date"])
    require_columns(tickets, "tickets", ["ticket_id", "serial_no", "reported_at", "kind", "machine_hours"])
    require_columns(maintenance_plans, "maintenance_plans", ["model", "service", "interval_hours", "interval_days",
                                                      "part_no", "quantity"])
    for name, value in (("horizon_days", horizon_days), ("follow_up_days", follow_up_days)):
        if value is None and name == "follow_up_days":
            continue
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
            raise ZkValueError(f"The {name!r} parameter must be a whole number of days >= 0; got {value!r}.")
    reported = _datetime(tickets, "reported_at", "tickets")
    if as_of is None:
        if reported.notna().sum() == 0:
            raise ZkValueError("No tickets, so no default `as_of`; pass as_of='YYYY-MM-DD'.")
        as_of_ts = reported.max().normalize() + pd.Timedelta(days=1)
    else:
        as_of_ts = pd.Timestamp(as_of).normalize()
    end = as_of_ts + pd.Timedelta(days=int(horizon_days))

    m = machines.assign(sale_date=_datetime(machines, "sale_date", "machines"))
    alive = m["sale_date"] < as_of_ts
    if "retired_date" in m.columns:
        alive &= ~(pd.to_datetime(m["retired_date"]) <= as_of_ts)
    m = m[alive].reset_index(drop=True)
    m["serial_no"] = m["serial_no"].astype(str)
    t = tickets.assign(reported_at=reported, serial_no=tickets["serial_no"].astype(str))
    t = t[(t["reported_at"] < as_of_ts) & t["serial_no"].isin(m["serial_no"])]
    info = m[["serial_no", "model", "depot_id", "sale_date"]].assign(
        customer_id=m["customer_id"] if "customer_id" in m.columns else pd.NA)
    info["model"] = info["model"].astype(str)

    rows = [_maintenance_rows(m, t, info, maintenance_plans, part_issues, as_of_ts, int(horizon_days), usage,
                              first_service_pattern)]
    if follow_up_days is not None:
        last = t.groupby("serial_no")["reported_at"].max()
        contact = pd.concat([info.set_index("serial_no")["sale_date"], last], axis=1).max(axis=1)
        due = contact.dt.normalize() + pd.Timedelta(days=int(follow_up_days))
        fu = info.set_index("serial_no").assign(last_done=contact.dt.normalize(), due_date=due)
        fu = fu[fu["due_date"] <= end].reset_index()
        fu = fu.assign(task="follow_up", service=_FOLLOW_UP_ZH, due_by="contact", hours_now=np.nan,
                       due_hours=np.nan, kit="")
        rows.append(fu)
    table = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else rows[0]
    table["overdue"] = table["due_date"] < as_of_ts
    table["due_date"] = pd.to_datetime(table["due_date"])
    table["last_done"] = pd.to_datetime(table["last_done"])
    table = table.sort_values(["depot_id", "due_date", "serial_no", "task", "service"], kind="stable")
    table = table[list(REMINDER_COLUMNS)].reset_index(drop=True)
    kits = _kits(table, maintenance_plans)
    return Reminders(table=table, kits=kits, as_of=as_of_ts, horizon_days=int(horizon_days))


def _maintenance_rows(m: pd.DataFrame, t: pd.DataFrame, info: pd.DataFrame, plans: pd.DataFrame,
                      part_issues: pd.DataFrame | None, as_of: pd.Timestamp, horizon: int,
                      usage: pd.DataFrame | None, pattern: str) -> pd.DataFrame:
    plans = plans.assign(model=plans["model"].astype(str), service=plans["service"].astype(str),
                         part_no=plans["part_no"].astype(str))
    levels = plans.groupby(["model", "service"], sort=True).agg(
        interval_hours=("interval_hours", "max"), interval_days=("interval_days", "max")).reset_index()
    levels["interval_hours"] = pd.to_numeric(levels["interval_hours"]).astype(float)
    levels["interval_days"] = pd.to_numeric(levels["interval_days"]).astype(float)
    levels["one_off"] = levels["service"].str.contains(pattern, regex=True, flags=re.IGNORECASE)
    kit_sets = plans.groupby(["model", "service"])["part_no"].agg(frozenset)
    kit_text = plans.sort_values(["model", "service", "part_no"]).assign(
        txt=lambda d: d["part_no"] + "×" + d["quantity"].astype(str)).groupby(["model", "service"])["txt"].agg("; ".join)

    # which level each maintenance ticket did
    mt = t[t["kind"] == "maintenance"][["ticket_id", "serial_no", "reported_at", "machine_hours"]]
    mt = mt.assign(ticket_id=mt["ticket_id"].astype(str)).merge(info[["serial_no", "model"]], on="serial_no")
    done = mt.merge(levels[["model", "service"]], on="model")
    if part_issues is not None and len(done):
        require_columns(part_issues, "part_issues", ["ticket_id", "part_no", "kind"])
        used = part_issues[part_issues["kind"] == "maintenance"][["ticket_id", "part_no"]].dropna().astype(str)
        used = used.drop_duplicates().assign(_has=True)
        need = done[["ticket_id", "model", "service"]].merge(plans[["model", "service", "part_no"]],
                                                              on=["model", "service"])
        need = need.merge(used, on=["ticket_id", "part_no"], how="left")
        full = need["_has"].notna().groupby([need["ticket_id"], need["service"]]).all()  # _has: True or missing
        full = full[full].index
        done = done.set_index(["ticket_id", "service"]).loc[lambda d: d.index.isin(full)].reset_index()
    done = done.sort_values(["serial_no", "service", "reported_at"]).drop_duplicates(["serial_no", "service"],
                                                                                      keep="last")

    pairs = info.merge(levels, on="model").merge(
        done[["serial_no", "service", "reported_at", "machine_hours"]], on=["serial_no", "service"], how="left")
    was_done = pairs["reported_at"].notna()
    pairs = pairs[~(pairs["one_off"] & was_done)].reset_index(drop=True)
    was_done = pairs["reported_at"].notna().to_numpy()
    last_day = pairs["reported_at"].dt.normalize().where(was_done, pairs["sale_date"])
    last_hours = pd.to_numeric(pairs["machine_hours"]).astype(float).to_numpy()
    last_hours = np.where(was_done, last_hours, 0.0)  # NaN stays NaN: no reading at the last service
    first = pairs["one_off"].to_numpy(dtype=bool)
    due_hours = np.where(first, pairs["interval_hours"], last_hours + pairs["interval_hours"].to_numpy())
    day_due = np.where(first, pairs["sale_date"], last_day) + pd.to_timedelta(pairs["interval_days"], unit="D")

    # hours: now and along the profile over the window
    if usage is None:
        usage = usage_profile(t, m, as_of=as_of)
    mh = machine_hours(t, m, as_of=as_of, usage=usage).set_index("serial_no")
    h0 = mh["hours"].reindex(pairs["serial_no"]).to_numpy(dtype=float)
    factor = mh["usage_factor"].reindex(pairs["serial_no"]).to_numpy(dtype=float)
    mtype = mh["machine_type"].reindex(pairs["serial_no"]).to_numpy()
    prof = usage.copy()
    prof.index = prof.index.astype(str)
    cum = profile_hours(prof, int(as_of.value // 86_400_000_000_000), horizon)  # (types, horizon + 1) [h]
    need_h = (due_hours - h0) / np.where(factor > 0, factor, np.nan)
    offset = np.full(len(pairs), np.nan)
    for row, name in enumerate(prof.index):  # a handful of machine types
        sel = mtype == name
        offset[sel] = np.searchsorted(cum[row], need_h[sel], side="left")
    offset = np.where(need_h <= 0, 0.0, offset)
    offset = np.where(np.isfinite(need_h) & (offset <= horizon), offset, np.nan)  # not reached in the window
    hours_due = as_of + pd.to_timedelta(offset, unit="D")
    day_due_s = pd.Series(pd.to_datetime(day_due))
    by_hours = pd.Series(hours_due).notna().to_numpy() & (pd.Series(hours_due) <= day_due_s.fillna(pd.Timestamp.max))
    due = np.where(by_hours, pd.Series(hours_due), day_due_s)
    pairs["due_date"] = pd.to_datetime(due)
    pairs["due_by"] = np.where(by_hours, "hours", "days")
    pairs["hours_now"] = h0
    pairs["due_hours"] = due_hours
    pairs["last_done"] = last_day
    end = as_of + pd.Timedelta(days=horizon)
    out = pairs[pairs["due_date"].notna() & (pairs["due_date"] <= end)].reset_index(drop=True)

    # a level whose kit lies inside another due level's kit is covered by that larger service
    if len(out):
        kit = [kit_sets.get((a, b), frozenset()) for a, b in zip(out["model"], out["service"], strict=True)]
        out["_kit"] = kit
        j = out[["serial_no", "service", "_kit", "interval_hours"]].reset_index().merge(
            out[["serial_no", "service", "_kit", "interval_hours"]], on="serial_no", suffixes=("", "_b"))
        j = j[j["service"] != j["service_b"]]
        covered = [(a < b) or (a == b and ha < hb) for a, b, ha, hb in
                   zip(j["_kit"], j["_kit_b"], j["interval_hours"], j["interval_hours_b"], strict=True)]
        drop = set(j["index"][np.asarray(covered, dtype=bool)]) if len(j) else set()
        out = out.drop(index=list(drop)).drop(columns="_kit").reset_index(drop=True)
    out["kit"] = [kit_text.get((a, b), "") for a, b in zip(out["model"], out["service"], strict=True)]
    return out.assign(task="maintenance")[[c for c in REMINDER_COLUMNS if c != "overdue"]]


def _kits(table: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    """Parts [units] per depot for the maintenance rows of the list."""
    mt = table[table["task"] == "maintenance"][["depot_id", "serial_no", "model", "service"]]
    p = plans.assign(model=plans["model"].astype(str), service=plans["service"].astype(str),
                     part_no=plans["part_no"].astype(str),
                     quantity=pd.to_numeric(plans["quantity"]).astype("int64"))
    k = mt.merge(p[["model", "service", "part_no", "quantity"]], on=["model", "service"])
    return k.groupby(["depot_id", "part_no"], sort=True).agg(
        quantity=("quantity", "sum"), machines=("serial_no", "nunique")).reset_index()
