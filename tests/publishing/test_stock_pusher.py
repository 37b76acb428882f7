"""The stock pusher against the sandboxes over loopback.

What reached a marketplace is read from the sandbox's own request log and
state; the dirty marks are read from the database as a second process would.
"""

from __future__ import annotations

import random
from typing import Any

from shelfdesk.orders.connect import default_factory as orders_factory
from shelfdesk.orders.harvest import harvest
from shelfdesk.publishing.dirty import REASON_MANUAL, mark_dirty, read_marks
from shelfdesk.publishing.pusher import PUSHER, push_stock_sync
from tests.orders.conftest import run_async
from tests.publishing.conftest import Shop

SKU = "IPH13-128-MID-GOOD"


def _baseline(shop: Shop, stock: dict[str, int]) -> None:
    """Catalog rows at the sandbox's price, published once by the offers feed; no mark left."""
    listings = shop.listings()
    for sku, qty in stock.items():
        shop.add_product(sku, price=listings[sku]["price"], stock=qty)
    shop.publish(shop.bm_channel)
    _clear(shop)


def _clear(shop: Shop) -> None:
    from sqlalchemy import delete

    from shelfdesk.db.models import StockDirty

    with shop.ctx.write_session() as session:
        session.execute(delete(StockDirty))


def _marks(shop: Shop, channel: int) -> dict[str, Any]:
    with shop.ctx.read_session() as session:
        return {m.sku: m for m in read_marks(session, channel)}


def _realtime_posts(shop: Shop) -> list[dict[str, Any]]:
    return [e for e in shop.requests("backmarket", method="POST") if e["path"].startswith("/ws/listings/")]


def _push(shop: Shop, channel: int | None = None) -> Any:
    return push_stock_sync(shop.ctx, channel or shop.bm_channel, factory=shop.factory, settle=False)


def _harvest(shop: Shop) -> None:
    run_async(harvest(shop.ctx, factory=orders_factory(shop.ctx, timeout=0.5, rng=random.Random(7))))


def test_an_order_for_the_last_unit_on_leboncoin_sends_back_market_0_in_real_time_once(shop: Shop) -> None:
    _baseline(shop, {SKU: 1})
    assert shop.listings()[SKU]["quantity"] == 1
    batches = len(shop.batches())
    shop.lbc.post("/_sandbox/orders", json={"skus": [SKU], "count": 1}).raise_for_status()
    _harvest(shop)

    assert SKU in _marks(shop, shop.bm_channel)  # the Leboncoin order marked Back Market's SKU
    result = _push(shop)

    posts = _realtime_posts(shop)
    listing = shop.listings()[SKU]
    assert len(posts) == 1 and posts[0]["path"].rsplit("/", 1)[1] in (listing["id"], str(listing["listing_id"]))
    assert result.realtime == 1 and result.batched == 0
    assert shop.listings()[SKU]["quantity"] == 0
    assert len(shop.batches()) == batches  # no CSV batch
    assert _marks(shop, shop.bm_channel) == {}
    assert shop.publication(result.publication_id).started_by == PUSHER
    again = _push(shop)  # nothing waits: nothing sent
    assert again.counts() == {} and len(_realtime_posts(shop)) == 1


def test_an_unchanged_quantity_is_cleared_without_sending(shop: Shop) -> None:
    _baseline(shop, {SKU: 3})
    with shop.ctx.write_session() as session:
        mark_dirty(session, shop.store_id, [SKU], REASON_MANUAL, shop.clock.now())
    result = _push(shop)
    assert _realtime_posts(shop) == [] and result.unchanged == 1
    assert _marks(shop, shop.bm_channel) == {}


