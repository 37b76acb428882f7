"""Start a catalog import: the source (the store's saved one by default) and, if needed, its format."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.screens.setup.store_form import form_row

FORMATS = [("detect", ""), ("CSV", "csv"), ("JSON array", "json"), ("JSON lines", "jsonl"), ("XML", "xml")]


class ImportForm(DialogScreen[dict[str, Any] | None]):
    CSS_PATH = ["setup_form.tcss", "import_form.tcss"]
    SCOPE: ClassVar[str] = "dialog.path"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, store_name: str, source: str, *, format: str | None = None, error: str | None = None) -> None:
        super().__init__()
        self.store_name = store_name
        self.source = source
        self.format = format or ""
        self.error = error  #: why the last try was refused (the form comes back with what was typed)

    def compose(self) -> ComposeResult:
        with Vertical(classes="setup-form", id="import-form"):
            yield Label(f"Import the catalog of {self.store_name}", classes="form-title", markup=False)
            if self.error:
                yield Label(self.error, classes="form-error", markup=False)
            yield form_row(
                "Source",
                Input(self.source, placeholder="/path/feed.csv or https://…", id="import-source", compact=True, classes="path-field"),
            )
            yield form_row("Format", Select(FORMATS, value=self.format, allow_blank=False, id="import-format", compact=True))
            yield Label(
                "Valid rows are stored even when others fail; products missing from a complete feed are "
                "flagged gone. Enter imports · Esc cancels",
                classes="form-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        field = self.query_one("#import-source", Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        source = event.value.strip()
        if not source:
            self.notify("Give a file path or an http(s) URL.", title="Import", severity="warning")
            return
        self.dismiss({"source": source, "format": self.query_one("#import-format", Select).value or None})
