"""Property tests: whatever bytes or rows come in, readers and the importer never crash.

A reader may only yield rows or row errors, or stop with a FeedError naming
the damage; validation may only return a product or a RowRejected. Anything
else (an IndexError, a UnicodeDecodeError, a RecursionError …) is a bug.
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from shelfdesk.catalog.detect import FeedOptions, detect_options
from shelfdesk.catalog.errors import FeedError
from shelfdesk.catalog.readers import RawRow, RowError, read_rows
from shelfdesk.catalog.validation import ProductRow, RowRejected, validate_row

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def drain(data: bytes, options: FeedOptions) -> list[RawRow | RowError]:
    out = []
    try:
        for item in read_rows(io.BytesIO(data), options):
            assert isinstance(item, (RawRow, RowError))
            assert item.line >= 1
            if isinstance(item, RawRow):
                assert all(isinstance(k, str) and isinstance(v, str) for k, v in item.values.items())
            out.append(item)
    except FeedError as exc:
        assert str(exc)
    return out


@FAST
@given(
    st.binary(max_size=2000),
    st.sampled_from(["csv", "json", "jsonl", "xml"]),
    st.sampled_from(["utf-8", "cp1252", "latin-1", "utf-16"]),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_readers_survive_random_bytes(data: bytes, fmt: str, encoding: str, delimiter: str) -> None:
    drain(data, FeedOptions(fmt, encoding=encoding, delimiter=delimiter))


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_value = st.one_of(
    _text,
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.lists(_text, max_size=3),
    st.dictionaries(_text, _text, max_size=3),
)


@FAST
@given(st.lists(st.dictionaries(_text, _value, max_size=6), max_size=8), st.booleans(), st.integers(0, 400))
def test_json_readers_survive_random_documents(items: list[dict], lines: bool, cut: int) -> None:  # type: ignore[type-arg]
    if lines:
        data = "\n".join(json.dumps(item) for item in items).encode()
    else:
        data = json.dumps(items, indent=1).encode()
    drain(data, FeedOptions("jsonl" if lines else "json"))
    drain(data[:cut], FeedOptions("jsonl" if lines else "json"))  # truncated downloads too


@FAST
@given(st.lists(st.lists(_text, max_size=6), max_size=10), st.sampled_from([",", ";"]))
def test_csv_reader_survives_random_tables(table: list[list[str]], delimiter: str) -> None:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(table)
    data = buffer.getvalue().encode("utf-8")
    drain(data, FeedOptions("csv", delimiter=delimiter))


@FAST
@given(st.binary(max_size=1500))
def test_detection_never_crashes(tmp_path_factory, data: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("fuzz") / "feed"
    path.write_bytes(data)
    try:
        options = detect_options(path)
    except FeedError:
        return
    drain(data, options)


@FAST
@given(st.dictionaries(st.sampled_from(["sku", "ean", "title", "brand", "category", "price", "stock", "x"]), _text))
def test_validation_returns_a_product_or_a_reason(values: dict[str, str]) -> None:
    roles = {r: r for r in ("sku", "ean", "title", "brand", "category", "price", "stock")}
    try:
        row = validate_row(1, values, roles)
    except RowRejected as exc:
        assert exc.field in roles and exc.reason
    else:
        assert isinstance(row, ProductRow) and row.sku and row.stock >= 0
        assert row.price is None or row.price >= 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=1500), suffix=st.sampled_from([".csv", ".json", ".jsonl", ".xml", ""]))
def test_the_importer_never_crashes(ctx, store_id, tmp_path, data: bytes, suffix: str) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.importer import import_catalog

    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    result = import_catalog(ctx, store_id, str(path), roles={"sku": "sku"} if data[:1] == b"s" else None)
    assert result.import_id and result.stored + result.rejected <= result.rows_read
