"""The failed-actions list: every order action a marketplace refused, with its message.

``r`` puts the highlighted action back in the queue (the sender reads the
order from the marketplace before sending again), ``d`` dismisses it for
good, Enter opens its order. Read in a thread worker; sending is async.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label

from shelfdesk.formatting import short_when
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import OrdersQueued
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.orders.order_flows import OrderFlows

if TYPE_CHECKING:
    from shelfdesk.orders.actions import ActionInfo
    from shelfdesk.orders.outbox import SendReport


class OrderActionsScreen(OrderFlows, ShelfdeskScreen):
    SCOPE = "order-actions"
    VIEW = "orders"
    TITLE = "Failed actions"
    CSS_PATH = "failed_actions.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[ActionInfo] = []

    def compose_body(self) -> ComposeResult:
        yield Label("Failed actions", id="order-actions-title", markup=False)
        yield DataTable(id="order-actions-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in (
            ("order", "Order", 12),
            ("kind", "Action", 12),
            ("attempts", "Tries", 5),
            ("when", "When", 11),
            ("error", "Marketplace said", 36),
        ):
            table.add_column(label, key=key, width=width)
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="order-actions", exit_on_error=False, description="Loading failed actions")
    def _load(self) -> None:
        from shelfdesk.domain import ActionState
        from shelfdesk.orders.actions import list_actions

        actions = list_actions(self.ctx, states=[ActionState.failed])
        self.app.call_from_thread(self._show, actions)

    def _show(self, actions: list[ActionInfo]) -> None:
        self.actions = actions
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for a in actions:
            table.add_row(
                a.marketplace_order_id,
                a.kind.value,
                str(a.attempts),
                short_when(a.updated_at),
                a.last_error or "",
                key=str(a.id),
            )
        if actions:
            table.move_cursor(row=min(keep, len(actions) - 1))
        self.query_one("#order-actions-title", Label).update(
            f"Failed actions · {len(actions):,}" + (" · r retries, d dismisses, Enter opens the order" if actions else " · none")
        )

    def _current(self) -> ActionInfo | None:
        table = self.query_one(DataTable)
        if not self.actions or table.row_count == 0:
            return None
        return self.actions[table.cursor_row]

    def action_retry(self) -> None:
        action = self._current()
        if action is not None:
            self.change_failed(action.id, retry=True)

    def action_dismiss_failed(self) -> None:
        action = self._current()
        if action is not None:
            self.change_failed(action.id, retry=False)

    def on_orders_queued(self, message: OrdersQueued) -> None:
        self.send_actions(message.action_ids)

    def on_actions_sent(self, report: SendReport) -> None:
        for outcome in report.outcomes:
            self.notify(
                f"{outcome.kind.value}: {outcome.state.value}" + (f" — {outcome.message}" if outcome.message else ""),
                title=f"Order {outcome.marketplace_order_id}",
            )
        self.refresh_data()

    def action_open_order(self) -> None:
        from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen

        action = self._current()
        if action is not None:
            self.app.push_screen(OrderDetailScreen(action.order_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_order()
