"""One order in full: identifiers, statuses, dates, money, buyer and addresses, lines, deadlines,
actions in flight or failed, history, and (``p``) the marketplace's raw payload.

Action keys are always listed and greyed when the marketplace does not allow
them in the order's current state (``check_action`` returns None), with the
reason in the text. Loading runs in a thread worker; sending in an async one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from shelfdesk.domain import ActionState
from shelfdesk.formatting import money, when
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import OrderDetailLoaded, OrdersQueued
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.orders.order_flows import OrderFlows

if TYPE_CHECKING:
    from shelfdesk.orders.outbox import SendReport
    from shelfdesk.orders.detail import OrderDetail

#: Detail keys -> the action kinds that make them available.
KEY_KINDS = {"accept": ("accept", "confirm_availability"), "ship": ("ship", "confirm_shipping"), "cancel_order": ("cancel",)}


def render_detail(d: OrderDetail, *, payload: bool = False) -> Text:
    """The whole order as text (statuses as words; the theme colours only headings)."""
    from shelfdesk.orders.marketplace_states import state_words
    from shelfdesk.orders.store import format_address

    out = Text()

    def heading(title: str) -> None:
        out.append(f"\n{title}\n", style="bold underline")

    def line(label: str, value: str) -> None:
        out.append(f"{label:<14}", style="bold")
        out.append(f"{value}\n")

    sync = f"   [{d.sync}]" if d.sync else ""
    out.append(f"{d.marketplace} order {d.marketplace_order_id}", style="bold")
    state = state_words(d.marketplace, d.marketplace_status)
    out.append(f"  (#{d.id})  {d.status.value} · on the marketplace: {state}{sync}\n")
    line("Account", f"{d.account} · channel {d.channel or '—'} · store {d.store or '—'} · {d.country or '—'}")
    line("Dates", f"bought {when(d.purchased_at)} · modified {when(d.modified_at)} · harvested {when(d.harvested_at)}")
    discount = f" · discount {money(d.discount_total)}" if d.discount_total else ""
    line("Total", f"{money(d.total)} {d.currency or ''} (shipping {money(d.shipping_price)}{discount})")
    line("Buyer", " · ".join(x for x in (d.buyer_name, d.buyer_email, d.buyer_phone) if x) or "—")
    if d.shipping_address:
        line("Ship to", format_address(d.shipping_address) or "—")
    elif d.address_missing:
        line("Ship to", "MISSING: accepted without a shipping address (the marketplace has not revealed it)")
    else:
        line("Ship to", "not revealed yet (normal before acceptance)")
    if d.billing_address and d.billing_address != d.shipping_address:
        line("Bill to", format_address(d.billing_address) or "—")
    line("Deadlines", f"accept by {when(d.accept_by)} · ship by {when(d.ship_by)}")
    line("Shipping", " · ".join(x for x in (d.shipping_method, d.carrier, d.tracking_number, d.tracking_url) if x) or "—")
    extras = [
        x
        for x in (
            f"payment {d.payment_method}" if d.payment_method else "",
            "gift" if d.gift else "",
            f"{d.weight_grams} g" if d.weight_grams else "",
        )
        if x
    ]
    if extras:
        line("Other", " · ".join(extras))
    for label, value in (("Buyer note", d.buyer_note), ("Internal note", d.internal_note), ("Held", d.hold_reason)):
        if value:
            line(label, value)

    heading(f"Lines ({len(d.lines)})")
    for l in d.lines:
        ident = " ".join(x for x in (f"IMEI {l.imei}" if l.imei else "", f"S/N {l.serial_number}" if l.serial_number else "") if x)
        options = " ".join(f"{k}={v}" for k, v in sorted(l.options.items()))
        out.append(
            f"  {l.sku or '—'}  x{l.quantity}  {money(l.unit_price)}  {l.status.value}  {l.title or ''}  {options} {ident}".rstrip() + "\n"
        )

    heading("Actions")
    keys = {"accept": "a", "ship": "s", "confirm_availability": "a", "confirm_shipping": "s", "cancel": "x"}
    for c in d.choices:
        out.append(f"  [{keys.get(c.kind, '?')}] {c.label}", style="" if c.enabled else "dim")
        out.append(f"  (not now: {c.reason})\n" if not c.enabled else "\n", style="dim")
    for a in d.actions:
        state = a.state.value.upper() if a.state is ActionState.failed else a.state.value
        out.append(f"  #{a.id} {a.kind.value} {state} · attempts {a.attempts}" + (f" · {a.summary}" if a.summary else ""))
        out.append(f" — {a.last_error}\n" if a.last_error and a.state is not ActionState.confirmed else "\n")
    if any(a.state is ActionState.failed for a in d.actions):
        out.append("  r retries the failed action (the marketplace is read first) · d dismisses it\n", style="italic")

    heading(f"History ({len(d.events)})")
    for e in d.events:
        change = f"{e.old_value or '—'} → {e.new_value or '—'}" if (e.old_value or e.new_value) else ""
        who = f" by {e.actor}" if e.actor else ""
        out.append(f"  {when(e.at)}  {e.source:<8} {e.kind} {change} {e.message or ''}{who}".rstrip() + "\n")
    heading("Raw payload" + ("" if payload else " (p shows it)"))
    if payload:
        out.append(json.dumps(d.payload, indent=2, ensure_ascii=False, default=str) + "\n")
    return out


class OrderDetailScreen(OrderFlows, ShelfdeskScreen):
    """The detail of one order; Esc goes back to the list."""

    SCOPE = "order"
    VIEW = "orders"
    TITLE = "Order"
    CSS_PATH = "order_detail.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, order_id: int) -> None:
        super().__init__()
        self.order_id = order_id
        self.detail: OrderDetail | None = None
        self.show_payload = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="order-detail-scroll"):
            yield Static("Loading…", id="order-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load(self.order_id)

    @work(thread=True, exclusive=True, group="order-detail", exit_on_error=False, description="Loading the order")
    def _load(self, order_id: int) -> None:
        from shelfdesk.orders.detail import get_order_detail

        self.post_message(OrderDetailLoaded(get_order_detail(self.ctx, order_id)))

    def on_order_detail_loaded(self, message: OrderDetailLoaded) -> None:
        self.detail = message.detail  # type: ignore[assignment]
        self.query_one("#order-detail", Static).update(render_detail(self.detail, payload=self.show_payload))  # type: ignore[arg-type]
        self.refresh_bindings()

    # ------------------------------------------------------------ keys, greyed when not allowed

    def _allowed(self, action: str) -> bool:
        d = self.detail
        if d is None:
            return False
        if action in KEY_KINDS:
            return any(c.enabled for c in d.choices if c.kind in KEY_KINDS[action])
        if action in ("retry", "dismiss_failed"):
            return any(a.state is ActionState.failed for a in d.actions)
        return True

    def disabled_reason(self, action: str) -> str | None:
        """Ship on a shipped order, retry with nothing failed …: the service's own reason."""
        reason = super().disabled_reason(action)
        if reason or action not in (*KEY_KINDS, "retry", "dismiss_failed") or self._allowed(action):
            return reason
        d = self.detail
        if d is None:
            return "The order is still loading."
        if action in KEY_KINDS:
            why = next((c.reason for c in d.choices if c.kind in KEY_KINDS[action] and c.reason), "")
            return f"Order {d.marketplace_order_id}: {why or 'the marketplace offers no such action'}."
        return "No failed action on this order."

    def action_toggle_payload(self) -> None:
        self.show_payload = not self.show_payload
        if self.detail is not None:
            self.query_one("#order-detail", Static).update(render_detail(self.detail, payload=self.show_payload))

    def action_accept(self) -> None:
        if self._allowed("accept"):
            self.queue_one(self.order_id, "accept")

    def action_ship(self) -> None:
        if self._allowed("ship") and self.detail is not None:
            self.start_ship(self.order_id, self.detail.marketplace_order_id)

    def action_cancel_order(self) -> None:
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        if not self._allowed("cancel_order") or self.detail is None:
            return

        def done(reason: str | None) -> None:
            if reason is not None:
                self.queue_one(self.order_id, "cancel", {"reason": reason})

        self.app.push_screen(
            ConfirmDialog(
                f"Cancel order {self.detail.marketplace_order_id}? The buyer is refunded.",
                yes="Yes, cancel it",
                cancelled="Not cancelled: the order is unchanged.",
                field="Reason (Leboncoin: out_of_stock, item_damaged, buyer_request, other)",
            ),
            callback=done,
        )

    def _failed_action(self) -> int | None:
        d = self.detail
        return next((a.id for a in d.actions if a.state is ActionState.failed), None) if d else None

    def action_retry(self) -> None:
        action_id = self._failed_action()
        if action_id is not None:
            self.change_failed(action_id, retry=True)

    def action_dismiss_failed(self) -> None:
        action_id = self._failed_action()
        if action_id is not None:
            self.change_failed(action_id, retry=False)

    def on_orders_queued(self, message: OrdersQueued) -> None:
        self.refresh_data()  # shows "synchronizing" at once
        self.send_actions(message.action_ids)

    def on_actions_sent(self, report: SendReport) -> None:
        for outcome in report.failed:
            self.notify(
                f"{outcome.kind.value} failed: {outcome.message}",
                title=f"Order {outcome.marketplace_order_id}",
                severity="error",
                timeout=10,
            )
        self.refresh_data()
