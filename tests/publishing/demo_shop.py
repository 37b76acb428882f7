"""A small demo-like shop: a few products of the demo catalog, imported from a feed file, mapped as the demo maps
Back Market France and Leboncoin France (with the demo's forgotten condition word), on the test sandboxes."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shelfdesk.demo.catalog import DemoProduct, demo_catalog
from shelfdesk.demo.catalog_setup import FORGOTTEN_CONDITION, map_back_market_france, map_leboncoin_france
from shelfdesk.demo.live import UNKNOWN_TO_BACK_MARKET, backmarket_products
from tests.publishing.conftest import Shop


@dataclass
class DemoShop:
    shop: Shop
    feed: Path  #: the merchant's feed file, re-imported after an edit
    worn: list[str]  #: SKUs whose condition the Leboncoin value map forgets
    second_hand: list[str]  #: the other furniture and clothing (Leboncoin publishes them)
    phones: list[str]  #: electronics Back Market knows
    unknown: list[str]  #: electronics Back Market's catalog does not know (by EAN)

    def set_stock(self, stock: dict[str, int]) -> None:
        """Edit the feed file as the merchant's system would, then import it with the catalog import service."""
        from shelfdesk.catalog.importer import import_catalog

        with self.feed.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        for row in rows:
            if row["sku"] in stock:
                row["stock"] = str(stock[row["sku"]])
        with self.feed.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
        result = import_catalog(self.shop.ctx, self.shop.store_id, str(self.feed))
        assert result.ok, result.error


def _first(catalog: list[DemoProduct], count: int, keep: Callable[[DemoProduct], bool]) -> list[DemoProduct]:
    """The first ``count`` products ``keep`` accepts, with some stock (a stock change must be visible)."""
    return [p for p in catalog if p.stock > 2 and keep(p)][:count]


def demo_shop(shop: Shop, folder: Path) -> DemoShop:
    """Eleven demo products (3 worn furniture, 2 other furniture, 3 clothes, 2 phones, 1 Fairphone Back Market
    lacks) imported from ``folder/catalog.csv``; the demo's mappings; the phones' EANs known to Back Market."""
    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.demo.build import write_catalog_csv

    catalog = demo_catalog()
    worn = _first(catalog, 3, lambda p: p.attributes.get("condition") == FORGOTTEN_CONDITION)
    second_hand = [
        *_first(catalog, 2, lambda p: p.category_path.startswith("Home") and p not in worn),
        *_first(catalog, 3, lambda p: p.category_path.startswith("Fashion")),
    ]
    phones = _first(catalog, 2, lambda p: "Smartphones" in p.category_path and not p.sku.startswith(UNKNOWN_TO_BACK_MARKET))
    unknown = _first(catalog, 1, lambda p: p.sku.startswith(UNKNOWN_TO_BACK_MARKET))
    products = sorted([*worn, *second_hand, *phones, *unknown], key=lambda p: p.sku)
    feed = write_catalog_csv(folder / "catalog.csv", products)
    result = import_catalog(shop.ctx, shop.store_id, str(feed))
    assert result.ok and result.stored == 11, result.error
    map_back_market_france(shop.ctx, shop.bm_channel)
    map_leboncoin_france(shop.ctx, shop.lbc_channel)
    added = shop.bm.post("/_sandbox/products", json={"products": backmarket_products([*phones, *unknown])})
    assert added.status_code == 201 and added.json()["added"] == 2  # the Fairphone stays unknown to Back Market
    return DemoShop(shop, feed, [p.sku for p in worn], [p.sku for p in second_hand], [p.sku for p in phones], [p.sku for p in unknown])
