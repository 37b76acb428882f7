"""The import service: good rows stored, every bad row reported with its line, history and gone flags."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from shelfdesk.catalog import importer
from shelfdesk.catalog.importer import import_catalog, import_rejections
from shelfdesk.db.models import CatalogImport, Product, Store
from tests.catalog.conftest import bad_ean, ean


def products(ctx, store_id):  # type: ignore[no-untyped-def]
    with ctx.read_session() as session:
        return {p.sku: p for p in session.execute(select(Product).where(Product.store_id == store_id)).scalars()}


def lines_and_fields(ctx, result):  # type: ignore[no-untyped-def]
    return [(r.line, r.field) for r in import_rejections(ctx, result.import_id)]


CSV = (
    "Référence;EAN13;Désignation;Catégorie;Prix TTC;Quantité;grade\n"
    f"A1;{ean(1)};iPhone 12;Phones > Smartphones;289,00;3;EXCELLENT\n"
    f"A2;{bad_ean(2)};bad EAN;Phones > Smartphones;10;1;GOOD\n"
    ";;no SKU;Phones;10;1;GOOD\n"
    f"A3;{ean(3)};bad price;Phones;abc;1;GOOD\n"
    f"A4;{ean(4)};bad stock;Phones;10;1.5;GOOD\n"
    f"A1;{ean(1)};duplicate;Phones;10;1;GOOD\n"
    f'A5;;"Chair, oak\nwith a note";Home > Chairs;45;0;\n'
)


def test_csv_with_good_and_broken_rows(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    result = import_catalog(ctx, store_id, str(write("feed.csv", CSV, "cp1252")))
    assert result.ok and (result.rows_read, result.stored, result.rejected, result.gone) == (7, 2, 5, 0)
    assert lines_and_fields(ctx, result) == [(3, "ean"), (4, "sku"), (5, "price"), (6, "stock"), (7, "sku")]
    stored = products(ctx, store_id)
    assert set(stored) == {"A1", "A5"}
    a1 = stored["A1"]
    assert (a1.ean, a1.title, a1.price, a1.stock, a1.attributes) == (ean(1), "iPhone 12", Decimal("289.00"), 3, {"grade": "EXCELLENT"})
    assert stored["A5"].title == "Chair, oak\nwith a note" and stored["A5"].category_path == "Home > Chairs"
    with ctx.read_session() as session:
        record = session.get(CatalogImport, result.import_id)
        store = session.get(Store, store_id)
    assert (record.rows_read, record.stored, record.rejected, record.gone, record.format) == (7, 2, 5, 0, "csv")
    assert record.finished_at is not None and record.error is None
    assert store.catalog_source.endswith("feed.csv") and store.column_roles["sku"] == "Référence"
    assert store.catalog_options["delimiter"] == ";" and store.catalog_options["encoding"] == "cp1252"
    # The raw values of a rejected row are kept so it can be fixed.
    from shelfdesk.db.models import CatalogImportRejection

    with ctx.read_session() as session:
        raw = session.execute(select(CatalogImportRejection.raw).where(CatalogImportRejection.line == 5)).scalar_one()
    assert raw["Prix TTC"] == "abc"


def test_json_array_with_good_and_broken_rows(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    feed = [
        {"sku": "J1", "ean": ean(11), "price": 19.9, "stock": 2, "title": "ok"},
        "not an object",
        {"sku": "J2", "price": -5},
        {"sku": "J3", "price": "7.00", "stock": 1, "specs": {"ram": "8GB"}},
    ]
    result = import_catalog(ctx, store_id, str(write("feed.json", json.dumps(feed, indent=1))))
    assert (result.stored, result.rejected) == (2, 2)
    assert [r.reason for r in import_rejections(ctx, result.import_id)] == [
        "item 2 is a string, not a product object",
        "price '-5' is negative",
    ]
    stored = products(ctx, store_id)
    assert stored["J1"].price == Decimal("19.90") and stored["J3"].attributes == {"specs.ram": "8GB"}


def test_json_lines_with_good_and_broken_rows(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    text = f'{{"sku": "L1", "ean": "{ean(21)}"}}\n{{broken\n{{"sku": "L2", "ean": "{bad_ean(22)}"}}\n{{"sku": "L3"}}\n'
    result = import_catalog(ctx, store_id, str(write("feed.jsonl", text)))
    assert (result.stored, result.rejected) == (2, 2)
    assert lines_and_fields(ctx, result) == [(2, None), (3, "ean")]


def test_xml_with_good_and_broken_rows(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    xml = f"""<?xml version="1.0"?>
<products>
  <product><sku>X1</sku><ean>{ean(31)}</ean><price>10.00</price><stock>1</stock></product>
  <product><sku>X2</sku><price>ten</price></product>
  <product><ean>{ean(33)}</ean></product>
  <product><sku>X4</sku><stock>-3</stock></product>
  <product><sku>X5</sku><attributes><attribute name="grade">GOOD</attribute></attributes></product>
