"""The Invoices and Webhooks screens, driven by keys as an operator would."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import Static

from shelfdesk.context import AppContext
from shelfdesk.invoices import service
from shelfdesk.tui.messages import InvoicesLoaded, OperationDone, WebhooksLoaded
from tests.invoices.conftest import SELLER, make_order
from tests.pilot import settle
from tests.webhooks.conftest import Receiver, order_with_events, receiver  # noqa: F401 - fixture

__all__ = ["SELLER", "receiver"]


def invoices_data(ctx: AppContext) -> None:
    from shelfdesk.invoices.settings import update_settings

    make_order(ctx, marketplace_order_id="4100", lines=[("iPhone 12 64 Go", 1, "329.90"), ("Coque silicone", 2, "9.99")], shipping="4.90")
    make_order(ctx, marketplace_order_id="4101", lines=[("MacBook Air M1", 1, "689.00")])
    update_settings(ctx, "Refurb FR", {**SELLER, "upload": False})  # no outbox row: nothing for a background sweep
    service.generate_invoice(ctx, "4100")
    service.generate_invoice(ctx, "4101")
    service.credit_invoice(ctx, "F00002", "Article retourné")


async def test_invoices_screen_lists_views_credits_and_writes_pdf(make_app: Any, ctx: AppContext) -> None:
    invoices_data(ctx)
    messages: list[Any] = []
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"invoices", "enter")
        await settle(pilot)
        loaded = [m for m in messages if isinstance(m, InvoicesLoaded) and m.invoices]
        assert [i.number for i in loaded[-1].invoices] == ["F00003", "F00002", "F00001"]
        text = str(app.screen.query_one("#invoices-text", Static).render())
        assert "Avoir F00003" in text and "Article retourné" in text
        await pilot.press("down", "down")  # F00001
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        done = [m for m in messages if isinstance(m, OperationDone)]
        assert done and "F00001 written to" in done[-1].text
        assert (ctx.paths.exports_dir / "invoices" / "F00001.pdf").read_bytes().startswith(b"%PDF")
        await pilot.press("c")  # credit note: "No" is focused, Enter alone does nothing
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert len(service.list_invoices(ctx)) == 3
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("tab", "tab", *"wrong buyer", "enter")  # into the field, type, Enter: focus moves to Yes
        await pilot.press("enter")
        await settle(pilot)
        assert service.get_invoice_info(ctx, "F00001").credited_by == "F00004"
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrdersScreen"


async def test_webhooks_screen_shows_health_and_tests_a_subscription(make_app: Any, ctx: AppContext, receiver: Receiver) -> None:
    from shelfdesk.webhooks import delivery, subscriptions

    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created")
    subscriptions.add_subscription(ctx, "warehouse", "http://127.0.0.1:9/down", "all", max_failures=1)
    order_with_events(ctx, "5100")
    await asyncio.to_thread(delivery.deliver_pending, ctx)  # the sync entry point runs its own loop: not on this one
    messages: list[Any] = []
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"webhooks", "enter")
        await settle(pilot)
        loaded = [m for m in messages if isinstance(m, WebhooksLoaded)][-1]
        assert [(s.name, s.health) for s in loaded.subscriptions] == [("erp", "ok"), ("warehouse", "failing")]
        await pilot.press("t")
        await settle(pilot)
        assert any(isinstance(m, OperationDone) and "ping to erp delivered" in m.text for m in messages)
        await pilot.press("enter")  # the queue of erp
        await settle(pilot)
        assert type(app.screen).__name__ == "DeliveriesScreen"
        await pilot.press("x")  # replay the delivered event
        await settle(pilot)
        assert any(isinstance(m, OperationDone) and "queued again" in m.text for m in messages)
        await pilot.press("escape", "down", "p")  # back; resume the failing warehouse
        await settle(pilot)
        assert subscriptions.get_subscription(ctx, "warehouse").state == "active"


async def test_orders_screen_issues_invoices_marks_them_and_filters(make_app: Any, ctx: AppContext) -> None:
    from shelfdesk.invoices.settings import update_settings
    from shelfdesk.orders.queries import OrderFilter, list_orders

    for n in range(4):
        make_order(ctx, marketplace_order_id=f"61{n:02d}")
    update_settings(ctx, "Refurb FR", {**SELLER, "upload": False})
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        first = screen._cursor_order()
        await pilot.press("I")  # one order: its preview, "No" focused
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert [i.order_id for i in service.list_invoices(ctx)] == [first]
        await settle(pilot)
        assert str(screen.table.get_row(str(first))[3]) == "inv"
        await pilot.press("down", "space", "down", "space", "I")  # two marked: bulk, from a chosen number
        await settle(pilot)
        await pilot.press("tab", "tab", *"100", "enter", "enter")  # field, type, Enter moves to Yes, Enter
        await settle(pilot)
        # The prefix is in use, so numbering continues gapless: 100 is refused and nothing is issued.
        assert [i.number for i in service.list_invoices(ctx)] == ["F00001"]
        await pilot.press("I", "y")  # the same marks, the next free number
        await settle(pilot)
        await settle(pilot)
        assert sorted(i.number for i in service.list_invoices(ctx)) == ["F00001", "F00002", "F00003"]
        await pilot.press("dollar_sign")  # invoiced only
        await settle(pilot)
        assert screen.filter == OrderFilter(invoiced=True)
        assert {r.id for r in screen.page.rows} == {i.order_id for i in service.list_invoices(ctx)}
        not_invoiced = {r.marketplace_order_id for r in list_orders(ctx, OrderFilter(invoiced=False)).rows}
        assert len(not_invoiced) == 1 and not not_invoiced & {i.marketplace_order_id for i in service.list_invoices(ctx)}
        await pilot.press("i")
        await settle(pilot)
        assert type(app.screen).__name__ == "InvoicesScreen" and app.screen.order_id is not None
