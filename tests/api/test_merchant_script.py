"""The whole story as a merchant's script on another machine lives it (simulated on loopback).

It fetches new orders with its token, ships one with tracking and IMEI, and
sees the action confirmed (the API sends it at once); a retried ship with the
same Idempotency-Key queues nothing twice; a stock change is accepted.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from shelfdesk.api.app import ApiSettings
from shelfdesk.db.models import OrderAction

from .conftest import GOOD_IMEI, Api, Desk, add_products


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(send_actions=True)


def _wait_for(api: Api, link: str, state: str) -> dict:
    """Poll the action as a script would (a bounded wait for the background send, not a timing)."""
    for _ in range(200):
        action = api.reader.get(link).json()
        if action["state"] == state:
            return action
        time.sleep(0.05)
    raise AssertionError(f"{link} stayed {action['state']}: {action}")


def test_fetch_ship_with_imei_see_it_confirmed_retry_queues_nothing(api: Api, desk: Desk) -> None:
    add_products(desk.ctx, desk.store_id, {"IPH13-128-MID-GOOD": 10})
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="accepted")
    desk.harvest()
    oid = str(order["order_id"])
    fetched = api.reader.get("/v1/orders", params={"status": "InProgress", "channel": "bm-fr"}).json()["orders"]
    assert oid in [o["marketplace_order_id"] for o in fetched]

    ship = {"carrier": "Colissimo", "tracking_number": "6A999", "imei": GOOD_IMEI}
    key = {"Idempotency-Key": f"ship-{oid}"}
    first = api.writer.post(f"/v1/orders/{oid}/ship", json=ship, headers=key)
    assert first.status_code == 202
    confirmed = _wait_for(api, first.json()["links"]["action"], "confirmed")
    assert confirmed["kind"] == "ship" and confirmed["actor"] == "api:erp"
    retried = api.writer.post(f"/v1/orders/{oid}/ship", json=ship, headers=key)
    assert retried.json() == first.json() and retried.headers["idempotent-replayed"] == "true"
    with desk.ctx.read_session() as session:
        assert session.execute(select(func.count()).select_from(OrderAction)).scalar_one() == 1
    remote = desk.sandbox_state("backmarket")["orders"][oid]
    assert remote["state"] == 9 and remote["tracking_number"] == "6A999"
    assert [line["imei"] for line in remote["orderlines"]] == [GOOD_IMEI]
    assert api.reader.get(f"/v1/orders/{oid}").json()["status"] == "Shipped"
