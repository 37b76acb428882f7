"""The demo's catalogs and channel set-ups, done through the real services.

Each demo store imports its own feed file (``catalog-fr.csv``, ``catalog-es.csv``)
with the catalog import service, exactly as a merchant's would be. Back Market
France and Leboncoin France are then mapped the way an operator would do it on
the Mappings screen (categories, attributes, exclusions) and their accounts'
connections are tested against the demo's own running sandboxes (the accounts
point at them, see :mod:`shelfdesk.demo.live`): the demo never talks to a
real marketplace. Their three lights are green and both publish; Back Market
Spain keeps honest red lights for the operator to explore.

Back Market sells the electronics, Leboncoin the second-hand furniture and
clothing, and also the phones in excellent condition (under its Multimedia
universe, as refurbishers do): those phones sell on both marketplaces, so an
order on one must lower what the other offers (the stock pusher does it). Leboncoin's condition value map was written from the merchant's
most common words and misses one, :data:`FORGOTTEN_CONDITION`: the mapping
light stays green (a warning: some products fail), the products run refuses
those products with shelfdesk's own validation, and the operator has a real
error group to triage, fix on the Mappings screen and re-publish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: Demo categories Back Market sells, mapped to its leaves (by id in the shipped tree).
BACK_MARKET_CATEGORIES = {"Electronics > Mobile phones > Smartphones": "7", "Electronics > Computers > Laptops": "32"}
BACK_MARKET_COLUMNS = {"ean": "ean", "grade": "grade", "warranty_delay": "warranty_months", "price": "price"}

#: Demo categories Leboncoin France sells, mapped to leaves of the tree shelfdesk ships (catalog/trees/leboncoin.json).
LEBONCOIN_CATEGORIES = {
    "Fashion > Men > Jackets": "fashion.clothing.men",
    "Fashion > Men > Jeans": "fashion.clothing.men",
    "Fashion > Men > Shoes": "fashion.shoes.men",
    "Fashion > Women > Coats": "fashion.clothing.women",
    "Fashion > Women > Knitwear": "fashion.clothing.women",
    "Fashion > Women > Shoes": "fashion.shoes.women",
    "Fashion > Women > Bags": "fashion.bags",
    "Home > Furniture > Chairs": "home.furniture.seating",
    "Home > Furniture > Tables": "home.furniture.tables",
    "Home > Furniture > Storage": "home.furniture.storage",
    "Home > Furniture > Lighting": "home.lighting",
    "Electronics > Mobile phones > Smartphones": "multimedia.phones.smartphones",
}
#: The phones Leboncoin France lists too (the demo's catalog column "grade"); the others sell on Back Market only.
LEBONCOIN_PHONE_GRADE = "EXCELLENT"
LEBONCOIN_COLUMNS = {"title": "title", "description": "description", "brand": "brand", "price": "price"}
#: The merchant's condition words → Leboncoin's conditions (second-hand goods are "used" there).
LEBONCOIN_CONDITIONS = {"Like new": "used", "Very good condition": "used", "Good condition": "used", "Refurbished": "refurbished"}
#: The condition word the demo's value map forgets: the products run refuses its products.
FORGOTTEN_CONDITION = "Signs of wear"


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


def map_back_market_france(ctx: AppContext, channel_id: int) -> None:
    """Electronics categories, EAN, grade, warranty and price; furniture and clothing excluded."""
    from shelfdesk.catalog import category_mapping, column_mapping, exclusions

    for merchant, leaf in BACK_MARKET_CATEGORIES.items():
        category_mapping.set_category_mapping(ctx, channel_id, merchant, leaf)
    for attribute, column in BACK_MARKET_COLUMNS.items():
        column_mapping.set_mapping(ctx, channel_id, attribute, column=column)
    for family in ("Home", "Fashion"):  # Back Market sells electronics only
        exclusions.add_rule(ctx, channel_id, "category", "contains", family, name=f"no {family.lower()} on Back Market")


def map_leboncoin_france(ctx: AppContext, channel_id: int) -> None:
    """Furniture, clothing and smartphone categories, title, description, brand, price and a condition value
    map missing :data:`FORGOTTEN_CONDITION`; laptops and the phones of other grades than
    :data:`LEBONCOIN_PHONE_GRADE` excluded (they sell on Back Market only)."""
    from shelfdesk.catalog import category_mapping, column_mapping, exclusions

    for merchant, leaf in LEBONCOIN_CATEGORIES.items():
        category_mapping.set_category_mapping(ctx, channel_id, merchant, leaf)
    for attribute, column in LEBONCOIN_COLUMNS.items():
        column_mapping.set_mapping(ctx, channel_id, attribute, column=column)
    column_mapping.set_mapping(ctx, channel_id, "condition", column="condition", value_map=LEBONCOIN_CONDITIONS)
    exclusions.add_rule(ctx, channel_id, "category", "contains", "Computers", name="laptops sell on Back Market")
    phones = exclusions.add_rule(ctx, channel_id, "category", "contains", "Smartphones", name="only excellent phones on Leboncoin")
    exclusions.add_rule(
        ctx, channel_id, "grade", "not_equals", LEBONCOIN_PHONE_GRADE, group_no=phones.group_no, name="only excellent phones on Leboncoin"
    )


def set_up_back_market_france(ctx: AppContext, channel_id: int) -> None:
    """Map the channel, test its account's connection, compute its lights (publication is already on)."""
    from shelfdesk.catalog.readiness import compute_readiness

    map_back_market_france(ctx, channel_id)
    _check_connection(ctx, channel_id)
    compute_readiness(ctx, channel_id)


def set_up_leboncoin_france(ctx: AppContext, channel_id: int) -> None:
    """Map the channel, test its account's connection, activate publication (the service refuses
    unless the three lights are green)."""
    from shelfdesk.services.channels import activate_channel

    map_leboncoin_france(ctx, channel_id)
    _check_connection(ctx, channel_id)
    activate_channel(ctx, channel_id)


def _check_connection(ctx: AppContext, channel_id: int) -> None:
    """The account's connection test (the API light), answered by the demo's running sandbox."""
    import asyncio

    from shelfdesk.domain import Marketplace
    from shelfdesk.services.accounts import check_connection
    from shelfdesk.services.channels import get_channel

    view = get_channel(ctx, channel_id)
    language = view.market if view.marketplace is Marketplace.backmarket else None
    result = asyncio.run(check_connection(ctx, view.account_id, language=language))
    if not result.ok:
        raise RuntimeError(f"demo connection test of {view.name} failed: {result.message}")


def compute_demo_readiness(ctx: AppContext, channel_ids: list[int]) -> None:
    from shelfdesk.catalog.readiness import compute_readiness

    for channel_id in channel_ids:
        compute_readiness(ctx, channel_id)
