"""Fixed data for the Stores and Mappings snapshots: one store, a small catalog with bad rows,
a Back Market channel half mapped (so both green and red lights show), a Leboncoin channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.catalog.conftest import bad_ean, ean


def build(ctx: Any, folder: Path) -> dict[str, int]:
    from shelfdesk.catalog import category_mapping, column_mapping, exclusions
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.catalog.readiness import compute_readiness
    from shelfdesk.services import accounts, channels, stores

    rows = [f"IP13-{i};{ean(i)};iPhone 13 #{i};Electronics > Phones;{300 + i};2;GOOD;12" for i in range(8)]
    rows += [f"MBA-{i};{ean(50 + i)};MacBook Air #{i};Electronics > Laptops;{700 + i};1;EXCELLENT;12" for i in range(4)]
    rows += [f"CH-{i};;Bistro chair #{i};Home > Chairs;{40 + i};1;;" for i in range(3)]
    rows += [f"BAD-1;{bad_ean(99)};broken EAN;Electronics > Phones;10;1;GOOD;12"]
    feed = folder / "feed.csv"
    feed.write_text("sku;ean;title;category;price;stock;grade;warranty_months\n" + "\n".join(rows) + "\n")
    store = stores.create_store(ctx, "Refurb Paris", "FR").id
    import_catalog(ctx, store, str(feed))
    stores.update_store(ctx, store, catalog_source="https://shop.example/feed.csv")  # no tmp path on screen
    bm = accounts.create_account(
        ctx, "backmarket", "Back Market EU", token="bm-snapshot-token", region="eu", company="Refurb", contact_email="ops@refurb.example"
    )
    lbc = accounts.create_account(ctx, "leboncoin", "Leboncoin Pro", token="lbc-snapshot-token")
    france = channels.create_channel(ctx, store, bm.id, "FR").id
    leboncoin = channels.create_channel(ctx, store, lbc.id, "FR").id
    category_mapping.set_category_mapping(ctx, france, "Electronics > Phones", "7")
    column_mapping.set_mapping(ctx, france, "grade", column="grade")
    column_mapping.set_mapping(ctx, france, "ean", column="ean")
    exclusions.add_rule(ctx, france, "category", "contains", "Home")
    for channel in (france, leboncoin):
        compute_readiness(ctx, channel)
    return {"store": store, "france": france, "leboncoin": leboncoin}
