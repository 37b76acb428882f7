"""Bulk ship from a CSV file: type the path, read the preview, then ship the valid orders.

The preview is computed in a thread worker by the same service that applies
the file (:func:`shelfdesk.orders.bulk.plan_bulk_ship`): how many orders will
be shipped and, for every row that cannot be applied, its line, order and
reason. "Back" is focused; shipping sends the file's content as previewed.
"Save refused" writes the rows that cannot be applied, as typed plus why, beside
the file (``parcels-refused.csv``) to fix them and ship that file next.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class OrderBulkShipDialog(DialogScreen[tuple[str, str] | None]):
    """Returns (path, the text previewed) to ship, or None."""

    CSS_PATH = "bulk_ship_dialog.tcss"
    SCOPE: ClassVar[str] = "dialog.path"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder
        self._ready: tuple[str, str] | None = None
        self._refused: tuple[Any, str, str] | None = None  #: (plan, file, text) when some rows cannot be applied

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-ship"):
            yield Label("Bulk ship from a CSV file", id="bulk-ship-title", markup=False)
            yield Label(
                "Columns: order_id, carrier, tracking_number, and optionally imei, serial_number, sku, tracking_url",
                classes="bulk-ship-hint",
                markup=False,
            )
            yield Input(
                placeholder=f"e.g. {self.folder}/parcels.csv · Tab completes", id="bulk-ship-path", compact=True, classes="path-field"
            )
            yield Label(
                "Enter reads the file and shows what would be shipped; Tab completes the path.", id="bulk-ship-summary", markup=False
            )
            with VerticalScroll(id="bulk-ship-problems"):
                yield Static("", id="bulk-ship-list", markup=False)
            with Horizontal(id="bulk-ship-buttons"):
                yield Button("Back", id="bulk-ship-back")
                yield Button("Ship", id="bulk-ship-go", variant="warning", disabled=True)
                yield Button("Save refused", id="bulk-ship-save", disabled=True)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if path:
            self.query_one("#bulk-ship-summary", Label).update("Reading the file…")
            self._preview(path)

    @work(thread=True, exclusive=True, group="bulk-ship-preview", exit_on_error=False, description="Reading the CSV file")
    def _preview(self, path: str) -> None:
        from shelfdesk.orders.bulk import plan_bulk_ship
        from shelfdesk.orders.errors import OrderError

        ctx = self.ctx
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8-sig")
            plan = plan_bulk_ship(ctx, str(file), text=text)
        except (OSError, UnicodeDecodeError, OrderError) as exc:
            self.app.call_from_thread(self._refuse, f"Cannot use {file}: {exc}")
            return
        problems = [f"{item.where}: order {item.order or '?'}: {item.error}" for item in plan.invalid]
        summary = f"{len(plan.valid):,} order(s) will be shipped; {len(plan.invalid):,} cannot be (listed below)."
        refused = (plan, str(file), text) if plan.invalid else None
        self.app.call_from_thread(self._show, (str(file), text) if plan.valid else None, summary, problems, refused)

    def _show(self, ready: tuple[str, str] | None, summary: str, problems: list[str], refused: Any = None) -> None:
        self._ready, self._refused = ready, refused
        self.query_one("#bulk-ship-save", Button).disabled = refused is None
        self.query_one("#bulk-ship-summary", Label).update(summary)
        self.query_one("#bulk-ship-list", Static).update("\n".join(problems) or "Every row can be applied.")
        ship = self.query_one("#bulk-ship-go", Button)
        ship.disabled = ready is None
        ship.label = f"Ship {summary.split(' ', 1)[0]}" if ready else "Ship"
        self.query_one("#bulk-ship-back", Button).focus()

    def _refuse(self, reason: str) -> None:
        """The file cannot be read: only the reason shows; the path stays typed and focused, to fix it."""
        self._ready = self._refused = None
        self.query_one("#bulk-ship-save", Button).disabled = True
        self.query_one("#bulk-ship-summary", Label).update(reason)
        self.query_one("#bulk-ship-list", Static).update("")
        ship = self.query_one("#bulk-ship-go", Button)
        ship.disabled, ship.label = True, "Ship"
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "bulk-ship-save":
            if self._refused is not None:
                self._save_refused(*self._refused)
            return
        self.dismiss(self._ready if event.button.id == "bulk-ship-go" else None)

    @work(thread=True, exclusive=True, group="bulk-ship-save", exit_on_error=False, description="Saving the refused rows")
    def _save_refused(self, plan: Any, file: str, text: str) -> None:
        from shelfdesk.orders.bulk import refused_path, write_refused

        target = refused_path(file)
        try:
            count = write_refused(plan, text, target)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Cannot write {target}: {exc.strerror or exc}", title="Bulk ship", severity="error")
            return
        self.app.call_from_thread(
            self.notify, f"{count:,} refused row(s) saved to {target}, each with why: fix them and ship that file.", title="Bulk ship"
        )
