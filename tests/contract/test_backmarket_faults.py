"""Back Market connector under injected faults: attempts and final state, read from the sandbox's own log.

Each test fails if retries are removed (the attempt count drops, or an error
escapes) and fails if an effect is applied twice (the effect count grows).
"""

from __future__ import annotations

import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.base import OfferUpdate
from shelfdesk.channels.errors import RateLimited, TransientError, UnknownOutcome, WafBlocked
from shelfdesk.clock import FakeClock
from shelfdesk.domain import ActionKind

from .conftest import TIMEOUT, Admin


def paid_order(admin: Admin) -> tuple[str, str]:
    order = admin.orders(["IPH12-64-BLK-VG"])[0]
    return str(order["order_id"]), order["orderlines"][0]["listing"]


@pytest.mark.parametrize(
    ("kind", "after_effect", "posts"),
    [
        ("500", False, 2),  # lost before: checked, absent, sent again
        ("503", False, 2),
        ("500", True, 1),  # applied then lost: checked, present, not sent again
        ("502", True, 1),
        ("timeout", True, 1),
        ("timeout", False, 2),
        ("truncated", True, 1),  # 200 with half a body: applied
        ("malformed", True, 1),
    ],
)
async def test_order_action_applied_exactly_once(
    bm: BackMarketConnector, bm_admin: Admin, kind: str, after_effect: bool, posts: int
) -> None:
    oid, sku = paid_order(bm_admin)
    bm_admin.fault(kind=kind, method="POST", path=f"/ws/orders/{oid}", after_effect=after_effect)
    order = await bm.apply_action(oid, ActionKind.accept, {"sku": sku})
    assert order.raw_status == "3"
    log = bm_admin.requests("POST", f"/ws/orders/{oid}")
    assert len(log) == posts
    assert log[0]["fault"] == kind
    assert len(bm_admin.effects("order_action")) == 1
    # Between the failed POST and any resend, the connector read the order back.
    gets = [e["seq"] for e in bm_admin.requests("GET", f"/ws/orders/{oid}")]
    assert any(log[0]["seq"] < g for g in gets)


