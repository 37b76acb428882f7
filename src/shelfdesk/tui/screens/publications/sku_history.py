"""One SKU across publications: what was sent, when, to which channel, with what outcome."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import MAX_ROWS, DataWindow

COLUMNS = [("when", "When", 11), ("pub", "#", 4), ("channel", "Channel", 14), ("feed", "Feed", 8),
           ("outcome", "Outcome", 13), ("change", "Change", 16)]  # fmt: skip


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
        yield DataWindow(COLUMNS, id="history-table")
        yield Static("", id="history-message", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="product-history", exclusive=True, exit_on_error=False, description="Loading SKU history")
    def _load(self) -> None:
        from shelfdesk.publishing.triage import product_history

        rows = product_history(self.ctx, self.sku, limit=MAX_ROWS)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[Any]) -> None:
        self.entries = {str(r.item.id): r for r in rows}
        self.query_one(DataWindow).show([
            (str(r.item.id), [r.started_at.strftime("%m-%d %H:%M"), str(r.publication_id), r.channel, str(r.kind),
                              r.item.outcome_label(r.dry_run), r.item.change_text()])
            for r in rows
        ])  # fmt: skip
        self.query_one("#history-title", Label).update(f"SKU {self.sku} · {len(rows):,} publication entries")
        self._show_message()

    def _show_message(self) -> None:
        key = self.query_one(DataWindow).current_key
        entry = self.entries.get(key) if key else None
        self.query_one("#history-message", Static).update((entry.item.message or entry.item.warning or "") if entry else "")

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_message()
