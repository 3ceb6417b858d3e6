"""Reports people open: restock workbooks, the wear-part list, manufacturer feedback, scorecard, service report.

Only this package's own modules are imported here; the charts need matplotlib, imported lazily.
"""

from zk_forecast.reports.charts import (
    CHART_DPI,
    cjk_font_path,
    figure_to_data_uri,
    missing_glyphs,
    new_figure,
    setup_cjk_font,
)
from zk_forecast.reports.from_store import items_from_parts, write_restock_reports
from zk_forecast.reports.manufacturer import (
    SEASONS,
    ManufacturerReport,
    manufacturer_report,
    normalize_cut_ins,
    write_manufacturer_report,
)
from zk_forecast.reports.restock import RESTOCK_COLUMNS, RESTOCK_HEADERS, restock_table, restock_workbooks
from zk_forecast.reports.scorecard import (
    SCORECARD_COLUMNS,
    Scorecard,
    manufacturer_scorecard,
    write_scorecard,
)
from zk_forecast.reports.service_report import (
    SERVICE_SECTION_IDS,
    ServiceReport,
    service_report,
    write_service_report,
)
from zk_forecast.reports.wearlist_report import promise_class, wearlist_workbook
from zk_forecast.reports.workbook import (
    NUMBER_FORMATS,
    Sheet,
    display_width,
    is_formula_like,
    safe_csv_text,
    write_csv,
    write_sheet,
    write_workbook,
)

__all__ = [
    "items_from_parts",
    "write_restock_reports",
    "SCORECARD_COLUMNS",
    "SEASONS",
    "SERVICE_SECTION_IDS",
    "ManufacturerReport",
    "Scorecard",
    "ServiceReport",
    "manufacturer_report",
    "manufacturer_scorecard",
    "normalize_cut_ins",
    "service_report",
    "write_manufacturer_report",
    "write_scorecard",
    "write_service_report",
    "CHART_DPI",
    "NUMBER_FORMATS",
    "RESTOCK_COLUMNS",
    "RESTOCK_HEADERS",
    "Sheet",
    "display_width",
    "is_formula_like",
    "promise_class",
    "restock_table",
    "restock_workbooks",
    "safe_csv_text",
    "wearlist_workbook",
    "write_csv",
    "write_sheet",
    "write_workbook",
    "cjk_font_path",
    "figure_to_data_uri",
    "missing_glyphs",
    "new_figure",
    "setup_cjk_font",
]
