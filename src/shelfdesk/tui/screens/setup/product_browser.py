"""The product browser (``b`` on Stores): find a SKU, see its stock and price and, per channel,
where it is mapped, what excludes it and what its last publication did with it.

``/`` searches SKU, title and EAN; the highlighted product's channels show
under the table. Reads only, in thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow, cut_middle

if TYPE_CHECKING:
    from shelfdesk.services.product_browser import ProductLine, ProductSight

SKU_WIDTH = 24
COLUMNS = [("sku", "SKU", SKU_WIDTH), ("title", "Title", 30), ("stock", "Stock", 6), ("price", "Price", 9)]


class ProductBrowserScreen(ShelfdeskScreen):
    SCOPE: ClassVar[str] = "products"
    VIEW = "stores"
    TITLE = "Products"
    FILTERABLE = True
    CSS_PATH = "product_browser.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, store_id: int, store_name: str) -> None:
        super().__init__()
        self.store_id = store_id
        self.store_name = store_name
        self.lines: dict[str, ProductLine] = {}

    def compose_body(self) -> ComposeResult:
        yield Label(f"Products of {self.store_name}", id="products-title", markup=False)
        yield DataWindow(COLUMNS, id="products-table")
        yield Static("", id="product-sight", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._search(self.filter_text)

    def apply_filter(self, text: str) -> None:
        self._search(text)

    @work(thread=True, group="products", exclusive=True, exit_on_error=False, description="Searching products")
    def _search(self, text: str) -> None:
        from shelfdesk.services.product_browser import find_products

        lines = find_products(self.ctx, self.store_id, text)
        self.app.call_from_thread(self._show, text, lines)

    def _show(self, text: str, lines: list[ProductLine]) -> None:
        from shelfdesk.formatting import money

        self.lines = {line.sku: line for line in lines}
        rows = [
            (
                line.sku,
                [
                    cut_middle(line.sku, SKU_WIDTH),
                    (line.title or "") + (" (gone)" if line.gone else ""),
                    f"{line.stock:,}",
                    money(line.price),
                ],
            )
            for line in lines
        ]
        self.query_one(DataWindow).show(rows)
        found = f"{len(lines):,}" + ("+" if len(lines) >= 200 else "")
        shown = f" matching “{text}”" if text else ""
        self.query_one("#products-title", Label).update(f"Products of {self.store_name} · {found}{shown} · / searches")
        self._sight()

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._sight()

    def _sight(self) -> None:
        key = self.query_one(DataWindow).current_key
        if key is None:
            self.query_one("#product-sight", Static).update("No product matches." if not self.lines else "")
            return
        self._load_sight(key)

    @work(thread=True, group="product-sight", exclusive=True, exit_on_error=False, description="Reading a product")
    def _load_sight(self, sku: str) -> None:
        from shelfdesk.services.product_browser import product_sight

        sight = product_sight(self.ctx, self.store_id, sku)
        self.app.call_from_thread(self._show_sight, sight)

    def _show_sight(self, sight: ProductSight) -> None:
        from shelfdesk.formatting import money

        lines = [
            f"{sight.sku} · {sight.title or '—'} · EAN {sight.ean or '—'}",
            f"stock {sight.stock:,} · price {money(sight.price)} · category {sight.category or '—'}"
            + (" · gone from the last import" if sight.gone else ""),
        ]
        for ch in sight.channels:
            excluded = f" · EXCLUDED by {' and '.join(ch.excluded_by)}" if ch.excluded_by else ""
            when = f" ({ch.listed_at:%m-%d %H:%M})" if ch.listed_at else ""
            lines.append(f"{ch.channel}: {ch.category}{excluded}")
            lines.append(f"  last sent: {ch.listed}{when}")
        self.query_one("#product-sight", Static).update("\n".join(lines))
