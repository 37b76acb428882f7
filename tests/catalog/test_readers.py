"""Readers stream every format: rows keep their line numbers, bad rows are reported, damage stops at a line."""

from __future__ import annotations

import io

import pytest

from shelfdesk.catalog.detect import FeedOptions, detect_delimiter, detect_format, detect_options
from shelfdesk.catalog.errors import FeedError
from shelfdesk.catalog.readers import RawRow, RowError, read_rows


def rows(data: bytes, **options: str) -> list[RawRow | RowError]:
    return list(read_rows(io.BytesIO(data), FeedOptions(**options)))  # type: ignore[arg-type]


def test_csv_keeps_start_line_of_multiline_records_and_rejects_short_rows() -> None:
    data = b'sku;title;price\nA;"two\nlines";1\nB;short\n\nC;x;3\n'
    out = rows(data, format="csv", delimiter=";")
    assert [(r.line, r.values) for r in out if isinstance(r, RawRow)] == [
        (2, {"sku": "A", "title": "two\nlines", "price": "1"}),
        (6, {"sku": "C", "title": "x", "price": "3"}),
    ]
    short = [r for r in out if isinstance(r, RowError)]  # never padded with blanks that would overwrite
    assert [(r.line, r.reason.split(" (")[0]) for r in short] == [(4, "2 fields but the header has 3")]


def test_csv_row_with_extra_fields_is_reported_not_guessed() -> None:
    out = rows(b"sku,price\nA,1\nB,2,oops\nC,3,\n", format="csv")
    assert isinstance(out[1], RowError) and out[1].line == 3 and "3 fields" in out[1].reason
    assert isinstance(out[2], RawRow) and out[2].values == {"sku": "C", "price": "3"}  # a trailing empty field is fine


def test_csv_header_names_are_cleaned() -> None:
    out = rows(b"\xef\xbb\xbfSKU ; ;SKU\nA;b;c\n", format="csv", delimiter=";", encoding="utf-8-sig")
    assert isinstance(out[0], RawRow) and list(out[0].values) == ["SKU", "column_2", "SKU (2)"]


def test_empty_csv_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="empty"):
        rows(b"\n\n", format="csv")


def test_detection_of_french_excel_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    path.write_bytes("Référence;Désignation;Prix TTC\nA1;Chaise, chêne;12,50\n".encode("cp1252"))
    options = detect_options(path)
    assert (options.format, options.encoding, options.delimiter) == ("csv", "cp1252", ";")
    out = list(read_rows(path.open("rb"), options))
    assert out[0].values == {"Référence": "A1", "Désignation": "Chaise, chêne", "Prix TTC": "12,50"}  # type: ignore[union-attr]


def test_utf8_detection_reads_the_whole_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "late.csv"
    path.write_bytes(b"sku,title\n" + b"A,plain\n" * 20000 + "B,caf\xe9\n".encode("latin-1"))
    assert detect_options(path).encoding == "cp1252"


@pytest.mark.parametrize(
    ("sample", "name", "expected"),
    [
        (b"[{}]", "x", "json"),
        (b'{"a":1}\n{"a":2}\n', "x", "jsonl"),
        (b'{"products": []}', "x", "json"),
        (b"<?xml version='1.0'?><a/>", "x", "xml"),
        (b"a,b\n1,2\n", "x.json", "json"),
        (b"a;b\n", "feed", "csv"),
    ],
)
def test_format_detection(sample: bytes, name: str, expected: str) -> None:
    assert detect_format(sample, name) == expected


def test_delimiter_prefers_consistent_width() -> None:
    assert detect_delimiter('sku\ttitle\tprice\nA\t"a, b"\t1\nB\tc\t2\n') == "\t"


