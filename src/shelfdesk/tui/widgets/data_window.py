"""A DataTable that shows a window of at most 500 keyed rows, refreshed by keyed diff.

Screens page their data from the database (keyset queries) and hand each page
to :meth:`DataWindow.show`: rows that stayed are updated in place, new ones
added, gone ones removed, and the cursor stays on the same key when it can
(the Dolphie pattern). Past a stale-row threshold it clears and refills,
which is cheaper than many single removals (each one relayouts). Vim keys
(``j``/``k``/``g``/``G``) sit beside the arrows, hidden from the footer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

MAX_ROWS = 500


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

    def on_mount(self) -> None:
        for key, label, width in self._columns_spec:
            self.add_column(label, key=key, width=width)

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
        if keep is not None and keep in wanted:
            self.move_cursor(row=self.get_row_index(keep))
