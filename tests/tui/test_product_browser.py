"""Stores' product browser: find a SKU and see, per channel, its mapping, what excludes it and
what its last publication did with it (the "why is it not on Back Market?" question)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.pilot import settle, type_text
from tests.tui.setup_data import build

SIZE = (80, 24)


async def test_b_on_stores_finds_a_sku_and_says_what_each_channel_makes_of_it(
    make_app: Callable[..., Any], ctx: Any, tmp_path: Path
) -> None:
    from shelfdesk.tui.screens.setup.product_browser import ProductBrowserScreen

    build(ctx, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProductBrowserScreen) and len(screen.lines) == 15
        await pilot.press("slash")
        await type_text(pilot, "CH-1")
        await pilot.press("enter")
        await settle(pilot)
        assert list(screen.lines) == ["CH-1"]
        sight = str(screen.query_one("#product-sight").render())
        assert "stock 1 · price 41.00 · category Home > Chairs" in sight, sight
        assert "Back Market France: category not mapped · EXCLUDED by category contains 'Home'" in sight, sight
        assert "last sent: never published" in sight
        await pilot.press("escape", "escape")  # clear the search, then back to Stores
        await settle(pilot)
        assert not isinstance(app.screen, ProductBrowserScreen)
