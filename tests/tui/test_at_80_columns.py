"""At 80×24 over SSH: toasts never cover the status bar and do not linger; checkboxes read
on or off without colour; Mappings opens with a visible cursor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.pilot import screen_text, settle
from tests.tui.setup_data import build

SIZE = (80, 24)


async def test_toasts_stay_above_the_status_bar_and_do_not_linger(make_app: Callable[..., Any]) -> None:
    from textual.widgets._toast import Toast

    from shelfdesk.tui.widgets.status_bar import StatusBar

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.notify("The marketplace refused the token of Back Market EU", title="Test", severity="error", timeout=10)
        await pilot.pause()
        await pilot.pause()
        toast = app.screen.query_one(Toast)
        status = app.screen.query_one(StatusBar)
        assert toast.region.bottom <= status.region.y, (toast.region, status.region)
        assert [n.timeout for n in app._notifications] == [8]


async def test_a_checkbox_reads_on_or_off_without_colour(make_app: Callable[..., Any]) -> None:
    from shelfdesk.tui.widgets.checkbox import StateCheckbox

    app = make_app(theme="ansi-dark")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        on, off = StateCheckbox("Products feed", True), StateCheckbox("Quantities only", False)
        await app.screen.mount(on, off)
        await pilot.pause()
        text = screen_text(app)
        assert "▐X▌ Products feed" in text and "▐ ▌ Quantities only" in text, text


async def test_mappings_opens_with_the_cursor_on_the_first_row(make_app: Callable[..., Any], ctx: Any, tmp_path: Path) -> None:
    """The tab bar had the focus: no row showed a cursor until Tab."""
    from shelfdesk.tui.widgets.data_window import DataWindow

    build(ctx, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#categories-table", DataWindow)
        assert app.focused is table and table.cursor_row == 0 and table.row_count > 0
        await pilot.press("down")
        assert table.cursor_row == 1


def test_long_skus_are_cut_in_the_middle_so_their_ends_stay_apart() -> None:
    """Both SKUs read "FAIRPHONE4-256GB-GREEN-" in a 22-wide column."""
    from shelfdesk.tui.widgets.data_window import cut_middle

    a, b = cut_middle("FAIRPHONE4-256GB-GREEN-EXCELLENT", 22), cut_middle("FAIRPHONE4-256GB-GREEN-VERY_GOOD", 22)
    assert a != b and len(a) == len(b) == 22
    assert a.endswith("EXCELLENT") and b.endswith("VERY_GOOD") and a.startswith("FAIRPHO")
    assert cut_middle("SHORT-1", 22) == "SHORT-1"


async def test_the_import_report_reads_a_long_reason_whole(make_app: Callable[..., Any], ctx: Any, tmp_path: Path) -> None:
    """The Reason column cut "EAN/GTIN … has 1 digits (8, 12, 13 or 14 expected)" at 80 columns."""
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.services.stores import create_store

    store = create_store(ctx, "Refurb Paris", "FR").id
    feed = tmp_path / "feed.csv"
    feed.write_text("sku;ean;title;price;stock\nA-1;0;Phone;x;-2\n")
    import_catalog(ctx, store, str(feed))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        reason = str(app.screen.query_one("#report-reason").render())
        assert reason.startswith("line 2 · A-1: EAN/GTIN '0' has 1 digits") and reason.endswith("stock '-2' is negative")
