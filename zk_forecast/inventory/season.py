"""The season ahead: how much more (or less) demand an item's protection period will see than its fitted level.

Harvest parts are needed in 夏收 and 秋收, not in December. The plan's demand distributions are fitted on the
history with recency weights, which gives a level near the year's average; stocking to it holds harvest
quantities all year and too little before the harvest. :func:`protection_scale` turns the seasonal profiles the
demand engine fits (:func:`~zk_forecast.demand.seasonal.seasonal_profiles`, pooled per part across depots and
shrunk toward a flat profile where a part has little history) into one multiplier per item: the mean seasonal
index of the periods its next order has to cover, the ``L + R`` periods after the plan date (the period after the
last one of the history). :func:`~zk_forecast.inventory.plan.plan` (``season_length=52``) scales each item's
demand over the protection period by it, so the levels ramp up before a season and run down after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.demand.panel import Panel
from zk_forecast.demand.seasonal import seasonal_profiles
from zk_forecast.errors import ZkValueError

__all__ = ["protection_scale"]

_POSITIONS = {("W-MON", 52), ("MS", 12), ("W-MON", 12)}


def _positions(dates: pd.DatetimeIndex, freq: str, season_length: int) -> np.ndarray:
    """Season position of each period start, as :func:`~zk_forecast.demand.seasonal.season_positions` counts."""
    if season_length == 12:
        return (dates.month.to_numpy() - 1).astype(np.int64)
    return np.minimum((dates.day_of_year.to_numpy() - 1) // 7, 51).astype(np.int64)


def protection_scale(panel: Panel, protection: Any, *, season_length: int = 52, groups: Any = "part_no",
                     shrinkage: float = 2.0) -> np.ndarray:
    """Mean seasonal index of each series over the periods its next order covers [-] (module notes).

    Parameters
    ----------
    panel : Panel
        Demand history; the plan date is the period after its last one.
    protection : array-like of int, shape (n_series,)
        ``L + R`` per series [periods]: the periods after the plan date whose demand the order covers.
    season_length : {52, 12}, default 52
        Periods per year [periods]: 52 for weekly panels, 12 for monthly ones (or months of a weekly panel).
    groups : str, array-like or None, default "part_no"
        Pools of the seasonal profiles (:func:`~zk_forecast.demand.seasonal.seasonal_profiles`): by default one per
        part across its depots.
    shrinkage : float, default 2.0
        Pseudo-count toward a flat profile [demand periods per season position].

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        The multiplier of each series' demand over its protection period [-]; 1 where the history shows no season.
    """
    if (panel.freq, season_length) not in _POSITIONS:
        raise ZkValueError(f"season_length={season_length!r} does not fit a panel of freq {panel.freq!r}; use 52 "
                           "(or 12) for weekly panels and 12 for monthly ones.")
    prot = np.asarray(protection, dtype=np.int64).ravel()
    n = len(panel)
    if prot.size != n or np.any(prot < 1):
        raise ZkValueError(f"protection needs one period count >= 1 per series ({n}); got shape {prot.shape}.")
    if n == 0:
        return np.ones(0)
    if isinstance(groups, str) and groups in panel.series.columns:
        labels = panel.series[groups].astype(str).to_numpy()
    elif groups is None:
        labels = np.full(n, "(all)", dtype=object)
    else:
        labels = np.asarray(groups, dtype=object).astype(str)
        if labels.size != n:
            raise ZkValueError(f"groups has {labels.size} labels for {n} series; give one per series.")
    prof = seasonal_profiles(panel, groups=labels, season_length=season_length, shrinkage=shrinkage)
    table = prof.to_numpy(dtype=np.float64)  # groups x positions, each row averaging 1
    row = prof.index.get_indexer(pd.Index(labels))
    step = pd.tseries.frequencies.to_offset(panel.freq)
    start = pd.Timestamp(panel.periods[-1]) + step
    width = int(prot.max())
    ahead = pd.date_range(start, periods=width, freq=panel.freq)
    pos = _positions(ahead, panel.freq, season_length)
    idx = table[np.maximum(row, 0)][:, pos]  # series x periods ahead
    inside = np.arange(width)[None, :] < prot[:, None]
    scale = (idx * inside).sum(axis=1) / prot
    return np.where(row >= 0, scale, 1.0)
