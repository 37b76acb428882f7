"""The support person's walk at 80×24: a failed publication triaged by cause, the fix made on
Mappings, only the fixed group re-published, then the first run reads resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.pilot import screen_text, settle
from tests.publishing.conftest import Shop, _running, sandboxes, shop  # noqa: F401 (fixtures)
from tests.publishing.test_console import failing_run  # noqa: F401 (fixture)
from tests.tui.test_walks import toasts

SIZE = (80, 24)


async def test_support_triages_a_failed_publication_and_republishes_only_the_fixed_group(  # noqa: F811
    shop: Shop, failing_run: int, make_app: Callable[..., Any]
) -> None:
    from shelfdesk.tui.screens.publications.error_groups import PublicationErrorsScreen
    from shelfdesk.tui.screens.setup.mappings import MappingsScreen

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3", "e")  # the run's errors, by cause
        await settle(pilot)
        assert isinstance(app.screen, PublicationErrorsScreen)
        text = screen_text(app)
        assert "Grade: missing" in text
        await pilot.press("down")  # the other group, named in full under the table: the real EAN, never "#"
        assert "3760000000000" in str(app.screen.query_one("#errors-fix").render())
        await pilot.press("up")
        await pilot.press("m")  # to the mapping that fixes the largest group
        await settle(pilot)
        assert isinstance(app.screen, MappingsScreen) and app.screen.pane == "columns"
        await asyncio.to_thread(shop.map_column, shop.bm_channel, "grade", constant="GOOD")  # what Enter + typing does
        await pilot.press("3", "e")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down", "e")  # the first run again: its grade group reads resolved
        await settle(pilot)
        assert "Resolved: all 3" in str(app.screen.query_one("#errors-fix").render())
        await pilot.press("r")
        await pilot.pause()
        assert any(t.startswith("Resolved: all 3") for t in toasts(app))
