"""The people of the console walk, each pressing the keys of their story at 80×24.

An operator over SSH ships what came in; a support person triages a publication's errors;
a power user bulk-updates orders; a new merchant sets up from zero without the demo. Each
walk stops where the console stops helping: what is asserted is what they would read.
The support person's walk is in test_walks_support.py (the publishing sandboxes' fixtures).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from shelfdesk.domain import NormalizedStatus
from shelfdesk.tui.app import ShelfdeskApp
from tests.orders.conftest import GOOD_IMEI, Desk, desk, sandboxes  # noqa: F401 (fixtures)
from tests.pilot import screen_text, settle, type_text, typed
from tests.tui.test_setup_console import feed, sandbox  # noqa: F401 (fixture)

SIZE = (80, 24)
pytestmark = pytest.mark.usefixtures("default_clock")


def toasts(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


async def test_the_operator_over_ssh_ships_what_came_in_with_keys_only(desk: Desk) -> None:  # noqa: F811
    from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen
    from shelfdesk.tui.screens.orders.ship_dialog import OrderShipDialog
    from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

    desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="paid")
    [phone] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="accepted")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="ansi-dark")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("colon", *typed("status New"), "enter")  # what came in
        await settle(pilot)
        orders = app.screen
        new = orders.counts[NormalizedStatus.New]  # type: ignore[attr-defined]
        await pilot.press("asterisk", "a")  # all of them, accepted after a count
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.question == f"Accept {new} orders?"
        await pilot.press("y")
        await settle(pilot)
        assert len(desk.effects("backmarket")) >= 2
        await pilot.press("colon", *typed("status all"), "enter", "slash", *typed(str(phone["order_id"])), "enter")
        await settle(pilot)
        await pilot.press("enter", "s")  # the phone: its detail, then ship with its IMEI
        await settle(pilot)
        assert isinstance(app.screen, OrderShipDialog)
        await type_text(pilot, "Colissimo")
        await pilot.press("enter")
        await type_text(pilot, "6A100")
        await pilot.press("enter", "enter")
        await type_text(pilot, GOOD_IMEI[:-1] + "0")  # a slip on the check digit
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderShipDialog)  # back, the cursor after the wrong digit
        await pilot.press("backspace", GOOD_IMEI[-1], "enter", "enter")  # Enter on the note ships
        await settle(pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        assert desk.sandbox_state("backmarket")["orders"][str(phone["order_id"])]["orderlines"][0]["imei"] == GOOD_IMEI
        await pilot.press("s")  # shipped: s is greyed and says why
        await pilot.pause()
        assert any(t.endswith("this one is Shipped.") for t in toasts(app))


async def test_a_power_user_bulk_updates_orders_from_marks_and_a_csv(desk: Desk, tmp_path: Path) -> None:  # noqa: F811
    from shelfdesk.tui.screens.orders.bulk_ship_dialog import OrderBulkShipDialog
    from shelfdesk.tui.screens.orders.not_done_results import OrderResults

    paid = desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="paid")
    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="shipped")
    desk.harvest()
    parcels = tmp_path / "parcels-monday.csv"
    parcels.write_text("order_id,carrier,tracking_number\n" + "".join(f"{o['order_id']},UPS,1Z{o['order_id']}\n" for o in paid))
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space", "a")  # three marked, one already shipped
        await settle(pilot)
        assert app.screen.question.startswith("Accept 2 of the 3 marked orders?")  # type: ignore[attr-defined]
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("B")
        await pilot.pause()
        assert isinstance(app.screen, OrderBulkShipDialog)
        await type_text(pilot, str(tmp_path / "parcels"))
        await pilot.press("tab")  # completes the one file that starts so
        assert app.screen.query_one(Input).value == str(parcels)
        await pilot.press("enter")
        await settle(pilot)
        assert "2 order(s) will be shipped; 0 cannot be" in str(app.screen.query_one("#bulk-ship-summary").render())
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, OrderResults)
    from shelfdesk.domain import ActionKind, ActionState
    from shelfdesk.orders.actions import list_actions

    ships = {a.marketplace_order_id for a in list_actions(desk.ctx) if a.kind is ActionKind.ship and a.state is ActionState.confirmed}
    assert ships == {str(o["order_id"]) for o in paid}


async def publish_feed(pilot: Any, app: Any, feed: str) -> None:
    """On Publications: p, the channel's ``feed`` in the dialog, and wait for the run to end."""
    await pilot.press("p")
    await settle(pilot)
    dialog = app.screen
    await pilot.press(*["down"] * next(i for i, c in enumerate(dialog.choices) if c[1] == feed), "enter")
    await settle(pilot)
    for _ in range(50):
        if not app.screen_stack[0].running:
            break
        await asyncio.sleep(0.1)
    await settle(pilot)


