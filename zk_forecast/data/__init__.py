"""Data in: readers, header mapping, row rules, the parquet store, and the demo dealer."""

from zk_forecast.data.ingest import FileResult, IngestResult, ingest
from zk_forecast.data.mapping import Mapping
from zk_forecast.data.store import Store

__all__ = ["FileResult", "IngestResult", "Mapping", "Store", "ingest"]
