"""Charts: the CJK font is found, has every glyph of the report labels, and figures render deterministically."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import pytest

from zk_forecast.reports import charts

# Labels the reports put on charts and in workbooks (depots, headers, chart titles and axes).
LABELS = [
    "银川中心库", "平罗", "青铜峡", "固原", "网点", "存货编码", "配件名称", "建议数量", "季节", "依据", "人工调整",
    "现存量", "在途", "欠件", "库存位置", "再订货点", "最高库存", "建议订货量", "单价", "订货金额", "来源", "原因",
    "预计满足率", "从银川中心库调拨", "供应商采购", "低于再订货点", "易损件清单最低量", "计划员调整",
    "易损件", "其他", "5 个工作日", "15 个工作日", "承诺等级", "客户机队", "机型", "部件", "每百台故障数",
    "累计占比", "月度趋势", "农忙季节", "春耕", "夏收", "秋收", "冬闲", "平均故障间隔时间", "形状参数",
    "置信区间", "早期故障", "保修占比", "重复故障", "设计改进", "改进前", "改进后", "制造商反馈报告",
    "服务报告", "2 小时内到场率", "到场时间中位数", "第 90 百分位", "维修按时完成率", "备用机", "配件交付",
    "工作日", "月份", "小时", "台", "件", "元", "（%）", "：", "，", "。", "—", "−",
    "2026年第3季度", "拖拉机", "收获机", "播种机", "插秧机", "发动机", "液压系统", "传动系统", "刀片", "皮带",
    "滤清器", "轴承", "链条", "Weibull β", "MTBF",
]


def test_font_found_and_registered() -> None:
    family = charts.setup_cjk_font()
    assert family
    import matplotlib
    from matplotlib import font_manager

    assert matplotlib.rcParams["font.sans-serif"][0] == family
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(found).resolve() == charts.cjk_font_path().resolve()


def test_font_has_every_glyph_of_the_labels() -> None:
    assert charts.missing_glyphs("".join(LABELS)) == set()


def test_fonttools_cmap_agrees() -> None:
    ttlib = pytest.importorskip("fontTools.ttLib")
    path = charts.cjk_font_path()
    if path.suffix.lower() == ".ttc":
        font = ttlib.TTCollection(str(path), lazy=True).fonts[0]
    else:
        font = ttlib.TTFont(str(path), lazy=True)
    cmap = font.getBestCmap()
    missing = {ch for ch in "".join(LABELS) if not ch.isspace() and ord(ch) not in cmap}
    assert missing == set()


def _draw(title: str) -> str:
    fig, ax = charts.new_figure(6, 3.5)
    ax.bar(["银川中心库", "平罗", "青铜峡", "固原"], [12, -3, 7, 5])
    ax.set_title(title)
    ax.set_xlabel("网点")
    ax.set_ylabel("每百台故障数（台）")
    ax.legend(["易损件 5 个工作日"])
    return charts.figure_to_data_uri(fig)


def test_render_without_missing_glyph_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uri = _draw(" · ".join(LABELS[:40]))
        uri2 = _draw(" · ".join(LABELS[40:]))
    msgs = [str(w.message) for w in caught]
    assert not [m for m in msgs if "missing from" in m.lower() or "glyph" in m.lower()], msgs
    for u in (uri, uri2):
        assert u.startswith("data:image/png;base64,")
        png = base64.b64decode(u.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"matplotlib" not in png.lower()  # no Software metadata


def test_missing_glyph_is_detected() -> None:
    """Negative control: a character the font lacks is reported, both by the cmap check and by matplotlib."""
    odd = "\U0001F69C"  # tractor emoji, in no CJK text font
    assert charts.missing_glyphs(odd) == {odd}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _draw(odd)
    assert any("missing from" in str(w.message).lower() for w in caught)


def test_figure_bytes_deterministic() -> None:
    assert _draw("配件交付 2026年第3季度") == _draw("配件交付 2026年第3季度")


def test_windows_font_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fonts = tmp_path / "Fonts"
    fonts.mkdir()
    fake = fonts / "msyh.ttc"
    fake.write_bytes(b"not really a font")
    monkeypatch.delenv("ZK_FORECAST_CJK_FONT", raising=False)
    monkeypatch.setenv("WINDIR", str(tmp_path))
    assert charts.cjk_font_path() == fake


def test_env_font_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZK_FORECAST_CJK_FONT", str(tmp_path / "nope.ttf"))
    with pytest.raises(ValueError, match="ZK_FORECAST_CJK_FONT"):
        charts.cjk_font_path()


def test_packaged_font_when_no_system_font(monkeypatch: pytest.MonkeyPatch) -> None:
    # a fresh machine without Chinese fonts: the Noto Sans CJK SC subset shipped in the package is used
    monkeypatch.delenv("ZK_FORECAST_CJK_FONT", raising=False)
    monkeypatch.delenv("WINDIR", raising=False)
    monkeypatch.delenv("SystemRoot", raising=False)
    monkeypatch.setattr(charts, "_system_candidate", lambda: None)
    path = charts.cjk_font_path()
    assert path.name == "ZKNotoSansSC-Subset.otf"
    assert (path.parent / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE Version 1.1") == 1
    assert charts.missing_glyphs("".join(LABELS), path) == set()


def test_packaged_font_covers_gb2312() -> None:
    # every hanzi of GB 2312 (rows 16-87) is in the shipped subset: names in the data render too
    from importlib import resources

    path = Path(str(resources.files("zk_forecast").joinpath("fonts", "ZKNotoSansSC-Subset.otf")))
    hanzi = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                hanzi.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(hanzi) == 6763  # GB 2312's count of hanzi (levels 1 and 2)
    assert charts.missing_glyphs("".join(hanzi), path) == set()