async def test_a_new_merchant_sets_up_from_zero_proposes_its_products_publishes_and_ships_its_first_order(  # noqa: F811
    make_app: Callable[..., Any], ctx: Any, tmp_path: Path, sandbox: Any, clock: Any
) -> None:
    from datetime import timedelta

    from shelfdesk.domain import PublicationState
    from shelfdesk.publishing.triage import list_publications
    from shelfdesk.services.channels import list_channels
    from shelfdesk.tui.screens.setup.product_browser import ProductBrowserScreen

    source = feed(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("1")
        await settle(pilot)
        assert "No stores yet" in screen_text(app)
        await pilot.press("a")
        await type_text(pilot, "Refurb Paris")
        await pilot.press("enter")
        await type_text(pilot, "FR")
        await pilot.press("enter", "enter")
        await type_text(pilot, str(source))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("i", "enter")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the columns as detected
        await settle(pilot)
        await pilot.press("x")  # the two bad rows, with their line and reason
        await settle(pilot)
        assert app.screen.query_one("DataWindow").row_count == 2
        await pilot.press("escape", "c")
        await settle(pilot)
        await pilot.press("tab", "tab")
        await type_text(pilot, "Back Market EU")
        await pilot.press("tab")
        await type_text(pilot, "bm-keyboard-token")
        await pilot.press("tab", "tab", "tab")
        await type_text(pilot, sandbox.backmarket_url)
        for value in ("Refurb", "ops@refurb.example", "FR"):
            await pilot.press("tab")
            await type_text(pilot, value)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("down", "t")  # the channel's connection
        await settle(pilot)
        await pilot.press("enter", "s")  # its mappings: the suggestions, previewed
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("v", "s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert list_channels(ctx)[0].activated_at is not None
        app.clear_notifications()  # the walk's six toasts cover the State column until they time out
        await pilot.press("1")  # Stores shows it without R
        await settle(pilot)
        assert "publishing" in screen_text(app)
        await pilot.press("up", "b", "slash")
        await type_text(pilot, "MBA-0")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProductBrowserScreen)
        sight = str(app.screen.query_one("#product-sight").render())
        assert "Back Market France:" in sight and "last sent: never published" in sight
        await pilot.press("escape", "3")  # the first publication: the products feed
        await settle(pilot)
        await publish_feed(pilot, app, "products")
        runs = list_publications(ctx, limit=1)
        assert runs[0].failed == 9  # the sandbox's catalog knows none of the merchant's EANs
        app.clear_notifications()
        await pilot.press("e")  # by cause: one group, naming a real EAN, and what to do
        await settle(pilot)
        fix = str(app.screen.query_one("#errors-fix").render())
        assert "matches ean 3000000000007" in fix and "Propose them with p" in fix
        await pilot.press("p")
        await settle(pilot)
        assert "Propose 9 products to Back Market France's catalog?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        proposal = list_publications(ctx, limit=1)[0]
        assert (proposal.started_by, proposal.failed) == ("proposal", 9)  # in review, not listed yet
        assert len(sandbox.backmarket.state["proposals"]) == 9
        clock.advance(timedelta(seconds=sandbox.backmarket.review_seconds))  # Back Market's team approves them
        await publish_feed(pilot, app, "products")
        confirmed = list_publications(ctx, limit=1)[0]
        assert (confirmed.state, confirmed.failed) == (PublicationState.succeeded, 0)
        assert {l["sku"] for l in sandbox.backmarket.state["listings"].values()} >= {f"IP13-{i}" for i in range(6)}

        # The first order: an iPhone, accepted; it ships with its IMEI (phones need one), the laptop without.
        [order] = sandbox.backmarket.create_orders({"skus": ["IP13-0", "MBA-0"], "fate": "accepted", "single_order": True})
        await pilot.press("4", "f")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("slash", *typed(str(order["order_id"])), "enter")
        await settle(pilot)
        await pilot.press("enter", "s")
        await settle(pilot)
        await type_text(pilot, "Colissimo")
        await pilot.press("enter")
        await type_text(pilot, "6A200")
        await pilot.press("enter", "enter")
        await type_text(pilot, f"IP13-0={GOOD_IMEI}")
        await pilot.press("enter", "enter")
        await settle(pilot)
        await settle(pilot)
    lines = sandbox.backmarket.state["orders"][str(order["order_id"])]["orderlines"]
    assert {l["listing"]: l["imei"] for l in lines} == {"IP13-0": GOOD_IMEI, "MBA-0": None}
