"""The dealer's service promises (DESIGN.md's table) as data, overridable from a config section.

:data:`DEFAULT_PROMISES` states the figures the dealer publishes; a ``[promises]`` section of a TOML config (or
any mapping) overrides some of them through :meth:`Promises.from_mapping` (a file:
:func:`zk_forecast.data.tables.read_promises`). The KPI
and reminder code reads only these figures, so a changed promise changes what is measured, and the labels in the
reports say the figure that was measured against.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zk_forecast.errors import ConfigError

__all__ = ["DEFAULT_PROMISES", "Promises"]

_ANSWER_AT_ONCE = ("at once", "immediately", "立即", "即时")


@dataclass(frozen=True)
class Promises:
    """The service promises the KPIs are measured against.

    Parameters
    ----------
    on_site_hours : float [h]
        An engineer is on site within this many hours after a breakdown call. Default 2.
    wear_list_working_days : int [working days]
        A part on the wear-part list (易损件清单) is delivered within this many working days. Default 5.
    other_parts_working_days : int [working days]
        Any other part is delivered within this many working days. Default 15.
    answer_wear_list : str
        When a request for a wear-list part is answered: ``"at once"``. Informational (no timestamps to measure).
    answer_other_days : int [days]
        A request for any other part is answered within this many days. Default 1. Informational.
    warranty_repair_working_days : int [working days]
        A repair under warranty (三包期内) is done within this many working days, else a loaner unit (周转件) is
        provided. Default 3.
    other_repair_working_days : int [working days]
        A repair out of warranty is done within this many working days. Default 5.

    Examples
    --------
    >>> Promises.from_mapping({"on_site_hours": 3}).on_site_hours
    3.0
    """

    on_site_hours: float = 2.0
    wear_list_working_days: int = 5
    other_parts_working_days: int = 15
    answer_wear_list: str = "at once"
    answer_other_days: int = 1
    warranty_repair_working_days: int = 3
    other_repair_working_days: int = 5

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "answer_wear_list":
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(
                        f"The promise 'answer_wear_list' must be a text such as 'at once'; got {value!r}. "
                        "Fix: write answer_wear_list = \"at once\"."
                    )
                continue
            whole = f.name != "on_site_hours"
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
            if ok and whole:
                ok = float(value) == int(value)
            if not ok:
                kind = "a whole number > 0" if whole else "a number > 0"
                raise ConfigError(
                    f"The promise {f.name!r} must be {kind} [{_UNITS[f.name]}]; got {value!r}. "
                    f"Fix: e.g. {f.name} = {f.default}."
                )
            object.__setattr__(self, f.name, float(value) if not whole else int(value))

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], *, base: Promises | None = None) -> Promises:
        """Promises from a mapping (e.g. a parsed ``[promises]`` TOML section), the rest from ``base``.

        Parameters
        ----------
        mapping : Mapping[str, Any]
            Keys are field names of :class:`Promises`; values as documented there.
        base : Promises, optional
            The promises the mapping overrides. Default :data:`DEFAULT_PROMISES`.

        Raises
        ------
        ConfigError
            An unknown key (the message suggests the nearest valid key and lists them all), or a bad value.
        """
        if not isinstance(mapping, Mapping):
            raise ConfigError(
                f"The promises must be a mapping such as {{'on_site_hours': 2}}; got {type(mapping).__name__}. "
                "Fix: pass the [promises] section of the config as a dict."
            )
        valid = [f.name for f in dataclasses.fields(cls)]
        for key in mapping:
            if key not in valid:
                near = difflib.get_close_matches(str(key), valid, n=1)
                hint = f"Did you mean {near[0]!r}? " if near else ""
                raise ConfigError(
                    f"Unknown promise {key!r} in the [promises] section. {hint}Fix: use one of {', '.join(valid)}."
                )
        return dataclasses.replace(base if base is not None else DEFAULT_PROMISES, **dict(mapping))

    # -- derived figures ----------------------------------------------------------------------------
    def part_working_days(self, on_wear_list: bool) -> int:
        """Delivery promise [working days] of a part on (``True``) or off the wear-part list."""
        return self.wear_list_working_days if on_wear_list else self.other_parts_working_days

    def repair_working_days(self, in_warranty: bool) -> int:
        """Repair promise [working days] of a repair in (``True``) or out of warranty."""
        return self.warranty_repair_working_days if in_warranty else self.other_repair_working_days

    def labels(self, lang: str = "zh") -> dict[str, str]:
        """One sentence per promise, with its figure, in Chinese (``"zh"``) or English (``"en"``)."""
        at_once = self.answer_wear_list.strip().lower() in _ANSWER_AT_ONCE
        h = f"{self.on_site_hours:g}"
        if lang == "zh":
            answer = "立即答复" if at_once else f"答复：{self.answer_wear_list}"
            return {
                "on_site_hours": f"接到故障报修后 {h} 小时内工程师到达现场；电话支持全年 24 小时",
                "wear_list_working_days": f"易损件清单内配件：{answer}，{self.wear_list_working_days} 个工作日内送达",
                "other_parts_working_days": f"其他配件：{self.answer_other_days} 天内答复，"
                                            f"{self.other_parts_working_days} 个工作日内送达",
                "warranty_repair_working_days": f"三包期内维修：免费，{self.warranty_repair_working_days} 个工作日内修复，"
                                                "否则提供周转件",
                "other_repair_working_days": f"三包期外维修：收费，{self.other_repair_working_days} 个工作日内修复",
            }
        if lang == "en":
            answer = "answer at once" if at_once else f"answer: {self.answer_wear_list}"
            return {
                "on_site_hours": f"Engineer on site within {h} h of a breakdown call; phone support 24x365",
                "wear_list_working_days": f"Wear-list part: {answer}, delivered within "
                                          f"{self.wear_list_working_days} working days",
                "other_parts_working_days": f"Other part: answer within {self.answer_other_days} day(s), delivered "
                                            f"within {self.other_parts_working_days} working days",
                "warranty_repair_working_days": f"Warranty repair: free, done within "
                                                f"{self.warranty_repair_working_days} working days, else a loaner",
                "other_repair_working_days": f"Out-of-warranty repair: charged, done within "
                                             f"{self.other_repair_working_days} working days",
            }
        raise ConfigError(f"The 'lang' parameter must be 'zh' or 'en'; got {lang!r} instead.")

    def to_frame(self, lang: str = "zh") -> Any:
        """The promises as a two-column table (promise, figure) for reports."""
        import pandas as pd

        labels = self.labels(lang)
        head = ("承诺", "指标") if lang == "zh" else ("promise", "figure")
        return pd.DataFrame({head[0]: list(labels.values()),
                             head[1]: [getattr(self, k) for k in labels]})


_UNITS = {
    "on_site_hours": "h",
    "wear_list_working_days": "working days",
    "other_parts_working_days": "working days",
    "answer_other_days": "days",
    "warranty_repair_working_days": "working days",
    "other_repair_working_days": "working days",
}


#: The promises of DESIGN.md: on site in 2 h; wear-list parts in 5 working days, others in 15; warranty repairs
#: in 3 working days (else a loaner), others in 5.
DEFAULT_PROMISES = Promises()
