"""The promises as data: defaults from DESIGN.md's table, overrides from a mapping or TOML, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from zk_forecast.errors import ConfigError
from zk_forecast.service import DEFAULT_PROMISES, Promises


def test_defaults_are_design_table() -> None:
    p = DEFAULT_PROMISES
    assert (p.on_site_hours, p.wear_list_working_days, p.other_parts_working_days) == (2.0, 5, 15)
    assert (p.answer_wear_list, p.answer_other_days) == ("at once", 1)
    assert (p.warranty_repair_working_days, p.other_repair_working_days) == (3, 5)
    assert p.part_working_days(True) == 5 and p.repair_working_days(False) == 5
    assert "2 小时内" in p.labels("zh")["on_site_hours"]
    assert "3 working days" in p.labels("en")["warranty_repair_working_days"]
    assert len(p.to_frame("en")) == 5


def test_override_from_mapping_and_toml(tmp_path: Path) -> None:
    p = Promises.from_mapping({"on_site_hours": 3, "other_parts_working_days": 10})
    assert p.on_site_hours == 3.0 and p.other_parts_working_days == 10 and p.wear_list_working_days == 5
    f = tmp_path / "zk.toml"
    f.write_text('[promises]\nwarranty_repair_working_days = 2\nanswer_wear_list = "at once"\n', encoding="utf-8")
    from zk_forecast.data.tables import read_promises

    assert read_promises(f).warranty_repair_working_days == 2
    assert "2 个工作日" in read_promises(f).labels()["warranty_repair_working_days"]


def test_unknown_key_names_key_and_fix() -> None:
    with pytest.raises(ConfigError, match=r"'on_site_hour'.*Did you mean 'on_site_hours'"):
        Promises.from_mapping({"on_site_hour": 2})


@pytest.mark.parametrize("value", [0, -1, 2.5, "5", True, float("nan")])
def test_bad_working_days_rejected(value: object) -> None:
    with pytest.raises(ConfigError, match="wear_list_working_days"):
        Promises.from_mapping({"wear_list_working_days": value})


def test_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_PROMISES.on_site_hours = 3  # type: ignore[misc]
