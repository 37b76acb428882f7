"""What an operator found walking the demo at 80x24 with keys only, each held by a Pilot test.

Every test reads what the terminal shows (or what a form did with what was
typed), the way the operator met the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shelfdesk.domain import ItemOutcome
from tests.publishing.conftest import Shop, _running, bm_mappings, sandbox_ean, sandboxes, shop  # noqa: F401 (fixtures)
from tests.tui.setup_data import build
from tests.tui.test_jobs_console import screen_text

SIZE = (80, 24)
#: Two SKUs of one model that differ only past the SKU column's 22 characters.
LONG_SKUS = ["FAIRPHONE4-256GB-GREEN-EXCELLENT", "FAIRPHONE4-256GB-GREEN-VERY_GOOD"]


async def settle(pilot: Any) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture
def long_skus(shop: Shop) -> Shop:  # noqa: F811
    """A mapped Back Market channel with two products whose SKUs differ only at their end."""
    shop.ctx.actor = "operator"
    bm_mappings(shop)
    for n, sku in enumerate(LONG_SKUS):
        shop.add_product(sku, ean=sandbox_ean(n), grade="GOOD", price="300.00", stock=2)
    return shop


@pytest.fixture
def long_sku_run(long_skus: Shop) -> int:
    run = long_skus.publish(long_skus.bm_channel, "products").publication_id
    assert {item.outcome for item in long_skus.items(run).values()} == {ItemOutcome.created}
    return run


@pytest.fixture
def long_sku_plan(long_skus: Shop) -> Any:
    return long_skus.publish(long_skus.bm_channel, "products", dry_run=True)


async def test_publication_items_name_the_highlighted_sku_in_full(long_sku_run: int, make_app: Callable[..., Any]) -> None:
    """The SKU column cut both SKUs to the same 22 characters: the line under the table names it whole."""
    from shelfdesk.tui.screens.publication_detail import PublicationDetailScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PublicationDetailScreen)
        seen = set()
        for _ in LONG_SKUS:
            message = str(app.screen.query_one("#detail-message").render())
            seen |= {sku for sku in LONG_SKUS if message.startswith(f"{sku}: ")}
            assert any(sku in screen_text(app) for sku in LONG_SKUS)
            await pilot.press("down")
            await pilot.pause()
        assert seen == set(LONG_SKUS)


async def test_dry_run_plan_names_the_highlighted_sku_in_full(long_sku_plan: Any, make_app: Callable[..., Any]) -> None:
    from shelfdesk.tui.screens.publication_plan import PublicationPlanScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(PublicationPlanScreen(long_sku_plan))
        await settle(pilot)
        first = screen_text(app)
        await pilot.press("down")
        await pilot.pause()
        second = screen_text(app)
        assert {sku for sku in LONG_SKUS if f"{sku}: create" in first + second} == set(LONG_SKUS)


def shown_whole(app: Any, selector: str) -> bool:
    """Every word of a detail widget's text is on screen, in order (none cut at the bottom of its box)."""
    words = str(app.screen.query_one(selector).render()).split()
    shown = " ".join(screen_text(app).split())
    return bool(words) and " ".join(words) in shown


async def test_a_red_channels_detail_on_stores_shows_every_light_and_its_keys(
    ctx: Any, tmp_path: Any, make_app: Callable[..., Any]
) -> None:
    """A channel with long reasons filled the six lines of the detail: its keys line was never seen."""
    from shelfdesk.catalog.readiness import compute_readiness
    from shelfdesk.services import accounts, channels, stores

    build(ctx, tmp_path)
    madrid = stores.create_store(ctx, "Refurb Madrid", "ES").id
    spain = accounts.create_account(ctx, "backmarket", "Back Market ES", region="eu", company="Refurb",
                                    contact_email="ops@refurb.example")  # fmt: skip
    compute_readiness(ctx, channels.create_channel(ctx, madrid, spain.id, "ES").id)  # nothing mapped, no token
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        for _ in range(5):
            await pilot.press("down")
            await pilot.pause()
            if "no API token" in str(app.screen.query_one("#stores-detail").render()):
                break
        assert "no API token" in str(app.screen.query_one("#stores-detail").render())
        assert shown_whole(app, "#stores-detail"), screen_text(app)


async def test_an_attributes_failures_on_mappings_columns_are_not_cut(
    long_skus: Shop, make_app: Callable[..., Any]
) -> None:
    """Rule, help and "N of M products fail, e.g. SKU: why" took five lines in a box of four."""
    from shelfdesk.catalog.column_mapping import clear_mapping

    clear_mapping(long_skus.ctx, long_skus.bm_channel, "ean")  # product_id or ean: every product fails
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        for _ in range(3):  # to the Back Market channel
            if "Back Market" in str(app.screen.query_one("#map-title").render()):
                break
            await pilot.press("right_square_bracket")
            await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        detail = str(app.screen.query_one("#columns-detail").render())
        assert "2 of 2 products fail, e.g. FAIRPHONE4-256GB-GREEN-" in detail
        assert shown_whole(app, "#columns-detail"), screen_text(app)
