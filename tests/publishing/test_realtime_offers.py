"""A few offers go as real-time listing updates; a task whose result cannot be read is confirmed from listings.

Against the Back Market sandbox over loopback; what it received is read from its own log and listings.
"""

from __future__ import annotations

from shelfdesk.domain import ItemOutcome, PublicationState
from tests.publishing.conftest import Shop
from tests.publishing.test_offers_engine import catalog_like_sandbox


def test_a_few_offers_go_in_real_time_and_the_run_says_so(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)  # the orphans' zeroes go in a batch: more items than the setting below
    shop.set_channel(shop.bm_channel, settings={"realtime_offers_max": 3})
    batches = len(shop.batches())
    shop.set_product("IPH12-64-BLK-VG", stock=1)
    shop.set_product("GA52-128-BLK-EXC", stock=0)
    result = shop.publish(shop.bm_channel)

    assert result.state is PublicationState.succeeded
    assert len(shop.batches()) == batches  # no CSV batch, no task to poll
    listings = shop.listings()
    updates = {e["path"]: e["body"] for e in shop.requests("backmarket", method="POST") if e["path"] != "/ws/listings"}
    assert updates == {
        f"/ws/listings/{listings['IPH12-64-BLK-VG']['id']}": {"quantity": 1},
        f"/ws/listings/{listings['GA52-128-BLK-EXC']['id']}": {"quantity": 0},
    }
    assert listings["IPH12-64-BLK-VG"]["quantity"] == 1 and listings["GA52-128-BLK-EXC"]["quantity"] == 0
    items = shop.items(result.publication_id)
    assert {sku: i.outcome for sku, i in items.items()} == {"IPH12-64-BLK-VG": ItemOutcome.updated, "GA52-128-BLK-EXC": ItemOutcome.zeroed}
    assert shop.publication(result.publication_id).summary["path"] == "real-time"


def test_more_offers_than_the_setting_go_in_a_batch(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.set_channel(shop.bm_channel, settings={"realtime_offers_max": 1})
    result = shop.publish(shop.bm_channel)  # the orphans' zeroes: more than one item
    assert result.plan.to_send and len(result.plan.to_send) > 1
    assert shop.publication(result.publication_id).summary["path"] == "batch"
    assert [e for e in shop.requests("backmarket", method="POST") if e["path"] != "/ws/listings"] == []


def test_a_refused_real_time_update_is_the_items_failure(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    shop.set_channel(shop.bm_channel, settings={"realtime_offers_max": 3})
    shop.set_product("IPH12-64-BLK-VG", price="0.50")  # below the marketplace's price floor
    result = shop.publish(shop.bm_channel)
    item = shop.items(result.publication_id)["IPH12-64-BLK-VG"]
    assert item.outcome is ItemOutcome.failed and "out of the allowed range" in (item.message or "")


def test_a_task_whose_result_cannot_be_read_is_confirmed_from_the_listings(shop: Shop, monkeypatch) -> None:
    from shelfdesk.sandbox.backmarket import BackMarketSandbox

    process = BackMarketSandbox._process_task

    def terse(self, task, when):  # a marketplace that reports a count instead of per-SKU rows
        process(self, task, when)
        task["result"] = {"processed": len(task["result"])}

    monkeypatch.setattr(BackMarketSandbox, "_process_task", terse)
    catalog_like_sandbox(shop)
    shop.set_product("IPH12-64-BLK-VG", stock=6)
    result = shop.publish(shop.bm_channel)

    items = shop.items(result.publication_id)
    assert items["IPH12-64-BLK-VG"].outcome is ItemOutcome.updated
    assert "confirmed by reading the listing back" in items["IPH12-64-BLK-VG"].warning
    assert result.state is PublicationState.succeeded
    pub = shop.publication(result.publication_id)
    [kept] = pub.summary["unread_task_results"].values()
    assert kept == {"processed": len(items)}
    assert pub.summary["path"] == "batch"
