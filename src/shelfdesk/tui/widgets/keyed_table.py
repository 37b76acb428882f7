"""A DataTable refreshed by keyed diff, so polling never loses the operator's cursor (the Dolphie pattern).

``show(rows)`` takes ``(key, cells)`` pairs in display order: rows whose key
vanished are removed, changed cells are updated in place, new rows are added,
and the cursor stays on the same key. When the order changed, the table is
rebuilt (these tables hold tens to a few hundred rows, never more than 500).
Vim keys ``j``/``k``/``g``/``G`` move the cursor, as on every shelfdesk table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

MAX_ROWS = 500


class KeyedTable(DataTable[Any]):
    """Row cursor, fixed columns ``(key, label, width)``, rows addressed by string keys."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up", tooltip="Previous row"),
        Binding("g", "scroll_top", "First", show=False, id="table.first", tooltip="First row"),
        Binding("G", "scroll_bottom", "Last", show=False, id="table.last", tooltip="Last row"),
    ]

    def __init__(self, columns: Sequence[tuple[str, str, int]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cursor_foreground_priority="renderable")
        self._columns = list(columns)
        self._order: list[str] = []
        self._cells: dict[str, list[Any]] = {}

    def on_mount(self) -> None:
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=width)

    @property
    def current_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def keys(self) -> list[str]:
        return list(self._order)

    def cells(self, key: str) -> list[Any]:
        return list(self._cells[key])

    def show(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Make the table show ``rows`` (at most MAX_ROWS), keeping the cursor on its key."""
        rows = list(rows)[:MAX_ROWS]
        keep = self.current_key
        order = [key for key, _ in rows]
        if order != self._order:
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            self._order = order
        else:
            for key, cells in rows:
                old = self._cells.get(key)
                for (column, _, _), new_value, old_value in zip(self._columns, cells, old or [None] * len(cells), strict=True):
                    if new_value != old_value:
                        self.update_cell(key, column, new_value)
        self._cells = {key: list(cells) for key, cells in rows}
        if keep in self._cells:
            self.move_to(keep)

    def move_to(self, key: str) -> None:
        if key in self._order:
            self.move_cursor(row=self._order.index(key), scroll=True)
