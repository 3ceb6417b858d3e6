"""What ``level`` means, everywhere in zk_forecast: an interval's coverage as a **fraction in (0, 1)**.

``forecast(..., level=[0.8, 0.95])``, ``InstalledBaseForecaster(level=(0.9,))``, the life models, the
comparisons and the reports all take ``level=0.9`` for a 90 % interval. Columns named after a level keep the
percent figure, as statsforecast names them (``sba-lo-90``, ``installed_base-hi-97.5``), so tables line up with
its output.

Percentages (``level=90``) are refused with the fix rather than accepted beside fractions: a value such as
``0.5`` would be ambiguous (50 % or 0.5 %).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zk_forecast.errors import ZkValueError

__all__ = ["check_levels", "level_label", "level_quantiles"]


def check_levels(level: Any, *, owner: str) -> tuple[float, ...]:
    """The levels of ``level`` (one number or several), each checked to be a fraction in (0, 1).

    Parameters
    ----------
    level : float or iterable of float
        Coverages [probability], e.g. ``0.9`` or ``[0.8, 0.95]``.
    owner : str
        The function or class taking it, named in the message.

    Raises
    ------
    ZkValueError
        A level is not a number strictly between 0 and 1; a percentage is named with its fraction as the fix.
    """
    values = [level] if isinstance(level, int | float) else list(level) if isinstance(level, Iterable) else [level]
    out = []
    for lv in values:
        ok = isinstance(lv, int | float) and not isinstance(lv, bool) and 0 < float(lv) < 1
        if not ok:
            fix = (f" Fix: write {float(lv) / 100:g} for {lv:g} % / 请写成小数 {float(lv) / 100:g}（即 {lv:g}%）."
                   if isinstance(lv, int | float) and not isinstance(lv, bool) and 1 <= float(lv) < 100 else "")
            raise ZkValueError(f"The 'level' parameter of {owner} must be fractions in (0, 1) [probability], e.g. "
                               f"0.9 for a 90 % interval. Got {level!r} instead.{fix}")
        out.append(float(lv))
    return tuple(out)


def level_label(level: float) -> str:
    """The percent figure of a level for column names: ``0.9`` → ``"90"``, ``0.975`` → ``"97.5"``."""
    return f"{round(level * 100.0, 10):g}"


def level_quantiles(level: float) -> tuple[float, float]:
    """The lower and upper probabilities of a central interval: ``0.9`` → ``(0.05, 0.95)``."""
    return 0.5 - level / 2.0, 0.5 + level / 2.0
