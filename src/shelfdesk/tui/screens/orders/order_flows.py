"""What the Orders list and the order detail share: asking for shipping details, queuing, sending.

A mixin for :class:`~shelfdesk.tui.screens.base.ShelfdeskScreen` subclasses.
Queuing (database) runs in thread workers, sending (network) in async
workers; results come back as messages or through ``on_actions_sent``.
A refused input re-opens the ship dialog with what the operator typed and
the service's exact reason, so nothing typed is lost.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from textual import work

from shelfdesk.tui.messages import OrdersQueued

if TYPE_CHECKING:
    from shelfdesk.orders.outbox import SendReport
    from shelfdesk.tui.screens.base import ShelfdeskScreen as _Screen  # what the mixin is mixed into
else:
    _Screen = object


def parse_identifiers(text: str) -> list[Any]:
    """IMEIs/serials typed as ``356…, SKU=490…``: digits-only values are IMEIs, others serial numbers."""
    from shelfdesk.orders.validation import LineIdentifier

    result = []
    for chunk in text.replace(";", ",").replace("\n", ",").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        sku, sep, value = chunk.partition("=")
        if not sep:
            sku, value = "", chunk
        value = value.strip()
        if value.isdigit():
            result.append(LineIdentifier(imei=value, sku=sku.strip() or None))
        else:
            result.append(LineIdentifier(serial_number=value, sku=sku.strip() or None))
    return result


class OrderFlows(_Screen):
    """Mixed into screens that act on orders; they provide ``ctx`` and ``on_actions_sent``."""

    # ------------------------------------------------------------ ship one order

    def start_ship(
        self,
        order_id: int,
        marketplace_order_id: str,
        values: dict[str, str] | None = None,
        error: str = "",
        error_field: str | None = None,
    ) -> None:
        from shelfdesk.tui.screens.orders.ship_dialog import OrderShipDialog

        def done(result: dict[str, str] | None) -> None:
            if result is not None:
                self.queue_ship(order_id, marketplace_order_id, result)

        self.app.push_screen(OrderShipDialog(marketplace_order_id, values or {}, error, error_field), callback=done)

    @work(thread=True, group="orders-queue", exit_on_error=False, description="Queuing the shipment")
    def queue_ship(self, order_id: int, marketplace_order_id: str, values: dict[str, str]) -> None:
        from shelfdesk.orders.actions import enqueue_action
        from shelfdesk.orders.errors import ActionRefused, OrderNotFound

        fields = {k: values.get(k, "") for k in ("carrier", "tracking_number", "tracking_url", "note")}
        batch = f"ship:{uuid.uuid4().hex[:10]}"
        try:
            queued = enqueue_action(
                self.ctx, f"#{order_id}", "ship", fields, identifiers=parse_identifiers(values.get("identifiers", "")), batch_key=batch
            )
        except (ActionRefused, OrderNotFound) as exc:
            self.app.call_from_thread(self.start_ship, order_id, marketplace_order_id, values, str(exc), getattr(exc, "field", None))
            return
        self.post_message(OrdersQueued(f"Ship {marketplace_order_id}", batch, 1, [], {queued.action_id}))

    # ------------------------------------------------------------ one action, queued and sent

    @work(thread=True, group="orders-queue", exit_on_error=False, description="Queuing the action")
    def queue_one(self, order_id: int, intent: str, fields: dict[str, str] | None = None) -> None:
        from shelfdesk.orders.actions import enqueue_action
        from shelfdesk.orders.errors import ActionRefused, OrderNotFound

        batch = f"{intent}:{uuid.uuid4().hex[:10]}"
        try:
            queued = enqueue_action(self.ctx, f"#{order_id}", intent, fields or {}, batch_key=batch)
        except (ActionRefused, OrderNotFound) as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Refused", severity="error", timeout=10)
            return
        self.post_message(OrdersQueued(f"{intent.capitalize()} {queued.marketplace_order_id}", batch, 1, [], {queued.action_id}))

    @work(exclusive=True, group="orders-send", exit_on_error=False, description="Sending order actions")
    async def send_actions(self, action_ids: set[int]) -> None:
        from shelfdesk.orders.outbox import OutboxSender

        async with OutboxSender(self.ctx) as sender:
            report = await sender.run_until_idle(action_ids=action_ids, max_wait=30)
        self.on_actions_sent(report)

    def on_actions_sent(self, report: SendReport) -> None:
        """Called on the main thread when ``send_actions`` is done."""

    @work(thread=True, group="orders-queue", exit_on_error=False, description="Updating the failed action")
    def change_failed(self, action_id: int, *, retry: bool) -> None:
        """Retry (then send) or dismiss a failed action; screens refresh through ``refresh_data``."""
        from shelfdesk.orders.actions import dismiss_action, retry_action

        if retry:
            retry_action(self.ctx, action_id)
            self.post_message(OrdersQueued("Retry", "", 1, [], {action_id}))
        else:
            dismiss_action(self.ctx, action_id)
        self.app.call_from_thread(self.refresh_data)

    # ------------------------------------------------------------ the background sweep

    @work(exclusive=True, group="outbox-sweep", exit_on_error=False, description="Sending queued order actions")
    async def sweep_outbox(self) -> None:
        """Send what is due (actions queued elsewhere, retries, claims left by a stopped console)."""
        import asyncio
        import importlib

        from shelfdesk.orders.queries import has_unsent_actions

        # Loading the sender (the models, the connectors: a few hundred ms of CPU) is for an outbox with
        # something in it, and happens in a thread: it never holds the event loop or the first frame.
        if not await asyncio.to_thread(has_unsent_actions, self.ctx) or getattr(self, "_job", None) is not None:
            return  # nothing to send, or a bulk action of this screen started meanwhile and sends its own
        outbox = await asyncio.to_thread(importlib.import_module, "shelfdesk.orders.outbox")
        async with outbox.OutboxSender(self.ctx) as sender:
            report = await sender.run_once()
        if report.outcomes or report.recovered:
            self.on_actions_sent(report)
