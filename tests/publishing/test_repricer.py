"""The repricer: its rules at their boundaries, and runs against the Back Market sandbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shelfdesk.publishing.errors import PublishError
from shelfdesk.publishing.repricer import Guardrails, decide, list_changes, reprice_sync
from tests.publishing.conftest import Shop

D = Decimal
WIDE = Guardrails(max_step_percent=D("100"), cooldown=timedelta(minutes=60))


@pytest.mark.parametrize(
    ("to_win", "expected", "why"),
    [
        (D("95.00"), D("95.00"), "buybox"),  # inside [min, default]: at it
        (D("80.00"), D("80.00"), "buybox"),  # exactly the minimum
        (D("100.00"), D("100.00"), "buybox"),  # exactly the default
        (D("79.99"), D("100.00"), "under the minimum"),  # would go under the minimum: default
        (D("120.00"), D("100.00"), "above the default"),
        (None, D("100.00"), "no buybox"),
    ],
)
def test_the_price_to_win_is_followed_between_minimum_and_default(to_win: D | None, expected: D, why: str) -> None:
    d = decide("S", D("100.00"), D("80.00"), D("100.00"), to_win, WIDE)
    assert d.new_price == expected and why in d.reason


def test_never_under_the_minimum_even_with_a_step_or_a_bad_current_price() -> None:
    rails = Guardrails(max_step_percent=D("50"))
    assert decide("S", D("70.00"), D("80.00"), D("100.00"), D("80.00"), rails).new_price == D("80.00")
    assert decide("S", D("200.00"), D("80.00"), D("100.00"), D("81.00"), rails).new_price == D("100.00")
    # A minimum above the default is a data error: no price at all rather than a guess.
    assert decide("S", D("90.00"), D("120.00"), D("100.00"), D("110.00"), rails).new_price is None


def test_the_maximum_step_limits_each_run() -> None:
    d = decide("S", D("100.00"), D("50.00"), D("100.00"), D("60.00"), Guardrails(max_step_percent=D("10")))
    assert d.new_price == D("90.00") and "10% step" in d.reason


def _repricer_shop(shop: Shop) -> dict:
    listings = shop.listings()
    shop.map_column(shop.bm_channel, "price", column="price")
    shop.map_column(shop.bm_channel, "min_price", column="floor")
    for sku in ("IPH13-128-MID-EXC", "IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"):
        price = D(listings[sku]["price"])
        shop.add_product(sku, price=str(price), stock=listings[sku]["quantity"], floor=str(price * D("0.5")))
    shop.add_product("IPH12-64-BLK-VG", price=listings["IPH12-64-BLK-VG"]["price"], stock=1)  # no minimum: left alone
    return listings


def test_simulation_logs_what_it_would_change_and_sends_nothing(shop: Shop) -> None:
    before = _repricer_shop(shop)
    result = reprice_sync(shop.ctx, shop.bm_channel, simulate=True, factory=shop.factory)
    assert len(result.decisions) == 3
    assert any("no usable minimum" in n for n in result.notes)
    assert shop.requests("backmarket", method="POST") == []
    assert {s: l["price"] for s, l in shop.listings().items()} == {s: l["price"] for s, l in before.items()}
    log = list_changes(shop.ctx, shop.bm_channel)
    assert len(log) == len(result.changed) and all(r["simulated"] and not r["applied"] for r in log)


def test_a_real_run_applies_changes_respects_the_cooldown_and_needs_the_repricer_on(shop: Shop) -> None:
    _repricer_shop(shop)
    with pytest.raises(PublishError, match="repricer is off"):
        reprice_sync(shop.ctx, shop.bm_channel, factory=shop.factory)
    shop.set_channel(shop.bm_channel, repricer_enabled=True)
    first = reprice_sync(shop.ctx, shop.bm_channel, factory=shop.factory)
    applied = [d for d in first.decisions if d.applied]
    assert applied, first.as_dict()
    listings = shop.listings()
    for d in applied:
        assert D(listings[d.sku]["price"]) == d.new_price >= d.minimum
    updates = [e for e in shop.state()["effects"] if e["kind"] == "listing_update"]
    assert sorted(e["sku"] for e in updates) == sorted(d.sku for d in applied)

    again = reprice_sync(shop.ctx, shop.bm_channel, factory=shop.factory)
    assert all(d.reason.startswith("cooldown") for d in again.decisions if d.sku in {a.sku for a in applied})
    shop.clock.advance(timedelta(minutes=61))
    later = reprice_sync(shop.ctx, shop.bm_channel, factory=shop.factory)
    assert not any(d.reason.startswith("cooldown") for d in later.decisions)


def test_with_the_repricer_on_the_offers_feed_sends_quantities_only(shop: Shop) -> None:
    _repricer_shop(shop)
    shop.set_channel(shop.bm_channel, repricer_enabled=True)
    shop.set_product("IPH13-128-MID-EXC", price=D("500.00"), stock=1)
    shop.publish(shop.bm_channel)
    assert all(not row.get("price") for row in shop.batch_rows())
