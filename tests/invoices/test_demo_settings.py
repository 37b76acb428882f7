"""The demo stores are configured to invoice at once, in French and in English."""

from __future__ import annotations

from shelfdesk.context import AppContext
from shelfdesk.demo.invoicing import set_up_demo_invoicing
from shelfdesk.invoices import service
from shelfdesk.invoices.settings import list_settings
from tests.invoices.conftest import make_order


def test_demo_stores_can_invoice(ctx: AppContext) -> None:
    make_order(ctx, marketplace_order_id="D1", store_name="Refurb Paris")
    make_order(ctx, marketplace_order_id="D2", store_name="Refurb Madrid", lines=[("Pixel 7", 1, "242.00")])
    assert set_up_demo_invoicing(ctx) == 2
    assert all(not info.problems() for info in list_settings(ctx))
    paris, madrid = service.generate_invoice(ctx, "D1"), service.generate_invoice(ctx, "D2")
    assert (paris.number, madrid.number) == ("FR-00001", "ES-00001")
    assert service.get_invoice(ctx, "ES-00001").document["rates"][0] == {
        "rate": "21.0000",
        "net": "200.00",
        "vat": "42.00",
        "gross": "242.00",
    }