def test_json_array_streams_objects_with_their_line_and_exact_numbers() -> None:
    data = (
        b'[\n {"sku": "A", "price": 19.90, "specs": {"ram": "8GB"}, "tags": ["x", "y"], "ok": true},\n 42,\n {"sku": "B", "price": null}\n]'
    )
    out = rows(data, format="json")
    assert isinstance(out[0], RawRow) and out[0].line == 2
    assert out[0].values == {"sku": "A", "price": "19.90", "specs.ram": "8GB", "tags": "x|y", "ok": "true"}
    assert isinstance(out[1], RowError) and out[1].line == 3 and "a number" in out[1].reason
    assert isinstance(out[2], RawRow) and out[2].values == {"sku": "B", "price": ""}


def test_json_wrapped_array_and_large_feeds_across_chunks() -> None:
    items = ",".join(f'{{"sku": "S{i}", "title": "{"x" * 50}"}}' for i in range(3000))
    out = rows(f'{{"products": [{items}]}}'.encode(), format="json")
    assert len(out) == 3000 and all(isinstance(r, RawRow) for r in out)
    assert out[-1].values["sku"] == "S2999"  # type: ignore[union-attr]


def test_broken_json_array_keeps_earlier_items_and_names_the_line() -> None:
    reader = read_rows(io.BytesIO(b'[{"sku": "A"},\n{"sku": "B",,}]'), FeedOptions("json"))
    assert next(reader).values == {"sku": "A"}  # type: ignore[union-attr]
    with pytest.raises(FeedError) as info:
        next(reader)
    assert info.value.line == 2


def test_truncated_json_array_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="truncated"):
        rows(b'[{"sku": "A"}, ', format="json")


def test_json_lines_report_bad_lines_and_go_on() -> None:
    out = rows(b'{"sku": "A"}\nnot json\n\n[1]\n{"sku": "B"}\n', format="jsonl")
    assert [(type(r).__name__, r.line) for r in out] == [("RawRow", 1), ("RowError", 2), ("RowError", 4), ("RawRow", 5)]


XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns:g="http://base.google.com/ns/1.0">
  <product id="1">
    <g:sku>A</g:sku>
    <price currency="EUR">12.50</price>
    <specs><ram>8GB</ram><attr name="color">Black</attr></specs>
    <image>a.jpg</image><image>b.jpg</image>
  </product>
  <product id="2"><g:sku>B</g:sku></product>
</catalog>"""


def test_xml_one_element_per_product() -> None:
    out = rows(XML, format="xml", xml_element="product")
    assert [(r.line, r.values) for r in out] == [  # type: ignore[union-attr]
        (3, {"id": "1", "sku": "A", "price": "12.50", "specs.ram": "8GB", "color": "Black", "image": "a.jpg|b.jpg"}),
        (9, {"id": "2", "sku": "B"}),
    ]


def test_xml_product_element_is_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "feed.xml"
    path.write_bytes(b"<rss><channel><title>t</title><item><id>1</id></item><item><id>2</id></item></channel></rss>")
    options = detect_options(path)
    assert (options.format, options.xml_element) == ("xml", "item")
    assert [r.values for r in read_rows(path.open("rb"), options)] == [{"id": "1"}, {"id": "2"}]  # type: ignore[union-attr]


def test_xml_entity_expansion_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><c><p><sku>&lol2;</sku></p></c>'
    with pytest.raises(FeedError, match="entities"):
        rows(bomb, format="xml")


def test_xml_external_entity_is_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><c><p><sku>&x;</sku></p></c>'
    with pytest.raises(FeedError):
        rows(xxe, format="xml")


def test_xml_syntax_error_keeps_earlier_products_and_names_the_line() -> None:
    reader = read_rows(io.BytesIO(b"<c>\n<p><sku>A</sku></p>\n<p><sku>B</sku>\n</c>"), FeedOptions("xml", xml_element="p"))
    assert next(reader).values == {"sku": "A"}  # type: ignore[union-attr]
    with pytest.raises(FeedError, match="invalid XML") as info:
        next(reader)
    assert info.value.line == 4
