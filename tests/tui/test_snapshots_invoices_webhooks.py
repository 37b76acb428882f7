"""Snapshots of the Invoices and Webhooks screens at 80x24: fixed clock, fixed data, workers finished.

The webhook data is built without any network: events are captured and
failures recorded through the delivery service itself, so the picture never
depends on a port or a timing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from shelfdesk.context import AppContext
from tests.tui.test_invoices_webhooks import invoices_data
from tests.webhooks.conftest import order_with_events

# The status bar names the database ("db shelfdesk.db"): these snapshots are of a SQLite workspace.
pytestmark = pytest.mark.sqlite

SMALL = (80, 24)


def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def webhooks_data(ctx: AppContext) -> None:
    from shelfdesk.webhooks import delivery, subscriptions
    from shelfdesk.webhooks.events import capture

    subscriptions.add_subscription(ctx, "erp", "https://erp.example.com/shelfdesk", "order.created,order.status_changed", secret="s" * 32)
    subscriptions.add_subscription(ctx, "warehouse", "https://wms.example.net/in", "all", max_failures=2, secret="w" * 32)
    from shelfdesk.domain import NormalizedStatus as S

    order_with_events(ctx, "5181022", S.InProgress)
    capture(ctx)
    deliverer = delivery.Deliverer(ctx, holder="snapshot")
    for claimed in deliverer.claim_due(10):
        if claimed.url.startswith("https://erp"):
            deliverer.record(claimed, delivery.AttemptResult(True, 204, 42, None))
        else:
            deliverer.record(claimed, delivery.AttemptResult(False, 503, 120, "HTTP 503: maintenance"))
    ctx.clock.advance(3600)  # type: ignore[attr-defined]
    for claimed in deliverer.claim_due(10):
        deliverer.record(claimed, delivery.AttemptResult(False, None, 10000, "timed out"))


def command(name: str) -> tuple[str, ...]:
    return ("colon", *name, "enter")


def test_webhooks_80x24(snap_compare: Any, make_app: Any, ctx: AppContext) -> None:
    webhooks_data(ctx)
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after(*command("webhooks")))


def test_webhook_delivery_log_80x24(snap_compare: Any, make_app: Any, ctx: AppContext) -> None:
    webhooks_data(ctx)
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after(*command("webhooks"), "down", "enter", "l"))


def test_invoices_80x24(snap_compare: Any, make_app: Any, ctx: AppContext) -> None:
    invoices_data(ctx)
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after(*command("invoices"), "down"))


def test_invoice_view_80x24(snap_compare: Any, make_app: Any, ctx: AppContext) -> None:
    invoices_data(ctx)
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=after(*command("invoices"), "down", "down", "enter"))
