"""Leboncoin connector against the Leboncoin sandbox (an invented API shape), over real loopback HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shelfdesk.channels.base import BatchState, ListingUpdate, OfferUpdate
from shelfdesk.channels.errors import AuthError, InvalidActionInput, RemoteRejected, UnsupportedOperation
from shelfdesk.channels.leboncoin import LeboncoinConnector
from shelfdesk.clock import FakeClock
from shelfdesk.domain import ActionKind, NormalizedStatus
from shelfdesk.sandbox.leboncoin import ORPHAN_SKUS
from shelfdesk.sandbox.server import RunningSandboxes

from .conftest import Admin, make_lbc


async def test_access_token_obtained_once_and_refreshed_before_expiry(lbc: LeboncoinConnector, lbc_admin: Admin, clock: FakeClock) -> None:
    await lbc.get_order("LBC000100001")
    await lbc.get_order("LBC000100001")
    assert len(lbc_admin.requests("POST", "/oauth/token")) == 1
    clock.advance(timedelta(minutes=59, seconds=30))  # inside the refresh margin
    await lbc.get_order("LBC000100001")
    assert len(lbc_admin.requests("POST", "/oauth/token")) == 2
    assert all(e["status"] == 200 for e in lbc_admin.requests("GET"))


async def test_a_401_refreshes_and_retries_once(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    await lbc.get_order("LBC000100001")
    lbc_admin.post("/access-tokens/expire", {})
    order = await lbc.get_order("LBC000100001")
    assert order.remote_id == "LBC000100001"
    statuses = [e["status"] for e in lbc_admin.requests("GET", "/api/v1/orders/LBC000100001")]
    assert statuses == [200, 401, 200]
    assert len(lbc_admin.requests("POST", "/oauth/token")) == 2


async def test_refresh_token_expiry_reported_and_enforced(sandboxes: RunningSandboxes, lbc_admin: Admin, clock: FakeClock) -> None:
    connector = make_lbc(sandboxes, clock)
    status = await connector.check_credentials()
    assert status.valid and status.expires_at == clock.now() + timedelta(days=365)
    clock.advance(timedelta(days=366))
    expired = await connector.check_credentials()
    assert not expired.valid and expired.expired and "expired" in expired.message
    with pytest.raises(AuthError) as info:
        await connector.get_order("LBC000100001")
    assert info.value.expired
    await connector.aclose()
    # The merchant generates a new token in their account and pastes it: the 365 days restart.
    new = lbc_admin.post("/refresh-tokens", {})["refresh_token"]
    renewed = make_lbc(sandboxes, clock, refresh_token=new)
    fresh = await renewed.check_credentials()
    assert fresh.valid and fresh.expires_at == clock.now() + timedelta(days=365)
    await renewed.aclose()
    revoked = make_lbc(sandboxes, clock)  # the old token was revoked by the new one
    assert "revoked" in (await revoked.check_credentials()).message
    await revoked.aclose()


async def test_orders_follow_the_seller_flow(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    oid = lbc_admin.orders(["IPH13-128-MID-GOOD"])[0]["id"]
    order = await lbc.get_order(oid)
    assert order.status is NormalizedStatus.New and order.deadline is not None
    assert order.allowed_actions == (ActionKind.confirm_availability, ActionKind.cancel)
    order = await lbc.apply_action(oid, ActionKind.confirm_availability)
    assert order.raw_status == "awaiting_shipment" and order.status is NormalizedStatus.InProgress
    order = await lbc.apply_action(oid, ActionKind.confirm_shipping, {"carrier": "colissimo", "tracking_number": "6A999"})
    assert order.raw_status == "shipped" and order.status is NormalizedStatus.Shipped
    received = lbc_admin.get("/received")
    assert [m["body"] for m in received["messages"]] == ["Votre commande a été expédiée. Numéro de suivi : 6A999 (colissimo)"]
    body = lbc_admin.requests("POST", f"/api/v1/orders/{oid}/confirm-shipping")[0]["body"]
    assert body == {"carrier": "colissimo"}  # no tracking number through the API
    assert [a["action"] for a in received["order_actions"]] == ["confirm-availability", "confirm-shipping"]


async def test_cancel_refunds(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    oid = lbc_admin.orders(["IPH13-128-MID-GOOD"])[0]["id"]
    with pytest.raises(InvalidActionInput):
        await lbc.apply_action(oid, ActionKind.cancel, {"reason": "bored"})
    order = await lbc.apply_action(oid, ActionKind.cancel, {"reason": "out_of_stock"})
    assert order.status is NormalizedStatus.Canceled and order.raw["refund"]["status"] == "refunded"


@pytest.mark.parametrize(
    ("fate", "action", "fields"),
    [
        ("paid", ActionKind.confirm_shipping, {}),
        ("awaiting_shipment", ActionKind.confirm_availability, {}),
        ("shipped", ActionKind.confirm_shipping, {}),
        ("delivered", ActionKind.cancel, {"reason": "other"}),
        ("cancelled", ActionKind.confirm_availability, {}),
        ("cancelled", ActionKind.cancel, {"reason": "other"}),
    ],
)
async def test_illegal_transitions_refused(lbc: LeboncoinConnector, lbc_admin: Admin, fate: str, action: ActionKind, fields: dict) -> None:
    oid = lbc_admin.orders(["IPH13-128-MID-GOOD"], fate=fate)[0]["id"]
    with pytest.raises(RemoteRejected) as info:
        await lbc.apply_action(oid, action, fields)
    assert info.value.status == 409 and info.value.code == "invalid_state" and "impossible" in info.value.message
    assert lbc_admin.effects("order_action") == []


async def test_deadlines_cancel_on_the_clock(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    waiting = lbc_admin.orders(["IPH13-128-MID-GOOD"])[0]["id"]
    confirmed = lbc_admin.orders(["IPH13-128-MID-GOOD"])[0]["id"]
    await lbc.apply_action(confirmed, ActionKind.confirm_availability)
    lbc_admin.post("/clock", {"advance": 72 * 3600 + 1})
    first = await lbc.get_order(waiting)
    second = await lbc.get_order(confirmed)
    assert first.raw["cancel_reason"] == "availability_timeout" and first.status is NormalizedStatus.Canceled
    assert second.raw["cancel_reason"] == "shipping_timeout" and second.raw["refund"]["status"] == "refunded"


async def test_paging_and_incremental_sync(lbc: LeboncoinConnector, lbc_admin: Admin, clock: FakeClock) -> None:
    lbc_admin.orders(["IPH12-64-BLK-VG"], count=230)
    pages = [p async for p in lbc.iter_orders()]
    total = len(lbc_admin.get("/state")["orders"])
    assert [len(p) for p in pages] == [100, 100, total - 200]
    clock.advance(timedelta(hours=1))
    since = clock.now() - timedelta(minutes=20)
    new = lbc_admin.orders(["IPH12-64-BLK-VG"])[0]["id"]
    changed = [o.remote_id for p in [p async for p in lbc.iter_orders(since)] for o in p]
    assert changed == [new]


async def test_ads_include_orphans_and_update_in_real_time(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    ads = [a async for page in lbc.iter_listings() for a in page]
    assert set(ORPHAN_SKUS) <= {a.sku for a in ads}
    updated = await lbc.update_offer(OfferUpdate("JBL-FLIP5-NEW", price=Decimal("74.90"), quantity=0))
    assert updated.price == Decimal("74.90") and not updated.online
    with pytest.raises(UnsupportedOperation):
        await lbc.get_competitors(updated.remote_id)
    with pytest.raises(UnsupportedOperation):
        await lbc.set_line_details("LBC000100001", "1", imei="1")


async def test_feeds_with_per_line_reports(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    good = dict(
        title="Casque Bose QC35 II noir",
        description="Casque en très bon état, boîte et câble fournis.",
        category="multimedia.image_sound",
        condition="used",
        price=Decimal("149"),
        quantity=1,
        attributes={"brand": "Bose"},
    )
    products = [
        ListingUpdate("BOSE-QC35", **good),
        ListingUpdate("BAD-CAT", **(good | {"category": "vehicles/cars"})),
        ListingUpdate("BRANCH-CAT", **(good | {"category": "multimedia.phones"})),  # exists, but not a leaf
        ListingUpdate("NEW-NO-REASON", **(good | {"condition": "new"})),
        ListingUpdate("NEW-CLEARANCE", **(good | {"condition": "new", "new_reason": "clearance"})),
        ListingUpdate("NO-BRAND", **(good | {"attributes": {}})),
        ListingUpdate("TOO-DEAR", **(good | {"price": Decimal("99999")})),
        ListingUpdate("WITH-EAN", **(good | {"ean": "0190198000007"})),  # EAN is not used for matching
    ]
    [ticket] = await lbc.submit_listings(products)
    assert [e["status"] for e in lbc_admin.requests("POST", "/api/v1/feeds/products")] == [202]
    assert (await lbc.get_batch(ticket)).state is BatchState.pending
    result = await lbc.wait_for_batch(ticket)
    outcome = {i.sku: i for i in result.items}
    assert outcome["BOSE-QC35"].ok and outcome["NEW-CLEARANCE"].ok and outcome["WITH-EAN"].ok
    assert {sku: outcome[sku].code for sku in ("BAD-CAT", "NEW-NO-REASON", "NO-BRAND", "TOO-DEAR")} == {
        "BAD-CAT": "unknown_category",
        "NEW-NO-REASON": "new_not_eligible",
        "NO-BRAND": "missing_attribute",
        "TOO-DEAR": "price_out_of_range",
    }
    assert "catégorie" in outcome["BAD-CAT"].message
    assert outcome["BRANCH-CAT"].code == "unknown_category" and "finale" in outcome["BRANCH-CAT"].message
    [offers] = await lbc.submit_offers([OfferUpdate("BOSE-QC35", quantity=3), OfferUpdate("NOPE-404", quantity=1)])
    report = {i.sku: i for i in (await lbc.wait_for_batch(offers)).items}
    assert report["BOSE-QC35"].ok and report["NOPE-404"].code == "unknown_sku"
    ads = {a.sku: a for page in [p async for p in lbc.iter_listings()] for a in page}
    assert ads["BOSE-QC35"].quantity == 3 and ads["BOSE-QC35"].raw["fees"]["type"] == "commission"


@pytest.mark.parametrize(("after_effect", "posts"), [(False, 2), (True, 1)])
async def test_feed_lost_answer_checked_by_reference(lbc: LeboncoinConnector, lbc_admin: Admin, after_effect: bool, posts: int) -> None:
    lbc_admin.fault(kind="500", method="POST", path="/api/v1/feeds/offers", after_effect=after_effect)
    [ticket] = await lbc.submit_offers([OfferUpdate("JBL-FLIP5-NEW", quantity=2)])
    assert len(lbc_admin.requests("POST", "/api/v1/feeds/offers")) == posts
    assert len(lbc_admin.requests("GET", "/api/v1/feeds")) == 1  # looked the reference up before any resend
    assert len(lbc_admin.effects("feed")) == 1
    assert (await lbc.wait_for_batch(ticket)).state is BatchState.done


async def test_a_feed_reference_names_one_feed_of_one_type(sandboxes: RunningSandboxes, lbc_admin: Admin, clock: FakeClock) -> None:
    """Two connectors with the same random seed draw the same reference: the second feed, of another type,
    is refused (409) rather than answered with the first one, which shelfdesk would then follow as its own."""
    import random

    first, second = make_lbc(sandboxes, clock, rng=random.Random(7)), make_lbc(sandboxes, clock, rng=random.Random(7))
    async with first, second:
        [products] = await first.submit_listings(
            [
                ListingUpdate(
                    "JBL-FLIP5-NEW",
                    title="Enceinte JBL Flip 5",
                    description="Enceinte en bon état, câble fourni.",
                    category="multimedia.image_sound",
                    condition="used",
                    price=Decimal("59"),
                    quantity=1,
                    attributes={"brand": "JBL"},
                )
            ]
        )
        with pytest.raises(RemoteRejected, match="reference_conflict|déjà celle d'un flux products"):
            await second.submit_offers([OfferUpdate("JBL-FLIP5-NEW", quantity=2)])
    assert [e["feed_type"] for e in lbc_admin.effects("feed")] == ["products"]
    assert [r["status"] for r in lbc_admin.requests("POST", "/api/v1/feeds/offers")] == [409]


@pytest.mark.parametrize(("kind", "after_effect", "posts"), [("timeout", True, 1), ("503", False, 2), ("truncated", True, 1)])
async def test_order_action_once_under_faults(lbc: LeboncoinConnector, lbc_admin: Admin, kind: str, after_effect: bool, posts: int) -> None:
    oid = lbc_admin.orders(["IPH13-128-MID-GOOD"])[0]["id"]
    lbc_admin.fault(kind=kind, method="POST", path=f"/api/v1/orders/{oid}/confirm-availability", after_effect=after_effect)
    order = await lbc.apply_action(oid, ActionKind.confirm_availability)
    assert order.raw_status == "awaiting_shipment"
    assert len(lbc_admin.requests("POST", f"/api/v1/orders/{oid}/confirm-availability")) == posts
    assert len(lbc_admin.effects("order_action")) == 1


async def test_throttling_honours_retry_after(lbc: LeboncoinConnector, lbc_admin: Admin, clock: FakeClock) -> None:
    lbc_admin.fault(kind="429", path="/api/v1/orders", retry_after=7)
    await lbc.get_order("LBC000100001")
    assert 7.0 in clock.sleeps
    assert [e["status"] for e in lbc_admin.requests("GET", "/api/v1/orders/LBC000100001")] == [429, 200]


async def test_sandbox_limit_sends_retry_after(sandboxes: RunningSandboxes, lbc_admin: Admin, clock: FakeClock) -> None:
    connector = make_lbc(sandboxes, clock, requests_per_10s=1000)  # no client limiter to speak of
    for _ in range(120):
        await connector.get_order("LBC000100001")
    await connector.aclose()
    log = lbc_admin.requests("GET", "/api/v1/orders/LBC000100001")
    assert sum(1 for e in log if e["status"] == 429) >= 1  # throttled, then waited Retry-After and went on
    assert 10.0 in clock.sleeps and log[-1]["status"] == 200


async def test_waf_and_malformed(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    lbc_admin.fault(kind="malformed", path="/api/v1/ads")
    ads = [a async for p in lbc.iter_listings() for a in p]
    assert ads and [e["fault"] for e in lbc_admin.requests("GET", "/api/v1/ads")][:2] == ["malformed", None]


async def test_no_credential_in_the_sandbox_log(lbc: LeboncoinConnector, lbc_admin: Admin) -> None:
    await lbc.check_credentials()
    entries = lbc_admin.requests()
    token_call = next(e for e in entries if e["path"] == "/oauth/token")
    assert "grant_type=refresh_token" in token_call["body"]
    assert "lbc-sandbox-refresh-token" not in str(entries) and "lbc-at-" not in str(entries)


def test_the_sandbox_accepts_exactly_the_leaves_of_the_tree_shelfdesk_ships() -> None:
    from shelfdesk.catalog.categories import category_tree
    from shelfdesk.sandbox.leboncoin_rules import BRANCHES, CATEGORIES

    tree = category_tree("leboncoin")
    assert set(CATEGORIES) == {node.id for node in tree.nodes if node.leaf}
    assert BRANCHES == {node.id for node in tree.nodes if not node.leaf}
