"""One shared test that every estimator class of zk_forecast.demand must pass (scikit-learn conventions).

The classes are found by walking the package's modules (every public class with a ``fit`` method), so a new
estimator is checked without being listed here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

import zk_forecast.demand as demand
from zk_forecast.demand import forecast
from zk_forecast.errors import NotFittedError


def _estimator_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(demand.__path__):
        mod = importlib.import_module(f"zk_forecast.demand.{info.name}")
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and obj.__module__ == mod.__name__ and not name.startswith("_")
                    and callable(getattr(obj, "fit", None))):
                found[f"{obj.__module__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


CLASSES = _estimator_classes()


def _y() -> np.ndarray:
    rng = np.random.default_rng(11)
    return ((rng.random((6, 40)) < 0.4) * rng.poisson(3, (6, 40))).astype(float)


def _use(est: Any) -> Any:
    """The first use of a fitted estimator: a forecast, or a lead-time distribution."""
    if hasattr(est, "predict"):
        return est.predict(2)
    return est.distribution(3)


def test_the_walk_finds_every_known_estimator() -> None:
    names = {c.__name__ for c in CLASSES}
    assert {"SES", "SBA", "TSB", "IMAPA", "AutoSelect", "SeasonalAdjusted", "LeadTimeDemand"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_estimator_follows_the_conventions(cls: type) -> None:
    assert issubclass(cls, BaseEstimator)
    sig = inspect.signature(cls.__init__)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), "settings must be keyword-only"
    est = cls()
    # settings stored untouched (and not checked before fit): the very objects given come back from get_params
    given = {p.name: object() for p in params}
    marked = cls(**given)
    got = marked.get_params(deep=False)
    assert set(got) == set(given)
    for k, v in got.items():
        assert v is given[k], f"{cls.__name__}.__init__ changed {k!r}"
    deep = est.get_params(deep=True)
    assert set(est.get_params(deep=False)) <= set(deep)
    twin = clone(est)
    assert type(twin) is cls and twin is not est
    assert repr(twin) == repr(est)
    with pytest.raises(NotFittedError, match="not fitted"):
        _use(est)
    before = set(vars(est))
    est.fit(_y())
    learned = set(vars(est)) - before
    assert learned, "fit learns something"
    assert all(k.endswith("_") and not k.startswith("_") for k in learned), sorted(learned)
    _use(est)
    # a clone of a fitted estimator is unfitted and gives the same results once fitted on the same data
    again = clone(est)
    with pytest.raises(NotFittedError):
        _use(again)
    again.fit(_y())
    a, b = _use(est), _use(again)
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(a.pmf, b.pmf)


def test_set_params_then_fit_equals_constructing_with_them() -> None:
    a = demand.TSB().set_params(alpha_d=0.3, alpha_p=0.05).fit(_y()).predict(1)
    b = demand.TSB(alpha_d=0.3, alpha_p=0.05).fit(_y()).predict(1)
    np.testing.assert_array_equal(a, b)


def test_forecast_settings_are_keyword_only() -> None:
    sig = inspect.signature(forecast)
    kinds = {p.name: p.kind for p in sig.parameters.values()}
    assert kinds["df"] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert kinds["h"] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(k is inspect.Parameter.KEYWORD_ONLY for n, k in kinds.items() if n not in ("df", "h"))
