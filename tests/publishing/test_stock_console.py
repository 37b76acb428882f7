"""The stock loop in the console, pressed as an operator would: s on a product's line sets its stock, the
stock pusher sends it, Publications shows the pusher's state and the SKU's history shows the push."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from shelfdesk.publishing.pusher import push_stock_sync
from tests.publishing.conftest import Shop
from tests.publishing.test_console import SIZE, cell, settle
from tests.tui.conftest import _plain_terminal, make_app  # noqa: F401 (fixtures)

SKU = "IPH13-128-MID-GOOD"


async def test_q_on_a_skus_line_sets_its_stock_and_the_push_shows_on_publications(
        shop: Shop, make_app: Callable[..., Any]) -> None:  # noqa: F811  # fmt: skip
    from shelfdesk.tui.screens.publication_history import ProductHistoryScreen

    shop.ctx.actor = "operator"
    listings = shop.listings()
    shop.add_product(SKU, price=listings[SKU]["price"], stock=3)
    first = await asyncio.to_thread(shop.publish, shop.bm_channel)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert "Stock pusher: nothing waiting" in str(app.screen.query_one("#pub-pusher").render())
        await pilot.press("enter")  # the offers run: its items are the products' lines
        await settle(pilot)
        row = next(r for r in range(app.screen.query_one("#detail-table").row_count) if cell(app, r, "sku") == SKU)
        app.screen.query_one("#detail-table").move_cursor(row=row)
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.query_one("#order-prompt-path").value == "3"  # the current stock, typed
        await pilot.press("ctrl+u", "0", "enter")
        await settle(pilot)
        assert "waiting" in _marks_text(shop)
        await pilot.press("escape")
        await settle(pilot)
        app.screen.refresh_data()
        await settle(pilot)
        assert "2 quantity update(s) waiting" in str(app.screen.query_one("#pub-pusher").render())

        result = await asyncio.to_thread(push_stock_sync, shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
        assert shop.listings()[SKU]["quantity"] == 0 and result.realtime == 1
        await asyncio.to_thread(push_stock_sync, shop.ctx, shop.lbc_channel, factory=shop.factory, settle=False)
        app.screen.refresh_data()
        await settle(pilot)
        assert cell(app, 0, "id") == str(result.publication_id) and cell(app, 0, "feed") == "stock push"
        pusher_line = str(app.screen.query_one("#pub-pusher").render())
        assert "nothing waiting" in pusher_line and "(1 sent)" in pusher_line and "lines left/hour" in pusher_line
        app.screen.query_one("#pub-table").move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        assert cell(app, 0, "sku") == SKU and app.screen.query_one("#detail-table").row_count == 1
        await pilot.press("enter")  # the pushed SKU's history
        await settle(pilot)
        assert isinstance(app.screen, ProductHistoryScreen)
        assert cell(app, 0, "feed") == "stock" and cell(app, 0, "pub") == str(result.publication_id)
        assert int(cell(app, 1, "pub")) == first.publication_id
        stock = str(app.screen.query_one("#history-stock").render())
        assert "stock 0" in stock and "safety 0 (store) → sends 0" in stock


def _marks_text(shop: Shop) -> str:
    from shelfdesk.services.stock import stock_view

    return "\n".join(line.text() for line in stock_view(shop.ctx, shop.store_id, SKU).channels)
