"""The real-time listing update (``POST /ws/listings/{id}``) as a per-SKU outcome, against the sandbox."""

from __future__ import annotations

from decimal import Decimal

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.leboncoin import LeboncoinConnector

from .conftest import Admin


async def test_quantity_by_sku_reaches_the_listing_at_once(bm: BackMarketConnector, bm_admin: Admin) -> None:
    outcome = await bm.update_listing_now(sku="IPH12-64-BLK-VG", quantity=1)
    assert outcome.ok and outcome.sku == "IPH12-64-BLK-VG" and outcome.remote_id
    [post] = [e for e in bm_admin.requests("POST") if e["path"].startswith("/ws/listings/")]
    assert post["path"] == f"/ws/listings/{outcome.remote_id}" and post["body"] == {"quantity": 1}
    assert bm_admin.requests("POST", "/ws/listings") == []  # no CSV batch, no task to poll
    listing = await bm.get_listing(listing_id=outcome.remote_id)
    assert listing.quantity == 1


async def test_listing_id_spares_the_look_up_and_price_goes_along(bm: BackMarketConnector, bm_admin: Admin) -> None:
    listing_id = (await bm.get_listing(sku="GA52-128-BLK-EXC")).remote_id
    bm_admin.http.delete("/_sandbox/requests")
    outcome = await bm.update_listing_now(sku="GA52-128-BLK-EXC", listing_id=listing_id, quantity=0, price=Decimal("219.90"))
    assert outcome.ok and outcome.remote_id == listing_id
    assert [(e["method"], e["path"]) for e in bm_admin.requests()] == [("POST", f"/ws/listings/{listing_id}")]
    assert bm_admin.requests()[0]["body"] == {"price": "219.90", "quantity": 0}
    listing = await bm.get_listing(listing_id=listing_id)
    assert listing.quantity == 0 and listing.price == Decimal("219.90") and not listing.online


async def test_refusals_are_the_skus_outcome_not_an_exception(bm: BackMarketConnector) -> None:
    unknown = await bm.update_listing_now(sku="NO-SUCH-SKU", quantity=3)
    assert not unknown.ok and unknown.sku == "NO-SUCH-SKU" and "NO-SUCH-SKU" in unknown.message
    negative = await bm.update_listing_now(sku="IPH12-64-BLK-VG", quantity=-2)
    assert not negative.ok and "negative" in negative.message


async def test_leboncoin_ads_take_the_same_call(lbc: LeboncoinConnector) -> None:
    outcome = await lbc.update_listing_now(sku="JBL-FLIP5-NEW", quantity=0)
    assert outcome.ok and outcome.remote_id


async def test_a_listing_id_alone_is_enough(bm: BackMarketConnector, bm_admin: Admin) -> None:
    listing_id = (await bm.get_listing(sku="NSW-OLED-WHT-EXC")).remote_id
    outcome = await bm.update_listing_now(listing_id=listing_id, quantity=2)
    assert outcome.ok and (outcome.sku, outcome.remote_id) == ("NSW-OLED-WHT-EXC", listing_id)
    assert (await bm.get_listing(listing_id=listing_id)).quantity == 2
