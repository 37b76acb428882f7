"""The operator's walk of the demo, on Orders: what the detail, a bulk action's toast and its results say.

Against the orders tests' sandboxes (tests/orders/conftest.py), at 80x24, keys only.
"""

from __future__ import annotations

import pytest

from shelfdesk.tui.app import ShelfdeskApp
from shelfdesk.tui.screens.orders.not_done_results import OrderResults
from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen
from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog
from tests.orders.conftest import Desk, desk, sandboxes  # noqa: F401 (fixtures)
from tests.pilot import settle

SIZE = (80, 24)


pytestmark = pytest.mark.usefixtures("default_clock")


async def test_an_action_without_a_summary_ends_without_a_dangling_separator(desk: Desk) -> None:  # noqa: F811
    """The detail read "#1 confirm_availability confirmed · attempts 1 ·"."""
    [order] = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *str(order["id"]), "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        await pilot.press("a")
        await settle(pilot)
        text = str(app.screen.query_one("#order-detail").render())
        [line] = [line for line in text.splitlines() if "attempts" in line]
        assert line.strip().endswith("attempts 1"), line


async def test_cancelling_a_cancelled_order_says_why_without_asking(desk: Desk) -> None:  # noqa: F811
    """The results read "Cancel 1 order: 1 order(s) not done", after a confirmation that counted it.

    A bulk confirmation now counts only the orders the action applies to; with none, it says
    why instead of asking. The results' wording is kept for refusals the marketplace makes.
    """
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="cancelled")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *str(order["order_id"]), "enter", "x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert [n.message for n in app._notifications if n.title == "Cancel"] == ["Nothing to cancel: of the 1 order chosen, 1 Canceled."]
        await app.push_screen(OrderResults("Cancel 1 order", ["order 1: refused"]))
        await pilot.pause()
        assert str(app.screen.query_one("#order-results-title").render()) == "Cancel 1 order: 1 order not done"


async def test_a_bulk_actions_toast_gives_only_the_counts_that_happened(desk: Desk) -> None:  # noqa: F811
    """ "Accept 2 orders: 2 confirmed, 0 still synchronizing, 0 failed, 0 cancelled": on a bulk cancel,
    "cancelled" read as orders cancelled, when it counted actions stopped by Esc before sending."""
    desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="paid")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"status", "space", *"New", "enter")
        await settle(pilot)
        await pilot.press("space", "space", "a")
        await settle(pilot)  # the confirmation counts the orders accept applies to first
        await pilot.press("y")
        await settle(pilot)
        assert [n.message for n in app._notifications if n.title == "Orders"] == ["Accept 2 orders: 2 confirmed"]
