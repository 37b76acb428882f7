"""Catalog fields by name, for mappings and exclusion rules, in SQL and in Python.

A *catalog field* is either a role (``sku``, ``ean``, ``title``, ``brand``,
``category``, ``price``, ``stock``: product columns) or the name of an extra
feed column kept in the product's ``attributes``. Mappings and rules name
fields this way, so they survive a store renaming its feed's "Prix TTC"
column, and copy between stores whose feeds differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

#: Role → product column.
ROLE_FIELDS: dict[str, str] = {
    "sku": "sku",
    "ean": "ean",
    "title": "title",
    "brand": "brand",
    "category": "category_path",
    "price": "price",
    "stock": "stock",
}
NUMERIC_ROLES = ("price", "stock")


@dataclass(frozen=True)
class ProductValues:
    """What mappings and rules read from one product (a plain row, no ORM object)."""

    id: int
    sku: str
    ean: str | None
    title: str | None
    brand: str | None
    category_path: str | None
    price: Decimal | None
    stock: int
    attributes: Mapping[str, Any]

    def raw(self, name: str) -> Any:
        """The field's value as stored (Decimal for price, int for stock), or None."""
        column = ROLE_FIELDS.get(name)
        if column is not None:
            return getattr(self, column)
        value = self.attributes.get(name)
        return None if value is None else value

    def text(self, name: str) -> str | None:
        """The field's value as text (``"12.50"`` for a price), None when missing or empty."""
        value = self.raw(name)
        if value is None:
            return None
        text = str(value)
        return text if text.strip() else None


def product_columns() -> list[Any]:
    """The product columns :class:`ProductValues` is built from, for a ``select``."""
    from shelfdesk.db.models import Product

    t = Product.__table__
    return [t.c.id, t.c.sku, t.c.ean, t.c.title, t.c.brand, t.c.category_path, t.c.price, t.c.stock, t.c.attributes]


def to_values(row: Any) -> ProductValues:
    return ProductValues(row.id, row.sku, row.ean, row.title, row.brand, row.category_path, row.price, row.stock, row.attributes or {})


def field_sql(name: str) -> ColumnElement[Any]:
    """SQL for a field: the product column for a role, else the attribute's text from the JSON."""
    from shelfdesk.db.models import Product

    t = Product.__table__
    column = ROLE_FIELDS.get(name)
    if column is not None:
        return t.c[column]
    return t.c.attributes[name].as_string()


def is_role(name: str) -> bool:
    return name in ROLE_FIELDS
