"""The Orders screen driven like an operator at 80x24: filter, mark, bulk actions, CSV bulk ship, detail.

What reached the marketplace is asserted from the sandbox's own effects.
Snapshots use local orders only (no sandbox), the FakeClock and a fixed
theme, and are taken once every worker has finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input

from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.context import AppContext
from shelfdesk.domain import ActionKind, ActionState, NormalizedStatus
from shelfdesk.orders.actions import list_actions
from shelfdesk.orders.store import AccountScope, store_remote_orders
from shelfdesk.tui.app import ShelfdeskApp
from shelfdesk.tui.screens.orders.bulk_ship_dialog import OrderBulkShipDialog
from shelfdesk.tui.screens.orders.not_done_results import OrderResults
from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen
from shelfdesk.tui.screens.orders.order_list import OrdersScreen
from shelfdesk.tui.screens.orders.ship_dialog import OrderShipDialog
from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog
from tests.pilot import settle, typed

from .conftest import ADDRESS, GOOD_IMEI, Desk, remote

SIZE = (80, 24)
S = NormalizedStatus


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[None]:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    old = set_default_clock(clock)
    yield
    set_default_clock(old)


def app_for(ctx: AppContext) -> ShelfdeskApp:
    return ShelfdeskApp(ctx, theme="shelfdesk-dark")


async def start_on_new_orders(pilot: Any) -> OrdersScreen:
    """Open the console, wait for it, and filter on status New with the command line."""
    await settle(pilot)
    screen = orders_screen(pilot.app)
    await pilot.press("colon", *typed("status New"), "enter")
    await settle(pilot)
    return screen


def orders_screen(app: ShelfdeskApp) -> OrdersScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, OrdersScreen)
    return screen


def shown_ids(app: ShelfdeskApp) -> list[str]:
    screen = orders_screen(app)
    return [r.marketplace_order_id for r in (screen.page.rows if screen.page else [])]


async def test_filters_stay_set_while_moving_around(desk: Desk) -> None:
    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted", count=2)
    desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid", count=2)
    desk.harvest()
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        assert len(shown_ids(app)) > 4
        await pilot.press("t", "t")  # all -> New -> InProgress
        await settle(pilot)
        assert screen.filter.status is S.InProgress and all(r.status is S.InProgress for r in screen.page.rows)  # type: ignore[union-attr]
        await pilot.press("slash", *"LBC")
        await settle(pilot)
        assert shown_ids(app) and all(i.startswith("LBC") for i in shown_ids(app))
        title = str(app.screen.query_one("#orders-title").render())
        assert "status InProgress" in title and "matching 'LBC'" in title
        await pilot.press("enter", "1")  # keep the text, go to Stores, come back
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert screen.filter.status is S.InProgress and screen.filter.text == "LBC"
        await pilot.press("X")  # every filter dropped
        await settle(pilot)
        assert screen.filter.is_empty


async def test_mark_then_bulk_accept_confirms_with_count_and_samples(desk: Desk) -> None:
    orders = desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC", "GA52-128-BLK-EXC"], fate="paid")
    desk.harvest()
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_on_new_orders(pilot)
        newest = shown_ids(app)[:3]
        assert sorted(newest) == sorted(str(o["order_id"]) for o in orders)
        await pilot.press("space", "space", "space")
        assert len(screen.marks) == 3 and "3 marked" in str(app.screen.query_one("#orders-title").render())
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.question == "Accept 3 orders?"
        assert all(i in dialog.samples for i in newest)
        assert app.focused is dialog.query_one("#confirm-no", Button)  # the safe button
        await pilot.press("enter")  # Enter on "No": nothing happens
        await settle(pilot)
        assert list_actions(desk.ctx) == [] and desk.effects("backmarket") == []

        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        accepted = sorted(str(e["order_id"]) for e in desk.effects("backmarket"))
        assert accepted == sorted(newest)
        assert {a.state for a in list_actions(desk.ctx)} == {ActionState.confirmed}
        assert screen.marks == set() and screen._job is None


async def test_all_matching_is_kept_as_the_filter_and_refusals_are_listed(desk: Desk) -> None:
    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid", count=3)
    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="pending_payment")  # New, but not acceptable yet
    desk.harvest(channel="Back Market France")
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        await pilot.press("colon", *typed(f"channel {desk.bm_channel}"), "enter")
        await settle(pilot)
        await pilot.press("colon", *typed("status New"), "enter")
        await settle(pilot)
        new_count = screen.counts[S.New]  # type: ignore[index]
        await pilot.press("asterisk")
        assert screen.all_matching == screen.filter and "ALL MATCHING MARKED" in str(app.screen.query_one("#orders-title").render())
        await pilot.press("a")
        await settle(pilot)
        # Only the orders accept applies to are counted; the one still waiting for payment is named.
        assert app.screen.question == (
            f"Accept {new_count - 1} of the {new_count} marked orders? "  # type: ignore[attr-defined]
            "The others cannot be: 1 waiting for payment (10)."
        )
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, OrderResults)  # nothing refused: only those were sent
        accepted = {str(e["order_id"]) for e in desk.effects("backmarket")}
        assert len(accepted) == new_count - 1


async def test_bulk_ship_from_csv_shows_a_preview_then_ships(desk: Desk, tmp_path: Path) -> None:
    orders = [str(o["order_id"]) for o in desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="accepted")]
    desk.harvest()
    parcels = tmp_path / "parcels.csv"
    parcels.write_text("order_id,carrier,tracking_number\n" + "".join(f"{o},UPS,1Z{o}\n" for o in orders) + "nope,UPS,1Z\n")
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OrderBulkShipDialog)
        dialog.query_one(Input).value = str(parcels)
        await pilot.press("enter")
        await settle(pilot)
        summary = str(dialog.query_one("#bulk-ship-summary").render())
        problems = str(dialog.query_one("#bulk-ship-list").render())
        assert "2 order(s) will be shipped; 1 cannot be" in summary and "line 4: order nope: no order 'nope'" in problems
        assert app.focused is dialog.query_one("#bulk-ship-back", Button) and desk.effects("backmarket") == []
        await pilot.press("tab", "enter")  # to "Ship 2", then press it
        await settle(pilot)
        assert isinstance(app.screen, OrderResults) and len(app.screen.lines) == 1
        assert app.screen.lines[0].startswith("line 4: order nope: no order 'nope'")
        assert sorted(str(e["order_id"]) for e in desk.effects("backmarket")) == sorted(orders)


async def test_bulk_ship_saves_the_refused_rows_beside_the_file_to_fix_them(desk: Desk, tmp_path: Path) -> None:
    [shipped] = [str(o["order_id"]) for o in desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="shipped")]
    [ok] = [str(o["order_id"]) for o in desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")]
    desk.harvest()
    parcels = tmp_path / "parcels.csv"
    parcels.write_text(f"order_id;carrier;tracking_number;note\n{ok};UPS;1Z1;fine\nnope;UPS;=1Z2;typo\n{shipped};DHL;JD3;again\n")
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one(Input).value = str(parcels)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("tab", "tab", "enter")  # past "Ship 1" to "Save refused"
        await settle(pilot)
        assert app.screen is dialog  # still there, to ship the valid rows next
        refused = tmp_path / "parcels-refused.csv"
        assert any(str(refused) in n.message for n in app._notifications)
    lines = refused.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "order_id;carrier;tracking_number;note;refused because"
    assert lines[1].startswith("nope;UPS;'=1Z2;typo;no order 'nope'") and lines[2].startswith(f"{shipped};DHL;JD3;again;")
    assert len(lines) == 3 and desk.effects("backmarket") == []


async def test_detail_shows_the_order_and_ships_it_with_an_imei(desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="accepted")
    oid = str(order["order_id"])
    desk.harvest()
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *oid, "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, OrderDetailScreen)
        text = str(detail.query_one("#order-detail").render())
        assert f"backmarket order {oid}" in text and "IPH13-128-MID-GOOD" in text and "InProgress" in text
        assert detail.check_action("accept", ()) is None and detail.check_action("ship", ()) is True  # greyed vs allowed
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, OrderShipDialog)
        for key, value in (("carrier", "Colissimo"), ("tracking_number", "6A999"), ("identifiers", GOOD_IMEI[:-1] + "8")):
            app.screen.query_one(f"#ship-{key}", Input).value = value
        app.screen.query_one("#ship-note", Input).focus()
        await pilot.press("enter")  # Enter on the last field ships
        await settle(pilot)
        dialog = app.screen  # a wrong check digit: the dialog comes back with the reason and what was typed
        assert isinstance(dialog, OrderShipDialog) and "Luhn" in dialog.error and dialog.values["tracking_number"] == "6A999"
        field = dialog.query_one("#ship-identifiers", Input)
        field.value = GOOD_IMEI
        field.focus()
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert app.screen is detail and detail.detail.status is S.Shipped  # type: ignore[union-attr]
        remote_order = desk.sandbox_state("backmarket")["orders"][oid]
        assert remote_order["tracking_number"] == "6A999" and remote_order["orderlines"][0]["imei"] == GOOD_IMEI
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)


async def test_esc_stops_a_running_bulk_action_and_abandons_what_was_not_sent(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from shelfdesk.orders.outbox import OutboxSender

    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid", count=20)  # more than the sender has in flight
    desk.harvest(channel="Back Market France")
    gate = asyncio.Event()
    original = OutboxSender.process
    sent = 0

    async def held(self: OutboxSender, claimed: Any) -> Any:  # the marketplace answers slowly after two actions
        nonlocal sent
        sent += 1
        if sent > 2:
            await gate.wait()
        return await original(self, claimed)

    monkeypatch.setattr(OutboxSender, "process", held)
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_on_new_orders(pilot)
        await pilot.press(*["space"] * 20, "a", "y")
        for _ in range(50):
            await pilot.pause()
            if screen._job is not None and screen._job.sent >= 2:
                break
        assert screen._job is not None and "Esc to cancel" in str(app.screen.query_one("#orders-progress-label").render())
        await pilot.press("escape")
        await pilot.pause()
        gate.set()
        await settle(pilot)
        assert screen._job is None
        states = [a.state for a in list_actions(desk.ctx)]
        effects = desk.effects("backmarket")
        assert states.count(ActionState.abandoned) >= 1
        assert len(effects) == states.count(ActionState.confirmed) < 20  # nothing abandoned reached the marketplace


# ---------------------------------------------------------------------- snapshots (local data, no network)


@pytest.fixture
def shop(ctx: AppContext, scope: AccountScope) -> AppContext:
    """Twelve orders in every state a desk sees, fixed in time."""
    statuses = [(S.New, "1"), (S.InProgress, "3"), (S.Shipped, "9"), (S.Canceled, "8")]
    # What Back Market's state allows, as its connector computes it (the bulk confirmation counts on it).
    allowed = {S.New: (ActionKind.accept, ActionKind.cancel), S.InProgress: (ActionKind.ship, ActionKind.cancel)}
    remotes = []
    for n in range(12):
        status, raw = statuses[n % 4]
        order = remote(
            ctx,
            f"4000{n:04d}",
            status=status,
            raw=raw,
            bought=-37 * n,
            total=f"{129 + 10 * n}.00",
            address=ADDRESS if status is not S.New else None,
            lines=1 + (n % 3 == 0),
            buyer=["Camille Martin", "Hugo Petit", "Léa Dubois", "Jules Moreau"][n % 4],
        )
        remotes.append(replace(order, allowed_actions=allowed.get(status, ())))
    with ctx.write_session() as session:
        store_remote_orders(session, scope, remotes, ctx.clock.now())
    return ctx


def after(*keys: str) -> Any:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


@pytest.mark.sqlite  # the status bar names the SQLite file
def test_snapshot_orders_list_80x24(snap_compare: Any, shop: AppContext) -> None:
    assert snap_compare(app_for(shop), terminal_size=SIZE, run_before=after("space", "space"))


@pytest.mark.sqlite  # the status bar names the SQLite file
def test_snapshot_order_detail_80x24(snap_compare: Any, shop: AppContext) -> None:
    assert snap_compare(app_for(shop), terminal_size=SIZE, run_before=after("down", "enter"))


@pytest.mark.sqlite  # the status bar names the SQLite file
def test_snapshot_bulk_confirmation_80x24(snap_compare: Any, shop: AppContext) -> None:
    assert snap_compare(app_for(shop), terminal_size=SIZE, run_before=after("t", "asterisk", "a"))


async def test_counts_read_bounded_first_then_exact_for_a_new_filter(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new filter shows bounded counts at once ("2+"), then the exact ones; bulk counts wait for the exact."""
    import threading

    from shelfdesk.orders import queries

    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted", count=3)
    desk.harvest()
    release, real = threading.Event(), queries.count_by_status

    def gated(ctx: AppContext, flt: Any, *, at_most: int | None = None) -> Any:
        if at_most is None and flt.status is S.New:
            release.wait(10)  # the exact count of the new filter takes its time
        return real(ctx, flt, at_most=at_most)

    monkeypatch.setattr(queries, "QUICK_COUNT", 2)
    monkeypatch.setattr(queries, "count_by_status", gated)
    app = app_for(desk.ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        counts = real(desk.ctx, screen.filter)
        assert counts[S.InProgress] > 2 and counts[S.New] > 2
        exact = str(screen.query_one("#orders-counts").render())
        assert f"InProgress {counts[S.InProgress]}" in exact and "+" not in exact
        await pilot.press("t")  # status New: a new filter
        for _ in range(20):
            await pilot.pause(0.05)
            if "+" in str(screen.query_one("#orders-counts").render()):
                break
        bounded = str(screen.query_one("#orders-counts").render())
        assert "[New 2+]" in bounded and "InProgress 2+" in bounded
        assert screen._matching() is None  # a bulk confirmation would not name a bounded count
        release.set()
        await settle(pilot)
        shown = str(screen.query_one("#orders-counts").render())
        assert f"[New {counts[S.New]}]" in shown and "+" not in shown and screen._matching() == counts[S.New]
