"""One publication's items: what each SKU was to get, and what happened, paged from the database.

``z`` keeps failed items only (ordered by cause, following the triage
index), ``/`` filters by SKU prefix, ``]``/``[`` page by 200 (keyset), Enter
opens the highlighted SKU's history. Opened from an error group, the screen
shows that group's products. The line under the table gives the highlighted
item's full SKU and message, verbatim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import PublicationItemsLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow, cut_middle

if TYPE_CHECKING:
    from shelfdesk.publishing.triage import ItemRow, PublicationRow

PAGE = 200
#: The message goes on the line under the table, whole: a column would cut it.
SKU_WIDTH = 22
COLUMNS = [("sku", "SKU", SKU_WIDTH), ("action", "Action", 6), ("outcome", "Outcome", 14), ("change", "Change / reason", 28)]


class PublicationDetailScreen(ShelfdeskScreen):
    """Items of one publication, filterable: failed only, by error group, by SKU."""

    SCOPE = "publication"
    VIEW = "publications"
    TITLE = "Publication"
    CSS_PATH = "run_items.tcss"
    FILTERABLE: ClassVar[bool] = True
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, publication_id: int, *, error_key: str | None = None, failed_only: bool = False) -> None:
        super().__init__()
        self.publication_id = publication_id
        self.error_key = error_key
        self.failed_only = failed_only or error_key is not None
        self.publication: PublicationRow | None = None
        self.items: dict[str, ItemRow] = {}
        self.cursors: list[tuple[str | None, int] | None] = [None]  #: keyset cursor of each page seen
        self.page_index = 0
        self.total = 0

    def compose_body(self) -> ComposeResult:
        yield Label("", id="detail-title", markup=False)
        yield Label("", id="detail-counters", markup=False)
        yield DataWindow(COLUMNS, id="detail-table")
        yield Static("", id="detail-message", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    # ------------------------------------------------------------ data

    def refresh_data(self) -> None:
        self._load(self.page_index, self.cursors[self.page_index], self.filter_text, self.failed_only, self.error_key)

    def apply_filter(self, text: str) -> None:
        self.cursors, self.page_index = [None], 0
        self.refresh_data()

    @work(thread=True, group="publication-items", exclusive=True, exit_on_error=False, description="Loading items")
    def _load(self, page: int, after: tuple[str | None, int] | None, sku: str, failed_only: bool, error_key: str | None) -> None:
        from shelfdesk.publishing.triage import ItemFilter, count_items, get_publication, list_items

        publication = get_publication(self.ctx, self.publication_id)
        flt = ItemFilter(failed_only=failed_only, error_key=error_key, sku=sku)
        items = list_items(self.ctx, self.publication_id, flt, after=after, limit=PAGE)
        total = count_items(self.ctx, self.publication_id, flt)
        self.post_message(PublicationItemsLoaded(publication, items, total, page))

    def on_publication_items_loaded(self, message: PublicationItemsLoaded) -> None:
        pub: Any = message.publication
        self.publication = pub
        self.total = message.total
        self.page_index = message.page
        items: list[ItemRow] = message.items
        if items and len(self.cursors) == self.page_index + 1 and len(items) == PAGE:
            last = items[-1]
            self.cursors.append((last.error_key, last.id))
        self.items = {str(i.id): i for i in items}
        self.query_one(DataWindow).show([(str(i.id), self._cells(i, pub.dry_run)) for i in items])
        kind = "dry run" if pub.dry_run else str(pub.state)
        self.query_one("#detail-title", Label).update(
            f"#{pub.id} {pub.store} / {pub.channel} · {pub.kind} {pub.mode} · {kind} · {pub.started_at:%Y-%m-%d %H:%M}"
        )
        shown = f"{self.page_index * PAGE + 1:,}–{self.page_index * PAGE + len(items):,} of {self.total:,}" if items else "0"
        flags = []
        if self.error_key:
            flags.append(f"group {self.error_key}")
        elif self.failed_only:
            flags.append("failed only")
        if self.filter_text:
            flags.append(f"SKU “{self.filter_text}”")
        self.query_one("#detail-counters", Label).update(
            f"items {shown}"
            + (f" · {' · '.join(flags)}" if flags else "")
            + f" · sent {pub.sent:,} · ok {pub.succeeded:,} · failed {pub.failed:,} · invalid {pub.invalid:,} · queued {pub.queued:,}"
        )
        self._show_message()

    @staticmethod
    def _cells(item: ItemRow, dry_run: bool) -> list[str]:
        return [cut_middle(item.sku, SKU_WIDTH), str(item.action), item.outcome_label(dry_run), item.change_text() or item.message or ""]

    def _show_message(self) -> None:
        item = self.selected
        text = ""
        if item is not None:
            # The SKU in full first: the column cuts long ones, and SKUs of one model differ only at the end.
            text = f"{item.sku}: {item.message or item.warning or item.change_text() or str(item.action)}"
            if item.error_key:
                text = f"{text}  [group {item.error_key}]"
        self.query_one("#detail-message", Static).update(text)

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_message()

    def on_data_table_row_selected(self, _: Any) -> None:
        """Enter on the table (the table's own binding shadows the screen's)."""
        self.action_sku_history()

    @property
    def selected(self) -> ItemRow | None:
        key = self.query_one(DataWindow).current_key
        return self.items.get(key) if key else None

    # ------------------------------------------------------------ actions

    def action_toggle_errors_only(self) -> None:
        self.failed_only = not self.failed_only
        if not self.failed_only:
            self.error_key = None
        self.cursors, self.page_index = [None], 0
        self.refresh_data()

    def action_page(self, step: int) -> None:
        target = self.page_index + step
        if target < 0 or target >= len(self.cursors):
            self.notify("No more items this way.", title="Items")
            return
        self._load(target, self.cursors[target], self.filter_text, self.failed_only, self.error_key)

    def action_sku_history(self) -> None:
        from shelfdesk.tui.screens.publications.sku_history import ProductHistoryScreen

        item = self.selected
        if item is not None:
            self.app.push_screen(ProductHistoryScreen(item.sku))

    def action_show_errors(self) -> None:
        from shelfdesk.tui.screens.publications.error_groups import PublicationErrorsScreen

        self.app.push_screen(PublicationErrorsScreen(self.publication_id))

    def action_set_stock(self) -> None:
        from shelfdesk.tui.screens.setup.stock_dialog import ask_stock

        item = self.selected
        if item is not None:
            ask_stock(self, item.sku)

    def _home(self) -> Any:
        from shelfdesk.tui.screens.publications.run_list import PublicationsScreen

        bottom = self.app.screen_stack[0]
        return bottom if isinstance(bottom, PublicationsScreen) else None

    def action_republish_failed(self) -> None:
        home = self._home()
        if home is not None:
            home.confirm_republish(self.publication_id, self.error_key)

    def action_export_errors(self) -> None:
        home = self._home()
        if home is not None:
            home.export(self.publication_id, self.error_key)
