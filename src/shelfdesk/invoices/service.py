"""What the CLI and the console call to issue, list, read and export invoices.

Issuing one invoice is one write transaction: lock the order, check it can be
invoiced, allocate the number, build the document, render HTML and PDF, insert
the (immutable) row, queue the upload, write the audit entry. Any failure rolls
all of it back, the number included, so the series stays gapless and nothing
is half-issued. Bulk generation repeats that per order (one commit each, so
progress is real and one bad order costs only itself).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from shelfdesk.domain import NormalizedStatus
from shelfdesk.files import write_atomic
from shelfdesk.invoices.amounts import ZERO, InvoiceAmounts, LineInput, compute, rate_key
from shelfdesk.invoices.errors import InvoiceError, NumberTaken
from shelfdesk.invoices.numbering import allocate, format_number, peek_next, prefix_is_used
from shelfdesk.invoices.settings import InvoiceSettingsInfo, settings_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

#: Orders in these statuses can be invoiced: the sale is agreed (accepted, shipped or done).
INVOICEABLE = (NormalizedStatus.InProgress, NormalizedStatus.Shipped, NormalizedStatus.Closed)
KINDS = ("invoice", "credit_note")


@dataclass(frozen=True)
class InvoiceInfo:
    """One invoice or credit note as lists show it (no document bytes)."""

    id: int
    number: str
    kind: str
    order_id: int
    marketplace: str
    marketplace_order_id: str
    store_name: str | None
    issued_at: datetime
    currency: str
    total_net: Decimal
    total_vat: Decimal
    total: Decimal
    credited_number: str | None  #: for a credit note: the invoice it cancels
    credited_by: str | None  #: for an invoice: the credit note that cancels it
    upload_state: str | None  #: the outbox state of its upload, None when none was queued
    upload_error: str | None


@dataclass(frozen=True)
class InvoiceDetail:
    info: InvoiceInfo
    document: dict[str, Any]
    html: str
    pdf_size: int
    pdf_sha256: str


@dataclass(frozen=True)
class InvoicePreview:
    """What issuing an invoice for an order would produce; shown before the operator confirms."""

    order_id: int
    marketplace_order_id: str
    store_name: str
    prefix: str
    next_number: int
    number: str
    prefix_in_use: bool  #: False: the operator may choose any start number
    currency: str
    total_net: Decimal
    total_vat: Decimal
    total: Decimal
    rates: tuple[tuple[Decimal, Decimal], ...]  #: (rate, VAT) per rate
    upload: bool


@dataclass
class BulkReport:
    """What a bulk run did, per order."""

    total: int
    issued: list[InvoiceInfo] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  #: (order id, why): already invoiced …
    failed: list[tuple[int, str]] = field(default_factory=list)
    canceled: bool = False

    @property
    def done(self) -> int:
        return len(self.issued) + len(self.skipped) + len(self.failed)


#: progress(done, total, failed, message)
Progress = Callable[[int, int, int, str], None]


# ---------------------------------------------------------------------- reading orders


def find_order(session: Session, reference: str | int) -> Any:
    """An order by marketplace id, ``#id`` or shelfdesk id (the orders CLI's convention)."""
    from shelfdesk.db.models import Order

    text = str(reference).strip()
    if text.startswith("#") and text[1:].isdigit():
        order = session.get(Order, int(text[1:]))
        if order is None:
            raise InvoiceError(f"no order #{text[1:]}")
        return order
    rows = session.execute(select(Order).where(Order.marketplace_order_id == text).limit(2)).scalars().all()
    if len(rows) > 1:
        raise InvoiceError(f"order id {text} exists on several accounts; name it by shelfdesk id (#{rows[0].id}, #{rows[1].id})")
    if rows:
        return rows[0]
    if text.isdigit() and (order := session.get(Order, int(text))) is not None:
        return order
    raise InvoiceError(f"no order {text!r} (give the marketplace's order id, or #id for shelfdesk's)")


