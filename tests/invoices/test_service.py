"""Issuing, reading, correcting and exporting invoices; immutability; documents that can be read back."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from shelfdesk.context import AppContext
from shelfdesk.domain import ActionKind, ActionState, Marketplace, NormalizedStatus
from shelfdesk.invoices import service
from shelfdesk.invoices.errors import InvoiceError
from tests.invoices.conftest import make_order


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_issued_invoice_has_amounts_document_and_readable_pdf(ctx: AppContext, seller_store: Any, tmp_path: Path) -> None:
    seller_store(footer_html="<p>Garantie 12 mois. <b>Merci !</b></p>")
    make_order(ctx, marketplace_order_id="5001", lines=[("iPhone 12 64 Go", 1, "329.90"), ("Coque", 2, "9.99")], shipping="4.90")
    invoice = service.generate_invoice(ctx, "5001")
    assert (invoice.number, invoice.kind, invoice.total) == ("F00001", "invoice", Decimal("354.78"))
    assert invoice.total_net + invoice.total_vat == invoice.total
    detail = service.get_invoice(ctx, "F00001")
    assert detail.document["rates"] == [{"rate": "20.0000", "net": "295.65", "vat": "59.13", "gross": "354.78"}]
    path = service.write_invoice(ctx, "F00001", tmp_path / "out.pdf")
    content = pdf_text(path.read_bytes())
    for expected in (
        "Facture F00001",
        "Atelier Reconditionné SAS",
        "FR12345678901",
        "Camille Martin",
        "iPhone 12 64 Go",
        "Frais de port",
        "354,78 €",
        "295,65 €",
        "59,13 €",
        "Garantie 12 mois. Merci !",
        "Back Market",
    ):
        assert expected in content, expected


def test_english_settings_render_in_english(ctx: AppContext, seller_store: Any) -> None:
    seller_store(language="en", product_vat_rate="5.5")
    make_order(ctx, marketplace_order_id="5002", lines=[("Book", 3, "10.55")])
    service.generate_invoice(ctx, "5002")
    _, data = service.invoice_pdf(ctx, "F00001")
    content = pdf_text(data)
    assert "Invoice F00001" in content and "€31.65" in content and "5.5 %" in content and "VAT summary" in content
    html = service.get_invoice(ctx, "F00001").html
    assert '<html lang="en">' in html and "Total incl. VAT" in html


def test_invoices_are_immutable_even_to_raw_sql(ctx: AppContext, seller_store: Any) -> None:
    seller_store()
    make_order(ctx, marketplace_order_id="5003")
    service.generate_invoice(ctx, "5003")
    for statement in ("UPDATE invoices SET total = 1", "DELETE FROM invoices"):
        with pytest.raises(DBAPIError, match="immutable"):
            with ctx.write_session() as session:
                session.execute(text(statement))
    assert service.get_invoice_info(ctx, "F00001").total == Decimal("329.90")


def test_a_correction_is_a_credit_note_referencing_the_invoice(ctx: AppContext, seller_store: Any) -> None:
    seller_store()
    make_order(ctx, marketplace_order_id="5004", lines=[("Laptop", 1, "799.00")])
    service.generate_invoice(ctx, "5004")
    with pytest.raises(InvoiceError, match="already has invoice F00001"):
        service.generate_invoice(ctx, "5004")
    with pytest.raises(InvoiceError, match="reason"):
        service.credit_invoice(ctx, "F00001", " ")
    note = service.credit_invoice(ctx, "F00001", "Wrong billing address")
    assert (note.number, note.kind, note.total, note.credited_number) == ("F00002", "credit_note", Decimal("-799.00"), "F00001")
    assert service.get_invoice_info(ctx, "F00001").credited_by == "F00002"
    content = pdf_text(service.invoice_pdf(ctx, "F00002")[1])
    assert "Avoir F00002" in content and "F00001" in content and "-799,00 €" in content and "Wrong billing address" in content
    with pytest.raises(InvoiceError, match="already cancelled"):
        service.credit_invoice(ctx, "F00001", "again")
    # After the credit note the order can be invoiced again, with the next number.
    assert service.generate_invoice(ctx, "5004").number == "F00003"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": NormalizedStatus.New}, "only accepted, shipped or closed"),
        ({"total": "100.00"}, "do not add up to the order total"),
    ],
)
def test_orders_that_cannot_be_invoiced_are_refused_and_nothing_is_written(
    ctx: AppContext, seller_store: Any, kwargs: dict[str, Any], message: str
) -> None:
    seller_store()
    make_order(ctx, marketplace_order_id="5005", **kwargs)
    with pytest.raises(InvoiceError, match=message):
        service.generate_invoice(ctx, "5005")
    assert service.list_invoices(ctx) == []


def test_a_store_without_seller_identity_cannot_invoice(ctx: AppContext) -> None:
    make_order(ctx, marketplace_order_id="5006")
    with pytest.raises(InvoiceError, match="seller's address"):
        service.generate_invoice(ctx, "5006")


def test_cancelled_lines_and_discounts(ctx: AppContext, seller_store: Any) -> None:
    from shelfdesk.db.models import OrderLine

    seller_store()
    order_id = make_order(ctx, marketplace_order_id="5007", lines=[("A", 1, "100.00"), ("B", 1, "50.00")], discount="10.00")
    with ctx.write_session() as session:
        line = session.execute(select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.title == "B")).scalar_one()
        line.status = NormalizedStatus.Canceled
    invoice = service.generate_invoice(ctx, "5007")
    assert invoice.total == Decimal("90.00")
    kinds = [l["kind"] for l in service.get_invoice(ctx, invoice.number).document["lines"]]
    assert kinds == ["product", "discount"]


def test_header_and_footer_are_sanitized(ctx: AppContext, seller_store: Any) -> None:
    info = seller_store(
        header_html='<p onclick="x()">Hi<script>alert(1)</script><img src="https://tracker.example/p.gif">'
        '<a href="javascript:evil()">x</a><a href="https://shop.example">shop</a></p>'
    )
    assert "script" not in info.header_html and "img" not in info.header_html and "onclick" not in info.header_html
    assert "javascript" not in info.header_html and 'href="https://shop.example"' in info.header_html
    make_order(ctx, marketplace_order_id="5008")
    html = service.get_invoice(ctx, service.generate_invoice(ctx, "5008").number).html
    assert "<script" not in html and "tracker.example" not in html
    assert "Content-Security-Policy" in html  # nothing remote loads even from a browser


def test_back_market_invoices_are_queued_for_upload_leboncoin_ones_are_not(ctx: AppContext, seller_store: Any) -> None:
    from shelfdesk.db.models import OrderAction

    seller_store()
    make_order(ctx, marketplace_order_id="5009")
    make_order(ctx, marketplace_order_id="LBC-1", marketplace=Marketplace.leboncoin)
    bm = service.generate_invoice(ctx, "5009")
    lbc = service.generate_invoice(ctx, "LBC-1")
    assert bm.upload_state == ActionState.pending.value and lbc.upload_state is None
    with ctx.read_session() as session:
        actions = session.execute(select(OrderAction)).scalars().all()
    assert [(a.kind, a.payload["number"]) for a in actions] == [(ActionKind.upload_invoice, bm.number)]
    # Queuing it again is the same row, not a second upload.
    from shelfdesk.invoices.service import queue_upload_for
    from shelfdesk.invoices.upload import upload_document

    assert queue_upload_for(ctx, bm.number) == actions[0].id
    filename, content = upload_document(ctx, actions[0].payload)
    assert filename == "F00001.pdf" and content.startswith(b"%PDF")
    with pytest.raises(InvoiceError, match="takes no invoice"):
        queue_upload_for(ctx, lbc.number)


def test_bulk_generation_reports_progress_and_skips_invoiced_orders(ctx: AppContext, seller_store: Any) -> None:
    seller_store()
    ids = [make_order(ctx, marketplace_order_id=f"B{n}") for n in range(5)]
    bad = make_order(ctx, marketplace_order_id="Bbad", total="1.00")
    service.generate_invoice(ctx, f"#{ids[0]}")
    seen: list[tuple[int, int, int]] = []
    report = service.generate_bulk(ctx, [*ids, bad], progress=lambda done, total, failed, _m: seen.append((done, total, failed)))
    assert [i.number for i in report.issued] == ["F00002", "F00003", "F00004", "F00005"]
    assert [oid for oid, _ in report.skipped] == [ids[0]] and [oid for oid, _ in report.failed] == [bad]
    assert seen[-1] == (6, 6, 1) and [s[0] for s in seen] == [1, 2, 3, 4, 5, 6]


def test_bulk_generation_from_a_chosen_start_and_cancel(ctx: AppContext, seller_store: Any) -> None:
    seller_store(prefix="X")
    ids = [make_order(ctx, marketplace_order_id=f"S{n}") for n in range(4)]
    calls = iter([False, False, True])
    report = service.generate_bulk(ctx, ids, start_number=1000, should_stop=lambda: next(calls))
    assert [i.number for i in report.issued] == ["X01000", "X01001"] and report.canceled
    with pytest.raises(InvoiceError, match="continues at 1002"):
        service.generate_bulk(ctx, ids[2:], start_number=5)
    assert service.list_invoices(ctx, kind="invoice")[0].number == "X01001"


def test_export_writes_every_document_and_a_summary(ctx: AppContext, seller_store: Any, tmp_path: Path) -> None:
    seller_store()
    for n in range(2):
        service.generate_invoice(ctx, f"#{make_order(ctx, marketplace_order_id=f'E{n}')}")
    service.credit_invoice(ctx, "F00001", "returned")
    files = service.export_invoices(ctx, tmp_path / "export")
    names = sorted(p.name for p in files)
    assert names == ["F00001.html", "F00001.pdf", "F00002.html", "F00002.pdf", "F00003.html", "F00003.pdf", "invoices.csv"]
    rows = (tmp_path / "export" / "invoices.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("number,kind") and rows[3].startswith("F00003,credit_note") and rows[3].endswith("F00001,")
    again = service.export_invoices(ctx, tmp_path / "export")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in files]


def test_rendering_is_reproducible_and_a_credit_note_mirrors_its_invoice(ctx: AppContext, seller_store: Any) -> None:
    from shelfdesk.invoices.render import render_pdf

    seller_store()
    make_order(ctx, marketplace_order_id="5010", lines=[("A", 3, "0.10"), ("B", 1, "19.99")], shipping="2.49")
    invoice = service.generate_invoice(ctx, "5010")
    detail = service.get_invoice(ctx, invoice.number)
    assert render_pdf(detail.document) == service.invoice_pdf(ctx, invoice.number)[1]  # same document, same bytes
    note = service.get_invoice(ctx, service.credit_invoice(ctx, invoice.number, "returned").number).document
    for key in ("total_net", "total_vat", "total"):
        assert Decimal(note[key]) == -Decimal(detail.document[key])
    assert [Decimal(l["net"]) for l in note["lines"]] == [-Decimal(l["net"]) for l in detail.document["lines"]]
    assert [Decimal(r["vat"]) for r in note["rates"]] == [-Decimal(r["vat"]) for r in detail.document["rates"]]


def test_a_total_without_shipping_is_consistent_too(ctx: AppContext, seller_store: Any) -> None:
    """Leboncoin's order total leaves shipping out; the invoice bills what the buyer paid, shipping included."""
    seller_store()
    make_order(
        ctx, marketplace_order_id="LBC-7", lines=[("Lampe", 1, "50.00")], shipping="4.99", total="50.00", marketplace=Marketplace.leboncoin
    )
    assert service.generate_invoice(ctx, "LBC-7").total == Decimal("54.99")


def test_search_ignores_case_on_postgresql_too_and_takes_wildcards_as_typed(ctx: AppContext, seller_store: Any) -> None:
    """LIKE ignores ASCII case on SQLite only: the search lowers both sides, so "f0000" finds F00001 on PostgreSQL too."""
    from sqlalchemy.dialects import postgresql

    seller_store()
    for remote in ("LBC0001", "LBC0002"):
        make_order(ctx, marketplace_order_id=remote)
        service.generate_invoice(ctx, remote)
    assert [i.number for i in service.list_invoices(ctx, search=" f00001 ")] == ["F00001"]
    assert [i.marketplace_order_id for i in service.list_invoices(ctx, search="lbc")] == ["LBC0002", "LBC0001"]
    assert service.list_invoices(ctx, search="F%1") == [] and service.list_invoices(ctx, search="LBC_00") == []
    pg = str(service.search_condition("F0000").compile(dialect=postgresql.dialect()))
    assert "lower(invoices.number) LIKE" in pg and "lower(orders.marketplace_order_id) LIKE" in pg, pg
