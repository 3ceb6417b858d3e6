"""Tests for zk_forecast.names: one safe file-name component per text, and formula escaping of csv cells."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.errors import ZkValueError
from zk_forecast.names import MAX_NAME_BYTES, escape_formula, escape_formula_arrow, safe_name


@pytest.mark.parametrize("text", ["YC01", "PL02", "雷沃", "潍柴动力", "SF-LQ001A", "v1.2", "a_b"])
def test_a_safe_text_is_its_own_name(text: str) -> None:
    assert safe_name(text) == text


@pytest.mark.parametrize("text", [
    "x/../../../../../../PWNED", "..", ".", "", "a\\b", "a\x00b", "a\nb", ".hidden", "-rf", "CON", "nul.txt",
    "潍柴(潍坊)", "a b", "a|b", "a~b", "ends.",
])
def test_an_unsafe_text_gets_a_plain_component_with_a_hash(text: str) -> None:
    name = safe_name(text)
    assert name != text and "~" in name
    assert "/" not in name and "\\" not in name and not name.startswith((".", "-"))
    assert all(ch.isprintable() for ch in name)


def test_full_width_and_half_width_brackets_get_two_names() -> None:
    assert safe_name("潍柴(潍坊)") != safe_name("潍柴（潍坊）")


def test_sub_folder_and_double_underscore_get_two_names() -> None:
    assert safe_name("sub/x.csv") != safe_name("sub__x.csv")


def test_a_90_character_cjk_name_fits_the_byte_cap_and_keeps_whole_characters() -> None:
    text = "潍柴动力股份有限公司" * 9
    name = safe_name(text)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.startswith("潍柴动力") and name.encode("utf-8").decode("utf-8") == name
    assert safe_name(text + "X") != name  # two long names that share their first 110 bytes stay apart


def test_max_bytes_below_the_hash_room_is_an_error() -> None:
    with pytest.raises(ZkValueError, match="max_bytes"):
        safe_name("x", max_bytes=10)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(_TEXT, _TEXT)
def test_distinct_texts_never_share_a_name(a: str, b: str) -> None:
    if a != b:
        assert safe_name(a) != safe_name(b)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_every_name_is_one_writable_component(text: str) -> None:
    name = safe_name(text)
    assert name and os.sep not in name and "/" not in name and name not in (".", "..")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert all(unicodedata.category(ch)[0] in "LN" or ch in "-_.~" for ch in name)


def test_a_hostile_name_is_written_inside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for text in ("x/../../../../../../PWNED", "潍" * 90, "a\x00b"):
        p = out / f"restock_{safe_name(text)}.csv"
        p.write_text("ok", encoding="utf-8")
        assert p.resolve().parent == out.resolve()
    assert not list(tmp_path.glob("PWNED*"))


@pytest.mark.parametrize(("value", "escaped"), [
    ("=1+2", "'=1+2"), ("+86138", "'+86138"), ("-油封", "'-油封"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("P1", "P1"), ("", ""), (None, None), (3, 3),
])
def test_escape_formula(value: object, escaped: object) -> None:
    assert escape_formula(value) == escaped


def test_escape_formula_arrow_matches_the_scalar_rule() -> None:
    values = ["=1+2", "P1", None, "-3", "@x", "ok=", "\tx"]
    out = escape_formula_arrow(pa.array(values)).to_pylist()
    assert out == [escape_formula(v) for v in values]
    ints = pa.array([1, -2])
    assert escape_formula_arrow(ints) is ints
