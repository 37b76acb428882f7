"""One CSV-safety function for every export, and exports that never leave a half-written file."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfdesk.exports import atomic_text_file, safe_cell, unsafe_cell


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '\uff1dHYPERLINK("http://x")', "\uff0b1", "\uff0d1", "\uff20A"],
)
def test_formula_like_cells_are_neutralised_and_read_back(value: str) -> None:
    assert safe_cell(value) == "'" + value and unsafe_cell(safe_cell(value)) == value


def test_plain_cells_pass_through() -> None:
    assert [safe_cell(v) for v in ("Chaise", 12, None, True, "'quoted")] == ["Chaise", "12", "", "yes", "'quoted"]
    assert unsafe_cell("'quoted") == "'quoted"  # an apostrophe the merchant typed stays


def test_a_failed_export_leaves_the_previous_file_and_no_partial_one(tmp_path: Path) -> None:
    target = tmp_path / "orders.csv"
    target.write_text("the previous export\n")
    with pytest.raises(RuntimeError), atomic_text_file(target) as fh:
        fh.write("half of a new one")
        raise RuntimeError("disk full half-way")
    assert target.read_text() == "the previous export\n" and [p.name for p in tmp_path.iterdir()] == ["orders.csv"]
    with atomic_text_file(target) as fh:
        fh.write("new\n")
    assert target.read_text() == "new\n"


def test_mapping_csv_export_is_formula_safe_and_round_trips(tmp_path: Path) -> None:
    from shelfdesk.catalog.mapping_files import MappingBundle, parse_file, to_csv

    bundle = MappingBundle("backmarket")
    bundle.columns.append({"attribute": "grade", "column": None, "constant": "=cmd|' /C calc'!A0", "default": "-1", "values": {}})
    text = to_csv(bundle)
    assert "'=cmd" in text and ",'-1," in text
    parsed, _ = parse_file(text, "csv")
    assert parsed.columns[0]["constant"] == "=cmd|' /C calc'!A0" and parsed.columns[0]["default"] == "-1"
