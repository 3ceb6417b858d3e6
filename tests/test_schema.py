"""The canonical schema is consistent: keys, foreign keys, aliases and value labels."""

from __future__ import annotations

import pytest

from zk_forecast.data.readers import normalize_header
from zk_forecast.errors import SchemaError
from zk_forecast.schema import DEMAND_KINDS, LOAD_ORDER, TABLES, Column, get_table


def test_design_tables_and_required_columns() -> None:
    # DESIGN.md "Canonical tables": required columns are the bold ones
    expected = {
        "depots": {"depot_id", "name", "role"},
        "parts": {"part_no", "name", "category", "unit_cost", "lead_time_days"},
        "machines": {"serial_no", "manufacturer", "model", "depot_id", "sale_date"},
        "customers": {"customer_id"},
        "tickets": {"ticket_id", "serial_no", "depot_id", "reported_at", "kind"},
        "part_issues": {"issue_id", "issued_on", "depot_id", "part_no", "quantity", "kind"},
        "stock": {"as_of", "depot_id", "part_no", "on_hand"},
        "receipts": {"receipt_id", "part_no", "depot_id", "ordered_on", "received_on", "quantity"},
        "component_parts": {"model", "component", "part_no"},
    }
    for name, req in expected.items():
        assert set(TABLES[name].required) == req, name


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_keys_and_foreign_keys_point_at_real_columns(table) -> None:  # type: ignore[no-untyped-def]
    for k in table.key:
        assert table.column(k).required, f"{table.name}.{k} is a key and must be required"
    for fk in table.foreign_keys:
        assert fk.column in table.column_names
        target = TABLES[fk.ref_table]
        assert target.key == (fk.ref_column,), f"{table.name}.{fk.column} must point at a single-column key"
        # referenced tables load first (self references aside)
        assert LOAD_ORDER.index(fk.ref_table) <= LOAD_ORDER.index(table.name)


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_no_header_maps_to_two_columns_of_one_table(table) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, str] = {}
    for c in table.columns:
        for h in c.headers:
            key = normalize_header(h)
            assert seen.get(key, c.name) == c.name, f"{table.name}: header {h!r} maps to {seen[key]} and {c.name}"
            seen[key] = c.name


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_value_labels_map_to_allowed_codes(table) -> None:  # type: ignore[no-untyped-def]
    for c in table.columns:
        if c.kind == "enum":
            assert set(c.value_aliases.values()) <= set(c.values), f"{table.name}.{c.name}"
        assert c.label_zh, f"{table.name}.{c.name} needs a Chinese label for exports"


def test_demand_kinds_are_issue_kinds_without_transfers() -> None:
    kinds = TABLES["part_issues"].column("kind").values
    assert set(DEMAND_KINDS) <= set(kinds)
    assert "transfer" not in DEMAND_KINDS


def test_bad_schema_definitions_and_lookups_fail_clearly() -> None:
    with pytest.raises(ValueError, match="kind"):
        Column("x", "decimal")
    with pytest.raises(ValueError, match="needs its values"):
        Column("x", "enum")
    with pytest.raises(SchemaError, match="tables are"):
        get_table("partz")
    with pytest.raises(KeyError, match="columns are"):
        TABLES["parts"].column("prize")


def test_series_id_round_trip() -> None:
    import numpy as np
    import pandas as pd
    from hypothesis import given
    from hypothesis import strategies as st

    from zk_forecast.schema import SERIES_SEP, series_id, split_series_id

    assert series_id("SF-LQ001A", "YC01") == "SF-LQ001A|YC01"
    assert split_series_id("SF-LQ001A|YC01") == ("SF-LQ001A", "YC01")
    s = series_id(pd.Series(["A", "B"], index=[7, 9]), pd.Series(["X", "Y"]))
    assert list(s.index) == [7, 9] and list(s) == ["A|X", "B|Y"]
    part, depot = split_series_id(np.array(["A|X", "B|Y"], dtype=object))
    assert list(part) == ["A", "B"] and list(depot) == ["X", "Y"]

    text = st.text(min_size=1, max_size=8).filter(lambda t: SERIES_SEP not in t)

    @given(st.lists(st.tuples(text, text), min_size=1, max_size=20))
    def round_trip(pairs: list[tuple[str, str]]) -> None:
        parts, depots = [p for p, _ in pairs], [d for _, d in pairs]
        got_p, got_d = split_series_id(series_id(parts, depots))
        assert list(got_p) == parts and list(got_d) == depots

    round_trip()


def test_split_series_id_names_a_bad_id() -> None:
    import pytest

    from zk_forecast.errors import ZkValueError
    from zk_forecast.schema import split_series_id

    with pytest.raises(ZkValueError, match="'SF-LQ001A' has no '|'.*series_id"):
        split_series_id("SF-LQ001A")


def test_central_depot_from_role() -> None:
    import pandas as pd
    import pytest

    from zk_forecast.errors import ZkValueError
    from zk_forecast.schema import central_depot

    depots = pd.DataFrame({"depot_id": ["PL01", "YC01"], "role": ["branch", "central"]})
    assert central_depot(depots) == "YC01"
    with pytest.raises(ZkValueError, match="found none"):
        central_depot(depots.assign(role="branch"))
    with pytest.raises(ZkValueError, match=r"found 2 \(PL01, YC01\)"):
        central_depot(depots.assign(role="central"))
