"""End to end: orders harvested from the Back Market sandbox reach a receiver, in order, after an outage too."""

from __future__ import annotations

import random
from typing import Any

from shelfdesk.webhooks import delivery, subscriptions
from tests.orders.conftest import desk, make_desk, sandboxes  # noqa: F401 - fixtures
from tests.webhooks.conftest import Receiver

__all__ = ["desk", "make_desk", "sandboxes"]


def test_harvested_orders_and_their_changes_reach_the_receiver_even_after_it_was_down(desk: Any, receiver: Receiver) -> None:
    ctx = desk.ctx
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created,order.status_changed,order.action_confirmed", max_failures=2)
    [first] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid", quantity=1)
    desk.harvest()  # the sandbox's own orders come too
    report = delivery.deliver_pending(ctx, rng=random.Random(1))
    assert report.delivered == report.captured and report.failed == 0
    created = [e["data"]["order"]["marketplace_order_id"] for e in receiver.events if e["type"] == "order.created"]
    assert str(first["order_id"]) in created and len(created) == len(set(created)) == report.delivered
    # The receiver goes down: events queue, the subscription pauses after two failures.
    receiver.down = True
    [second] = desk.new_orders("backmarket", ["NSW-OLED-WHT-EXC"], fate="paid", quantity=1)
    from shelfdesk.orders.actions import enqueue_action

    enqueue_action(ctx, str(first["order_id"]), "accept")
    desk.send()
    desk.harvest()
    for _ in range(2):
        delivery.deliver_pending(ctx, rng=random.Random(1))
        desk.clock.advance(3600)
    assert subscriptions.get_subscription(ctx, "erp").state == "paused"
    # Back up: resume, and everything arrives, each order's events in order.
    receiver.down = False
    subscriptions.resume_subscription(ctx, "erp")
    delivery.deliver_pending(ctx, rng=random.Random(1))
    seen = [(e["type"], e["data"]["order"]["marketplace_order_id"]) for e in receiver.events]
    mine = [t for t, oid in seen if oid == str(first["order_id"])]
    assert mine[0] == "order.created" and "order.action_confirmed" in mine
    assert ("order.created", str(second["order_id"])) in seen
    assert subscriptions.get_subscription(ctx, "erp").pending == 0
