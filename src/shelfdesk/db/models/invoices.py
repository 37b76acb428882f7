"""Invoices and credit notes, their per-store settings and their gapless number sequences.

An invoice is a legal document: once issued it never changes. The ``invoices``
table therefore refuses UPDATE and DELETE in the database itself (a trigger,
created with the table by the migration and by ``metadata.create_all``), so
neither a bug nor a hand-written SQL statement can alter one. A correction is a
credit note: another row of the same table that points at the invoice it
cancels (``credited_invoice_id``, unique: one credit note per invoice).

Numbers come from ``invoice_sequences``, one row per prefix, advanced in the
same transaction that inserts the invoice (see :mod:`shelfdesk.invoices.numbering`):
a number is consumed only when its invoice commits, so the series has no gap,
and the unique ``(prefix, sequence_number)`` makes a duplicate impossible.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DDL, Index, LargeBinary, Text, UniqueConstraint, event
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, id_field, json_field, money_field
from shelfdesk.db.types import Percent


class InvoiceSettings(ShelfModel, table=True):
    """How one store invoices: language, VAT rates, number prefix, seller identity, header and footer.

    The header and footer are HTML the merchant edits; they are sanitized
    (no scripts, no remote resources) before they are stored.
    """

    __tablename__ = "invoice_settings"

    store_id: int = Field(primary_key=True, foreign_key="stores.id", ondelete="CASCADE")
    language: str = Field(default="fr", max_length=2)  #: fr or en
    product_vat_rate: Decimal = Field(default=Decimal("20"), sa_type=Percent(), nullable=False)
    shipping_vat_rate: Decimal = Field(default=Decimal("20"), sa_type=Percent(), nullable=False)
    prefix: str = Field(default="F", max_length=24)
    number_digits: int = 5  #: zero-padding of the sequence number in the printed number
    seller_name: str = ""
    seller_address: str = Field(default="", sa_type=Text)
    seller_vat_number: str | None = None
    seller_registration: str | None = None  #: SIRET, company register …
    header_html: str = Field(default="", sa_type=Text)
    footer_html: str = Field(default="", sa_type=Text)
    upload: bool = True  #: queue an upload where the marketplace takes invoices
    created_at: datetime
    updated_at: datetime


class InvoiceSequence(ShelfModel, table=True):
    """The next number of one prefix; shared by every store using that prefix."""

    __tablename__ = "invoice_sequences"

    prefix: str = Field(primary_key=True, max_length=24)
    next_number: int = 1
    updated_at: datetime


class Invoice(ShelfModel, table=True):
    """One issued invoice or credit note, with its amounts and rendered documents (immutable)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("prefix", "sequence_number"),
        Index("ix_invoices_order", "order_id", "id"),
        Index("ix_invoices_issued", "issued_at", "id"),
        Index("ix_invoices_store_issued", "store_id", "issued_at", "id"),
    )

    id: int | None = id_field()
    number: str = Field(unique=True, max_length=48)  #: printed number: prefix + padded sequence number
    prefix: str = Field(max_length=24)
    sequence_number: int
    kind: str = Field(max_length=16)  #: invoice or credit_note
    order_id: int = Field(foreign_key="orders.id", ondelete="RESTRICT")
    store_id: int | None = Field(default=None, foreign_key="stores.id", ondelete="RESTRICT")
    #: The invoice a credit note cancels; unique, so an invoice is credited at most once.
    credited_invoice_id: int | None = Field(default=None, foreign_key="invoices.id", ondelete="RESTRICT", unique=True)
    issued_at: datetime
    language: str = Field(max_length=2)
    currency: str = Field(max_length=3)
    total_net: Decimal = money_field(nullable=False)
    total_vat: Decimal = money_field(nullable=False)
    total: Decimal = money_field(nullable=False)
    #: {"20.0000": {"net": "83.25", "vat": "16.65", "gross": "99.90"}, …} as decimal strings.
    vat_breakdown: dict[str, Any] = json_field()
    document: dict[str, Any] = json_field()  #: everything printed, as issued (seller, buyer, lines …)
    html: str = Field(sa_type=Text)
    pdf: bytes = Field(sa_type=LargeBinary)
    pdf_sha256: str = Field(max_length=64)
    reason: str | None = Field(default=None, sa_type=Text)  #: why a credit note was issued
    created_by: str = Field(max_length=128)


#: The triggers that make ``invoices`` append-only, per dialect (portable everywhere else).
IMMUTABLE_INVOICES_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices "
        "BEGIN SELECT RAISE(ABORT, 'invoices are immutable: issue a credit note instead'); END",
        "CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices "
        "BEGIN SELECT RAISE(ABORT, 'invoices are immutable: issue a credit note instead'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION shelfdesk_invoices_immutable() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'invoices are immutable: issue a credit note instead'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION shelfdesk_invoices_immutable()",
    ),
}

for _dialect, _statements in IMMUTABLE_INVOICES_DDL.items():
    for _statement in _statements:
        event.listen(Invoice.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