</products>"""
    result = import_catalog(ctx, store_id, str(write("feed.xml", xml)))
    assert (result.stored, result.rejected) == (2, 3)
    assert lines_and_fields(ctx, result) == [(4, "price"), (5, "sku"), (6, "stock")]
    assert products(ctx, store_id)["X5"].attributes == {"grade": "GOOD"}


def test_reimport_updates_by_sku_flags_gone_and_keeps_history(ctx, clock, store_id, write) -> None:  # type: ignore[no-untyped-def]
    first = write("v1.csv", "sku,price,stock\nA,10,1\nB,20,2\nC,30,3\n")
    import_catalog(ctx, store_id, str(first))
    before = products(ctx, store_id)
    clock.advance(3600)
    second = write("v1.csv", "sku,price,stock\nA,10,1\nB,25,2\n")  # same source: saved settings apply
    result = import_catalog(ctx, store_id, str(second))
    assert (result.stored, result.created, result.gone) == (2, 0, 1)
    after = products(ctx, store_id)
    assert after["C"].gone and after["C"].gone_at == clock.now() and after["C"].price == Decimal("30.00")
    assert after["A"].updated_at == before["A"].updated_at  # unchanged: stays put for update publications
    assert after["B"].updated_at == clock.now() and after["B"].price == Decimal("25.00")
    assert after["A"].last_seen_at == clock.now() and after["A"].first_seen_at == before["A"].first_seen_at
    clock.advance(60)
    third = write("v1.csv", "sku,price,stock\nA,10,1\nB,25,2\nC,31,0\n")
    result = import_catalog(ctx, store_id, str(third))
    assert result.gone == 0 and not products(ctx, store_id)["C"].gone  # back in the feed
    with ctx.read_session() as session:
        assert session.execute(select(CatalogImport.id).where(CatalogImport.store_id == store_id)).all().__len__() == 3


def test_duplicates_are_found_across_batches(ctx, store_id, write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(importer, "BATCH_SIZE", 3)
    rows = "\n".join(f"S{i},1" for i in range(10))
    result = import_catalog(ctx, store_id, str(write("dup.csv", f"sku,price\n{rows}\nS1,2\nS9,3\n")))
    assert (result.stored, result.rejected) == (10, 2)
    assert [r.line for r in import_rejections(ctx, result.import_id)] == [12, 13]
    assert products(ctx, store_id)["S1"].price == Decimal("1.00")  # the first row wins


def test_a_truncated_feed_stores_nothing_until_forced_and_flags_nothing_gone(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    import_catalog(ctx, store_id, str(write("feed.json", '[{"sku": "A", "price": 1}, {"sku": "B"}]')))
    path = write("feed.json", '[{"sku": "A", "price": 2}, {"sku": "B"')
    result = import_catalog(ctx, store_id, str(path))
    assert result.outcome == "truncated" and result.needs_force and "nothing flagged gone" in result.error
    assert result.stored == 0 and result.gone == 0 and products(ctx, store_id)["A"].price == Decimal("1.00")
    result = import_catalog(ctx, store_id, str(path), force=True)  # the operator read the report
    assert result.outcome == "forced" and result.ok and result.stored == 1 and result.gone == 0
    assert products(ctx, store_id)["A"].price == Decimal("2.00") and not products(ctx, store_id)["B"].gone


def test_a_feed_without_valid_rows_flags_nothing_gone(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    import_catalog(ctx, store_id, str(write("f.csv", "sku,price\nA,1\n")))
    result = import_catalog(ctx, store_id, str(write("f.csv", "sku,price\nA,x\n")))
    assert result.error and "no valid product" in result.error and not products(ctx, store_id)["A"].gone


def test_unknown_sku_column_is_a_clear_error(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    result = import_catalog(ctx, store_id, str(write("f.csv", "name,price\nA,1\n")))
    assert result.error and "no SKU column found among: name, price" in result.error
    result = import_catalog(ctx, store_id, str(write("f.csv", "name,price\nA,1\n")), roles={"sku": "name"})
    assert result.ok and result.stored == 1


def test_missing_file_is_recorded(ctx, store_id, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = import_catalog(ctx, store_id, str(tmp_path / "nope.csv"))
    assert result.error and "no such file" in result.error
    with ctx.read_session() as session:
        assert session.get(CatalogImport, result.import_id).error == result.error


def test_cancel_between_batches_keeps_what_was_stored(ctx, store_id, write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    import_catalog(ctx, store_id, str(write("f.csv", "sku\nOLD\n")))
    seen: list = []  # type: ignore[type-arg]
    # Cancelled while checking: nothing written at all.
    result = import_catalog(ctx, store_id, str(write("g.csv", "sku\nA\nB\nC\nD\n")), progress=seen.append, should_cancel=lambda: True)
    assert result.cancelled and result.outcome == "cancelled" and result.stored == 0 and seen[0].phase == "checking"
    assert set(products(ctx, store_id)) == {"OLD"}
    # Cancelled while writing: the first batch stays, nothing is flagged gone.
    seen.clear()
    result = import_catalog(
        ctx, store_id, str(write("g.csv", "sku\nA\nB\nC\nD\n")), progress=seen.append, should_cancel=lambda: seen[-1].phase == "writing"
    )
    writing = [p for p in seen if p.phase == "writing"]
    assert result.cancelled and result.stored == 2 and result.gone == 0 and writing[0].stored == 2
    assert not products(ctx, store_id)["OLD"].gone


def test_url_import_streams_with_limits(ctx, store_id, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    body = b"sku,price\nU1,1\nU2,2\n"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/feed.csv":
            return httpx.Response(200, content=body)
        if request.url.path == "/big.csv":
            return httpx.Response(200, content=b"sku\n" + b"X\n" * 5000)
        return httpx.Response(404)

    transport = httpx.MockTransport(handler)
    result = import_catalog(ctx, store_id, "https://shop.example/feed.csv", transport=transport)
    assert result.ok and result.stored == 2
    assert not list((ctx.paths.home / "downloads").iterdir())  # the download is cleaned up
    result = import_catalog(ctx, store_id, "https://shop.example/missing.csv", transport=transport)
    assert result.error == "https://shop.example/missing.csv answered HTTP 404 Not Found"
    monkeypatch.setattr("shelfdesk.catalog.source.DEFAULT_MAX_BYTES", 1000)
    result = import_catalog(ctx, store_id, "https://shop.example/big.csv", transport=transport)
    assert result.error and "limit" in result.error and result.gone == 0


def test_unsupported_scheme_is_refused(ctx, store_id) -> None:  # type: ignore[no-untyped-def]
    result = import_catalog(ctx, store_id, "ftp://example.org/feed.csv")
    assert result.error and "unsupported source ftp" in result.error


def test_read_only_workspace_refuses_imports(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.context import ReadOnlyError

    ctx.read_only = True
    with pytest.raises(ReadOnlyError):
        import_catalog(ctx, store_id, str(write("f.csv", "sku\nA\n")))


def test_column_detection_step_shows_columns_samples_and_roles(ctx, store_id, write) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.feed_preview import preview_feed

    path = write("f.csv", "Ref;Nom;Prix TTC;couleur\nA1;Chaise;12,50;rouge\nA2;Table;99;\n")
    preview = preview_feed(ctx, store_id, str(path))
    assert preview.roles == {"sku": "Ref", "title": "Nom", "price": "Prix TTC"} and not preview.saved_roles
    assert [(c.name, c.role, c.samples) for c in preview.columns] == [
        ("Ref", "sku", ("A1", "A2")),
        ("Nom", "title", ("Chaise", "Table")),
        ("Prix TTC", "price", ("12,50", "99")),
        ("couleur", None, ("rouge",)),
    ]
    assert preview.options["delimiter"] == ";"
    import_catalog(ctx, store_id, str(path), roles={"sku": "Ref", "title": "couleur"})
    again = preview_feed(ctx, store_id)  # the saved source and the roles the operator chose
    assert again.saved_roles and again.roles == {"sku": "Ref", "title": "couleur"}
    with ctx.read_session() as session:
        assert session.get(Store, store_id).column_roles["extra"] == ["Nom", "Prix TTC"]
