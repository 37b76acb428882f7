"""One SKU across publications: what was sent, when, to which channel, with what outcome.

Above the table, the SKU's stock now: per store, the units open orders hold,
and per channel the safety stock applied (and whether it is the product's,
its mapped column's, the channel's or the store's) and what the channel sends.
``s`` sets the stock.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static

from shelfdesk.formatting import short_when
from shelfdesk.publishing.pusher import PUSHER
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import MAX_ROWS, DataWindow

COLUMNS = [
    ("when", "When", 11),
    ("pub", "#", 4),
    ("channel", "Channel", 14),
    ("feed", "Feed", 8),
    ("outcome", "Outcome", 13),
    ("change", "Change", 16),
]


class ProductHistoryScreen(ShelfdeskScreen):
    """Newest first; the line under the table gives the highlighted entry's message."""

    SCOPE = "product-history"
    VIEW = "publications"
    TITLE = "SKU history"
    CSS_PATH = "sku_history.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, sku: str) -> None:
        super().__init__()
        self.sku = sku
        self.entries: dict[str, Any] = {}

    def compose_body(self) -> ComposeResult:
        yield Label(f"SKU {self.sku} across publications", id="history-title", markup=False)
        yield Static("", id="history-stock", markup=False)
        yield DataWindow(COLUMNS, id="history-table")
        yield Static("", id="history-message", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="product-history", exclusive=True, exit_on_error=False, description="Loading SKU history")
    def _load(self) -> None:
        from shelfdesk.publishing.triage import product_history

        from shelfdesk.services.stock import stock_views_for_sku

        rows = product_history(self.ctx, self.sku, limit=MAX_ROWS)
        views = stock_views_for_sku(self.ctx, self.sku)
        self.app.call_from_thread(self._show, rows, views)

    def _show(self, rows: list[Any], views: list[Any] | None = None) -> None:
        lines = []
        for view in views or []:
            lines.append(f"{view.store_name}: {view.headline().split(': ', 1)[1]}")
            lines.extend(f"  {line.text()}" for line in view.channels)
        self.query_one("#history-stock", Static).update("\n".join(lines) or "Not in any store's catalog.")
        self.entries = {str(r.item.id): r for r in rows}
        self.query_one(DataWindow).show(
            [
                (
                    str(r.item.id),
                    [
                        short_when(r.started_at),
                        str(r.publication_id),
                        r.channel,
                        "stock" if r.started_by == PUSHER else str(r.kind),
                        r.item.outcome_label(r.dry_run),
                        r.item.change_text(),
                    ],
                )
                for r in rows
            ]
        )
        self.query_one("#history-title", Label).update(f"SKU {self.sku} · {len(rows):,} publication entries")
        self._show_message()

    def _show_message(self) -> None:
        key = self.query_one(DataWindow).current_key
        entry = self.entries.get(key) if key else None
        self.query_one("#history-message", Static).update((entry.item.message or entry.item.warning or "") if entry else "")

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_message()

    def action_set_stock(self) -> None:
        from shelfdesk.tui.screens.setup.stock_dialog import ask_stock

        ask_stock(self, self.sku, self.refresh_data)
