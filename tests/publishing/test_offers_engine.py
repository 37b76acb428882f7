"""Offers feed against the Back Market and Leboncoin sandboxes over loopback.

Assertions about what a marketplace received read the sandbox's own batches
and listings, never shelfdesk's records.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shelfdesk.domain import ItemAction, ItemOutcome, NormalizedStatus, PublicationState
from shelfdesk.publishing.errors import PublishError
from shelfdesk.sandbox.backmarket import ORPHAN_SKUS
from tests.publishing.conftest import Shop

KEPT = ("IPH13-128-MID-EXC", "IPH13-128-MID-GOOD", "IPH12-64-BLK-VG", "GA52-128-BLK-EXC")


def catalog_like_sandbox(shop: Shop, skus: tuple[str, ...] = KEPT) -> dict[str, dict]:
    """Catalog products at exactly the sandbox's price and quantity (nothing to change)."""
    listings = shop.listings()
    for sku in skus:
        shop.add_product(sku, price=listings[sku]["price"], stock=listings[sku]["quantity"])
    return listings


def test_update_mode_zeroes_what_the_catalog_lacks_and_skips_the_unchanged(shop: Shop) -> None:
    before = catalog_like_sandbox(shop)
    result = shop.publish(shop.bm_channel)

    sent = {row["sku"]: row for row in shop.batch_rows()}
    still_selling = {sku for sku, l in before.items() if l["quantity"] > 0 and sku not in KEPT}
    assert set(sent) == still_selling  # the catalog's own SKUs are unchanged: not sent
    assert all(row == {"sku": row["sku"], "quantity": "0"} for row in sent.values())
    assert {s for s in ORPHAN_SKUS if before[s]["quantity"] > 0} <= set(sent)  # never published by shelfdesk
    after = shop.listings()
    assert all(after[sku]["quantity"] == 0 for sku in still_selling)
    assert all(after[sku]["quantity"] == before[sku]["quantity"] for sku in KEPT)
    assert result.state is PublicationState.succeeded
    items = shop.items(result.publication_id)
    assert {i.outcome for i in items.values()} == {ItemOutcome.zeroed}
    assert result.plan.skipped["unchanged since the last successful publication"] == len(KEPT)


def test_a_run_with_nothing_to_send_is_skipped_and_sends_nothing(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    posts = len(shop.requests("backmarket", method="POST", path="/ws/listings"))
    again = shop.publish(shop.bm_channel)
    assert again.state is PublicationState.skipped
    assert len(shop.requests("backmarket", method="POST", path="/ws/listings")) == posts
    assert shop.publication(again.publication_id).sent == 0


def test_a_stock_change_reaches_the_marketplace_as_a_quantity_update_and_nothing_else(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    batches = len(shop.batches())
    shop.set_product("IPH12-64-BLK-VG", stock=9)
    result = shop.publish(shop.bm_channel)

    new_rows = [row for batch in shop.batches()[batches:] for row in _csv(batch["catalog"])]
    assert new_rows == [{"sku": "IPH12-64-BLK-VG", "quantity": "9"}]
    assert shop.listings()["IPH12-64-BLK-VG"]["quantity"] == 9
    item = shop.items(result.publication_id)["IPH12-64-BLK-VG"]
    assert (item.action, item.outcome, item.new_quantity, item.new_price) == (ItemAction.update, ItemOutcome.updated, 9, None)


def _csv(text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text)))


