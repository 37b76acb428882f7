"""The demo catalog is realistic and stable."""

from __future__ import annotations

from collections import Counter

from shelfdesk.catalog.gtin import is_valid_gtin
from shelfdesk.demo.catalog import demo_catalog


def test_demo_catalog_is_large_valid_and_deterministic() -> None:
    catalog = demo_catalog()
    assert len(catalog) == 2000
    assert len({p.sku for p in catalog}) == 2000
    assert all(is_valid_gtin(p.ean) for p in catalog)
    assert all(p.price > 0 and p.price == p.price.quantize(p.price.__class__("0.01")) for p in catalog)
    families = Counter(p.category_path.split(" > ")[1] for p in catalog)
    assert {"Mobile phones", "Computers", "Furniture"} <= set(families)
    assert any(p.stock == 0 for p in catalog) and any(p.stock > 5 for p in catalog)
    assert demo_catalog() == catalog
