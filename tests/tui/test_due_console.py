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


async def test_the_status_bar_counts_late_and_soon_deadlines_and_recounts_with_the_alerts(ctx: Any, make_app: Any) -> None:
    from shelfdesk.jobs.escalation import escalate

    seed_due(ctx)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        label = app.screen.query_one("#status-deadlines")
        assert not label.display  # nothing watched yet: no count, no separator
        escalate(ctx)  # what the worker's (or this console's) escalation job does every minute
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await settle(pilot)
        label = app.screen.query_one("#status-deadlines")
        assert label.display and str(label.render()) == "1 overdue · 1 due < 4 h" and label.has_class("-error")
        assert "3 alerts │ 1 overdue · 1 due < 4 h" in screen_text(app, SMALL)
        await pilot.press("D")  # the Due list, with the same bar beneath it
        assert await settle_until(
            pilot, lambda: "1 overdue · 1 due < 4 h" in screen_text(app, SMALL) and "Due ·" in screen_text(app, SMALL)
        )


@pytest.mark.sqlite  # the status bar names the SQLite file, as in every snapshot
@pytest.mark.parametrize("keys", [()], ids=["due"])
def test_due_80x24(snap_compare: Any, make_app: Any, ctx: Any, keys: tuple[str, ...]) -> None:
    from shelfdesk.jobs.escalation import escalate

    seed_due(ctx)
    escalate(ctx)  # the status bar's counts come from the escalation's watch list

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("D", *keys)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


async def test_the_store_form_sets_the_working_time_the_due_list_counts_with(ctx: Any, make_app: Any) -> None:
    from datetime import datetime, timezone

    from shelfdesk.services.deadlines import list_due
    from shelfdesk.services.stores import list_stores
    from shelfdesk.tui.screens.setup.store_form import StoreForm
    from tests.pilot import type_text

    seed_due(ctx)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("e")
        assert await settle_until(pilot, lambda: isinstance(app.screen, StoreForm))
        assert (app.screen.query_one("#store-cutoff").value, app.screen.query_one("#store-days").value) == ("13", "mon-fri")
        app.screen.query_one("#store-cutoff").focus()
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "25")
        await pilot.press("ctrl+s")  # refused: the form comes back with the error and what was typed
        assert await settle_until(pilot, lambda: isinstance(app.screen, StoreForm) and app.screen.error)
        assert "outside 0-24" in app.screen.error and app.screen.query_one("#store-cutoff").value == "25"
        app.screen.query_one("#store-cutoff").focus()
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "9")
        await pilot.press("enter")  # to the working days, then saves from the last field
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "mon-sat")
        await pilot.press("enter")
        assert await settle_until(pilot, lambda: not isinstance(app.screen, StoreForm))
        await settle(pilot)
    store = list_stores(ctx)[0]
    assert (store.working_time.cutoff_hour, store.working_time.days_text) == (9, "mon-sat")
    held = next(d for d in list_due(ctx).items if d.reference == "BM-HELD")
    assert held.due_at == datetime(2026, 3, 3, 23, tzinfo=timezone.utc)  # after the 9:00 cut-off: Tuesday
