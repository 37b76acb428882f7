"""Per-row validation: a feed row becomes a product, or a rejection naming the field and why.

The rules are the marketplaces' and the books': a SKU is required, an EAN/GTIN
must have a correct check digit (spreadsheets love to turn one into
``3.66E+12`` or drop its leading zero), a price is a non-negative decimal with
at most two decimals (``12,50`` is accepted: French exports use a comma), and
stock is a whole number, never negative. Nothing is rounded or guessed: a
value that does not pass is reported with the row's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

from shelfdesk.catalog.gtin import GTIN_LENGTHS, is_valid_gtin

T = TypeVar("T")

#: Longest SKU kept (marketplaces cap theirs well below; a longer one is a wrong column).
MAX_SKU = 128
MAX_PRICE = Decimal("10000000")  # ten million: above it is a unit or column mistake
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_CONTROL = re.compile(r"[\x00-\x1f]")
_CATEGORY_SEPARATORS = re.compile(r"\s*>\s*")
_PRICE = re.compile(r"\+?\d+(\.\d*)?|\+?\.\d+|-\d+(\.\d*)?")
_INTEGER = re.compile(r"[+-]?\d+")
_WHOLE_DECIMAL = re.compile(r"[+-]?\d+[.,]0*")
#: Feeds repeat the same prices, stocks and categories: parse each distinct text once.
_CACHE = 65536


class RowRejected(ValueError):
    """One field of a row is wrong; ``field`` is the role (sku, ean, price, stock)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field  #: the first role at fault (the report's Field column)
        self.reason = reason  #: every reason of the row, "; " between them
        self.fields = [field]  #: every role at fault


@dataclass(frozen=True)
class ProductRow:
    """A valid row, ready to upsert."""

    line: int
    sku: str
    ean: str | None
    title: str | None
    brand: str | None
    category_path: str | None
    price: Decimal | None
    stock: int
    attributes: dict[str, str]


def parse_sku(text: str | None) -> str:
    sku = (text or "").strip()
    if not sku:
        raise RowRejected("sku", "missing SKU")
    if len(sku) > MAX_SKU:
        raise RowRejected("sku", f"SKU is {len(sku)} characters long (at most {MAX_SKU})")
    if _CONTROL.search(sku):
        raise RowRejected("sku", "SKU contains control characters (tab, newline …)")
    return sku


def parse_ean(text: str | None) -> str | None:
    """Digits of a valid GTIN-8/12/13/14, or None when empty."""
    raw = (text or "").strip()
    if not raw:
        return None
    code = _SPACES.sub("", raw).replace("-", "")
    if not code.isdigit() or not code.isascii():
        hint = " (a spreadsheet turned it into a number: format the column as text)" if "e+" in code.lower() else ""
        raise RowRejected("ean", f"EAN/GTIN {raw!r} is not made of digits{hint}")
    if len(code) not in GTIN_LENGTHS:
        raise RowRejected("ean", f"EAN/GTIN {raw!r} has {len(code)} digits (8, 12, 13 or 14 expected)")
    if not is_valid_gtin(code):
        raise RowRejected("ean", f"EAN/GTIN {raw!r} has a bad check digit")
    return code


@lru_cache(maxsize=_CACHE)
def parse_price(text: str | None) -> Decimal | None:
    """A non-negative amount with at most two decimals; None when empty."""
    raw = (text or "").strip()
    if not raw:
        return None
    cleaned = _SPACES.sub("", raw)
    if "," in cleaned:
        if "." in cleaned or cleaned.count(",") > 1:
            raise RowRejected("price", f"price {raw!r} is not a decimal number (use 1234.50 or 1234,50)")
        cleaned = cleaned.replace(",", ".")
    if not _PRICE.fullmatch(cleaned):
        raise RowRejected("price", f"price {raw!r} is not a decimal number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RowRejected("price", f"price {raw!r} is not a decimal number") from None
    if value < 0:
        raise RowRejected("price", f"price {raw!r} is negative")
    if value >= MAX_PRICE:
        raise RowRejected("price", f"price {raw!r} is implausibly large")
    cents = value.quantize(Decimal("0.01"))
    if cents != value:
        raise RowRejected("price", f"price {raw!r} has more than two decimals")
    return cents


@lru_cache(maxsize=_CACHE)
def parse_stock(text: str | None) -> int:
    """A whole, non-negative quantity; empty means 0 (nothing to sell)."""
    raw = (text or "").strip()
    if not raw:
        return 0
    cleaned = _SPACES.sub("", raw)
    if _INTEGER.fullmatch(cleaned):
        value = int(cleaned)
    elif _WHOLE_DECIMAL.fullmatch(cleaned):  # "12.0" from a spreadsheet
        value = int(cleaned.replace(",", ".").split(".")[0])
    else:
        raise RowRejected("stock", f"stock {raw!r} is not a whole number")
    if value < 0:
        raise RowRejected("stock", f"stock {raw!r} is negative")
    if value > 10_000_000:
        raise RowRejected("stock", f"stock {raw!r} is implausibly large")
    return value


@lru_cache(maxsize=_CACHE)
def normalize_category(text: str | None) -> str | None:
    """``"Phones>Smartphones "`` → ``"Phones > Smartphones"``; None when empty."""
    raw = (text or "").strip()
    if not raw:
        return None
    parts = [part.strip() for part in _CATEGORY_SEPARATORS.split(raw)]
    return " > ".join(part for part in parts if part) or None


def _text(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned or None


def validate_row(line: int, values: Mapping[str, str], roles: Mapping[str, str]) -> ProductRow:
    """The product of one row, or :class:`RowRejected` naming every bad field of it.

    Every field is checked, so a merchant fixes a row once: "ean …; price …"
    rather than the EAN, a new import, then the price. ``roles`` maps role →
    column; columns without a role become attributes (empty values are left
    out; every raw value stays in the feed file).
    """

    get = values.get
    problems: list[RowRejected] = []

    def checked(parse: Callable[[str | None], T], role: str, default: T) -> T:
        if role not in roles:
            return default
        try:
            return parse(get(roles[role]))
        except RowRejected as exc:
            problems.append(exc)
            return default

    sku = checked(parse_sku, "sku", "")
    ean = checked(parse_ean, "ean", None)
    price = checked(parse_price, "price", None)
    stock = checked(parse_stock, "stock", 0)
    # A NUL byte (a corrupted file) cannot be stored in a PostgreSQL text column: the row is refused, not the import.
    role_of = {column: role for role, column in roles.items()}
    for column, value in values.items():
        if value and "\x00" in value:
            problems.append(RowRejected(role_of.get(column, column), f"{column}: a NUL character (a damaged file?)"))
    if problems:
        rejected = RowRejected(problems[0].field, "; ".join(p.reason for p in problems))
        rejected.fields = [p.field for p in problems]
        raise rejected
    title = _text(get(roles["title"])) if "title" in roles else None
    brand = _text(get(roles["brand"])) if "brand" in roles else None
    category = normalize_category(get(roles["category"])) if "category" in roles else None
    role_columns = set(roles.values())
    attributes = {k: v.strip() for k, v in values.items() if v and k not in role_columns and v.strip()}
    return ProductRow(line, sku, ean, title, brand, category, price, stock, attributes)
