"""Delivery to a receiver on loopback: signatures, retries, timeouts, order per order, pause, replay, redirects."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.domain import NormalizedStatus as S
from shelfdesk.webhooks import delivery, subscriptions
from shelfdesk.webhooks.errors import WebhookError
from shelfdesk.webhooks.signing import verify
from tests.webhooks.conftest import Receiver, order_with_events
from tests.dbtext import database_text


def sweep(ctx: AppContext, **kwargs: Any) -> delivery.DeliveryReport:
    return delivery.deliver_pending(ctx, rng=random.Random(7), **kwargs)


def test_events_arrive_signed_and_the_signature_verifies(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    sub, secret = subscriptions.add_subscription(ctx, "erp", receiver.url, "all")
    order_id = order_with_events(ctx, "7001", S.InProgress)
    report = sweep(ctx)
    assert (report.captured, report.delivered, report.failed) == (2, 2, 0)
    first, second = receiver.received
    assert [e["type"] for e in receiver.events] == ["order.created", "order.status_changed"]
    assert first.json["data"]["order"]["id"] == order_id and first.json["data"]["order"]["marketplace_order_id"] == "7001"
    assert second.json["data"]["change"] == {
        "field": "status",
        "from": "New",
        "to": "InProgress",
        "source": "harvest",
        "actor": None,
        "message": None,
    }
    now = clock.now().timestamp()
    for got in receiver.received:
        headers = {k.lower(): v for k, v in got.headers.items()}
        assert headers["shelfdesk-event-id"] == got.json["id"]
        assert verify(secret, headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], got.body, now=now)
        assert not verify("wrong-secret-123456", headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], got.body, now=now)
        assert not verify(secret, headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], got.body + b" ", now=now)
        # A captured request replayed ten minutes later is refused by its timestamp.
        assert not verify(secret, headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], got.body, now=now + 600)
    # Nothing is sent twice: a second sweep finds nothing due.
    assert sweep(ctx).delivered == 0 and len(receiver.received) == 2
    assert subscriptions.get_subscription(ctx, "erp").health == "ok"


def test_500s_are_retried_with_backoff_on_the_clock(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created")
    order_with_events(ctx, "7002")
    receiver.reply(500, 502)
    assert sweep(ctx).failed == 1
    assert sweep(ctx).delivered == 0  # backing off: not due yet
    pending = delivery.list_deliveries(ctx, "erp")[0]
    assert pending.state == "pending" and pending.last_status == 500
    assert 5 <= (pending.next_attempt_at - clock.now()).total_seconds() <= 10
    clock.advance(10)
    assert sweep(ctx).failed == 1
    retry_at = delivery.list_deliveries(ctx, "erp")[0].next_attempt_at
    assert 10 <= (retry_at - clock.now()).total_seconds() <= 20  # the step doubled
    clock.advance(20)
    assert sweep(ctx).delivered == 1
    log = delivery.list_attempts(ctx, "erp")
    assert [(a.attempt, a.status_code, a.ok) for a in reversed(log)] == [(1, 500, False), (2, 502, False), (3, 200, True)]
    assert len(receiver.received) == 1  # failed attempts' bodies were refused by the receiver


def test_a_timeout_is_a_failure_and_is_retried(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created")
    order_with_events(ctx, "7003")
    receiver.reply(200, delay=1.0)
    report = sweep(ctx, timeout=0.2)
    assert report.failed == 1
    attempt = delivery.list_attempts(ctx, "erp")[0]
    assert attempt.error == "timed out" and attempt.status_code is None
    clock.advance(60)
    assert sweep(ctx, timeout=0.2).delivered == 1  # at-least-once: the receiver may see it twice
    assert len({e["id"] for e in receiver.events}) == 1


def test_events_of_one_order_stay_in_order_while_others_flow(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "all")
    stuck = order_with_events(ctx, "A", S.InProgress, S.Shipped)
    free = order_with_events(ctx, "B", S.InProgress)
    receiver.fail_orders.add(f"order:{stuck}")
    sweep(ctx)
    assert [(e["data"]["order"]["id"], e["type"]) for e in receiver.events] == [(free, "order.created"), (free, "order.status_changed")]
    waiting = delivery.list_deliveries(ctx, "erp", state="waiting")
    assert len(waiting) == 3 and sum(d.attempts for d in waiting) == 1  # A's later events were never tried
    receiver.fail_orders.clear()
    clock.advance(60)
    sweep(ctx)
    mine = [e for e in receiver.events if e["data"]["order"]["id"] == stuck]
    assert [e["data"].get("change", {}).get("to") for e in mine] == [None, "InProgress", "Shipped"]


def test_repeated_failures_pause_the_subscription_with_an_alert_and_resume_delivers_the_backlog(
    ctx: AppContext, clock: FakeClock, receiver: Receiver
) -> None:
    from shelfdesk.jobs.alerts import list_alerts

    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created", max_failures=3)
    order_with_events(ctx, "7004")
    receiver.reply(503, 503, 503)
    for _ in range(3):
        sweep(ctx)
        clock.advance(3600)
    sub = subscriptions.get_subscription(ctx, "erp")
    assert (sub.state, sub.auto_paused, sub.health) == ("paused", True, "failing")
    assert "3 failures in a row" in (sub.paused_reason or "")
    alerts = [a for a in list_alerts(ctx) if a.kind == "webhook_paused"]
    assert len(alerts) == 1 and "erp" in alerts[0].message
    # While paused nothing is sent, and new events keep queuing.
    order_with_events(ctx, "7005")
    assert sweep(ctx).delivered == 0 and subscriptions.get_subscription(ctx, "erp").pending == 2
    subscriptions.resume_subscription(ctx, "erp")
    assert sweep(ctx).delivered == 2
    # Different orders are delivered concurrently: only the order of one order's events is promised.
    assert sorted(e["data"]["order"]["marketplace_order_id"] for e in receiver.events) == ["7004", "7005"]
    assert not [a for a in list_alerts(ctx) if a.kind == "webhook_paused"]


def test_replay_sends_a_delivered_event_again(ctx: AppContext, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created")
    order_with_events(ctx, "7006")
    sweep(ctx)
    delivered = delivery.list_deliveries(ctx, "erp")[0]
    delivery.replay(ctx, delivered.id)
    assert sweep(ctx).delivered == 1
    assert [e["id"] for e in receiver.events] == [delivered.event_uid, delivered.event_uid]
    assert delivery.list_deliveries(ctx, "erp")[0].replay == 1


def test_redirects_to_another_host_are_refused_same_origin_307_is_followed(ctx: AppContext, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created", max_failures=50)
    order_with_events(ctx, "7007")
    receiver.reply(307, headers={"Location": "http://localhost.example.invalid/steal"})
    sweep(ctx)
    assert "another host refused" in (delivery.list_attempts(ctx, "erp")[0].error or "")
    assert receiver.received == []
    receiver.reply(302, headers={"Location": "/elsewhere"})
    delivery.retry_now(ctx, "erp")
    sweep(ctx)
    assert "not followed" in (delivery.list_attempts(ctx, "erp")[0].error or "")
    receiver.reply(307, headers={"Location": "/hooks/v2"})
    delivery.retry_now(ctx, "erp")
    assert sweep(ctx).delivered == 1
    assert [r.path for r in receiver.received] == ["/hooks/v2"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.com/hook",
        "http:///nohost",
        "https://user:pw@example.com/h",
    ],
)
def test_only_http_urls_with_a_host_and_no_credentials_are_accepted(ctx: AppContext, url: str) -> None:
    with pytest.raises(WebhookError):
        subscriptions.add_subscription(ctx, "bad", url)
    assert subscriptions.list_subscriptions(ctx) == []


def test_the_secret_stays_out_of_the_database(ctx: AppContext, receiver: Receiver) -> None:
    _, secret = subscriptions.add_subscription(ctx, "erp", receiver.url)
    assert secret not in database_text(ctx.paths)
    assert subscriptions.reveal_secret(ctx, "erp") == secret
    assert oct(ctx.paths.secrets.stat().st_mode)[-3:] == "600"


def test_backfill_queues_past_events_in_order_and_capture_is_idempotent(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    start = clock.now()
    old = order_with_events(ctx, "OLD", S.InProgress)
    clock.advance(3600)
    subscriptions.add_subscription(ctx, "late", receiver.url, "order.created")  # no backfill: sees only new events
    subscriptions.add_subscription(ctx, "full", receiver.url, "all", backfill_from=start - timedelta(minutes=1))
    order_with_events(ctx, "NEW")
    from shelfdesk.webhooks.events import capture

    capture(ctx)
    capture(ctx)  # reading again queues nothing twice
    assert [d.event_type for d in reversed(delivery.list_deliveries(ctx, "full"))] == [
        "order.created",
        "order.status_changed",
        "order.created",
    ]
    assert len(delivery.list_deliveries(ctx, "late")) == 1
    sweep(ctx)
    assert [e["data"]["order"]["id"] for e in receiver.events].count(old) == 2


def test_test_ping_is_signed_and_logged(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    _, secret = subscriptions.add_subscription(ctx, "erp", receiver.url)
    result = delivery.send_test(ctx, "erp")
    assert result.ok and result.status_code == 200
    got = receiver.received[0]
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert got.json["type"] == "ping"
    assert verify(secret, headers["shelfdesk-timestamp"], headers["shelfdesk-signature"], got.body, now=clock.now().timestamp())
    assert delivery.list_attempts(ctx, "erp")[0].event_type == "ping"


def test_a_delivery_left_in_flight_by_a_dead_process_is_sent_again(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created")
    order_with_events(ctx, "7008")
    from shelfdesk.webhooks.events import capture

    capture(ctx)
    crashed = delivery.Deliverer(ctx, holder="otherhost:1:dead")
    assert len(crashed.claim_due(10)) == 1  # claimed, then the process "died" before posting
    assert sweep(ctx).delivered == 0
    clock.advance(delivery.CLAIM_TIMEOUT + 1)
    report = sweep(ctx)
    assert (report.recovered, report.delivered) == (1, 1)
    time.sleep(0)  # nothing else: the receiver got it once
    assert len(receiver.received) == 1


def test_a_new_subscription_gets_no_event_for_orders_harvested_before_it(ctx: AppContext, clock: FakeClock, receiver: Receiver) -> None:
    from shelfdesk.webhooks.events import capture

    past = [order_with_events(ctx, f"PAST{n}", S.InProgress) for n in range(3)]
    clock.advance(3600)
    subscriptions.add_subscription(ctx, "erp", receiver.url, "all")  # no backfill
    capture(ctx)
    assert delivery.list_deliveries(ctx, "erp") == []  # the past orders are not news
    new = order_with_events(ctx, "NEW", S.InProgress)
    capture(ctx)
    sweep(ctx)
    assert [(e["type"], e["data"]["order"]["id"]) for e in receiver.events] == [("order.created", new), ("order.status_changed", new)]
    assert not set(past) & {e["data"]["order"]["id"] for e in receiver.events}
