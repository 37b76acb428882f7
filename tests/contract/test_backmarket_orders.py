"""Back Market connector against the Back Market sandbox: orders, over real loopback HTTP."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.errors import InvalidActionInput, RemoteRejected
from shelfdesk.clock import FakeClock
from shelfdesk.domain import ActionKind, NormalizedStatus
from shelfdesk.sandbox.server import RunningSandboxes

from .conftest import Admin

UA = {"User-Agent": "BM-Acme-shelfdesk;ops@acme.test"}


async def collect(connector: BackMarketConnector, **kw) -> list[list]:
    return [page async for page in connector.iter_orders(**kw)]


async def test_paging_follows_next_across_many_pages(bm: BackMarketConnector, bm_admin: Admin) -> None:
    bm_admin.orders(["IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"], count=65)  # 130 new paid orders
    state = bm_admin.get("/state")["orders"]
    visible = {oid for oid, o in state.items() if o["state"] not in (0, 8)}  # Back Market hides 0 and 8 by default
    pages = await collect(bm)
    ids = [o.remote_id for page in pages for o in page]
    assert len(ids) == len(set(ids)) == len(visible) and set(ids) == visible
    assert len(pages) == -(-len(visible) // 50) >= 3
    assert all(len(p) <= 50 for p in pages)
    gets = bm_admin.requests("GET", "/ws/orders")
    assert len(gets) == len(pages)
    assert "page-size=50" in gets[0]["query"] and "page=3" in gets[2]["query"]


async def test_incremental_sync_by_modification_date(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    first = [o for page in await collect(bm) for o in page]
    watermark = max(o.modified_at for o in first)
    clock.advance(timedelta(hours=2))
    new = bm_admin.orders(["PIX7-128-OBS-VG"])[0]
    old = next(o for o in first if o.raw_status == "1")
    await bm.apply_action(old.remote_id, ActionKind.accept, {"sku": old.lines[0].sku})
    since = clock.now() - timedelta(minutes=30)
    assert since > watermark
    changed = [o for page in await collect(bm, modified_since=since) for o in page]
    assert {o.remote_id for o in changed} == {str(new["order_id"]), old.remote_id}
    query = bm_admin.requests("GET", "/ws/orders")[-1]["query"]
    expected = (since - BackMarketConnector.capabilities().sync_overlap).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "date_modification=" + expected.replace(":", "%3A") in query


async def test_generator_makes_orders_in_mixed_states(bm: BackMarketConnector, bm_admin: Admin) -> None:
    before = len(bm_admin.get("/state")["orders"])
    bm_admin.post("/generator", {"orders_per_hour": 60})
    bm_admin.post("/clock", {"advance": 3600})
    orders = bm_admin.get("/state")["orders"]
    assert len(orders) - before == 60
    states = {o["state"] for o in list(orders.values())[before:]}
    assert len(states) >= 4 and {1, 3, 9} <= states
    # Orders in checks leave state 0 on the clock: another hour later none of the first hour's are still 0 or 10.
    bm_admin.post("/generator", {"orders_per_hour": 0})
    bm_admin.post("/clock", {"advance": 3600})
    later = bm_admin.get("/state")["orders"]
    assert not any(o["state"] in (0, 10) for o in later.values())


async def test_accept_cancel_details_and_ship_a_two_line_order(bm: BackMarketConnector, bm_admin: Admin) -> None:
    order = bm_admin.orders(["IPH13-128-MID-GOOD", "GS21-128-GRY-GOOD"], single_order=True)[0]
    oid = str(order["order_id"])
    remote = await bm.get_order(oid)
    assert remote.status is NormalizedStatus.New and set(remote.allowed_actions) >= {ActionKind.accept, ActionKind.cancel}
    after = await bm.apply_action(oid, ActionKind.accept, {"sku": "iph13-128-mid-good"})  # SKUs match case-insensitively
    assert after.raw_status == "1" and after.line_by_sku("IPH13-128-MID-GOOD").raw_status == "2"
    after = await bm.apply_action(oid, "cancel", {"sku": "GS21-128-GRY-GOOD"})
    assert after.raw_status == "3" and after.status is NormalizedStatus.InProgress
    assert after.line_by_sku("GS21-128-GRY-GOOD").status is NormalizedStatus.Canceled
    with pytest.raises(InvalidActionInput):  # IMEI in the ship call only for single-unit orders
        await bm.apply_action(oid, ActionKind.ship, {"tracking_number": "6A123", "imei": "356938035643809"})
    line = after.line_by_sku("IPH13-128-MID-GOOD")
    after = await bm.set_line_details(oid, line.remote_id, imei="356938035643809")
    assert after.line_by_sku("IPH13-128-MID-GOOD").imei == "356938035643809"
    shipped = await bm.apply_action(oid, ActionKind.ship, {"tracking_number": "6A123", "shipper": "Colissimo"})
    assert shipped.raw_status == "9" and shipped.status is NormalizedStatus.Shipped
    assert shipped.tracking_number == "6A123" and shipped.shipper == "Colissimo"
    assert shipped.line_by_sku("IPH13-128-MID-GOOD").raw_status == "3"
    actions = bm_admin.effects("order_action") + bm_admin.effects("line_details")
    assert [(e.get("new_state"), e["kind"]) for e in actions] == [
        (2, "order_action"),
        (4, "order_action"),
        (3, "order_action"),
        (None, "line_details"),
    ]
    posts = bm_admin.requests("POST", f"/ws/orders/{oid}")
    assert [p["body"]["new_state"] for p in posts] == [2, 4, 3] and all(p["body"]["order_id"] == int(oid) for p in posts)


async def test_single_unit_order_ships_with_imei_in_the_call(bm: BackMarketConnector, bm_admin: Admin) -> None:
    oid = str(bm_admin.orders(["IPH12-64-BLK-VG"], fate="accepted")[0]["order_id"])
    shipped = await bm.apply_action(oid, ActionKind.ship, {"tracking_number": "XY1", "imei": "490154203237518"})
    assert shipped.lines[0].imei == "490154203237518" and shipped.raw_status == "9"


async def test_cancel_after_acceptance_is_a_refund_before_shipping(bm: BackMarketConnector, bm_admin: Admin) -> None:
    oid = str(bm_admin.orders(["IPH12-64-BLK-VG"], fate="accepted")[0]["order_id"])
    after = await bm.apply_action(oid, ActionKind.cancel, {"sku": "IPH12-64-BLK-VG"})
    assert after.lines[0].raw_status == "5" and after.status is NormalizedStatus.Canceled and after.raw_status == "9"


REFUSED = [
    # (fate, action, fields, message fragment)
    ("paid", ActionKind.ship, {"tracking_number": "T1"}, "only state 3"),
    ("checks", ActionKind.accept, {"sku": "IPH12-64-BLK-VG"}, "state 0"),
    ("pending_payment", ActionKind.cancel, {"sku": "IPH12-64-BLK-VG"}, "state 10"),
    ("accepted", ActionKind.accept, {"sku": "IPH12-64-BLK-VG"}, "state 3"),
    ("shipped", ActionKind.cancel, {"sku": "IPH12-64-BLK-VG"}, "state 9"),
    ("shipped", ActionKind.ship, {"tracking_number": "T2"}, "only state 3"),
    ("cancelled", ActionKind.accept, {"sku": "IPH12-64-BLK-VG"}, "state 9"),
    ("failed", ActionKind.ship, {"tracking_number": "T3"}, "only state 3"),
]


@pytest.mark.parametrize(("fate", "action", "fields", "fragment"), REFUSED)
async def test_illegal_transitions_are_refused_by_the_marketplace(
    bm: BackMarketConnector, bm_admin: Admin, fate: str, action: ActionKind, fields: dict, fragment: str
) -> None:
    oid = str(bm_admin.orders(["IPH12-64-BLK-VG"], fate=fate)[0]["order_id"])
    before = bm_admin.get("/state")["orders"][oid]
    with pytest.raises(RemoteRejected) as info:
        await bm.apply_action(oid, action, fields)
    assert fragment in info.value.message and info.value.status == 400
    assert bm_admin.effects("order_action") == []
    assert bm_admin.get("/state")["orders"][oid] == before
    assert len(bm_admin.requests("POST", f"/ws/orders/{oid}")) == 1  # a refusal is final: no retry


async def test_sandbox_refuses_what_the_connector_would_not_send(sandboxes: RunningSandboxes, bm_admin: Admin) -> None:
    """Checks the sandbox itself, with raw requests: missing tracking, IMEI on a multi-line order, bad new_state."""
    oid = bm_admin.orders(["IPH12-64-BLK-VG", "GA52-128-BLK-EXC"], fate="accepted", single_order=True)[0]["order_id"]
    headers = {**UA, "Authorization": "Basic bm-sandbox-token"}
    url = f"{sandboxes.backmarket_url}/ws/orders/{oid}"
    cases = [
        ({"order_id": oid, "new_state": 3}, "tracking_number is required"),
        ({"order_id": oid, "new_state": 3, "tracking_number": "T", "imei": "123456789012345"}, "only for an order of one line"),
        ({"order_id": oid, "new_state": 7, "sku": "IPH12-64-BLK-VG"}, "cannot be set by a merchant"),
        ({"order_id": oid + 1, "new_state": 2, "sku": "IPH12-64-BLK-VG"}, "does not match"),
        ({"order_id": oid, "new_state": 2}, "sku is required"),
    ]
    for body, fragment in cases:
        response = httpx.post(url, json=body, headers=headers)
        assert response.status_code == 400 and fragment in response.json()["errors"][0]["message"], response.text
    assert bm_admin.effects() == []


async def test_line_details_are_write_once(bm: BackMarketConnector, bm_admin: Admin) -> None:
    order = bm_admin.orders(["IPH12-64-BLK-VG"])[0]
    line_id = str(order["orderlines"][0]["id"])
    oid = str(order["order_id"])
    await bm.set_line_details(oid, line_id, serial_number="SN-1")
    again = await bm.set_line_details(oid, line_id, serial_number="SN-1")  # the same value again: done, nothing new
    assert again.lines[0].serial_number == "SN-1"
    with pytest.raises(RemoteRejected) as info:
        await bm.set_line_details(oid, line_id, serial_number="SN-2")
    assert "already set" in info.value.message and info.value.status == 422
    with pytest.raises(RemoteRejected) as bad:
        await bm.set_line_details(oid, line_id, imei="12AB")
    assert "15 digits" in bad.value.message
    assert len(bm_admin.effects("line_details")) == 1


async def test_invoice_upload_is_received(bm: BackMarketConnector, bm_admin: Admin) -> None:
    oid = str(bm_admin.orders(["IPH12-64-BLK-VG"], fate="shipped")[0]["order_id"])
    await bm.upload_invoice(oid, "F-2026-001.pdf", b"%PDF-1.4 fake invoice")
    invoices = bm_admin.get("/received")["invoices"]
    assert invoices == [
        {"order_id": int(oid), "filename": "F-2026-001.pdf", "size": 21, "sha256": hashlib.sha256(b"%PDF-1.4 fake invoice").hexdigest()}
    ]


async def test_line_amounts_become_unit_prices_that_add_up_to_the_order_total(bm: BackMarketConnector, bm_admin: Admin) -> None:
    created = bm_admin.orders(["IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"], quantity=2, single_order=True)
    order = await bm.get_order(str(created[0]["order_id"]))
    assert all(line.quantity == 2 for line in order.lines)
    assert sum(line.unit_price * line.quantity for line in order.lines) == order.total
