"""Demand engine: panel, classification, intermittent-demand methods, selection and lead-time distributions.

Parts issues become a (series × periods) :class:`Panel` per part × depot; :func:`classify` gives the
Syntetos-Boylan-Croston category, ABC and XYZ classes; the estimators (naive, mean, moving average, SES,
Croston, optimised Croston, SBA, SBJ, TSB, ADIDA, IMAPA) run over all series at once and :func:`forecast` is the
long-format face; :class:`SeasonalAdjusted` applies seasonal profiles pooled over groups of sparse series, and
:class:`AutoSelect` (``methods=["auto"]``) picks a method per series by rolling-origin evaluation; :class:`LeadTimeDemand` gives the distribution of total
demand over the replenishment lead time.
"""

from zk_forecast.demand.classify import (
    ADI_CUTOFF,
    CV2_CUTOFF,
    SBC_CATEGORIES,
    adi_cv2,
    classify,
    sbc_category,
)
from zk_forecast.demand.distributions import (
    LeadTimeDemand,
    LeadTimeDistribution,
    lead_time_pmf,
    truncate_tail,
)
from zk_forecast.demand.forecast import forecast
from zk_forecast.demand.models import (
    ADIDA,
    ESTIMATORS,
    IMAPA,
    SBA,
    SBJ,
    SES,
    TSB,
    Croston,
    CrostonOptimized,
    HistoricMean,
    MovingAverage,
    Naive,
    NotFittedError,
)
from zk_forecast.demand.panel import SEP, Panel, PanelReport, build_panel, resolve_supersession
from zk_forecast.demand.seasonal import SeasonalAdjusted, seasonal_profiles
from zk_forecast.demand.select import (
    AutoSelect,
    RollingOriginResult,
    auto_method,
    evaluation_report,
    rolling_origin,
)

__all__ = [
    "AutoSelect",
    "RollingOriginResult",
    "SeasonalAdjusted",
    "auto_method",
    "evaluation_report",
    "rolling_origin",
    "seasonal_profiles",
    "ADIDA",
    "ESTIMATORS",
    "IMAPA",
    "SBA",
    "SBJ",
    "SES",
    "TSB",
    "Croston",
    "CrostonOptimized",
    "HistoricMean",
    "MovingAverage",
    "Naive",
    "NotFittedError",
    "forecast",
    "ADI_CUTOFF",
    "CV2_CUTOFF",
    "SBC_CATEGORIES",
    "SEP",
    "LeadTimeDemand",
    "LeadTimeDistribution",
    "Panel",
    "PanelReport",
    "adi_cv2",
    "build_panel",
    "classify",
    "lead_time_pmf",
    "resolve_supersession",
    "sbc_category",
    "truncate_tail",
]
