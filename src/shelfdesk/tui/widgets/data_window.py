"""A DataTable that shows a window of at most 500 keyed rows, refreshed by keyed diff.

Screens page their data from the database (keyset queries) and hand each page
to :meth:`DataWindow.show`: rows that stayed are updated in place, new ones
added, gone ones removed, and the cursor stays on the same key when it can
(the Dolphie pattern). Past a stale-row threshold it clears and refills,
which is cheaper than many single removals (each one relayouts). Vim keys
(``j``/``k``/``g``/``G``) sit beside the arrows, hidden from the footer.

It is the one table widget of the console's lists (publications, mappings,
stores, jobs, alerts, webhooks, invoices); only the orders table, which
pages at its edges, has its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

MAX_ROWS = 500


def cut_middle(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut in the middle: SKUs differ at their end ("…GREEN-EXCELLENT").

    The table's own cut keeps the start, so two SKUs sharing their first 22
    characters read the same; this keeps a third of the start and the rest from the end.
    """
    if len(text) <= width:
        return text
    head = max(1, (width - 1) // 3)
    return f"{text[:head]}…{text[len(text) - (width - 1 - head) :]}"


def keyed(columns: Sequence[tuple[str, int | None]]) -> list[tuple[str, str, int | None]]:
    """``(label, width)`` columns with keys made from their labels ("Last delivered" → "last-delivered")."""
    return [(label.lower().replace(" ", "-"), label, width) for label, width in columns]


class DataWindow(DataTable[Any]):
    """A row-cursor table holding one page (≤ 500 rows) of a database list."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down", tooltip="Move down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up", tooltip="Move up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top", tooltip="First row"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom", tooltip="Last row"),
    ]

    def __init__(self, columns: Sequence[tuple[str, str, int | None]], **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._columns_spec = list(columns)
        self._cells: dict[str, list[Any]] = {}

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label, width in self._columns_spec:
            self.add_column(label, key=key, width=width)

    def set_columns(self, columns: Sequence[tuple[str, str, int | None]]) -> None:
        """Replace the columns and drop the rows: one table, several views (webhooks, their deliveries)."""
        self._columns_spec = list(columns)
        self._cells = {}
        self.clear(columns=True)
        self._add_columns()

    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(k.value) for k in self.rows]

    def cells(self, key: str) -> list[Any]:
        """The cells last shown for ``key``."""
        return list(self._cells[key])

    def move_to(self, key: str) -> None:
        """Put the cursor on ``key``'s row (and scroll to it) when the row is shown."""
        if key in self._cells:
            self.move_cursor(row=self.get_row_index(key), scroll=True)

    @property
    def current_key(self) -> str | None:
        """The key of the highlighted row, or None on an empty table."""
        if self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # the cursor sits outside the rows while they change
            return None
        return None if row_key.value is None else str(row_key.value)

    def show(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Replace the rows with ``rows`` ((key, cells) pairs), keeping the cursor's key."""
        rows = list(rows)[:MAX_ROWS]
        keep = self.current_key
        wanted = [key for key, _ in rows]
        current = [str(k.value) for k in self.rows]
        stale = set(current) - set(wanted)
        kept = [k for k in current if k not in stale]
        # In place only when the kept rows stay in order at the top and new ones come after them.
        if not current or len(stale) > len(current) // 2 or wanted[: len(kept)] != kept:
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
        else:
            for key in stale:
                self.remove_row(RowKey(key))
            columns = [c for c, _, _ in self._columns_spec]
            for key, cells in rows:
                if key in kept:
                    for column, value in zip(columns, cells, strict=False):
                        self.update_cell(key, column, value)
                else:
                    self.add_row(*cells, key=key)
        self._cells = {key: list(cells) for key, cells in rows}
        if keep is not None and keep in self._cells:
            self.move_cursor(row=self.get_row_index(keep))
