"""Row validation: each rule rejects with the field and a reason; nothing is rounded or guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shelfdesk.catalog.columns import suggest_roles
from shelfdesk.catalog.validation import (
    RowRejected,
    normalize_category,
    parse_ean,
    parse_price,
    parse_stock,
    validate_row,
)
from tests.catalog.conftest import bad_ean, ean


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("12,5", Decimal("12.50")),
        ("1 234,00", Decimal("1234.00")),
        ("0", Decimal("0.00")),
        ("", None),
        ("12.500", Decimal("12.50")),
    ],
)
def test_prices_accepted(text: str, expected: Decimal | None) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1", "negative"),
        ("abc", "not a decimal"),
        ("12.345", "two decimals"),
        ("1,234.50", "not a decimal"),
        ("1e3", "not a decimal"),
        ("99999999", "implausibly"),
    ],
)
def test_prices_rejected(text: str, reason: str) -> None:
    with pytest.raises(RowRejected, match=reason) as info:
        parse_price(text)
    assert info.value.field == "price"


def test_stock() -> None:
    assert parse_stock("") == 0 and parse_stock(" 7 ") == 7 and parse_stock("12.0") == 12
    for bad in ("1.5", "-2", "many"):
        with pytest.raises(RowRejected) as info:
            parse_stock(bad)
        assert info.value.field == "stock"


def test_ean() -> None:
    assert parse_ean(ean(5)) == ean(5) and parse_ean("") is None and parse_ean(f" {ean(5)[:6]} {ean(5)[6:]} ") == ean(5)
    with pytest.raises(RowRejected, match="check digit"):
        parse_ean(bad_ean(5))
    with pytest.raises(RowRejected, match="spreadsheet"):
        parse_ean("3.66E+12")
    with pytest.raises(RowRejected, match="11 digits"):
        parse_ean("12345678901")


def test_validate_row_keeps_other_columns_as_attributes() -> None:
    roles = {"sku": "Ref", "price": "Prix", "category": "Cat"}
    row = validate_row(4, {"Ref": " A1 ", "Prix": "9,90", "Cat": "Home>Chairs ", "color": "Red", "note": " "}, roles)
    assert (row.sku, row.price, row.category_path, row.attributes) == ("A1", Decimal("9.90"), "Home > Chairs", {"color": "Red"})
    with pytest.raises(RowRejected, match="missing SKU"):
        validate_row(5, {"Ref": "  "}, roles)


def test_category_normalization() -> None:
    assert normalize_category(" Phones>  Smartphones > ") == "Phones > Smartphones"
    assert normalize_category("   ") is None


def test_roles_are_suggested_from_names_and_values() -> None:
    columns = ["Référence", "Désignation", "Prix TTC", "Qté", "Marque", "Catégorie", "code", "min_price"]
    samples = {"code": [ean(1), ean(2)]}
    assert suggest_roles(columns, samples) == {
        "sku": "Référence",
        "ean": "code",
        "title": "Désignation",
        "brand": "Marque",
        "category": "Catégorie",
        "price": "Prix TTC",
        "stock": "Qté",
    }


def test_a_row_lists_every_reason_not_only_the_first() -> None:
    from shelfdesk.catalog.validation import RowRejected, validate_row

    roles = {"sku": "sku", "ean": "ean", "price": "price", "stock": "stock"}
    with pytest.raises(RowRejected) as caught:
        validate_row(3, {"sku": "A1", "ean": "123", "price": "x", "stock": "-2"}, roles)
    assert (caught.value.field, caught.value.fields) == ("ean", ["ean", "price", "stock"])
    assert caught.value.reason.count(";") == 2 and "stock '-2' is negative" in caught.value.reason
