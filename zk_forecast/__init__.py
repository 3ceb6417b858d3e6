"""zk_forecast: spare parts, failure rates and stock levels for an agricultural-machinery service network.

The public names::

    import zk_forecast as zk
    zk.demo.generate("data/raw/demo", scale="small", seed=7)
    store = zk.Store("data/processed")
    result = zk.ingest("data/raw/demo", store)
    zk.nightly("zk.toml")                       # the nightly batch (also `zk-forecast nightly --config zk.toml`)
    run = zk.load_run("latest", config="zk.toml")   # what the last night used and published
"""

from zk_forecast import calendar, demand, failures, inventory, reports, schema, service
from zk_forecast.batch import load_run, nightly
from zk_forecast.data import demo
from zk_forecast.data.ingest import IngestResult, ingest
from zk_forecast.data.mapping import Mapping
from zk_forecast.data.store import Store
from zk_forecast.demand.forecast import forecast
from zk_forecast.errors import ZkError, ZkTypeError, ZkValueError
from zk_forecast.inventory.plan import plan

__version__ = "0.1.0"

__all__ = [
    "IngestResult",
    "Mapping",
    "Store",
    "ZkError",
    "ZkTypeError",
    "ZkValueError",
    "__version__",
    "calendar",
    "demand",
    "demo",
    "failures",
    "forecast",
    "inventory",
    "load_run",
    "nightly",
    "plan",
    "reports",
    "ingest",
    "schema",
    "service",
]
