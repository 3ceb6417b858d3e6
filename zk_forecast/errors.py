"""The exceptions zk_forecast raises: each names the value, the rule it broke and the fix.

All are subclasses of ``ValueError`` or ``TypeError`` so that callers who catch the built-in types keep working.
"""

from __future__ import annotations

__all__ = ["CalendarError", "ConfigError", "NotFittedError", "ReadError", "SchemaError", "ZkError", "ZkTypeError",
           "ZkValueError"]


class ZkError(Exception):
    """Base of every error zk_forecast raises on purpose."""


class ZkValueError(ZkError, ValueError):
    """A value broke a rule; the message says which value, which rule, and how to fix it."""


class ZkTypeError(ZkError, TypeError):
    """An argument has the wrong type; the message says which type was expected."""


class SchemaError(ZkValueError):
    """A table, column or mapping does not fit the canonical schema."""


class ReadError(ZkValueError):
    """A file could not be read at all (corrupt, empty, wrong format, a required column missing)."""


class CalendarError(ZkValueError):
    """A date or period argument is invalid."""


class ConfigError(ZkValueError):
    """A configuration or mapping file is invalid."""


class NotFittedError(ZkValueError, AttributeError):
    """An estimator was used before ``fit``; the message names the estimator and the call to make first.

    Also an ``AttributeError``, as scikit-learn's ``NotFittedError`` is, so that ``hasattr`` checks on fitted
    attributes keep working.
    """
