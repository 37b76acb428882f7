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


async def test_q_on_a_skus_line_sets_its_stock_and_the_push_shows_on_publications(shop: Shop, make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.tui.screens.publications.sku_history import ProductHistoryScreen

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


async def test_shift_d_checks_drift_and_f_pushes_its_corrections(
    shop: Shop,
    make_app: Callable[..., Any],  # noqa: F811
    monkeypatch: Any,
) -> None:
    import shelfdesk.publishing.engine as engine

    shop.ctx.actor = "operator"
    listings = shop.listings()
    shop.add_product(SKU, price=listings[SKU]["price"], stock=listings[SKU]["quantity"])
    await asyncio.to_thread(shop.publish, shop.bm_channel)
    next(l for l in shop.sb.backmarket.state["listings"].values() if l["sku"] == SKU)["quantity"] = 0  # back office
    monkeypatch.setattr(engine, "default_factory", lambda ctx: shop.factory)  # the test clock's connectors
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        await settle(pilot)
        assert cell(app, 0, "feed") == "drift check"
        row = app.screen.selected
        assert row is not None and row.planned == 1
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("y")  # confirms (No is focused: Enter alone would not)
        await settle(pilot)
        assert "waiting" in _marks_text(shop) or shop.listings()[SKU]["quantity"] == listings[SKU]["quantity"]
    await asyncio.to_thread(push_stock_sync, shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert shop.listings()[SKU]["quantity"] == listings[SKU]["quantity"]


async def test_safety_stock_is_set_on_the_store_and_channel_forms(shop: Shop, make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.services.stock import safety_for
    from shelfdesk.tui.widgets.data_window import DataWindow

    shop.add_product(SKU, price="100.00", stock=5)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        table = app.screen.query_one(DataWindow)
        table.move_cursor(row=0)  # the store's line
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#store-safety").focus()
        await pilot.press("backspace", "2", "ctrl+s")
        await settle(pilot)
        assert safety_for(shop.ctx, shop.bm_channel, [SKU])[SKU].describe() == "safety 2 (store)"
        table = app.screen.query_one(DataWindow)
        table.move_cursor(row=1)  # its first channel's line
        await pilot.press("e")
        await settle(pilot)
        field = app.screen.query_one("#ch-safety")
        assert field.value == ""  # the store's default applies
        field.focus()
        await pilot.press("3", "ctrl+s")
        await settle(pilot)
    channel = {c: safety_for(shop.ctx, c, [SKU])[SKU].describe() for c in (shop.bm_channel, shop.lbc_channel)}
    assert sorted(channel.values()) == ["safety 2 (store)", "safety 3 (channel)"]


async def test_a_scheduled_stock_push_appears_on_publications_without_a_key(shop: Shop, make_app: Callable[..., Any]) -> None:  # noqa: F811
    """The scheduler's stock job pushes while Publications is open, or while another screen is: the run is
    listed as soon as the job finishes, or when Publications is shown again, with no key pressed."""
    from shelfdesk.domain import JobOutcome
    from shelfdesk.jobs.runner import RunEvent, RunReport
    from shelfdesk.services.stock import StockLine, set_stock

    listings = shop.listings()
    shop.add_product(SKU, price=listings[SKU]["price"], stock=3)
    await asyncio.to_thread(shop.publish, shop.bm_channel)
    app = make_app()

    async def push_as_the_scheduler(stock: int) -> int:
        await asyncio.to_thread(set_stock, shop.ctx, shop.store_id, [StockLine(SKU, stock)])
        result = await asyncio.to_thread(push_stock_sync, shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
        key = f"stock:{shop.bm_channel}"
        app._job_event(RunEvent("finished", key, 1, RunReport(key, True, JobOutcome.succeeded)))
        return result.publication_id

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        first = await push_as_the_scheduler(1)
        await settle(pilot)
        assert cell(app, 0, "id") == str(first) and cell(app, 0, "feed") == "stock push"
        await pilot.press("4")
        await settle(pilot)
        second = await push_as_the_scheduler(0)
        await pilot.press("3")
        await settle(pilot)
        assert cell(app, 0, "id") == str(second) and cell(app, 0, "feed") == "stock push"
