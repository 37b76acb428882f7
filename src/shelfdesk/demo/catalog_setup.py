"""The demo's catalogs and Back Market France set-up, done through the real services.

Each demo store imports its own feed file (``catalog-fr.csv``, ``catalog-es.csv``)
with the catalog import service, exactly as a merchant's would be. Back Market
France is then mapped the way an operator would do it on the Mappings screen
(its electronics categories, its attributes, furniture and clothing excluded)
and its token is checked by the demo's own Back Market sandbox, in process:
the demo never talks to the real marketplace. Its three lights are green; the
other channels keep honest red lights for the operator to explore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: Demo categories Back Market sells, mapped to its leaves (by id in the shipped tree).
BACK_MARKET_CATEGORIES = {"Electronics > Mobile phones > Smartphones": "7",
                          "Electronics > Computers > Laptops": "32"}  # fmt: skip
BACK_MARKET_COLUMNS = {"ean": "ean", "grade": "grade", "warranty_delay": "warranty_months", "price": "price"}


def import_demo_catalogs(ctx: AppContext, store_ids: list[int]) -> int:
    """Import each store's saved feed; returns the products stored."""
    from shelfdesk.catalog.importer import import_catalog

    stored = 0
    for store_id in store_ids:
        result = import_catalog(ctx, store_id)
        if not result.ok:
            raise RuntimeError(f"demo catalog import failed: {result.error}")
        stored += result.stored
    return stored


def set_up_back_market_france(ctx: AppContext, channel_id: int, token: str) -> None:
    """Map the channel, check its token against the in-process sandbox, compute its lights."""
    import asyncio

    import httpx

    from shelfdesk.catalog import category_mapping, column_mapping, exclusions
    from shelfdesk.catalog.readiness import compute_readiness
    from shelfdesk.sandbox.backmarket import BackMarketSandbox
    from shelfdesk.services.accounts import check_connection
    from shelfdesk.services.channels import get_channel

    for merchant, leaf in BACK_MARKET_CATEGORIES.items():
        category_mapping.set_category_mapping(ctx, channel_id, merchant, leaf)
    for attribute, column in BACK_MARKET_COLUMNS.items():
        column_mapping.set_mapping(ctx, channel_id, attribute, column=column)
    for family in ("Home", "Fashion"):  # Back Market sells electronics only
        exclusions.add_rule(ctx, channel_id, "category", "contains", family, name=f"no {family.lower()} on Back Market")
    sandbox = BackMarketSandbox(ctx.paths.sandbox_dir / "demo-backmarket", clock=ctx.clock, token=token,
                                orders_per_hour=0)  # fmt: skip
    view = get_channel(ctx, channel_id)
    asyncio.run(check_connection(ctx, view.account_id, language=view.market,
                                 transport=httpx.ASGITransport(app=sandbox.app)))  # fmt: skip
    compute_readiness(ctx, channel_id)


def compute_demo_readiness(ctx: AppContext, channel_ids: list[int]) -> None:
    from shelfdesk.catalog.readiness import compute_readiness

    for channel_id in channel_ids:
        compute_readiness(ctx, channel_id)
