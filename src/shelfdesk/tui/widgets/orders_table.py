"""The orders table: one keyset page of orders at a time, and how an order reads in a cell.

The widget never holds more than one page (100 rows, 500 at most): moving
down from the last row or up from the first asks the screen for the next or
previous page (:class:`OrdersTable.EdgeReached`), which swaps the rows.
Statuses are words, never colours alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

#: (key, label, width at 80 columns); the buyer column takes what is left.
COLUMNS: list[tuple[str, str, int]] = [
    ("mark", "", 1),
    ("order", "Order", 12),
    ("status", "Status", 11),
    ("sync", "Sync", 4),
    ("purchased", "Purchased", 11),
    ("buyer", "Buyer", 8),
    ("total", "Total", 9),
    ("channel", "Chan.", 6),  # "BM FR", "LBC FR": marketplace and country
]
FIXED = sum(width for key, _, width in COLUMNS if key != "buyer") + 2 * len(COLUMNS) + 1  # cell padding, scrollbar


def status_text(status: Any) -> Text:
    """The status as a word, coloured through the theme's status classes in the screen CSS."""
    value = str(getattr(status, "value", status))
    style = {"New": "bold", "Canceled": "dim", "Closed": "dim", "Undefined": "italic", "NotProvided": "italic"}.get(value, "")
    return Text(value, style=style)


def sync_text(sync: str) -> Text:
    if sync == "failed":
        return Text("FAIL", style="bold reverse")
    if sync == "synchronizing":
        return Text("sync", style="italic")
    return Text("")


class OrdersTable(DataTable[Any]):
    """A row-cursor DataTable of orders with vim keys, asking for a new page at its edges."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="orders_table.down", tooltip="Move down"),
        Binding("k", "cursor_up", "Up", show=False, id="orders_table.up", tooltip="Move up"),
        Binding("g", "scroll_top", "Top", show=False, id="orders_table.top", tooltip="First row of the page"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="orders_table.bottom", tooltip="Last row of the page"),
    ]

    class EdgeReached(Message):
        """The cursor tried to leave the page: +1 past the last row, -1 above the first."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    def set_columns(self, total_width: int) -> None:
        buyer = max(8, total_width - FIXED)
        for key, label, width in COLUMNS:
            heading = Text(label, justify="right") if key == "total" else label  # amounts line up on the right
            self.add_column(heading, key=key, width=buyer if key == "buyer" else width)

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.EdgeReached(1))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.post_message(self.EdgeReached(-1))
            return
        super().action_cursor_up()

    @property
    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def fill(self, rows: Iterable[tuple[str, list[Any]]], *, cursor: str | None = None, at_end: bool = False) -> None:
        """Replace the rows (one page) and put the cursor on ``cursor``'s row, or the first/last row."""
        keep = cursor if cursor is not None else self.current_key
        self.clear()
        keys = []
        for key, cells in rows:
            self.add_row(*cells, key=key)
            keys.append(key)
        if not keys:
            return
        if at_end:
            self.move_cursor(row=len(keys) - 1)
        elif keep in keys:
            self.move_cursor(row=keys.index(keep))
        else:
            self.move_cursor(row=0)
