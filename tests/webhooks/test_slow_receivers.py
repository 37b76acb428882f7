"""A trickling receiver and a failing one never starve the others, and a short outage never pauses.

The trickling receiver sends its headers, then one byte at a time: each read
finishes within the client's timeout, so only a total deadline per delivery
cuts it off. Order is asserted from what the receivers saw (a shared log),
never from durations.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.webhooks import delivery, subscriptions
from tests.loopback import serve
from tests.webhooks.conftest import Receiver, order_with_events


@pytest.fixture
def trickler() -> Iterator[tuple[str, list[str]]]:
    """A receiver answering 200 with a 1,000-byte body sent one byte every 0.1 s; logs when it is cut off."""
    log: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            log.append("slow: got a request")
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
            log.append("slow: cut off")

        def log_message(self, *args: Any) -> None:
            pass

    with serve(Handler) as base:
        yield f"{base}/hooks", log


def test_a_trickling_receiver_is_cut_at_the_deadline_and_never_delays_another_subscription(
    ctx: AppContext, receiver: Receiver, trickler: tuple[str, list[str]]
) -> None:
    slow_url, log = trickler
    subscriptions.add_subscription(ctx, "slow", slow_url, "order.created")
    subscriptions.add_subscription(ctx, "fast", receiver.url, "order.created")
    for n in range(6):  # more than one lane's worth for the slow one
        order_with_events(ctx, f"80{n:02d}")

    class Logged(list):  # type: ignore[type-arg]
        def append(self, item: Any) -> None:
            log.append("fast: delivered")
            super().append(item)

    receiver.received = Logged()
    report = delivery.deliver_pending(ctx, rng=random.Random(7), timeout=1.0, deadline=1.5)
    assert (report.delivered, report.failed) == (6, 6)
    attempts = delivery.list_attempts(ctx, "slow")
    assert all(a.error == "no complete answer within the 1.5 s deadline per delivery" for a in attempts)
    # Every delivery to the fast receiver arrived before the slow one's first delivery was cut off.
    first_cut = log.index("slow: cut off") if "slow: cut off" in log else len(log)
    assert log[:first_cut].count("fast: delivered") == 6, log


def test_a_backlog_meeting_a_short_outage_counts_one_failure_not_one_per_event(
    ctx: AppContext, clock: FakeClock, receiver: Receiver
) -> None:
    subscriptions.add_subscription(ctx, "erp", receiver.url, "order.created", max_failures=3)
    for n in range(16):
        order_with_events(ctx, f"81{n:02d}")
    receiver.down = True
    report = delivery.deliver_pending(ctx, rng=random.Random(7))
    assert report.failed == 16 and not report.paused
    sub = subscriptions.get_subscription(ctx, "erp")
    assert (sub.state, sub.failures_in_a_row) == ("active", 1)
    clock.advance(3)  # within the back-off: the same outage
    delivery.deliver_pending(ctx, rng=random.Random(7))
    assert subscriptions.get_subscription(ctx, "erp").failures_in_a_row == 1
    receiver.down = False
    clock.advance(10)
    report = delivery.deliver_pending(ctx, rng=random.Random(7))
    assert report.delivered == 16 and subscriptions.get_subscription(ctx, "erp").failures_in_a_row == 0
    # A receiver that stays down is paused after max_failures back-off steps, not after one sweep.
    for n in range(4):
        order_with_events(ctx, f"82{n:02d}")
    receiver.down = True
    paused = []
    for _ in range(3):
        paused += delivery.deliver_pending(ctx, rng=random.Random(7)).paused
        clock.advance(3600)
    assert paused == ["erp"] and subscriptions.get_subscription(ctx, "erp").state == "paused"
