"""Tests of zk_forecast.config: the example round-trips, bad keys and values name the key and the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zk_forecast.calendar import WorkingCalendar
from zk_forecast.config import Config, config_from_dict, load_config, write_example_config
from zk_forecast.errors import ConfigError

BASE = {"paths": {"raw_dir": "raw", "store_dir": "store", "runs_dir": "runs"}}


def test_example_config_loads(tmp_path: Path) -> None:
    p = write_example_config(tmp_path / "zk.toml")
    text = p.read_text(encoding="utf-8")
    assert "中心库" in text and "central warehouse" in text
    cfg = load_config(p)
    assert isinstance(cfg, Config) and cfg.source == p
    assert cfg.paths.runs_dir == tmp_path / "data/processed/runs"
    assert cfg.depots.central is None and cfg.depots.transfer_days["GY01"] == 2  # the depots table decides
    assert cfg.batch.max_data_age_days == 3
    assert cfg.targets.wear_list == 0.95 and cfg.targets.other == 0.90
    assert cfg.targets.objective == "system" and cfg.targets.wear_list_floor == 0.8 and cfg.targets.seasonal
    assert cfg.reports.period == "previous_quarter" and "manufacturer" in cfg.reports.scheduled
    assert cfg.to_dict()["depots"]["transfer_days"] == {"GY01": 2, "PL01": 1, "QT01": 1}
    with pytest.raises(ConfigError, match="already exists"):
        write_example_config(p)


def test_frozen() -> None:
    cfg = config_from_dict(BASE)
    with pytest.raises(AttributeError):
        cfg.targets.wear_list = 0.5  # type: ignore[misc]


def test_typo_suggests_closest_key() -> None:
    with pytest.raises(ConfigError, match=r"targets\.wear_lst.*did you mean 'wear_list'"):
        config_from_dict({**BASE, "targets": {"wear_lst": 0.9}})
    with pytest.raises(ConfigError, match=r"did you mean 'reports'"):
        config_from_dict({**BASE, "reprots": {}})


@pytest.mark.parametrize(("doc", "key"), [
    ({"targets": {"wear_list": 1.5}}, "targets.wear_list"),
    ({"targets": {"other": "high"}}, "targets.other"),
    ({"targets": {"review_period": 1.5}}, "targets.review_period"),
    ({"targets": {"objective": "cheapest"}}, "targets.objective"),
    ({"targets": {"wear_list_floor": 1.0}}, "targets.wear_list_floor"),
    ({"targets": {"seasonal": "yes"}}, "targets.seasonal"),
    ({"forecast": {"methods": ["arima"]}}, "forecast.methods"),
    ({"forecast": {"enabled": "yes"}}, "forecast.enabled"),
    ({"depots": {"transfer_days": {"PL01": -1}}}, "depots.transfer_days.PL01"),
    ({"calendar": {"holidays": ["2026-13-01"]}}, "calendar.holidays"),
    ({"reports": {"period": "last_quarter"}}, "reports.period"),
    ({"reports": {"scheduled": ["sevice"]}}, "reports.scheduled"),
    ({"reports": {"lang": "fr"}}, "reports.lang"),
])
def test_bad_values_name_the_key(doc: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match="fix") as exc:
        config_from_dict({**BASE, **doc})
    assert key in str(exc.value)


def test_missing_path_named() -> None:
    with pytest.raises(ConfigError, match=r"paths\.runs_dir"):
        config_from_dict({"paths": {"raw_dir": "a", "store_dir": "b"}})


def test_calendar_overrides() -> None:
    cfg = config_from_dict({**BASE, "calendar": {"holidays": [dt.date(2026, 10, 12)], "workdays": ["2026-10-10"]}})
    cal = cfg.calendar.working_calendar()
    assert isinstance(cal, WorkingCalendar)
    assert not cal.is_working_day("2026-10-12") and cal.is_working_day("2026-10-10")
    with pytest.raises(ConfigError, match="calendar.holidays"):
        config_from_dict({**BASE, "calendar": {"holidays": ["2026-10-12"], "workdays": ["2026-10-12"]}})


def test_fixed_period_normalised_and_paths_relative(tmp_path: Path) -> None:
    cfg = config_from_dict({**BASE, "reports": {"period": "2026-q3"}}, base_dir=tmp_path)
    assert cfg.reports.period == "2026Q3"
    assert cfg.paths.raw_dir == tmp_path / "raw"


def test_bad_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="zk-forecast init"):
        load_config(tmp_path / "nope.toml")
    p = tmp_path / "bad.toml"
    p.write_text("[paths\nraw_dir = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def test_batch_processes_must_be_1_or_2(tmp_path: Path) -> None:
    from zk_forecast.config import EXAMPLE_CONFIG

    p = tmp_path / "zk.toml"
    p.write_text(EXAMPLE_CONFIG.replace("processes = 2", "processes = 3"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"batch\.processes"):
        load_config(p)
    p.write_text(EXAMPLE_CONFIG.replace("processes = 2", "processes = 1"), encoding="utf-8")
    assert load_config(p).batch.processes == 1


def test_period_label_rules() -> None:
    from zk_forecast.config import ReportsConfig

    day = dt.date(2026, 1, 15)
    assert ReportsConfig(period="previous_quarter").period_label(day) == "2025Q4"
    assert ReportsConfig(period="previous_month").period_label(day) == "2025-12"
    assert ReportsConfig(period="previous_year").period_label(day) == "2025"
    assert ReportsConfig(period="2026Q3").period_label(day) == "2026Q3"


def test_every_fix_is_given_in_chinese_and_english() -> None:
    docs: list[dict[str, object]] = [
        {**BASE, "targets": {"wear_list": 1.5}},
        {**BASE, "targets": {"wear_list": "high"}},
        {**BASE, "reports": {"period": "previus_quarter"}},
        {**BASE, "reports": {"lang": "fr"}},
        {**BASE, "forecast": {"methods": ["sbaa"]}},
        {**BASE, "calendar": {"holidays": ["2026-13-01"]}},
        {**BASE, "batch": {"max_data_age_days": -1}},
        {**BASE, "targts": {}},
    ]
    for doc in docs:
        with pytest.raises(ConfigError) as err:
            config_from_dict(doc)
        text = str(err.value)
        assert "fix:" in text and ("修正：" in text or "配置错误" in text), text
        zh = text.split(" / ", 1)[1]
        assert not any(w in zh for w in ("did you mean", "must be", "set ")), text  # the Chinese half is Chinese


def test_config_files_checked_before_any_step(tmp_path: Path) -> None:
    from zk_forecast.config import check_config_files

    raw = tmp_path / "raw"
    cfg = config_from_dict({"paths": {"raw_dir": str(raw), "store_dir": "s", "runs_dir": "r"}}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="does not exist.*--from-store"):
        check_config_files(cfg)
    raw.mkdir()
    with pytest.raises(ConfigError, match="is empty"):
        check_config_files(cfg)
    check_config_files(cfg, from_store=True)
    (raw / "x.csv").write_text("a\n1\n", encoding="utf-8")
    check_config_files(cfg)
    doc = {"paths": {"raw_dir": str(raw), "store_dir": "s", "runs_dir": "r", "mapping": "m.toml"}}
    with pytest.raises(ConfigError, match=r"paths.mapping.*does not exist.*列映射文件不存在"):
        check_config_files(config_from_dict(doc, base_dir=tmp_path))
    doc = {"paths": {"raw_dir": str(raw), "store_dir": "s", "runs_dir": "r"}, "reports": {"cut_ins": "c.csv"}}
    with pytest.raises(ConfigError, match=r"reports.cut_ins.*does not exist"):
        check_config_files(config_from_dict(doc, base_dir=tmp_path))
    (tmp_path / "c.csv").write_text("model,component,cut_in\n", encoding="utf-8")
    check_config_files(config_from_dict(doc, base_dir=tmp_path))


# --- [ingest] ------------------------------------------------------------------------------------------------------


def test_ingest_defaults_are_the_workbook_limits_defaults(tmp_path: Path) -> None:
    import dataclasses

    from zk_forecast.data.readers import WorkbookLimits

    cfg = config_from_dict(BASE)
    assert cfg.ingest.workbook_limits() == WorkbookLimits() and cfg.ingest.remove_dropped_lines is False
    # the example shows every limit (commented out) at its default: uncommented, it reads back as the defaults
    assert load_config(write_example_config(tmp_path / "zk.toml")).ingest == cfg.ingest
    example = (tmp_path / "zk.toml").read_text(encoding="utf-8")
    shown = example.replace("# max_", "max_")
    (tmp_path / "shown.toml").write_text(shown, encoding="utf-8")
    assert load_config(tmp_path / "shown.toml").ingest == cfg.ingest
    for f in dataclasses.fields(WorkbookLimits):
        assert f"\n# {f.name} = " in example, f.name
    assert "工作簿" in example and "workbook limits" in example and "remove_dropped_lines = false" in example


def test_ingest_settings_reach_the_workbook_limits() -> None:
    cfg = config_from_dict({**BASE, "ingest": {"max_cells": 5_000, "max_ratio": 50, "remove_dropped_lines": True}})
    lim = cfg.ingest.workbook_limits()
    assert (lim.max_cells, lim.max_ratio, cfg.ingest.remove_dropped_lines) == (5_000, 50.0, True)
    assert isinstance(lim.max_ratio, float) and cfg.to_dict()["ingest"]["max_cells"] == 5_000


@pytest.mark.parametrize(("ingest", "key", "fix"), [
    ({"max_cells": 0}, "ingest.max_cells", "max_cells = 20000000"),
    ({"max_cells": 2.5e7}, "ingest.max_cells", "整数"),
    ({"max_ratio": "high"}, "ingest.max_ratio", "max_ratio = 200.0"),
    ({"max_part_bytes": 1}, "ingest.max_part_bytes", "max_part_bytes = 1073741824"),
    ({"max_shared_strings_bytes": True}, "ingest.max_shared_strings_bytes", "max_shared_strings_bytes ="),
    ({"max_sparsity": 0.5}, "ingest.max_sparsity", "max_sparsity = 100.0"),
    ({"max_text_bytes": -1}, "ingest.max_text_bytes", "max_text_bytes ="),
    ({"remove_dropped_lines": "yes"}, "ingest.remove_dropped_lines", "remove_dropped_lines = false"),
])
def test_bad_ingest_values_name_the_key_and_the_fix(ingest: dict[str, object], key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as exc:
        config_from_dict({**BASE, "ingest": ingest})
    msg = str(exc.value)
    assert key in msg and "fix" in msg and "配置错误" in msg and fix in msg


def test_an_unknown_ingest_key_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match=r"ingest\.max_cell.*did you mean 'max_cells'"):
        config_from_dict({**BASE, "ingest": {"max_cell": 10}})
