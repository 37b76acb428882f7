"""Back Market's own example order, from its published API, through harvest, detail, invoice and export.

The order below is the example values of the spec's ``Order``, ``OrderLine`` and
``Address`` schemas: a locale ``country_code``, a camelCase address, a line of
quantity 2 whose ``price`` is the unit price. Two changes, said here: its dates
are the test clock's (a harvest reads the last days), and its ``price`` is the
lines' sum, 2 × 229.0 = 458.00 (the spec's example says 299.25, which adds up
to nothing).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from shelfdesk.context import AppContext
from tests.invoices.conftest import SELLER
from tests.orders.conftest import Desk, desk  # noqa: F401  (the workspace fixture, on the contract's sandboxes)


def spec_example_order(now: str) -> dict[str, Any]:
    address = {
        "id": 1,
        "country": "FR",
        "city": "Paris",
        "postalCode": "75003",
        "firstName": "Victor",
        "lastName": "Hugo",
        "company": "backmarket",
        "phoneNumber": "+33639981234",
        "street": "3, Imaginary Street",
        "street2": "Apartement X",
    }
    line = {
        "id": 37195,
        "date_creation": now,
        "state": 1,
        "price": "229.0",
        "shipping_price": "0.00",
        "shipping_delay": 48,
        "currency": "EUR",
        "return_reason": 0,
        "return_message": "",
        "listing": "IPHONE416GONLIB0",
        "listing_id": 142,
        "orderline_fee": "22.9",
        "product": "Apple Iphone 4 16 Go - Noir - Débloqué",
        "quantity": 2,
        "brand": "apple",
        "product_id": 141,
        "backcare": True,
        "backcare_price": 500,
        "sales_taxes": "25.8",
        "imei": "011415009346880",
        "serial_number": "",
        "condition": 10,
    }
    return {
        "order_id": 5978,
        "shipping_address": address,
        "billing_address": dict(address),
        "delivery_note": "https://example.com/delivery_note/1519221434.69.pdf",
        "expected_dispatch_date": now,
        "tracking_number": "",
        "tracking_url": "",
        "shipper_display": "",
        "is_backship": False,
        "date_creation": now,
        "date_modification": now,
        "date_payment": now,
        "state": 1,
        "orderlines": [line],
        "price": "458.00",
        "shipping_price": "0.00",
        "currency": "EUR",
        "country_code": "fr-fr",
        "paypal_reference": None,
        "installment_payment": False,
        "payment_method": "CARD",
        "sales_taxes": "25.8",
    }


def test_the_specs_example_order_end_to_end(desk: Desk, ctx: AppContext) -> None:
    from shelfdesk.invoices.service import generate_invoice
    from shelfdesk.invoices.settings import update_settings
    from shelfdesk.orders.actions import enqueue_action
    from shelfdesk.orders.detail import get_order_detail
    from shelfdesk.orders.export import export_text
    from shelfdesk.orders.queries import OrderFilter

    now = ctx.clock.now().isoformat(timespec="seconds")
    assert desk.bm.post("/_sandbox/orders/raw", json={"orders": [spec_example_order(now)]}).status_code == 201

    [result] = [r for r in desk.harvest() if r.account_id == desk.bm_account]
    assert result.error is None and result.stored.out_of_scope == 0
    detail = get_order_detail(ctx, "5978")
    assert (detail.channel, detail.market, detail.country) == ("Back Market France", "fr-fr", "FR")
    assert detail.buyer_name == "Victor Hugo" and detail.buyer_phone == "+33639981234"
    assert detail.shipping_address["postal_code"] == "75003" and detail.shipping_address["first_name"] == "Victor"
    [line] = detail.lines
    assert (line.quantity, line.unit_price) == (2, Decimal("229.00"))
    assert line.unit_price * line.quantity == detail.total == Decimal("458.00")
    assert line.imei == "011415009346880" and line.serial_number is None

    enqueue_action(ctx, "5978", "accept")
    desk.send()
    [accept] = [e for e in desk.requests("backmarket", method="POST") if e["path"] == "/ws/orders/5978"]
    assert accept["accept_language"] == "fr-fr" and accept["body"]["new_state"] == 2

    update_settings(ctx, "Refurb Paris", SELLER)
    invoice = generate_invoice(ctx, "5978")
    assert invoice.total == Decimal("458.00")

    rows = [r for r in csv.DictReader(io.StringIO(export_text(ctx, OrderFilter()))) if r["order_id"] == "5978"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["channel"], row["market"], row["country"], row["buyer_name"]) == ("Back Market France", "fr-fr", "FR", "Victor Hugo")
    assert (row["quantity"], row["unit_price"], row["total"]) == ("2", "229.00", "458.00")
    assert (row["ship_to_name"], row["ship_to_postal_code"], row["ship_to_country"]) == ("Victor Hugo", "75003", "FR")