def test_price_change_sends_the_price_only(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    batches = len(shop.batches())
    shop.set_product("GA52-128-BLK-EXC", price=Decimal("199.00"))
    shop.publish(shop.bm_channel)
    rows = [row for batch in shop.batches()[batches:] for row in _csv(batch["catalog"])]
    assert rows == [{"sku": "GA52-128-BLK-EXC", "price": "199.00", "currency": "EUR"}]
    assert shop.listings()["GA52-128-BLK-EXC"]["price"] == "199.00"


def test_safety_stock_and_open_orders_reduce_the_quantity_never_below_zero(shop: Shop) -> None:
    from shelfdesk.db.models import Order, OrderLine

    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    shop.set_product("IPH13-128-MID-GOOD", stock=10, stock_imported_at=shop.clock.now())
    shop.set_channel(shop.bm_channel, safety_stock=2)
    shop.clock.advance(60)
    now = shop.clock.now()
    with shop.ctx.write_session() as session:  # a harvested, accepted order placed after the stock import
        for n, (status, qty) in enumerate(
            ((NormalizedStatus.InProgress, 3), (NormalizedStatus.Shipped, 4), (NormalizedStatus.Canceled, 5))
        ):
            order = Order(
                account_id=shop.bm_account,
                channel_id=shop.bm_channel,
                store_id=shop.store_id,
                marketplace="backmarket",
                marketplace_order_id=f"X{n}",
                status=status,
                purchased_at=now,
                harvested_at=now,
                updated_at=now,
            )
            session.add(order)
            session.flush()
            session.add(OrderLine(order_id=order.id, marketplace_line_id="1", sku="IPH13-128-MID-GOOD", quantity=qty, status=status))
    shop.publish(shop.bm_channel)
    # 10 in stock − 3 held by the open order (shipped and cancelled ones do not count) − 2 safety
    assert shop.listings()["IPH13-128-MID-GOOD"]["quantity"] == 5

    shop.set_product("IPH13-128-MID-GOOD", safety_stock=9)  # the product's own safety stock wins
    shop.publish(shop.bm_channel)
    assert shop.listings()["IPH13-128-MID-GOOD"]["quantity"] == 0


def test_gone_and_excluded_products_go_to_zero(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    shop.set_product("IPH13-128-MID-EXC", gone=True)
    shop.exclude(shop.bm_channel, "IPH12-64-BLK-VG")
    result = shop.publish(shop.bm_channel)
    listings = shop.listings()
    assert listings["IPH13-128-MID-EXC"]["quantity"] == 0
    assert listings["IPH12-64-BLK-VG"]["quantity"] == 0
    assert listings["GA52-128-BLK-EXC"]["quantity"] > 0
    items = shop.items(result.publication_id)
    assert {items[s].action for s in ("IPH13-128-MID-EXC", "IPH12-64-BLK-VG")} == {ItemAction.zero}
    assert result.plan.excluded == 1


def test_quantities_only_channel_never_sends_prices(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.set_channel(shop.bm_channel, quantities_only=True)
    shop.set_product("GA52-128-BLK-EXC", price=Decimal("10.00"), stock=1)
    shop.publish(shop.bm_channel)
    rows = shop.batch_rows()
    assert rows and all(row.get("price", "") == "" for row in rows)
    assert shop.listings()["GA52-128-BLK-EXC"]["quantity"] == 1
    assert shop.listings()["GA52-128-BLK-EXC"]["price"] != "10.00"


def test_only_the_owning_channel_of_an_account_sends_quantities(shop: Shop) -> None:
    from shelfdesk.db.models import Channel, Store

    now = shop.clock.now()
    with shop.ctx.write_session() as session:
        spain = Store(name="Refurb Madrid", country="ES", currency="EUR", created_at=now, updated_at=now)
        session.add(spain)
        session.flush()
        es = Channel(
            store_id=spain.id,
            account_id=shop.bm_account,
            marketplace="backmarket",
            market="es-es",
            country="ES",
            name="Back Market Spain",
            owns_quantities=True,
            activated_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(es)
        session.flush()
        es_id, spain_id = es.id, spain.id
    listings = shop.listings()
    shop.add_product("IPH13-128-MID-GOOD", price="499.00", stock=1, store_id=spain_id)
    result = shop.publish(es_id)  # France (the older channel) owns the account's quantities
    rows = shop.batch_rows()
    assert rows == [{"sku": "IPH13-128-MID-GOOD", "price": "499.00", "currency": "EUR"}]
    assert shop.listings()["IPH13-128-MID-GOOD"]["quantity"] == listings["IPH13-128-MID-GOOD"]["quantity"]
    assert any("sends prices only" in w for w in result.plan.warnings)
    assert result.plan.skipped["sent to 0 by the channel that owns the account's quantities"] > 0
    accept_language = {e["accept_language"] for e in shop.requests("backmarket", method="POST", path="/ws/listings")}
    assert accept_language == {"es-es"}


def test_back_market_refuses_full_mode_and_says_why(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    with pytest.raises(PublishError, match="takes update mode only, not full"):
        shop.publish(shop.bm_channel, mode="full")
    assert shop.batches() == []


def test_full_mode_sends_every_listed_sku(shop: Shop) -> None:
    ads = shop.ads()
    for sku in ("IPH13-128-MID-GOOD", "APP1-WHT-EXC"):
        shop.add_product(sku, price=ads[sku]["price"], stock=ads[sku]["quantity"])
    result = shop.publish(shop.lbc_channel, mode="full")
    assert {item["sku"] for item in shop.feed_items("offers")} == set(ads)
    assert result.state is PublicationState.succeeded


def test_an_invalid_price_is_recorded_failed_and_not_sent(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.set_product("GA52-128-BLK-EXC", price=Decimal("0.00"))
    result = shop.publish(shop.bm_channel)
    assert "GA52-128-BLK-EXC" not in {row["sku"] for row in shop.batch_rows()}
    item = shop.items(result.publication_id)["GA52-128-BLK-EXC"]
    assert (item.outcome, item.attribute, item.sent_at) == (ItemOutcome.failed, "price", None)
    assert "not above 0" in item.message
    assert shop.publication(result.publication_id).invalid == 1
    assert result.state is PublicationState.partial


def test_marketplace_refusals_are_stored_per_item_and_resent_next_update_run(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.publish(shop.bm_channel)
    shop.set_product("IPH13-128-MID-EXC", price=Decimal("25000.00"))  # above the sandbox's bound
    result = shop.publish(shop.bm_channel)
    item = shop.items(result.publication_id)["IPH13-128-MID-EXC"]
    assert (item.outcome, item.error_code, item.error_key, item.attribute) == (
        ItemOutcome.failed,
        None,
        item.error_key,
        None,
    ) or item.outcome is ItemOutcome.failed
    assert "out of the allowed range" in item.message
    assert result.state is PublicationState.failed
    # Fixed in the catalog: the next update run sends it (it failed last time), and it succeeds.
    shop.set_product("IPH13-128-MID-EXC", price=Decimal("599.00"))
    again = shop.publish(shop.bm_channel)
    assert shop.items(again.publication_id)["IPH13-128-MID-EXC"].outcome is ItemOutcome.updated
    assert shop.listings()["IPH13-128-MID-EXC"]["price"] == "599.00"


def test_dry_run_lists_exactly_what_the_next_real_run_sends(shop: Shop) -> None:
    catalog_like_sandbox(shop)
    shop.set_product("IPH13-128-MID-GOOD", stock=1)
    shop.set_product("GA52-128-BLK-EXC", price=Decimal("215.00"), stock=0)
    shop.add_product("NOT-LISTED-1", price="50.00", stock=3)
    posts = len(shop.requests("backmarket", method="POST"))
    dry = shop.publish(shop.bm_channel, dry_run=True)
    assert len(shop.requests("backmarket", method="POST")) == posts  # a dry run sends nothing
    assert dry.state is PublicationState.dry_run
    planned = {(i.sku, i.new_price, i.new_quantity) for i in shop.items(dry.publication_id).values() if i.outcome is ItemOutcome.queued}

    shop.publish(shop.bm_channel)
    received = {
        (r["sku"], Decimal(r["price"]) if r.get("price") else None, int(r["quantity"]) if r.get("quantity") else None)
        for r in shop.batch_rows()
    }
    assert planned == received
    assert ("GA52-128-BLK-EXC", Decimal("215.00"), 0) in planned
    assert dry.plan.skipped["not listed on the marketplace yet (the products feed creates it)"] == 1


def test_quota_sends_stockouts_then_quantities_then_prices_and_carries_the_rest(shop: Shop) -> None:
    catalog_like_sandbox(shop, KEPT + ("IPAD9-64-GRY-GOOD",))
    shop.publish(shop.bm_channel)
    shop.set_product("IPH13-128-MID-EXC", price=Decimal("600.00"))  # price change
    shop.set_product("IPH13-128-MID-GOOD", stock=1)  # quantity change
    shop.set_product("IPAD9-64-GRY-GOOD", stock=0)  # stock-out
    shop.set_product("GA52-128-BLK-EXC", stock=2)  # quantity change
    shop.set_channel(shop.bm_channel, settings={"max_lines_per_run": 3})
    batches = len(shop.batches())
    first = shop.publish(shop.bm_channel)
    rows = [r["sku"] for b in shop.batches()[batches:] for r in _csv(b["catalog"])]
    assert rows[0] == "IPAD9-64-GRY-GOOD" and set(rows[1:]) == {"IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"}
    assert first.state is PublicationState.partial
    queued = [i for i in shop.items(first.publication_id).values() if i.outcome is ItemOutcome.queued]
    assert [i.sku for i in queued] == ["IPH13-128-MID-EXC"]
    assert shop.publication(first.publication_id).queued == 1

    batches = len(shop.batches())
    second = shop.publish(shop.bm_channel)
    assert [r["sku"] for b in shop.batches()[batches:] for r in _csv(b["catalog"])] == ["IPH13-128-MID-EXC"]
    assert second.state is PublicationState.succeeded


def test_the_hourly_line_budget_counts_earlier_runs_of_the_account(shop: Shop) -> None:
    from shelfdesk.publishing.channel import load_channel
    from shelfdesk.publishing.engine import run_quota

    channel = load_channel(shop.ctx, shop.bm_channel)
    assert run_quota(shop.ctx, channel) == 1800  # 90 % of Back Market's 2,000 lines an hour
    catalog_like_sandbox(shop)
    result = shop.publish(shop.bm_channel)
    sent = shop.publication(result.publication_id).sent
    assert sent > 0 and run_quota(shop.ctx, channel) == 1800 - sent
    shop.clock.advance(timedelta(hours=1, seconds=1))
    assert run_quota(shop.ctx, channel) == 1800


def test_leboncoin_offers_follow_the_same_rules(shop: Shop) -> None:
    ads = shop.ads()
    shop.add_product("IPH13-128-MID-GOOD", price=ads["IPH13-128-MID-GOOD"]["price"], stock=ads["IPH13-128-MID-GOOD"]["quantity"])
    shop.add_product("APP1-WHT-EXC", price="120.00", stock=ads["APP1-WHT-EXC"]["quantity"])
    result = shop.publish(shop.lbc_channel)
    sent = {item["sku"]: item for item in shop.feed_items("offers")}
    assert sent["APP1-WHT-EXC"] == {"sku": "APP1-WHT-EXC", "price": "120.00"}
    assert "IPH13-128-MID-GOOD" not in sent
    assert all(item == {"sku": item["sku"], "quantity": 0} for sku, item in sent.items() if sku != "APP1-WHT-EXC")
    after = shop.ads()
    assert after["APP1-WHT-EXC"]["price"] in ("120.00", "120")
    assert all(after[sku]["quantity"] == 0 for sku in sent if sku != "APP1-WHT-EXC")
    assert result.state is PublicationState.succeeded


def test_a_batch_whose_later_chunk_is_blocked_still_follows_the_chunks_the_marketplace_took(shop: Shop) -> None:
    import random

    from shelfdesk.channels.backmarket import BackMarketConnector, BackMarketLimits
    from shelfdesk.publishing.engine import publish_sync
    from tests.publishing.conftest import BM_TOKEN, TIMEOUT

    def two_line_chunks(channel):  # type: ignore[no-untyped-def]
        return BackMarketConnector(
            token=BM_TOKEN,
            clock=shop.clock,
            company="Acme",
            contact_email="ops@acme.test",
            base_url=shop.sb.backmarket_url,
            timeout=TIMEOUT,
            rng=random.Random(3),
            language=channel.market,
            limits=BackMarketLimits(lines_per_hour=2),
        )

    catalog_like_sandbox(shop)
    for sku in KEPT:
        shop.set_product(sku, stock=1)
    shop.fault("backmarket", kind="waf", method="POST", path="/ws/listings", skip=1)  # the second chunk is blocked
    result = publish_sync(shop.ctx, shop.bm_channel, "offers", "update", factory=two_line_chunks)
    items = shop.items(result.publication_id).values()
    [first] = shop.batches()  # the only chunk the marketplace took
    taken = [i for i in items if i.remote_task_id is not None]
    assert len(taken) == 2 and {i.outcome for i in taken} <= {ItemOutcome.updated, ItemOutcome.zeroed}
    assert all(i.remote_task_id == str(first["task_id"]) for i in taken)
    assert all(i.outcome is ItemOutcome.queued and i.sent_at is None for i in items if i not in taken)
    assert "stopped sending" in (result.error or "")


def test_a_channel_whose_publication_is_not_activated_is_planned_but_never_published(shop: Shop) -> None:
    from shelfdesk.publishing.channel import list_channels

    catalog_like_sandbox(shop)
    shop.set_channel(shop.bm_channel, activated_at=None)
    posts = len(shop.requests("backmarket", method="POST"))
    with pytest.raises(PublishError, match="Back Market France is not activated"):
        shop.publish(shop.bm_channel)
    plan = shop.publish(shop.bm_channel, dry_run=True)  # planning helps while the mapping is done
    assert plan.state is PublicationState.dry_run and plan.plan.to_send
    assert len(shop.requests("backmarket", method="POST")) == posts
    assert {c.label: c.active for c in list_channels(shop.ctx)} == {
        "Refurb Paris / Back Market France": False,
        "Refurb Paris / Leboncoin France": True,
    }