def test_a_large_change_goes_in_one_batch_and_stock_outs_in_real_time(shop: Shop) -> None:
    listings = shop.listings()
    skus = [sku for sku, l in listings.items() if l.get("quantity", 0) >= 0][:8]
    _baseline(shop, {sku: 4 for sku in skus})
    shop.set_channel(shop.bm_channel, settings={"stock_realtime_max": 3})
    from shelfdesk.services.stock import StockLine, set_stock

    set_stock(shop.ctx, shop.store_id, [StockLine(skus[0], 0), *(StockLine(s, 7) for s in skus[1:])])
    batches = len(shop.batches())
    result = _push(shop)

    assert result.realtime == 1 and result.batched == len(skus) - 1
    posts = _realtime_posts(shop)
    assert len(posts) == 1
    new_rows = shop.batch_rows()[-(len(skus) - 1) :]
    assert len(shop.batches()) == batches + 1
    assert {r["sku"]: r["quantity"] for r in new_rows} == {s: "7" for s in skus[1:]}
    after = shop.listings()
    assert after[skus[0]]["quantity"] == 0 and all(after[s]["quantity"] == 7 for s in skus[1:])


def test_a_failing_marketplace_keeps_the_marks_and_the_next_push_sends_them(shop: Shop) -> None:
    _baseline(shop, {SKU: 2})
    from shelfdesk.services.stock import StockLine, set_stock

    set_stock(shop.ctx, shop.store_id, [StockLine(SKU, 0)])
    shop.fault("backmarket", kind="429", method="POST", path="/ws/listings/", count=20)
    stopped = _push(shop)
    assert stopped.published == 0 and shop.listings()[SKU]["quantity"] == 2
    assert set(_marks(shop, shop.bm_channel)) == {SKU}
    shop.bm.delete("/_sandbox/faults")
    _push(shop)
    assert shop.listings()[SKU]["quantity"] == 0
    assert _marks(shop, shop.bm_channel) == {}


def test_the_pushers_lines_count_in_the_accounts_hourly_budget(shop: Shop) -> None:
    from shelfdesk.publishing.quota import lines_used_last_hour

    _baseline(shop, {SKU: 2})
    with shop.ctx.read_session() as session:
        before = lines_used_last_hour(session, shop.bm_account, shop.clock.now())
    from shelfdesk.services.stock import StockLine, set_stock

    set_stock(shop.ctx, shop.store_id, [StockLine(SKU, 1)])
    _push(shop)
    with shop.ctx.read_session() as session:
        assert lines_used_last_hour(session, shop.bm_account, shop.clock.now()) == before + 1


def test_status_reports_the_oldest_unpushed_change_and_alerts_past_the_threshold(shop: Shop) -> None:
    from datetime import timedelta

    from shelfdesk.cli.status_cmd import render
    from shelfdesk.jobs.health import health_dict, sync_health
    from shelfdesk.jobs.alerts import list_alerts

    _baseline(shop, {SKU: 2})
    assert health_dict(sync_health(shop.ctx))["stock"]["oldest_unpushed_age_seconds"] is None
    from shelfdesk.services.stock import StockLine, set_stock

    set_stock(shop.ctx, shop.store_id, [StockLine(SKU, 1)])
    shop.clock.advance(timedelta(minutes=4))
    stock = health_dict(sync_health(shop.ctx))["stock"]
    assert stock["waiting"] == 2 and stock["oldest_unpushed_age_seconds"] == 240  # both channels of the store
    assert not [a for a in list_alerts(shop.ctx) if a.kind == "stock_unpushed"]
    shop.clock.advance(timedelta(minutes=2))
    alert = next(a for a in list_alerts(shop.ctx) if a.kind == "stock_unpushed")
    assert str(alert.severity) == "warning" and "not pushed for 6 min" in alert.message
    assert "Stock pusher  2 quantity update(s) waiting, oldest 6 min ago" in render(sync_health(shop.ctx))
    _push(shop)
    _push(shop, shop.lbc_channel)
    assert health_dict(sync_health(shop.ctx))["stock"]["waiting"] == 0
    assert not [a for a in list_alerts(shop.ctx) if a.kind == "stock_unpushed"]
