"""The shared estimator test: every estimator class of zk_forecast.failures follows scikit-learn's conventions.

Settings are keyword-only and stored untouched in ``__init__`` (so ``sklearn.base.clone`` works), fitted values
end in ``_``, and using an estimator before ``fit`` raises :class:`zk_forecast.errors.NotFittedError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

import zk_forecast.failures as failures
from zk_forecast.errors import NotFittedError

ESTIMATORS = sorted(
    (obj for name in failures.__all__ if inspect.isclass(obj := getattr(failures, name)) and hasattr(obj, "fit")),
    key=lambda c: c.__name__,
)

# a call that needs a fitted estimator, per class
BEFORE_FIT: dict[str, Callable[[Any], Any]] = {
    "InstalledBaseForecaster": lambda e: e.predict(13),
    "KaplanMeier": lambda e: e.survival_function([1.0]),
    "NelsonAalen": lambda e: e.cumulative_hazard([1.0]),
    "Turnbull": lambda e: e.survival_function([1.0]),
}


def test_every_estimator_is_listed() -> None:
    names = {c.__name__ for c in ESTIMATORS}
    assert {"Weibull", "LogNormal", "Exponential", "Weibull3P", "Exponential2P", "LogNormal3P", "KaplanMeier",
            "NelsonAalen", "Turnbull", "InstalledBaseForecaster"} <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_estimator_conventions(cls: type) -> None:
    assert issubclass(cls, BaseEstimator)
    sig = inspect.signature(cls.__init__)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), "settings are keyword-only"
    est = cls()
    defaults = {p.name: p.default for p in params}
    assert est.get_params() == defaults
    # settings stored untouched: clone rebuilds an equal estimator from the same objects
    twin = clone(est)
    assert type(twin) is cls and twin.get_params() == defaults
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(est)), "no fitted attribute before fit"
    call = BEFORE_FIT.get(cls.__name__, lambda e: e.b_life(0.1))
    with pytest.raises(NotFittedError, match="fit"):
        call(est)


def test_clone_of_a_fitted_estimator_is_unfitted() -> None:
    t = np.array([10.0, 20.0, 30.0, 45.0, 60.0])
    w = failures.Weibull(level=0.9).fit(t)
    fresh = clone(w)
    assert fresh.get_params() == {"level": 0.9, "method": "mle"}
    assert not hasattr(fresh, "params_")
    km = failures.KaplanMeier(conf_type="log").fit(t)
    assert clone(km).get_params() == {"conf_type": "log", "level": 0.95}
