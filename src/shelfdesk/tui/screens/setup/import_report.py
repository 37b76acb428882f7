"""One import's report: its counts, then every rejected row with its line, field and reason.

Rows page from the database by (line, id), 500 at a time: ``]`` shows the next
page, ``[`` goes back to the first.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.widgets.data_window import MAX_ROWS, DataWindow

COLUMNS = [("line", "Line", 7), ("field", "Field", 8), ("sku", "SKU", 16), ("reason", "Reason", 60)]


class ImportReportScreen(DialogScreen[bool]):
    """Dismissed with True when the operator forces a refused or truncated import (f)."""

    CSS_PATH = "import_report.tcss"
    SCOPE: ClassVar[str] = "dialog.import-report"
    BINDINGS = bindings_for(SCOPE)
    CANCEL_NOTE = ""

    def __init__(self, store_name: str, summary: Any) -> None:
        super().__init__()
        self.store_name = store_name
        self.summary = summary
        self.page = 0
        self.cursor: tuple[int, int] = (0, 0)
        self.last: Any = None

    def compose(self) -> ComposeResult:
        s = self.summary
        with Vertical(id="import-report"):
            yield Label(f"Import {s.id} of {self.store_name} · {s.started_at:%Y-%m-%d %H:%M} · {s.source}", id="report-title", markup=False)
            counts = f"{s.rows_read:,} read · {s.stored:,} stored · {s.rejected:,} rejected · {s.gone:,} gone" + (
                f" · {s.duration_ms / 1000:.1f} s" if s.duration_ms is not None else ""
            )
            yield Label(counts + (f"\n{s.error}" if s.error else ""), id="report-counts", markup=False)
            yield DataWindow(COLUMNS, id="report-table")
            # The Reason column is cut at 80 columns: the highlighted row's reasons read whole here.
            yield Label("", id="report-reason", markup=False)
            force = " · f imports it anyway" if getattr(s, "needs_force", False) else ""
            yield Label(f"] next page · [ first page{force} · Esc closes", id="report-keys", markup=False)

    def on_mount(self) -> None:
        self._load(0, 0)

    @work(thread=True, group="import-report", exclusive=True, exit_on_error=False, description="Loading rejected rows")
    def _load(self, after_line: int, after_id: int) -> None:
        from shelfdesk.catalog.importer import import_rejections

        rows = import_rejections(
            self.ctx,
            self.summary.id,
            after_line=after_line,
            after_id=after_id,
            limit=MAX_ROWS,
        )
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[Any]) -> None:
        table = self.query_one(DataWindow)
        table.show([(f"{r.line}:{i}", [str(r.line), r.field or "row", r.sku or "", r.reason]) for i, r in enumerate(rows)])
        self.last = rows[-1] if rows else None
        self._show_reason()
        if not rows and self.page == 0:
            if getattr(self.summary, "needs_force", False):
                text = "No rejected rows, but nothing was stored (why is above) · f imports it anyway · Esc closes"
            else:
                text = "No rejected rows: every row was stored. Esc closes."
            self.query_one("#report-keys", Label).update(text)

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_reason()

    def _show_reason(self) -> None:
        table = self.query_one(DataWindow)
        key = table.current_key
        text = ""
        if key is not None:
            line, field, sku, reason = table.cells(key)
            text = f"line {line}" + (f" · {sku}" if sku else "") + f": {reason}"
        self.query_one("#report-reason", Label).update(text)

    def action_next_page(self) -> None:
        if self.last is None:
            return
        self.page += 1
        self._load(self.last.line, 10**12)

    def action_first_page(self) -> None:
        self.page = 0
        self._load(0, 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "force":
            return bool(getattr(self.summary, "needs_force", False))
        return True

    def action_force(self) -> None:
        self.dismiss(True)