async def test_order_action_throttled_waits_ten_seconds_and_resends(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    oid, sku = paid_order(bm_admin)
    bm_admin.fault(kind="429", method="POST", path=f"/ws/orders/{oid}")
    await bm.apply_action(oid, ActionKind.accept, {"sku": sku})
    assert [e["status"] for e in bm_admin.requests("POST", f"/ws/orders/{oid}")] == [429, 200]
    assert 10.0 in clock.sleeps  # no Retry-After from Back Market: at least 10 s
    assert len(bm_admin.effects("order_action")) == 1


async def test_retry_after_is_honoured_when_sent(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    bm_admin.fault(kind="429", method="GET", path="/ws/orders", retry_after=3)
    await bm.get_order("40000001")
    assert clock.sleeps == [3.0]
    assert [e["status"] for e in bm_admin.requests("GET", "/ws/orders/40000001")] == [429, 200]


async def test_safe_reads_retry_5xx_with_growing_backoff(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    bm_admin.fault(kind="503", method="GET", path="/ws/orders", count=3)
    pages = [p async for p in bm.iter_orders()]
    assert pages and pages[0]
    statuses = [e["status"] for e in bm_admin.requests("GET", "/ws/orders")]
    assert statuses == [503, 503, 503, 200]
    assert len(clock.sleeps) == 3 and clock.sleeps[0] < clock.sleeps[2]


@pytest.mark.parametrize("kind", ["malformed", "truncated", "timeout", "502"])
async def test_safe_reads_retry_bad_answers(bm: BackMarketConnector, bm_admin: Admin, kind: str) -> None:
    bm_admin.fault(kind=kind, method="GET", path="/ws/orders/40000001")
    order = await bm.get_order("40000001")
    assert order.remote_id == "40000001"
    assert [e["fault"] for e in bm_admin.requests("GET", "/ws/orders/40000001")] == [kind, None]


async def test_safe_reads_give_up_after_the_policy(bm: BackMarketConnector, bm_admin: Admin) -> None:
    bm_admin.fault(kind="500", method="GET", path="/ws/orders/40000001", count=None, rate=1.0)
    with pytest.raises(TransientError):
        await bm.get_order("40000001")
    assert len(bm_admin.requests("GET", "/ws/orders/40000001")) == bm.api.policy.max_attempts


async def test_waf_page_is_not_retried(bm: BackMarketConnector, bm_admin: Admin) -> None:
    bm_admin.fault(kind="waf", path="/ws/orders")
    with pytest.raises(WafBlocked) as info:
        await bm.get_order("40000001")
    assert info.value.request_id and info.value.status == 403
    assert len(bm_admin.requests("GET", "/ws/orders/40000001")) == 1


async def test_latency_on_the_sandbox_clock(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    start = clock.now()
    bm_admin.fault(kind="latency", latency=4.0, path="/ws/orders/40000001")
    await bm.get_order("40000001")
    assert (clock.now() - start).total_seconds() >= 4.0
    assert len(bm_admin.requests("GET", "/ws/orders/40000001")) == 1


async def test_listing_batch_never_reposted_after_an_unknown_outcome(bm: BackMarketConnector, bm_admin: Admin) -> None:
    bm_admin.fault(kind="500", method="POST", path="/ws/listings", after_effect=True)
    with pytest.raises(UnknownOutcome):
        await bm.submit_offers([OfferUpdate("IPH12-64-BLK-VG", quantity=1)])
    assert len(bm_admin.requests("POST", "/ws/listings")) == 1
    assert len(bm_admin.effects("listing_batch")) == 1  # it was applied; the caller reconciles


async def test_listing_batch_resent_after_429(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    bm_admin.fault(kind="429", method="POST", path="/ws/listings")
    tickets = await bm.submit_offers([OfferUpdate("IPH12-64-BLK-VG", quantity=1)])
    assert len(tickets) == 1
    assert [e["status"] for e in bm_admin.requests("POST", "/ws/listings")] == [429, 200]
    assert len(bm_admin.effects("listing_batch")) == 1 and 10.0 in clock.sleeps


async def test_persistent_throttling_raises_rate_limited(bm: BackMarketConnector, bm_admin: Admin) -> None:
    bm_admin.fault(kind="429", path="/ws/orders/40000001", count=None, rate=1.0)
    with pytest.raises(RateLimited) as info:
        await bm.get_order("40000001")
    assert info.value.retry_after == 10.0
    assert len(bm_admin.requests("GET", "/ws/orders/40000001")) == bm.api.policy.max_rate_limited + 1


@pytest.mark.parametrize(("after_effect", "patches"), [(False, 2), (True, 1)])
async def test_line_details_lost_answer_checked_before_resending(
    bm: BackMarketConnector, bm_admin: Admin, after_effect: bool, patches: int
) -> None:
    order = bm_admin.orders(["IPH12-64-BLK-VG"])[0]
    line_id = order["orderlines"][0]["id"]
    bm_admin.fault(kind="timeout", method="PATCH", path=f"/ws/orderlines/{line_id}", after_effect=after_effect)
    result = await bm.set_line_details(str(order["order_id"]), str(line_id), imei="356938035643809")
    assert result.lines[0].imei == "356938035643809"
    assert len(bm_admin.requests("PATCH", f"/ws/orderlines/{line_id}")) == patches
    assert len(bm_admin.effects("line_details")) == 1


async def test_real_time_update_is_safe_to_retry(bm: BackMarketConnector, bm_admin: Admin) -> None:
    listing = (await bm.get_listing(sku="IPH12-64-BLK-VG")).remote_id
    bm_admin.fault(kind="502", method="POST", path=f"/ws/listings/{listing}")
    updated = await bm.update_offer(
        OfferUpdate("IPH12-64-BLK-VG", price=__import__("decimal").Decimal("371.50"), quantity=8, remote_id=listing)
    )
    assert str(updated.price) == "371.50" and updated.quantity == 8
    assert [e["status"] for e in bm_admin.requests("POST", f"/ws/listings/{listing}")] == [502, 200]


def test_timeout_is_short_in_tests() -> None:
    assert TIMEOUT < 1.0  # the timeout faults hang until the client gives up
