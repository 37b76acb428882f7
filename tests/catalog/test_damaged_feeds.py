"""Damaged feeds never destroy the stored catalog: cut, corrupted, swallowed or implausible feeds.

The fuzz tests import a valid catalog, then a damaged copy of it, and check the
stored products: a prefix of the feed never changes a price, stock or title and
flags nothing gone unless it ended cleanly; a corrupted byte changes at most the
record it lands in.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from shelfdesk.catalog.importer import ImportOutcome, import_catalog, import_rejections
from shelfdesk.db.models import Product
from tests.catalog.conftest import ean

COUNT = 40
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def catalog(count: int = COUNT) -> list[dict[str, Any]]:
    return [
        {"sku": f"SKU-{i:03d}", "ean": ean(i), "title": f"Teak chair n°{i}, oiled", "price": f"{100 + i}.90", "stock": str(i % 7)}
        for i in range(count)
    ]


def render(fmt: str, items: list[dict[str, Any]]) -> bytes:
    if fmt == "csv":
        lines = ["sku,ean,title,price,stock"] + [f'{p["sku"]},{p["ean"]},"{p["title"]}",{p["price"]},{p["stock"]}' for p in items]
        return ("\n".join(lines) + "\n").encode()
    if fmt == "jsonl":
        return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in items).encode()
    if fmt == "json":
        return json.dumps({"products": items}, ensure_ascii=False, indent=1).encode()
    body = "".join(
        f"  <product><sku>{p['sku']}</sku><ean>{p['ean']}</ean><title>{p['title']}</title>"
        f"<price>{p['price']}</price><stock>{p['stock']}</stock></product>\n"
        for p in items
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<products>\n{body}</products>\n'.encode()


def state(ctx, store_id) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    with ctx.read_session() as session:
        rows = session.execute(select(Product).where(Product.store_id == store_id)).scalars()
        return {p.sku: (p.title, p.price, p.stock, p.gone) for p in rows}


def clean_end(fmt: str, data: bytes) -> bool:
    """True when a prefix of a feed is itself a whole feed (a cut on a record boundary)."""
    if fmt == "csv":
        return data.endswith(b"\n")
    if fmt == "jsonl":  # a last object without its line ending is still whole
        return data.endswith(b"\n") or data.endswith(b"}")
    return data.rstrip().endswith(b"</products>" if fmt == "xml" else b"}")


@pytest.fixture
def feed_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(fmt: str, data: bytes) -> str:
        path = tmp_path / f"feed.{fmt}"
        path.write_bytes(data)
        return str(path)

    return _write


@FUZZ
@given(fmt=st.sampled_from(["csv", "json", "jsonl", "xml"]), cut=st.floats(0.0, 1.0))
def test_a_prefix_never_changes_a_product_nor_flags_one_gone_unless_it_ends_cleanly(ctx, store_id, feed_file, fmt, cut) -> None:  # type: ignore[no-untyped-def]
    whole = render(fmt, catalog())
    first = import_catalog(ctx, store_id, feed_file(fmt, whole), format=fmt)
    assert first.outcome == ImportOutcome.DONE and first.stored == COUNT
    before = state(ctx, store_id)
    prefix = whole[: int(len(whole) * cut)]
    result = import_catalog(ctx, store_id, feed_file(fmt, prefix), format=fmt)
    after = state(ctx, store_id)
    for sku, (title, price, stock, _gone) in before.items():
        assert after[sku][:3] == (title, price, stock), (sku, result)
    gone = [sku for sku, values in after.items() if values[3]]
    if not clean_end(fmt, prefix):
        assert gone == [] and result.gone == 0, result
    assert result.gone <= COUNT // 3  # more than a third at once is refused


@FUZZ
@given(
    fmt=st.sampled_from(["csv", "json", "jsonl", "xml"]),
    where=st.floats(0.0, 1.0),
    byte=st.integers(0, 255),
    how=st.sampled_from(["replace", "insert", "delete"]),
)
def test_a_corrupted_byte_changes_at_most_the_record_it_lands_in(ctx, store_id, feed_file, fmt, where, byte, how) -> None:  # type: ignore[no-untyped-def]
    whole = render(fmt, catalog())
    import_catalog(ctx, store_id, feed_file(fmt, whole), format=fmt)
    before = state(ctx, store_id)
    at = min(int(len(whole) * where), len(whole) - 1)
    data = bytearray(whole)
    if how == "replace":
        data[at] = byte
    elif how == "insert":
        data.insert(at, byte)
    else:
        del data[at]
    result = import_catalog(ctx, store_id, feed_file(fmt, bytes(data)), format=fmt)
    after = state(ctx, store_id)
    touched = [sku for sku, values in before.items() if after[sku] != values]
    if result.outcome != ImportOutcome.DONE:
        assert touched == [], result  # refused, truncated or unreadable: the stored catalog is as it was
    assert len(touched) <= 2, (touched, result)


def test_the_cut_demo_csv_of_the_report_stores_nothing(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    whole = render("csv", catalog(200))
    import_catalog(ctx, store_id, feed_file("csv", whole))
    before = state(ctx, store_id)
    cut = whole[: len(whole) // 2]
    assert not cut.endswith(b"\n")
    result = import_catalog(ctx, store_id, feed_file("csv", cut))
    assert result.outcome == ImportOutcome.TRUNCATED and result.needs_force and not result.ok
    assert "ends inside the record starting on line" in result.error and "the last good catalog stays" in result.error
    assert (result.stored, result.gone) == (0, 0) and state(ctx, store_id) == before


def test_a_stray_quote_rejects_its_row_and_the_rows_it_swallowed_are_read_again(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    items = catalog(50)
    import_catalog(ctx, store_id, feed_file("csv", render("csv", items)))
    text = render("csv", items).decode().split("\n")
    text[4] = text[4].replace(',"Teak', ',"Teak "', 1).replace('oiled"', "oiled")  # a stray quote on line 5
    result = import_catalog(ctx, store_id, feed_file("csv", "\n".join(text).encode()))
    assert result.outcome == ImportOutcome.DONE and (result.rows_read, result.stored, result.rejected) == (50, 49, 1)
    assert [r.line for r in import_rejections(ctx, result.import_id)] == [5]
    after = state(ctx, store_id)
    assert result.gone == 0 and not any(values[3] for values in after.values())  # its SKU is still in the file
    assert max(len(values[0]) for values in after.values()) < 40


def test_short_rows_are_rejected_never_padded(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    items = catalog(20)
    import_catalog(ctx, store_id, feed_file("csv", render("csv", items)))
    text = render("csv", items).decode().replace("SKU-003,", "SKU-003;", 1)
    result = import_catalog(ctx, store_id, feed_file("csv", text.encode()))
    assert result.rejected == 1 and "fields but the header has 5" in import_rejections(ctx, result.import_id)[0].reason
    assert state(ctx, store_id)["SKU-003"] == ("Teak chair n°3, oiled", Decimal("103.90"), 3, False) or (
        state(ctx, store_id)["SKU-003"][:3] == ("Teak chair n°3, oiled", Decimal("103.90"), 3)
    )


def test_an_implausible_share_gone_or_rejected_is_refused_until_forced(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    items = catalog(30)
    import_catalog(ctx, store_id, feed_file("csv", render("csv", items)))
    before = state(ctx, store_id)
    half = feed_file("csv", render("csv", items[:15]))
    result = import_catalog(ctx, store_id, half)
    assert result.outcome == ImportOutcome.REFUSED and result.would_flag_gone == 15 and result.stored == 0
    assert "15 of 30 products (50%)" in result.error and state(ctx, store_id) == before
    forced = import_catalog(ctx, store_id, half, force=True)
    assert forced.outcome == ImportOutcome.FORCED and forced.gone == 15
    # A higher limit (the workspace setting) lets the same feed through unforced.
    import_catalog(ctx, store_id, feed_file("csv", render("csv", items)))
    assert import_catalog(ctx, store_id, half, implausible_share=0.6).outcome == ImportOutcome.DONE
    # Too many rejected rows at once (a price column gone bad) is refused the same way.
    import_catalog(ctx, store_id, feed_file("csv", render("csv", items)))
    bad = [dict(p, price="n/a") if i % 2 else p for i, p in enumerate(items)]
    result = import_catalog(ctx, store_id, feed_file("csv", render("csv", bad)))
    assert result.outcome == ImportOutcome.REFUSED and "15 of 30 rows (50%) were rejected" in result.error


def test_mixed_encodings_are_reported_with_their_lines(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    data = render("csv", catalog(12)).replace(b"n\xc2\xb07,", "n°7,".encode("latin-1"))
    result = import_catalog(ctx, store_id, feed_file("csv", data))
    assert result.outcome == ImportOutcome.DONE and result.stored == 11
    [rejection] = import_rejections(ctx, result.import_id)
    assert rejection.line == 9 and "not valid utf-8 text (byte 0xB0)" in rejection.reason


def test_truncated_jsonl_and_xml_store_nothing(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("jsonl", "xml"):
        whole = render(fmt, catalog(20))
        import_catalog(ctx, store_id, feed_file(fmt, whole), format=fmt)
        before = state(ctx, store_id)
        result = import_catalog(ctx, store_id, feed_file(fmt, whole[: len(whole) - 30]), format=fmt)
        assert result.needs_force and result.stored == 0 and state(ctx, store_id) == before, result


def test_a_first_import_stores_what_it_can_however_many_rows_are_rejected(ctx, store_id, feed_file) -> None:  # type: ignore[no-untyped-def]
    items = [dict(p, price="n/a") if i % 2 else p for i, p in enumerate(catalog(30))]
    result = import_catalog(ctx, store_id, feed_file("csv", render("csv", items)))
    assert result.outcome == ImportOutcome.DONE and (result.stored, result.rejected) == (15, 15)


def test_a_nul_character_refuses_its_row_only() -> None:
    """PostgreSQL cannot store a NUL in text: found by the property test above on the PostgreSQL run."""
    import pytest

    from shelfdesk.catalog.validation import RowRejected, validate_row

    roles = {"sku": "sku", "title": "title", "price": "price", "stock": "stock"}
    with pytest.raises(RowRejected, match="title: a NUL character"):
        validate_row(3, {"sku": "SKU-1", "title": "Teak chair\x00", "price": "10.00", "stock": "1"}, roles)
    assert validate_row(4, {"sku": "SKU-2", "title": "Teak chair", "price": "10.00", "stock": "1"}, roles).sku == "SKU-2"
