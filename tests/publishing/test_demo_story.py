"""Issue #5's "done when", end to end on a small demo-like shop, against both sandboxes over loopback HTTP.

Both feeds go to both sandboxes; the errors are grouped by cause; the mapping is fixed through the mapping
service; the group is re-published and only its items are sent and published; a stock change re-imported
from the merchant's feed reaches the sandbox in the next offers run as one quantity line, and nothing else
is sent. What reached a marketplace is read from the sandboxes' own request logs and state.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from shelfdesk.domain import ItemOutcome, PublicationState
from shelfdesk.publishing.triage import error_clusters, failed_skus
from tests.publishing.conftest import Shop
from tests.publishing.demo_shop import demo_shop


def _writes(shop: Shop, marketplace: str, since: int) -> list[dict[str, Any]]:
    """The requests after the ``since``-th that could change something on the marketplace (token calls aside)."""
    entries = shop.requests(marketplace)[since:]
    return [e for e in entries if e["method"] in ("POST", "PUT", "PATCH", "DELETE") and e["path"] != "/oauth/token"]


def _lines(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines of one feed or batch as the marketplace received them."""
    body = entry["body"]
    if "catalog" in body:  # Back Market: a CSV catalog in JSON
        return list(csv.DictReader(io.StringIO(body["catalog"])))
    return list(body["items"])  # Leboncoin: {reference, items}


def test_publish_triage_fix_republish_then_a_stock_change_is_one_quantity_line(shop: Shop, tmp_path: Path) -> None:
    from shelfdesk.catalog.column_mapping import channel_rules, preview, set_mapping
    from shelfdesk.demo.catalog_setup import FORGOTTEN_CONDITION
    from shelfdesk.publishing.jobs import publish_offers

    demo = demo_shop(shop, tmp_path)
    seen = {mp: len(shop.requests(mp)) for mp in ("backmarket", "leboncoin")}

    # 1. Both feeds, both sandboxes.
    bm_products = shop.publish(shop.bm_channel, "products")
    lbc_products = shop.publish(shop.lbc_channel, "products")
    bm_offers, lbc_offers = shop.publish(shop.bm_channel, "offers"), shop.publish(shop.lbc_channel, "offers")
    bm_sent = [_lines(e) for e in _writes(shop, "backmarket", seen["backmarket"])]
    lbc_sent = [(e["path"], _lines(e)) for e in _writes(shop, "leboncoin", seen["leboncoin"])]
    assert sorted(row["sku"] for row in bm_sent[0]) == sorted(demo.phones + demo.unknown)  # the products batch
    assert lbc_sent[0][0] == "/api/v1/feeds/products"  # the worn products never left shelfdesk
    assert sorted(item["sku"] for item in lbc_sent[0][1]) == sorted(demo.second_hand)
    assert {item["condition"] for item in lbc_sent[0][1]} == {"used"}
    assert [p.state for p in (bm_products, lbc_products)] == [PublicationState.partial] * 2
    assert lbc_offers.state is PublicationState.succeeded and bm_offers.state is PublicationState.succeeded
    assert set(demo.second_hand) <= set(shop.ads()) and set(demo.phones) <= set(shop.listings())

    # 2. Errors grouped by cause: refused by shelfdesk for Leboncoin, by the marketplace for Back Market.
    [lbc_group] = error_clusters(shop.ctx, lbc_products.publication_id)
    assert (lbc_group.key, lbc_group.count, lbc_group.invalid, lbc_group.attribute) == ("attribute-invalid:condition", 3, 3, "condition")
    assert lbc_group.cause == f"Condition {FORGOTTEN_CONDITION!r} is not an accepted value (used, refurbished, new)"
    [bm_group] = error_clusters(shop.ctx, bm_products.publication_id)
    assert (bm_group.key, bm_group.count, bm_group.invalid) == ("unknown-ean:ean", 1, 0)
    assert failed_skus(shop.ctx, bm_products.publication_id) == demo.unknown

    # 3. The operator's fix, through the mapping service: the forgotten word is second-hand too.
    rule = channel_rules(shop.ctx, shop.lbc_channel)["condition"]
    set_mapping(shop.ctx, shop.lbc_channel, "condition", column=rule.column, value_map={**rule.value_map, FORGOTTEN_CONDITION: "used"})
    assert "condition" not in preview(shop.ctx, shop.lbc_channel, samples=0).failures

    # 4. Re-publish the group: exactly its items are sent, and published.
    before = len(shop.requests("leboncoin"))
    group = failed_skus(shop.ctx, lbc_products.publication_id, lbc_group.key)
    retry = shop.publish(shop.lbc_channel, "products", only_skus=group)
    [(path, items)] = [(e["path"], _lines(e)) for e in _writes(shop, "leboncoin", before)]
    assert path == "/api/v1/feeds/products" and sorted(item["sku"] for item in items) == sorted(demo.worn) == group
    record = shop.publication(retry.publication_id)
    assert (record.state, record.items_total, record.sent, record.succeeded, record.failed, record.invalid) == (
        PublicationState.succeeded,
        3,
        3,
        3,
        0,
        0,
    )
    assert {i.sku: i.outcome for i in shop.items(retry.publication_id).values()} == dict.fromkeys(demo.worn, ItemOutcome.created)
    ads = shop.ads()
    assert {ads[sku]["condition"] for sku in demo.worn} == {"used"}

    # 5. Stock changes in the merchant's feed, re-imported, then the next offers runs: one quantity line each.
    garment, phone = demo.second_hand[-1], demo.phones[0]
    demo.set_stock({garment: 1, phone: 2})
    before = {mp: len(shop.requests(mp)) for mp in ("backmarket", "leboncoin")}
    by_hand = shop.publish(shop.lbc_channel, "offers")
    scheduled = publish_offers(shop.ctx, shop.bm_channel)  # the scheduler's job
    [(path, items)] = [(e["path"], _lines(e)) for e in _writes(shop, "leboncoin", before["leboncoin"])]
    assert (path, items) == ("/api/v1/feeds/offers", [{"sku": garment, "quantity": 1}])  # no price, nobody else
    [rows] = [_lines(e) for e in _writes(shop, "backmarket", before["backmarket"])]
    assert rows == [{"sku": phone, "quantity": "2"}]
    assert (by_hand.counters["sent"], by_hand.counters["succeeded"]) == (1, 1)
    assert (scheduled["items_sent"], scheduled["items_published"]) == (1, 1)
    assert shop.ads()[garment]["quantity"] == 1 and shop.listings()[phone]["quantity"] == 2
