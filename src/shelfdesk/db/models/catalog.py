"""The merchant catalog, its import history, and how each channel maps it.

Products are never deleted by an import: a SKU that vanished from the feed is
flagged ``gone`` (its offers go to quantity 0 at the next publication), so the
history of what was published stays attached to a row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from shelfdesk.db.models.base import ShelfModel, enum_field, id_field, json_field, money_field, percent_field
from shelfdesk.domain import ExclusionOperator


class Product(ShelfModel, table=True):
    """One catalog product of a store, keyed by the merchant's SKU."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("store_id", "sku"),
        Index("ix_products_store_ean", "store_id", "ean"),
        # Unmapped categories with product counts; products per category.
        Index("ix_products_store_category", "store_id", "category_path"),
    )

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    store_id: int = Field(foreign_key="stores.id", ondelete="CASCADE")
    sku: str
    ean: str | None = Field(default=None, max_length=14)  #: EAN/GTIN, digits only
    title: str | None = None
    brand: str | None = None
    category_path: str | None = None  #: the merchant's path, e.g. "Phones > Smartphones"
    price: Decimal | None = money_field()
    stock: int = 0
    stock_imported_at: datetime | None = None  #: orders harvested after this decrement available stock
    safety_stock: int | None = None  #: None = the channel's
    attributes: dict[str, Any] = json_field()  #: every other column of the feed, raw
    first_seen_at: datetime
    last_seen_at: datetime
    gone: bool = False  #: missing from the latest import
    gone_at: datetime | None = None
    updated_at: datetime
    #: The import that last saw this SKU: duplicates within one import and gone flags are
    #: found from it (a timestamp would not do: two imports may share one clock instant).
    #: Last in the table because migration 0002 appended it.
    last_import_id: int | None = None


class CatalogImport(ShelfModel, table=True):
    """One run of a catalog import, with its counts and report of rejected rows."""

    __tablename__ = "catalog_imports"
    __table_args__ = (Index("ix_catalog_imports_store_started", "store_id", "started_at"),)

    id: int | None = id_field()
    store_id: int = Field(foreign_key="stores.id", ondelete="CASCADE")
    started_at: datetime
    finished_at: datetime | None = None
    source: str
    format: str | None = Field(default=None, max_length=16)
    actor: str | None = None
    rows_read: int = 0
    stored: int = 0
    rejected: int = 0
    gone: int = 0
    duration_ms: int | None = None
    error: str | None = None  #: why the import as a whole failed; None when it ran
    report: dict[str, Any] = json_field()  #: {"rejected": [{"line": 12, "reason": …}], "columns": …}


class CatalogImportRejection(ShelfModel, table=True):
    """One row an import refused, with its line and why, so nothing is lost silently.

    A table rather than a list in :attr:`CatalogImport.report`: a feed can
    reject tens of thousands of rows, which the console pages through by line.
    """

    __tablename__ = "catalog_import_rejections"
    __table_args__ = (Index("ix_catalog_import_rejections_import_line", "import_id", "line", "id"),)

    id: int | None = id_field(big=True)  # BIGINT since migration 0009
    import_id: int = Field(foreign_key="catalog_imports.id", ondelete="CASCADE")
    line: int  #: line of the file (CSV/JSON lines/XML) or item number (JSON array)
    sku: str | None = None
    field: str | None = Field(default=None, max_length=32)  #: the role at fault: sku, ean, price, stock …
    reason: str
    raw: dict[str, Any] | None = json_field(nullable=True)  #: the row as read, so it can be fixed


class CategoryMapping(ShelfModel, table=True):
    """A merchant category path mapped to a (leaf) category of the channel, with its cost."""

    __tablename__ = "category_mappings"
    __table_args__ = (UniqueConstraint("channel_id", "merchant_category"),)

    id: int | None = id_field()
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    merchant_category: str
    channel_category_id: str
    channel_category_path: str | None = None
    commission: Decimal | None = percent_field()  #: commission (CPA) rate in percent
    insertion_fee: Decimal | None = money_field()  #: per-listing fee (Leboncoin without secure payment)
    requires_imei_or_serial: bool = False  #: lines in this category cannot ship without one per unit
    updated_at: datetime


class ColumnMapping(ShelfModel, table=True):
    """Where one channel attribute takes its value: a catalog column, a constant, or a value map."""

    __tablename__ = "column_mappings"
    __table_args__ = (UniqueConstraint("channel_id", "channel_attribute"),)

    id: int | None = id_field()
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    channel_attribute: str
    catalog_column: str | None = None
    constant: str | None = None  #: used instead of a column
    default_value: str | None = None  #: used when the column is empty
    value_map: dict[str, Any] = json_field()  #: catalog value -> accepted value
    updated_at: datetime


class ExclusionRule(ShelfModel, table=True):
    """A filter that keeps products out of a channel.

    Rules of one ``group_no`` combine with AND, groups combine with OR. A
    per-product manual exclusion is a rule on ``sku`` equals. (The column is
    ``group_no`` rather than ``group``, a reserved word in SQL.)
    """

    __tablename__ = "exclusion_rules"
    __table_args__ = (Index("ix_exclusion_rules_channel_group", "channel_id", "group_no", "position"),)

    id: int | None = id_field()
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    name: str | None = None
    field: str  #: catalog column (or a role such as "sku")
    operator: ExclusionOperator = enum_field(ExclusionOperator)
    value: str | None = None
    group_no: int = 0
    position: int = 0
    enabled: bool = True
    updated_at: datetime
