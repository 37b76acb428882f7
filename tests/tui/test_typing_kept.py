"""Typing is never lost: a refused dialog puts the cursor on the field at fault, after what was
typed; a file that cannot be read keeps the typed path; Tab completes paths; Enter in a
confirmation's field moves to the confirming button, never to No."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input

from shelfdesk.tui.app import ShelfdeskApp
from tests.orders.conftest import BAD_IMEI, Desk, desk, sandboxes  # noqa: F401 (fixtures)
from tests.pilot import settle, type_text, typed

SIZE = (80, 24)


pytestmark = pytest.mark.usefixtures("default_clock")


async def test_a_refused_ship_puts_the_cursor_on_the_wrong_field_and_typing_adds_to_it(desk: Desk) -> None:  # noqa: F811
    """The dialog came back on Tracking number with its text selected: the next key overwrote the tracking."""
    from shelfdesk.tui.screens.orders.ship_dialog import OrderShipDialog

    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="accepted")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *typed(str(order["order_id"])), "enter")
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        await type_text(pilot, "Colissimo")
        await pilot.press("enter")
        await type_text(pilot, "6A999")
        await pilot.press("enter", "enter")
        await type_text(pilot, BAD_IMEI)
        await pilot.press("enter", "enter")  # the note, then ship
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, OrderShipDialog) and "Luhn" in dialog.error
        field = dialog.query_one("#ship-identifiers", Input)
        assert app.focused is field and field.cursor_position == len(BAD_IMEI)
        await pilot.press("backspace", "9")  # fix the check digit where the cursor is
        assert field.value == BAD_IMEI[:-1] + "9"
        assert dialog.query_one("#ship-tracking_number", Input).value == "6A999"


async def test_bulk_ship_keeps_a_missing_path_typed_and_completes_paths_with_tab(desk: Desk, tmp_path: Path) -> None:  # noqa: F811
    from shelfdesk.tui.screens.orders.bulk_ship_dialog import OrderBulkShipDialog

    (tmp_path / "parcels-monday.csv").write_text("order_id,carrier,tracking_number\n")
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OrderBulkShipDialog)
        assert "e.g." in dialog.query_one(Input).placeholder
        missing = str(tmp_path / "parcel.csv")
        await type_text(pilot, missing)
        await pilot.press("enter")
        await settle(pilot)
        summary = str(dialog.query_one("#bulk-ship-summary").render())
        assert summary.startswith("Cannot use") and "Every row can be applied" not in str(dialog.query_one("#bulk-ship-list").render())
        field = dialog.query_one(Input)
        assert app.focused is field and field.value == missing  # fix it in place
        await pilot.press(*["backspace"] * len("parcel.csv"), "p", "tab")
        assert field.value == str(tmp_path / "parcels-monday.csv")


async def test_enter_in_a_confirmation_field_moves_to_the_confirming_button(desk: Desk) -> None:  # noqa: F811
    """Enter in the cancel reason went to No: the next Enter closed the dialog, the reason lost."""
    from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        await pilot.press("shift+tab")
        await type_text(pilot, "out_of_stock")
        await pilot.press("enter")
        assert app.focused is dialog.query_one("#confirm-yes", Button)
        await pilot.press("escape")
        await pilot.pause()
        assert any("no order was sent" in n.message for n in app._notifications)  # closed: says so


async def test_a_greyed_key_says_why_when_pressed(desk: Desk) -> None:  # noqa: F811
    """s on a shipped order did nothing at all; the footer greyed it without a word."""
    from textual.widgets._footer import FooterKey

    from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen

    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="shipped")
    desk.harvest()
    app = ShelfdeskApp(desk.ctx, theme="shelfdesk-dark")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *typed(str(order["order_id"])), "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, OrderDetailScreen)
        assert detail.check_action("ship", ()) is None
        assert all(k.has_class("-disabled") for k in detail.query(FooterKey) if k.action == "ship")
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is detail
        said = [n.message for n in app._notifications if n.title == "Not now"]
        assert said and said[0].endswith("this one is Shipped."), said
