"""The webhooks job prunes the delivery log and delivered events, never what is still owed, at most hourly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.webhooks import delivery, retention, subscriptions
from tests.webhooks.conftest import Receiver, order_with_events


def test_old_delivered_rows_go_waiting_ones_stay(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created")
    subscriptions.add_subscription(ctx, "down", "http://127.0.0.1:9/never", "order.created", max_failures=1000)
    order_with_events(ctx, "R1")
    counts = asyncio.run(delivery.run_job(ctx, None))  # the job: one sweep, then pruning (nothing old yet)
    assert counts == {"events_captured": 1, "delivered": 1, "failed": 1}
    clock.advance(timedelta(days=retention.DEFAULT_RETENTION_DAYS + 1))
    assert retention.prune_webhook_rows(ctx) == {"webhook_attempts": 2, "webhook_deliveries": 1}  # "down" still waits
    assert [d.state for d in delivery.list_deliveries(ctx, "down")] == ["pending"]
    assert delivery.list_deliveries(ctx, "erp") == []
    subscriptions.remove_subscription(ctx, "down")  # nothing is owed any more: the event can go
    assert retention.prune_webhook_rows(ctx) == {}  # ran less than an hour ago
    clock.advance(retention.EVERY)
    assert retention.prune_webhook_rows(ctx) == {"webhook_events": 1}
