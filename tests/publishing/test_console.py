"""The Publications screens, driven with the keyboard as an operator would (Pilot), against the sandbox."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from shelfdesk.domain import ItemOutcome, PublicationState
from shelfdesk.tui.messages import PublishFinished, PublishProgress
from tests.pilot import settle
from tests.publishing.conftest import Shop, bm_mappings, sandbox_ean
from tests.tui.conftest import _plain_terminal, make_app  # noqa: F401 (fixtures)

SIZE = (80, 24)


@pytest.fixture
def failing_run(shop: Shop) -> int:
    """A products run with two causes of failure (3 without grade, 1 unknown EAN) and one success."""
    shop.ctx.actor = "operator"  # the OS user would differ between machines (snapshots)
    bm_mappings(shop)
    shop.add_product("NEW-OK", ean=sandbox_ean(0), grade="GOOD", price="500.00", stock=2)
    for n in range(3):
        shop.add_product(f"NEW-NOGRADE-{n}", ean=sandbox_ean(n + 1), price="300.00", stock=2)
    shop.add_product("NEW-UNKNOWN-EAN", ean="3760000000000", grade="GOOD", price="120.00", stock=1)
    return shop.publish(shop.bm_channel, "products").publication_id


def cell(app: Any, row: int, column: str) -> str:
    from shelfdesk.tui.widgets.data_window import DataWindow

    table = app.screen.query_one(DataWindow)
    return str(table.get_cell_at((row, table.get_column_index(column))))


async def test_triage_groups_errors_jumps_to_products_and_republishes_a_fixed_group(
    shop: Shop,
    failing_run: int,
    make_app: Callable[..., Any],  # noqa: F811
) -> None:
    from shelfdesk.tui.screens.publications.error_groups import PublicationErrorsScreen
    from shelfdesk.tui.screens.publications.run_items import PublicationDetailScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "e")
        await settle(pilot)
        assert isinstance(app.screen, PublicationErrorsScreen)
        assert (cell(app, 0, "count"), cell(app, 0, "cause")) == ("3", "Grade: missing")
        assert cell(app, 1, "origin") == "marketplace"

        await pilot.press("enter")  # the group's products
        await settle(pilot)
        assert isinstance(app.screen, PublicationDetailScreen)
        assert sorted(cell(app, r, "sku") for r in range(app.screen.query_one("#detail-table").row_count)) == [
            "NEW-NOGRADE-0",
            "NEW-NOGRADE-1",
            "NEW-NOGRADE-2",
        ]
        await pilot.press("escape")
        await settle(pilot)

        shop.map_column(shop.bm_channel, "grade", constant="GOOD")  # the operator fixed the mapping
        await pilot.press("r")  # re-publish the highlighted group: a confirmation names count and samples
        await settle(pilot)
        assert "Re-publish the 3 failed items of #1" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("enter")  # "No" is focused: nothing happens
        await settle(pilot)
        assert len(shop.batches()) == 1
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "enter")  # "Yes, send"
        await settle(pilot)
        await settle(pilot)
    from shelfdesk.publishing.triage import list_publications

    latest = list_publications(shop.ctx, limit=1)[0]
    assert (latest.state, latest.succeeded, latest.summary["only_skus"]) == (
        PublicationState.succeeded,
        3,
        ["NEW-NOGRADE-0", "NEW-NOGRADE-1", "NEW-NOGRADE-2"],
    )
    assert {"NEW-NOGRADE-0", "NEW-NOGRADE-1", "NEW-NOGRADE-2"} <= set(shop.listings())


async def test_the_dry_run_key_shows_the_plan_and_sends_nothing(shop: Shop, failing_run: int, make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.tui.screens.publications.plan import PublicationPlanScreen

    posts = len(shop.requests("backmarket", method="POST"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "d")
        await settle(pilot)
        await pilot.press("enter")  # the first choice: Back Market France · offers · update
        await settle(pilot)
        assert isinstance(app.screen, PublicationPlanScreen)
        plan = app.screen.result.plan
        assert app.screen.query_one("#plan-table").row_count == len(plan.to_send) > 0
        assert cell(app, 0, "do") == "zero"
    assert len(shop.requests("backmarket", method="POST")) == posts


async def test_a_large_run_reports_rising_progress_and_esc_cancels_between_batches(
    shop: Shop,
    make_app: Callable[..., Any],  # noqa: F811
) -> None:
    from shelfdesk.tui.screens.publications.run_list import PublicationsScreen

    bm_mappings(shop)
    shop.set_channel(shop.bm_channel, settings={"batch_lines": 40})
    for n in range(5):  # first in the catalog, so in the first batch
        shop.add_product(f"BULK-BAD-{n}", ean="3760000000000", grade="GOOD", price="100.00", stock=1)
    for n in range(200):
        shop.add_product(f"BULK-{n:03d}", ean=sandbox_ean(n % 16), grade="GOOD", price="100.00", stock=1)
    messages: list[Any] = []
    batches_posted, esc_pressed = threading.Event(), threading.Event()
    posted = 0

    def checkpoint(name: str) -> None:
        nonlocal posted
        if name == "task-recorded":
            posted += 1
            if posted == 3:  # hold the run after its third batch until Esc was pressed
                batches_posted.set()
                esc_pressed.wait(10)

    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PublicationsScreen)
        screen.publish_options = {"checkpoint": checkpoint}
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("down", "enter")  # Back Market France · products · update (no full mode)
        assert await asyncio.to_thread(batches_posted.wait, 10)
        await pilot.press("escape")
        await pilot.pause()
        assert "Cancelling after the current batch" in str(screen.query_one("#pub-progress-text").render())
        esc_pressed.set()
        await settle(pilot)
        await settle(pilot)
        assert screen.running is False and isinstance(app.screen, PublicationsScreen)

    messages = list({id(m): m for m in messages}.values())  # the hook sees a message once per pump it reaches
    sending = [m.progress for m in messages if isinstance(m, PublishProgress) and m.progress.phase == "sending"]
    assert [p.done for p in sending] == [40, 80, 120]
    assert {p.total for p in sending} == {205} and all(f"sent {p.done} of 205" in p.message for p in sending)
    waiting = [m.progress for m in messages if isinstance(m, PublishProgress) and m.progress.phase == "waiting"]
    assert [(p.done, p.failed) for p in waiting] == [(0, 0), (40, 5), (80, 5), (120, 5)]  # waiting starts, then the unknown EANs, counted
    finished = [m for m in messages if isinstance(m, PublishFinished)]
    result = finished[0].result
    assert result.state is PublicationState.canceled
    pub = shop.publication(result.publication_id)
    assert (pub.sent, pub.queued) == (120, 85)
    assert len(shop.batches()) == 3
    items = shop.items(result.publication_id)
    assert sum(1 for i in items.values() if i.outcome is ItemOutcome.created) == 115


async def test_errors_only_toggle_and_history_of_a_sku(shop: Shop, failing_run: int, make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.tui.screens.publications.sku_history import ProductHistoryScreen

    await asyncio.to_thread(shop.publish, shop.lbc_channel, "offers")  # a clean run
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#pub-table")
        assert table.row_count == 2
        await pilot.press("z")
        await settle(pilot)
        assert table.row_count == 1 and cell(app, 0, "id") == str(failing_run)
        assert "errors only" in str(app.screen.query_one("#pub-title").render())
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("z")  # failed items only, by cause
        await settle(pilot)
        skus = [cell(app, r, "sku") for r in range(app.screen.query_one("#detail-table").row_count)]
        assert skus == ["NEW-NOGRADE-0", "NEW-NOGRADE-1", "NEW-NOGRADE-2", "NEW-UNKNOWN-EAN"]
        await pilot.press("slash", *"new-u", "enter")  # SKU prefix filter
        await settle(pilot)
        assert [cell(app, 0, "sku")] == ["NEW-UNKNOWN-EAN"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProductHistoryScreen)
        assert cell(app, 0, "outcome") == "failed"


async def test_fix_jumps_to_the_mapping_that_fixes_the_group(shop: Shop, failing_run: int, make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.tui.screens.setup.mappings import MappingsScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "e")
        await settle(pilot)
        await pilot.press("m")  # "Grade: missing" is fixed in the column mapping
        await settle(pilot)
        assert isinstance(app.screen, MappingsScreen) and app.current_mode == "mappings"
        tabs = app.screen.query("TabbedContent")
        if tabs:  # the Mappings screen of issue 4 (its column pane)
            assert tabs.first().active == "columns"
            assert app.screen.channel_id == shop.bm_channel


async def test_an_operator_fixes_a_demo_error_group_on_mappings_and_republishes_only_it_with_keys(
    shop: Shop,
    tmp_path: Any,
    make_app: Callable[..., Any],  # noqa: F811
) -> None:
    """The demo's triage at 80×24, keys only: the group, m to the mapping that fixes it, the value map
    completed in the column form, 3 back to the group, r re-publishes just its items."""
    from textual.widgets import Input, TabbedContent

    from shelfdesk.catalog.column_mapping import channel_rules
    from shelfdesk.demo.catalog_setup import FORGOTTEN_CONDITION
    from shelfdesk.publishing.triage import list_publications
    from shelfdesk.tui.screens.publications.error_groups import PublicationErrorsScreen
    from shelfdesk.tui.screens.setup.attribute_mapping_form import ColumnForm
    from shelfdesk.tui.screens.setup.mappings import MappingsScreen
    from tests.publishing.demo_shop import demo_shop

    shop.ctx.actor = "operator"
    demo = demo_shop(shop, tmp_path)
    run = await asyncio.to_thread(shop.publish, shop.lbc_channel, "products")
    before = len(shop.requests("leboncoin"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "e")  # the newest run: Leboncoin France's products, its errors by cause
        await settle(pilot)
        assert isinstance(app.screen, PublicationErrorsScreen) and app.screen.publication_id == run.publication_id
        assert (cell(app, 0, "count"), cell(app, 0, "origin"), cell(app, 0, "attribute")) == ("3", "shelfdesk", "condition")
        assert f"Condition '{FORGOTTEN_CONDITION}' is not an accepted value" in str(app.screen.query_one("#errors-fix").render())

        await pilot.press("m")  # to the mapping that fixes it: this channel, its columns, the condition row
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MappingsScreen) and screen.channel_id == shop.lbc_channel
        assert screen.query_one(TabbedContent).active == "columns"
        assert screen.query_one("#columns-table").current_key == "condition"

        await pilot.press("enter")  # the column form, on the value map, saying what it still refuses
        await settle(pilot)
        assert isinstance(app.screen, ColumnForm)
        assert app.focused is app.screen.query_one("#col-map", Input)
        assert FORGOTTEN_CONDITION in str(app.screen.query_one("#col-refused").render())
        await pilot.press(*f", {FORGOTTEN_CONDITION}=used")  # appended to the map
        assert "Every common value is accepted now." in str(app.screen.query_one("#col-refused").render())
        await pilot.press("enter")  # saved
        await settle(pilot)
        assert channel_rules(shop.ctx, shop.lbc_channel)["condition"].value_map == {
            "Like new": "used",
            "Very good condition": "used",
            "Good condition": "used",
            "Refurbished": "refurbished",
            FORGOTTEN_CONDITION: "used",
        }

        await pilot.press("3")  # back where the operator left: the group
        await settle(pilot)
        assert isinstance(app.screen, PublicationErrorsScreen)
        await pilot.press("r")
        await settle(pilot)
        assert "Re-publish the 3 failed items of" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("tab", "enter")  # "Yes, send"
        await settle(pilot)
        await settle(pilot)
        assert app.screen.query_one("#pub-table").current_key == str(list_publications(shop.ctx, limit=1)[0].id)
    latest = list_publications(shop.ctx, limit=1)[0]
    assert (latest.state, latest.items_total, latest.sent, latest.succeeded, latest.failed + latest.invalid) == (
        PublicationState.succeeded,
        3,
        3,
        3,
        0,
    )
    assert latest.summary["only_skus"] == sorted(demo.worn)
    feeds = [e for e in shop.requests("leboncoin")[before:] if e["method"] == "POST" and "/feeds/" in e["path"]]
    assert [sorted(item["sku"] for item in e["body"]["items"]) for e in feeds] == [sorted(demo.worn)]


async def test_p_on_an_unknown_product_group_proposes_it_and_is_greyed_on_other_groups(
    shop: Shop,
    failing_run: int,
    make_app: Callable[..., Any],  # noqa: F811
) -> None:
    from shelfdesk.publishing.triage import list_publications
    from shelfdesk.services.proposals import PROPOSAL

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3", "e")
        await settle(pilot)
        await pilot.press("p")  # the Grade group: nothing to propose, and it says why
        await pilot.pause()
        assert any("Only products the marketplace's catalog does not know" in n.message for n in app._notifications)
        await pilot.press("down")
        await settle(pilot)
        assert "Propose them with p: the marketplace reviews each product" in str(app.screen.query_one("#errors-fix").render())
        await pilot.press("p")
        await settle(pilot)
        assert "Propose 1 product to " in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
    latest = list_publications(shop.ctx, limit=1)[0]
    assert (latest.started_by, latest.summary["only_skus"]) == (PROPOSAL, ["NEW-UNKNOWN-EAN"])
    assert shop.state()["proposals"]["3760000000000"]["sku"] == "NEW-UNKNOWN-EAN"
    assert shop.batch_rows()[-1]["category_id"] == "7"
