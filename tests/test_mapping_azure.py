"""A foreign schema: the predictive-maintenance log in ../shared/data/azure_pdm through a mapping file.

Expected counts come from the data set's own README (shared/data/README.md): 100 machines, 761 component
failures, 3286 component replacements; the error-event file is not a canonical table and is skipped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import zk_forecast as zk
from zk_forecast.data.mapping import Mapping, builtin_mapping

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "azure_pdm"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"reference data not present at {DATA}")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[zk.IngestResult, zk.Store]:
    store = zk.Store(tmp_path_factory.mktemp("store"))
    result = zk.ingest(DATA, store, mapping=builtin_mapping("azure_pdm"), today=dt.date(2026, 11, 26))
    return result, store


def test_counts_match_the_published_sizes(loaded: tuple[zk.IngestResult, zk.Store]) -> None:
    result, store = loaded
    by_file = {f.file: f for f in result.files}
    assert by_file["PdM_machines.csv"].rows_loaded == 100
    assert by_file["PdM_failures.csv"].rows_loaded == 761
    assert by_file["PdM_maint.csv"].rows_loaded == 3286
    assert result.skipped == ["PdM_errors.csv"]
    for f in result.files:
        assert f.error is None
        assert f.rows_in == f.rows_loaded + f.rows_rejected
        assert f.rows_rejected == 0
    assert len(store.read("machines")) == 100
    assert len(store.read("tickets")) == 761
    assert len(store.read("part_issues")) == 3286


def test_values_land_in_canonical_columns(loaded: tuple[zk.IngestResult, zk.Store]) -> None:
    _, store = loaded
    machines = store.read("machines").set_index("serial_no")
    # PdM_machines.csv row 1: machineID 1, model3, age 18 -> sold 18 years before 2015-01-01
    assert machines.loc["AZ-1", "model"] == "model3"
    assert machines.loc["AZ-1", "sale_date"] == dt.datetime(1997, 1, 1)
    tickets = store.read("tickets")
    first = tickets.sort_values("reported_at").iloc[0]
    assert first["kind"] == "failure"
    assert set(tickets["component"].unique()) == {"comp1", "comp2", "comp3", "comp4"}
    issues = store.read("part_issues")
    assert issues["quantity"].sum() == 3286
    counts = issues["part_no"].value_counts().to_dict()
    # component replacement counts of PdM_maint.csv (cut -d, -f3 | sort | uniq -c)
    assert counts == {"comp2": 863, "comp4": 811, "comp3": 808, "comp1": 804}
    assert issues["issued_on"].min() == dt.datetime(2014, 6, 1)


def test_second_ingest_adds_nothing(loaded: tuple[zk.IngestResult, zk.Store]) -> None:
    _, store = loaded
    again = zk.ingest(DATA, store, mapping=builtin_mapping("azure_pdm"), today=dt.date(2026, 11, 26))
    for f in again.files:
        assert f.rows_new == 0 and f.rows_updated == 0
        assert f.rows_unchanged == f.rows_loaded


def test_mapping_file_is_valid_toml_for_the_schema() -> None:
    m = Mapping.load(builtin_mapping("azure_pdm"))
    assert {r.pattern for r in m.files} == {"PdM_machines.csv", "PdM_maint.csv", "PdM_failures.csv", "PdM_errors.csv"}
    with pytest.raises(zk.ZkValueError, match="built-in mappings"):
        builtin_mapping("no_such_mapping")
