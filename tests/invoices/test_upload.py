"""Invoices reach Back Market through the orders outbox; the sandbox stores what it received."""

from __future__ import annotations

from typing import Any

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import ActionState
from shelfdesk.invoices import service
from shelfdesk.invoices.settings import update_settings
from tests.invoices.conftest import SELLER
from tests.orders.conftest import desk, make_desk, sandboxes  # noqa: F401 - fixtures

__all__ = ["desk", "make_desk", "sandboxes"]


def test_an_issued_invoice_is_uploaded_once_through_the_outbox(desk: Any, clock: FakeClock) -> None:
    ctx: AppContext = desk.ctx
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted", quantity=1)
    desk.harvest()
    update_settings(ctx, "Refurb Paris", SELLER)
    invoice = service.generate_invoice(ctx, str(order["order_id"]))
    assert invoice.upload_state == ActionState.pending.value
    # Another marketplace call fails transiently first: the outbox retries, the upload lands once.
    path = f"/ws/orders/{order['order_id']}/invoice"
    desk.fault("backmarket", kind="503", count=1, path=path)
    report = desk.send()
    assert report.count(ActionState.confirmed) == 1
    assert len([r for r in desk.requests("backmarket") if r.get("path") == path]) == 2
    received = desk.sandbox_state("backmarket")["invoices"]
    assert [(r["order_id"], r["filename"]) for r in received] == [(order["order_id"], f"{invoice.number}.pdf")]
    assert received[0]["size"] == len(service.invoice_pdf(ctx, invoice.number)[1])
    assert service.get_invoice_info(ctx, invoice.number).upload_state == ActionState.confirmed.value
    assert desk.send().outcomes == []  # nothing left to send