def find_invoice(session: Session, reference: str | int) -> Any:
    """An invoice by its printed number, or ``#id``."""
    from shelfdesk.db.models import Invoice

    text = str(reference).strip()
    if text.startswith("#") and text[1:].isdigit():
        invoice = session.get(Invoice, int(text[1:]))
    else:
        invoice = session.execute(select(Invoice).where(Invoice.number == text)).scalar_one_or_none()
    if invoice is None:
        raise InvoiceError(f"no invoice {text!r} (give its number, e.g. F00042, or #id)")
    return invoice


def active_invoice(session: Session, order_id: int) -> Any | None:
    """The order's invoice that no credit note cancels, if any."""
    from sqlalchemy.orm import aliased

    from shelfdesk.db.models import Invoice

    credit = aliased(Invoice)
    return session.execute(
        select(Invoice)
        .outerjoin(credit, credit.credited_invoice_id == Invoice.id)
        .where(Invoice.order_id == order_id, Invoice.kind == "invoice", credit.id.is_(None))  # type: ignore[union-attr]
        .order_by(Invoice.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).scalar_one_or_none()


# ---------------------------------------------------------------------- building documents


def _address_lines(address: dict[str, Any] | None) -> tuple[str, str]:
    """(name, multi-line address) from a marketplace address dict."""
    if not address:
        return "", ""
    name = " ".join(str(address.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    if not name:
        name = str(address.get("name") or "").strip()
    city = " ".join(str(address.get(k) or "").strip() for k in ("postal_code", "city")).strip()
    parts = [address.get("company"), address.get("street"), address.get("street2"), city, address.get("country")]
    return name, "\n".join(str(p).strip() for p in parts if p and str(p).strip())


def order_lines_for_invoice(session: Session, order: Any, settings: InvoiceSettingsInfo) -> list[LineInput]:
    """The lines an order bills: its lines (cancelled ones left out), shipping, discount.

    Checks first that the order is consistent (lines + shipping - discount =
    the marketplace's total, or lines - discount where the marketplace's total
    leaves shipping out): an invoice must match what the buyer paid.
    """
    from shelfdesk.db.models import OrderLine

    lines = session.execute(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).scalars().all()
    if not lines:
        raise InvoiceError(f"order {order.marketplace_order_id} has no lines to invoice")
    missing = [l.sku or l.marketplace_line_id for l in lines if l.unit_price is None]
    if missing:
        raise InvoiceError(f"order {order.marketplace_order_id}: no price for line(s) {', '.join(missing)}")
    shipping = order.shipping_price or ZERO
    discount = order.discount_total or ZERO
    expected = sum((l.unit_price * l.quantity for l in lines), ZERO) + shipping - discount
    # Marketplaces differ on whether the order total includes shipping (Leboncoin's does not): either is consistent.
    if order.total is not None and order.total not in (expected, expected - shipping):
        raise InvoiceError(
            f"order {order.marketplace_order_id}: lines ({expected}) do not add up to the order total ({order.total}); "
            "an invoice must match what the buyer paid, so it was not issued. Refresh the order from the marketplace."
        )
    billed = [
        LineInput(
            description=l.title or l.sku or l.marketplace_line_id,
            quantity=l.quantity,
            unit_gross=l.unit_price,
            rate=settings.product_vat_rate,
            sku=l.sku,
        )
        for l in lines
        if l.status != NormalizedStatus.Canceled and l.quantity > 0
    ]
    if not billed:
        raise InvoiceError(f"order {order.marketplace_order_id}: every line is cancelled, nothing to invoice")
    if shipping:
        billed.append(LineInput("", 1, shipping, settings.shipping_vat_rate, kind="shipping"))
    if discount:
        billed.append(LineInput("", 1, -discount, settings.product_vat_rate, kind="discount"))
    return billed


def _amounts_document(amounts: InvoiceAmounts) -> dict[str, Any]:
    return {
        "lines": [
            {
                "description": l.description,
                "sku": l.sku,
                "kind": l.kind,
                "quantity": l.quantity,
                "unit_gross": str(l.unit_gross),
                "rate": rate_key(l.rate),
                "net": str(l.net),
                "vat": str(l.vat),
                "gross": str(l.gross),
            }
            for l in amounts.lines
        ],
        "rates": [{"rate": rate_key(r.rate), "net": str(r.net), "vat": str(r.vat), "gross": str(r.gross)} for r in amounts.rates],
        "total_net": str(amounts.total_net),
        "total_vat": str(amounts.total_vat),
        "total": str(amounts.total),
    }


def _breakdown(document: dict[str, Any]) -> dict[str, Any]:
    return {r["rate"]: {"net": r["net"], "vat": r["vat"], "gross": r["gross"]} for r in document["rates"]}


def _store_and_settings(session: Session, order: Any, company: str) -> tuple[Any, InvoiceSettingsInfo]:
    from shelfdesk.db.models import Store

    if order.store_id is None:
        raise InvoiceError(
            f"order {order.marketplace_order_id} belongs to no store (no channel of its account covers market "
            f"{order.market or '?'}), so shelfdesk does not know whose invoice settings to use"
        )
    store = session.get(Store, order.store_id)
    settings = settings_for(session, store, company)
    problems = settings.problems()
    if problems:
        raise InvoiceError(
            f"store {store.name!r} cannot invoice yet: set {' and '.join(problems)} "
            f"(shelfdesk invoices settings {store.name!r} --edit, or e on the Invoices screen)"
        )
    return store, settings


def _check_invoiceable(session: Session, order: Any) -> None:
    if NormalizedStatus(order.status) not in INVOICEABLE:
        raise InvoiceError(f"order {order.marketplace_order_id} is {order.status}: only accepted, shipped or closed orders are invoiced")
    existing = active_invoice(session, order.id)
    if existing is not None:
        raise InvoiceError(
            f"order {order.marketplace_order_id} already has invoice {existing.number}; "
            "to correct it, issue a credit note first (shelfdesk invoices credit NUMBER)"
        )


def _insert(
    session: Session,
    ctx: AppContext,
    *,
    document: dict[str, Any],
    prefix: str,
    number: int,
    order: Any,
    store_id: int | None,
    credited_id: int | None,
    reason: str | None,
) -> Any:
    from shelfdesk.db.models import Invoice
    from shelfdesk.invoices.render import render_html, render_pdf

    html = render_html(document)
    pdf = render_pdf(document)
    invoice = Invoice(
        number=document["number"],
        prefix=prefix,
        sequence_number=number,
        kind=document["kind"],
        order_id=order.id,
        store_id=store_id,
        credited_invoice_id=credited_id,
        issued_at=datetime.fromisoformat(document["issued_at"]),
        language=document["language"],
        currency=document["currency"],
        total_net=Decimal(document["total_net"]),
        total_vat=Decimal(document["total_vat"]),
        total=Decimal(document["total"]),
        vat_breakdown=_breakdown(document),
        document=document,
        html=html,
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        reason=reason,
        created_by=ctx.actor,
    )
    session.add(invoice)
    session.flush()
    return invoice


def _issue(session: Session, ctx: AppContext, order: Any, *, wanted: int | None, upload: bool | None) -> Any:
    """Issue the invoice of ``order`` inside ``session`` (the caller's transaction)."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Order
    from shelfdesk.invoices.upload import marketplace_takes_invoices, queue_upload

    # Lock the order row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers), so two
    # processes cannot both find it uninvoiced and issue two invoices.
    session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    _check_invoiceable(session, order)
    store, settings = _store_and_settings(session, order, ctx.settings.company)
    amounts = compute(order_lines_for_invoice(session, order, settings))
    now = ctx.clock.now()
    sequence = allocate(session, settings.prefix, now, wanted)
    name, address = _address_lines(order.billing_address or order.shipping_address)
    document = {
        "kind": "invoice",
        "number": format_number(settings.prefix, sequence, settings.number_digits),
        "issued_at": now.isoformat(),
        "language": settings.language,
        "currency": order.currency or store.currency,
        "seller": {
            "name": settings.seller_name,
            "address": settings.seller_address,
            "vat_number": settings.seller_vat_number,
            "registration": settings.seller_registration,
        },
        "buyer": {"name": name or order.buyer_name or "", "address": address},
        "order": {
            "id": order.id,
            "marketplace": str(order.marketplace),
            "marketplace_order_id": order.marketplace_order_id,
            "purchased_at": order.purchased_at.isoformat(),
        },
        "header_html": settings.header_html,
        "footer_html": settings.footer_html,
        "credited": None,
        "reason": None,
        **_amounts_document(amounts),
    }
    invoice = _insert(
        session,
        ctx,
        document=document,
        prefix=settings.prefix,
        number=sequence,
        order=order,
        store_id=store.id,
        credited_id=None,
        reason=None,
    )
    record_audit(
        session,
        ctx,
        "invoice.issue",
        "order",
        order.marketplace_order_id,
        {"invoice": invoice.number, "total": str(invoice.total), "currency": invoice.currency},
        at=now,
    )
    if (settings.upload if upload is None else upload) and marketplace_takes_invoices(order.marketplace):
        queue_upload(
            session,
            order_id=order.id,
            marketplace_order_id=order.marketplace_order_id,
            invoice_id=invoice.id,
            number=invoice.number,
            actor=ctx.actor,
            now=now,
        )
    return invoice


# ---------------------------------------------------------------------- issuing


def preview_invoice(ctx: AppContext, order_ref: str | int) -> InvoicePreview:
    """What :func:`generate_invoice` would issue now; raises InvoiceError when it would refuse."""
    from shelfdesk.invoices.upload import marketplace_takes_invoices

    with ctx.read_session() as session:
        order = find_order(session, order_ref)
        _check_invoiceable(session, order)
        store, settings = _store_and_settings(session, order, ctx.settings.company)
        amounts = compute(order_lines_for_invoice(session, order, settings))
        following = peek_next(session, settings.prefix)
        return InvoicePreview(
            order_id=order.id,
            marketplace_order_id=order.marketplace_order_id,
            store_name=store.name,
            prefix=settings.prefix,
            next_number=following,
            number=format_number(settings.prefix, following, settings.number_digits),
            prefix_in_use=prefix_is_used(session, settings.prefix),
            currency=order.currency or store.currency,
            total_net=amounts.total_net,
            total_vat=amounts.total_vat,
            total=amounts.total,
            rates=tuple((r.rate, r.vat) for r in amounts.rates),
            upload=settings.upload and marketplace_takes_invoices(order.marketplace),
        )


def generate_invoice(ctx: AppContext, order_ref: str | int, *, number: int | None = None, upload: bool | None = None) -> InvoiceInfo:
    """Issue the invoice of one order, optionally with a chosen number (see :mod:`.numbering` for the rules)."""
    with ctx.write_session() as session:
        order = find_order(session, order_ref)
        invoice = _issue(session, ctx, order, wanted=number, upload=upload)
        invoice_id = invoice.id
    return get_invoice_info(ctx, f"#{invoice_id}")


def generate_bulk(
    ctx: AppContext,
    order_ids: Sequence[int],
    *,
    start_number: int | None = None,
    upload: bool | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BulkReport:
    """Issue invoices for many orders, one transaction each, reporting progress after each order.

    Orders that already have an invoice are skipped, not failed. ``start_number``
    applies to the first invoice issued (all orders must then share one prefix).
    ``should_stop`` is checked between orders (Esc in the console).
    """
    ctx.require_write()
    report = BulkReport(total=len(order_ids))
    if start_number is not None:
        _check_start(ctx, order_ids, start_number)
    wanted = start_number
    for order_id in order_ids:
        if should_stop is not None and should_stop():
            report.canceled = True
            break
        message = ""
        issued_id: int | None = None
        try:
            with ctx.write_session() as session:
                order = find_order(session, f"#{order_id}")
                existing = active_invoice(session, order.id)
                if existing is not None:
                    message = f"{order.marketplace_order_id}: already invoiced ({existing.number})"
                    report.skipped.append((order_id, message))
                else:
                    invoice = _issue(session, ctx, order, wanted=wanted, upload=upload)
                    issued_id = invoice.id
                    message = f"{order.marketplace_order_id}: {invoice.number}"
                    wanted = None
            if issued_id is not None:
                report.issued.append(get_invoice_info(ctx, f"#{issued_id}"))
        except NumberTaken:
            raise  # the chosen start is no longer free: stop before issuing anything out of series
        except InvoiceError as exc:
            report.failed.append((order_id, str(exc)))
            message = str(exc)
        if progress is not None:
            progress(report.done, report.total, len(report.failed), message)
    return report


def _check_start(ctx: AppContext, order_ids: Sequence[int], start_number: int) -> None:
    from shelfdesk.db.models import Order

    with ctx.read_session() as session:
        prefixes = set()
        for order_id in order_ids:
            order = session.get(Order, order_id)
            if order is None or order.store_id is None:
                continue
            from shelfdesk.db.models import Store

            prefixes.add(settings_for(session, session.get(Store, order.store_id), ctx.settings.company).prefix)
        if len(prefixes) > 1:
            raise InvoiceError(f"these orders use several prefixes ({', '.join(sorted(prefixes))}); a start number needs one")
        for prefix in prefixes:
            following = peek_next(session, prefix)
            if start_number != following and prefix_is_used(session, prefix):
                raise NumberTaken(f"prefix {prefix!r} continues at {following}; numbering is gapless, so it cannot start at {start_number}")


def credit_invoice(ctx: AppContext, invoice_ref: str | int, reason: str) -> InvoiceInfo:
    """Issue the credit note that cancels an invoice in full; the invoice itself never changes."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Invoice, Order

    reason = (reason or "").strip()
    if not reason:
        raise InvoiceError("a credit note needs a reason (it is printed on it)")
    with ctx.write_session() as session:
        original = find_invoice(session, invoice_ref)
        session.execute(select(Order.id).where(Order.id == original.order_id).with_for_update())
        if original.kind != "invoice":
            raise InvoiceError(f"{original.number} is a credit note; only invoices can be credited")
        existing = session.execute(select(Invoice.number).where(Invoice.credited_invoice_id == original.id)).scalar()
        if existing:
            raise InvoiceError(f"{original.number} was already cancelled by credit note {existing}")
        now = ctx.clock.now()
        source = dict(original.document)
        amounts = _negated(source)
        sequence = allocate(session, original.prefix, now)
        digits = len(original.number) - len(original.prefix)
        document = {
            **source,
            **amounts,
            "kind": "credit_note",
            "number": format_number(original.prefix, sequence, digits),
            "issued_at": now.isoformat(),
            "credited": {"number": original.number, "issued_at": original.issued_at.isoformat()},
            "reason": reason,
        }
        order = session.get(Order, original.order_id)
        note = _insert(
            session,
            ctx,
            document=document,
            prefix=original.prefix,
            number=sequence,
            order=order,
            store_id=original.store_id,
            credited_id=original.id,
            reason=reason,
        )
        record_audit(
            session,
            ctx,
            "invoice.credit",
            "order",
            order.marketplace_order_id,
            {"invoice": original.number, "credit_note": note.number, "reason": reason},
            at=now,
        )
        note_id = note.id
    return get_invoice_info(ctx, f"#{note_id}")


def _negated(document: dict[str, Any]) -> dict[str, Any]:
    def neg(value: str) -> str:
        return str(-Decimal(value))

    lines = [
        {**l, "unit_gross": neg(l["unit_gross"]), "net": neg(l["net"]), "vat": neg(l["vat"]), "gross": neg(l["gross"])}
        for l in document["lines"]
    ]
    rates = [{**r, "net": neg(r["net"]), "vat": neg(r["vat"]), "gross": neg(r["gross"])} for r in document["rates"]]
    return {
        "lines": lines,
        "rates": rates,
        "total_net": neg(document["total_net"]),
        "total_vat": neg(document["total_vat"]),
        "total": neg(document["total"]),
    }


# ---------------------------------------------------------------------- listing and reading


def _info_query() -> Any:
    from sqlalchemy.orm import aliased

    from shelfdesk.db.models import Invoice, Order, OrderAction, Store
    from shelfdesk.invoices.upload import upload_key_sql

    credited = aliased(Invoice)
    credit = aliased(Invoice)
    upload = aliased(OrderAction)
    return (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.kind,
            Invoice.order_id,
            Order.marketplace,
            Order.marketplace_order_id,
            Store.name,
            Invoice.issued_at,
            Invoice.currency,
            Invoice.total_net,
            Invoice.total_vat,
            Invoice.total,
            credited.number,
            credit.number,
            upload.state,
            upload.last_error,
        )
        .join(Order, Order.id == Invoice.order_id)
        .outerjoin(Store, Store.id == Invoice.store_id)
        .outerjoin(credited, credited.id == Invoice.credited_invoice_id)
        .outerjoin(credit, credit.credited_invoice_id == Invoice.id)
        .outerjoin(upload, upload.idempotency_key == upload_key_sql(Invoice.order_id, Invoice.id))
    )


def _to_info(row: Any) -> InvoiceInfo:
    return InvoiceInfo(
        id=row[0],
        number=row[1],
        kind=row[2],
        order_id=row[3],
        marketplace=str(row[4]),
        marketplace_order_id=row[5],
        store_name=row[6],
        issued_at=row[7],
        currency=row[8],
        total_net=row[9],
        total_vat=row[10],
        total=row[11],
        credited_number=row[12],
        credited_by=row[13],
        upload_state=str(row[14]) if row[14] is not None else None,
        upload_error=row[15],
    )


def search_condition(search: str) -> Any:
    """``search`` inside the invoice number or the marketplace order id, ignoring ASCII case, as typed.

    Both sides are lowered because ``LIKE`` ignores case on SQLite only (on
    PostgreSQL "fr-0001" found nothing); a typed ``%`` or ``_`` is a plain character.
    """
    from shelfdesk.db.models import Invoice, Order

    text = search.strip().lower()
    return func.lower(Invoice.number).contains(text, autoescape=True) | func.lower(Order.marketplace_order_id).contains(
        text, autoescape=True
    )


def list_invoices(
    ctx: AppContext,
    *,
    order: str | int | None = None,
    store: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    limit: int | None = 500,
) -> list[InvoiceInfo]:
    """Invoices newest first, filtered; ``search`` matches the number or the marketplace order id."""
    from shelfdesk.db.models import Invoice, Store

    if kind is not None and kind not in KINDS:
        raise InvoiceError(f"kind must be one of {', '.join(KINDS)}")
    with ctx.read_session() as session:
        query = _info_query()
        if order is not None:
            query = query.where(Invoice.order_id == find_order(session, order).id)
        if store is not None:
            query = query.where(Store.name == store)
        if kind is not None:
            query = query.where(Invoice.kind == kind)
        if since is not None:
            query = query.where(Invoice.issued_at >= since)
        if until is not None:
            query = query.where(Invoice.issued_at < until)
        if search and search.strip():
            query = query.where(search_condition(search))
        query = query.order_by(Invoice.issued_at.desc(), Invoice.id.desc())  # type: ignore[attr-defined]
        if limit is not None:
            query = query.limit(limit)
        return [_to_info(row) for row in session.execute(query).all()]


def order_invoice(ctx: AppContext, order_id: int) -> InvoiceInfo | None:
    """The order's invoice that no credit note cancels, as lists show it (the HTTP API's order detail), or None."""
    from shelfdesk.db.models import Invoice

    with ctx.read_session() as session:
        invoice = active_invoice(session, order_id)
        if invoice is None:
            return None
        row = session.execute(_info_query().where(Invoice.id == invoice.id)).first()
    return _to_info(row) if row is not None else None


def get_invoice_info(ctx: AppContext, reference: str | int) -> InvoiceInfo:
    from shelfdesk.db.models import Invoice

    with ctx.read_session() as session:
        invoice_id = find_invoice(session, reference).id
        return _to_info(session.execute(_info_query().where(Invoice.id == invoice_id)).one())


def get_invoice(ctx: AppContext, reference: str | int) -> InvoiceDetail:
    """One invoice with its document and HTML (the PDF through :func:`invoice_pdf`)."""
    from shelfdesk.db.models import Invoice

    with ctx.read_session() as session:
        invoice = find_invoice(session, reference)
        info = _to_info(session.execute(_info_query().where(Invoice.id == invoice.id)).one())
        return InvoiceDetail(info, dict(invoice.document), invoice.html, len(invoice.pdf), invoice.pdf_sha256)


def invoice_pdf(ctx: AppContext, reference: str | int) -> tuple[str, bytes]:
    """(file name, PDF bytes) of an invoice, as issued."""
    with ctx.read_session() as session:
        invoice = find_invoice(session, reference)
        return f"{_safe_name(invoice.number)}.pdf", bytes(invoice.pdf)


def _safe_name(number: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in number)


def write_invoice(ctx: AppContext, reference: str | int, path: Path, *, fmt: str = "pdf") -> Path:
    """Write one invoice's PDF or HTML to ``path`` (a file, or a folder to put it in)."""
    with ctx.read_session() as session:
        invoice = find_invoice(session, reference)
        content = bytes(invoice.pdf) if fmt == "pdf" else invoice.html.encode("utf-8")
        name = f"{_safe_name(invoice.number)}.{fmt}"
    target = path / name if path.is_dir() else path
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, content)
    return target


def export_invoices(
    ctx: AppContext,
    directory: Path,
    *,
    formats: Sequence[str] = ("pdf", "html"),
    since: datetime | None = None,
    until: datetime | None = None,
    store: str | None = None,
) -> list[Path]:
    """Write every matching invoice (PDF and/or HTML) and an ``invoices.csv`` summary into ``directory``.

    Files are named by invoice number, so exporting twice overwrites with the
    same bytes (issued invoices never change).
    """
    import csv
    import io

    from shelfdesk.db.models import Invoice
    from shelfdesk.exports import safe_cell

    for fmt in formats:
        if fmt not in ("pdf", "html"):
            raise InvoiceError(f"unknown format {fmt!r}: pdf or html")
    directory.mkdir(parents=True, exist_ok=True)
    infos = list_invoices(ctx, store=store, since=since, until=until, limit=None)
    written: list[Path] = []
    with ctx.read_session() as session:
        for info in reversed(infos):
            invoice = session.get(Invoice, info.id)
            for fmt in formats:
                target = directory / f"{_safe_name(info.number)}.{fmt}"
                write_atomic(target, bytes(invoice.pdf) if fmt == "pdf" else invoice.html.encode("utf-8"))
                written.append(target)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "number",
            "kind",
            "issued_at",
            "order",
            "marketplace",
            "store",
            "currency",
            "total_net",
            "total_vat",
            "total",
            "credits",
            "credited_by",
        ]
    )
    for info in reversed(infos):
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    info.number,
                    info.kind,
                    info.issued_at.isoformat(),
                    info.marketplace_order_id,
                    info.marketplace,
                    info.store_name or "",
                    info.currency,
                    info.total_net,
                    info.total_vat,
                    info.total,
                    info.credited_number or "",
                    info.credited_by or "",
                )
            ]
        )
    summary = directory / "invoices.csv"
    write_atomic(summary, buffer.getvalue().encode("utf-8"))
    written.append(summary)
    return written


def count_invoices(ctx: AppContext) -> int:
    from shelfdesk.db.models import Invoice

    with ctx.read_session() as session:
        return int(session.execute(select(func.count()).select_from(Invoice)).scalar_one())


def queue_upload_for(ctx: AppContext, invoice_ref: str | int) -> int:
    """Queue (again) the upload of an issued invoice; InvoiceError where the marketplace takes none."""
    from shelfdesk.db.models import Order
    from shelfdesk.invoices.upload import marketplace_takes_invoices, queue_upload

    with ctx.write_session() as session:
        invoice = find_invoice(session, invoice_ref)
        if invoice.kind != "invoice":
            raise InvoiceError(f"{invoice.number} is a credit note; marketplaces take invoices only")
        order = session.get(Order, invoice.order_id)
        assert order is not None
        if not marketplace_takes_invoices(order.marketplace):
            raise InvoiceError(f"{order.marketplace} takes no invoice upload; keep {invoice.number} for your records")
        return queue_upload(
            session,
            order_id=order.id,
            marketplace_order_id=order.marketplace_order_id,
            invoice_id=invoice.id,
            number=invoice.number,
            actor=ctx.actor,
            now=ctx.clock.now(),
        )
