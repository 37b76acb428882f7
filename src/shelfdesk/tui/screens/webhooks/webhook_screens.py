"""Push notifications in the console (``:webhooks``): subscriptions with their delivery health, and one
subscription's queue and log.

Everything that touches the database or the network runs in thread workers
(deliveries never block the console); results come back as typed messages.
Health is a word as well as a colour: ok, backlog, retrying, paused, failing.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from shelfdesk.formatting import when
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import DeliveriesLoaded, WebhooksLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow, keyed


class WebhooksScreen(ShelfdeskScreen):
    """Subscriptions, the health of their deliveries, and the keys to test, pause, resume and retry."""

    SCOPE = "webhooks"
    TITLE = "Webhooks"
    CSS_PATH = "webhook_screens.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: list[Any] = []

    def compose_body(self) -> ComposeResult:
        yield Label("Webhooks · loading…", id="webhooks-title", markup=False)
        yield DataWindow(
            keyed([("Name", 12), ("Health", 8), ("Waiting", 7), ("Last delivered", 16), ("Fails", 5), ("URL", 60)]),
            zebra_stripes=False,
            id="webhooks-table",
        )
        yield Static("", id="webhooks-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def on_screen_resume(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="webhooks", exclusive=True, exit_on_error=False, description="Reading subscriptions")
    def _load(self) -> None:
        from shelfdesk.webhooks.subscriptions import list_subscriptions

        self.post_message(WebhooksLoaded(list_subscriptions(self.ctx)))

    def on_webhooks_loaded(self, message: WebhooksLoaded) -> None:
        self.subscriptions = list(message.subscriptions)
        table = self.query_one(DataWindow)
        table.show(
            [
                (s.name, [s.name, s.health, str(s.pending), when(s.last_success_at), str(s.failures_in_a_row), s.url])
                for s in self.subscriptions
            ]
        )
        waiting = sum(s.pending for s in self.subscriptions)
        failing = sum(1 for s in self.subscriptions if s.health == "failing")
        title = f"Webhooks · {len(self.subscriptions)} subscription(s) · {waiting} waiting"
        if failing:
            title += f" · {failing} paused after failures"
        if not self.subscriptions:
            title = "Webhooks · none yet: shelfdesk webhooks add NAME URL (see README, Verifying push notifications)"
        self.query_one("#webhooks-title", Label).update(title)
        self._show_detail()

    def current(self) -> Any | None:
        key = self.query_one(DataWindow).current_key
        return next((s for s in self.subscriptions if s.name == key), None)

    def _show_detail(self) -> None:
        sub = self.current()
        if sub is None:
            self.query_one("#webhooks-detail", Static).update("")
            return
        lines = [
            f"{sub.name}: {', '.join(sub.events)}",
            f"24 h: {sub.delivered_24h} delivered, {sub.failed_attempts_24h} failed attempt(s); "
            f"pauses after {sub.max_failures} failures in a row",
        ]
        if sub.paused_reason:
            lines.append(f"{sub.state}: {sub.paused_reason}")
        elif sub.last_error and sub.failures_in_a_row:
            lines.append(f"last error: {sub.last_error}")
        self.query_one("#webhooks-detail", Static).update("\n".join(lines))

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_deliveries()

    # ------------------------------------------------------------ actions

    def action_open_deliveries(self) -> None:
        sub = self.current()
        if sub is not None:
            self.app.push_screen(DeliveriesScreen(sub.name))

    def action_test(self) -> None:
        if (sub := self.current()) is not None:
            self.run_operation("Test", lambda: _test_text(self.ctx, sub.name))

    def action_toggle_pause(self) -> None:
        from shelfdesk.webhooks.subscriptions import pause_subscription, resume_subscription

        if (sub := self.current()) is None:
            return
        if sub.state == "paused":
            self.run_operation("Resume", lambda: f"{resume_subscription(self.ctx, sub.name).name} resumed: waiting events go first")
        else:
            self.run_operation("Pause", lambda: f"{pause_subscription(self.ctx, sub.name).name} paused: events keep queuing")

    def action_retry(self) -> None:
        from shelfdesk.webhooks.delivery import retry_now

        if (sub := self.current()) is not None:
            self.run_operation("Retry", lambda: f"{retry_now(self.ctx, sub.name)} delivery(ies) of {sub.name} due now")


def _test_text(ctx: Any, name: str) -> str:
    from shelfdesk.webhooks.delivery import send_test

    result = send_test(ctx, name)
    outcome = "delivered" if result.ok else f"failed: {result.error}"
    return f"ping to {name} {outcome} (HTTP {result.status_code or '—'}, {result.duration_ms} ms)"


QUEUE_COLUMNS = [("Id", 5), ("State", 10), ("Event", 20), ("Order", 8), ("Tries", 5), ("When", 16), ("Error", 60)]
LOG_COLUMNS = [("Id", 5), ("Result", 8), ("Event", 20), ("Try", 3), ("ms", 6), ("When", 16), ("Error", 60)]


class DeliveriesScreen(ShelfdeskScreen):
    """One subscription's deliveries (newest first), or its attempt log; replay and retry."""

    SCOPE = "webhook-deliveries"
    TITLE = "Deliveries"
    CSS_PATH = "webhook_screens.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, subscription: str) -> None:
        super().__init__()
        self.subscription = subscription
        self.show_log = False
        self.rows: list[Any] = []

    def compose_body(self) -> ComposeResult:
        yield Label(f"{self.subscription} · loading…", id="deliveries-title", markup=False)
        yield DataWindow(keyed(QUEUE_COLUMNS), id="deliveries-table", zebra_stripes=False)
        yield Static("", id="deliveries-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load(self.show_log)

    @work(thread=True, group="deliveries", exclusive=True, exit_on_error=False, description="Reading deliveries")
    def _load(self, log: bool) -> None:
        from shelfdesk.webhooks.delivery import list_attempts, list_deliveries

        rows = list_attempts(self.ctx, self.subscription, limit=200) if log else list_deliveries(self.ctx, self.subscription, limit=200)
        self.post_message(DeliveriesLoaded(rows, log=log))

    def on_deliveries_loaded(self, message: DeliveriesLoaded) -> None:
        if message.log != self.show_log:
            return
        self.rows = list(message.rows)
        table = self.query_one(DataWindow)
        if self.show_log:
            table.show(
                [
                    (
                        str(a.id),
                        [
                            str(a.delivery_id or "test"),
                            f"ok {a.status_code}" if a.ok else f"FAIL {a.status_code or ''}".strip(),
                            a.event_type,
                            str(a.attempt),
                            str(a.duration_ms),
                            when(a.at),
                            a.error or "",
                        ],
                    )
                    for a in self.rows
                ]
            )
            title = f"{self.subscription} · attempt log · {len(self.rows)} newest"
        else:
            table.show(
                [
                    (
                        str(d.id),
                        [
                            str(d.id),
                            d.state + (f" r{d.replay}" if d.replay else ""),
                            d.event_type,
                            d.ordering_key.replace("order:", "#"),
                            str(d.attempts),
                            when(d.delivered_at if d.state == "delivered" else d.next_attempt_at),
                            "" if d.state == "delivered" else (d.last_error or ""),
                        ],
                    )
                    for d in self.rows
                ]
            )
            waiting = sum(1 for d in self.rows if d.state != "delivered")
            title = f"{self.subscription} · deliveries · {len(self.rows)} newest · {waiting} waiting"
        self.query_one("#deliveries-title", Label).update(title)
        self.query_one("#deliveries-detail", Static).update(
            "l: attempt log (status, duration, error)   x: replay the highlighted event   r: retry waiting now"
            if not self.show_log
            else "l: back to the queue"
        )

    def action_toggle_log(self) -> None:
        self.show_log = not self.show_log
        self.query_one(DataWindow).set_columns(keyed(LOG_COLUMNS if self.show_log else QUEUE_COLUMNS))
        self.refresh_data()

    def action_replay(self) -> None:
        from shelfdesk.webhooks.delivery import replay

        key = self.query_one(DataWindow).current_key
        if self.show_log or key is None:
            self.notify("Replay works on the queue: press l to leave the log, then pick a delivery.", title="Replay")
            return
        self.run_operation("Replay", lambda: f"event queued again as delivery {replay(self.ctx, int(key), subscription=self.subscription)}")

    def action_retry(self) -> None:
        from shelfdesk.webhooks.delivery import retry_now

        self.run_operation("Retry", lambda: f"{retry_now(self.ctx, self.subscription)} delivery(ies) due now")
