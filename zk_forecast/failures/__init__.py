"""Failure-rate engine: life models, repairable-system trends, before/after comparisons.

Life models (Weibull, lognormal, exponential) are fitted by maximum likelihood with right and interval censoring,
grouped counts and left truncation; :func:`fit_groups` fits every component × model group in one vectorised
solve (any of the three families, interval-censored lives included). :func:`build_lives` turns tickets into component lives in engine hours and
:class:`InstalledBaseForecaster` forecasts parts demand from the machines in the field. Repairable systems get Nelson's mean cumulative function, Crow-AMSAA and Duane models and trend tests;
:func:`compare_cut_in` tells a manufacturer whether a design change lowered the failure rate.
:class:`KaplanMeier`, :class:`NelsonAalen` and :class:`Turnbull` estimate lives without a parametric family;
:class:`Weibull3P`, :class:`Exponential2P` and :class:`LogNormal3P` add a threshold (failure-free life).
:func:`optimal_replacement_age` and :func:`review_maintenance_intervals` turn fitted lives into maintenance intervals.
:func:`hazard_ratios` tells which machines fail sooner (Cox regression on usage, build year, depot, warranty).
"""

from zk_forecast.failures.compare import (
    CutInResult,
    EarlyLifeResult,
    RateRatioResult,
    WeibullLRResult,
    compare_before_after,
    compare_cut_in,
    early_life_test,
    rate_ratio_test,
    weibull_lr_test,
)
from zk_forecast.failures.covariates import hazard_ratios
from zk_forecast.failures.groups import fit_groups
from zk_forecast.failures.installed_base import (
    InstalledBaseForecaster,
    expected_renewals,
    weibull_renewal_table,
)
from zk_forecast.failures.lifetimes import (
    Exponential,
    LifeData,
    LogNormal,
    ParametricLifetime,
    Weibull,
    check_life_data,
    compare_families,
    weibull_loglik,
)
from zk_forecast.failures.lives import build_lives, machine_hours, usage_profile
from zk_forecast.failures.maintenance import (
    ReplacementAge,
    age_replacement_cost_rate,
    optimal_replacement_age,
    review_maintenance_intervals,
    weibull_age_replacement,
)
from zk_forecast.failures.nonparametric import KaplanMeier, NelsonAalen, Turnbull
from zk_forecast.failures.repairable import (
    CrowAMSAAResult,
    DuaneResult,
    MCFResult,
    TrendTestResult,
    crow_amsaa,
    crow_amsaa_grouped,
    duane,
    laplace_test,
    mcf,
    mil_hdbk_189_test,
    times_between_failures,
    trend_by,
)
from zk_forecast.failures.threshold import Exponential2P, LogNormal3P, Weibull3P

__all__ = [
    "ReplacementAge",
    "age_replacement_cost_rate",
    "optimal_replacement_age",
    "review_maintenance_intervals",
    "weibull_age_replacement",
    "InstalledBaseForecaster",
    "KaplanMeier",
    "NelsonAalen",
    "Turnbull",
    "build_lives",
    "expected_renewals",
    "machine_hours",
    "usage_profile",
    "weibull_renewal_table",
    "CrowAMSAAResult",
    "CutInResult",
    "DuaneResult",
    "EarlyLifeResult",
    "Exponential",
    "Exponential2P",
    "LifeData",
    "LogNormal",
    "LogNormal3P",
    "MCFResult",
    "ParametricLifetime",
    "RateRatioResult",
    "TrendTestResult",
    "Weibull",
    "Weibull3P",
    "WeibullLRResult",
    "check_life_data",
    "compare_before_after",
    "compare_cut_in",
    "compare_families",
    "crow_amsaa",
    "crow_amsaa_grouped",
    "duane",
    "early_life_test",
    "fit_groups",
    "hazard_ratios",
    "laplace_test",
    "mcf",
    "mil_hdbk_189_test",
    "rate_ratio_test",
    "times_between_failures",
    "trend_by",
    "weibull_lr_test",
    "weibull_loglik",
]
