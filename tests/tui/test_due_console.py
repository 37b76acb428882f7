"""The Due list in the console: ``D`` from anywhere, most urgent first, grouped, Enter opens the order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.due_data import seed_due
from tests.pilot import screen_text, settle, settle_until

SMALL = (80, 24)


async def test_d_opens_due_most_urgent_first_and_enter_opens_the_order(ctx: Any, make_app: Any) -> None:
    from shelfdesk.tui.screens.jobs.due import DueScreen
    from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen

    ids = seed_due(ctx)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("5")  # from another screen than the home one
        await settle(pilot)
        await pilot.press("D")
        assert await settle_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        screen = app.screen
        assert [d.reference for d in screen.items] == ["BM-LATE", "LBC-1", "BM-HELD", "BM-QUEUED", "Leboncoin Pro"]
        text = screen_text(app, SMALL)
        assert "Due · 1 overdue · 1 within 4 h · 2 within 24 h · 1 later" in text
        assert "late 16 h 30" in text and "stock short" in text
        await pilot.press("down", "down")  # the order auto-accept held
        await settle(pilot)
        detail = screen_text(app, SMALL)
        assert "If missed: Back Market counts a late shipment" in detail
        assert "Waits because: stock short: SKU1 (0 of 1)" in detail
        await pilot.press("enter")
        assert await settle_until(pilot, lambda: isinstance(app.screen, OrderDetailScreen))
        assert app.current_mode == "orders" and app.screen.order_id == ids["BM-HELD"]


@pytest.mark.sqlite  # the status bar names the SQLite file, as in every snapshot
@pytest.mark.parametrize("keys", [()], ids=["due"])
def test_due_80x24(snap_compare: Any, make_app: Any, ctx: Any, keys: tuple[str, ...]) -> None:
    seed_due(ctx)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("D", *keys)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)
