"""Add or edit a store: name, country, currency, catalog source (a path or an http(s) URL), safety stock
(units kept back from every channel without its own; a product's mapped column overrides it), and the
working time deadlines count with (cut-off hour, working days; the store's channels inherit them)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


def form_row(label: str, widget: Any) -> Horizontal:
    """A label and its field on one line (the forms' layout at 80 columns)."""
    return Horizontal(Label(label, classes="form-label", markup=False), widget, classes="form-row")


class StoreForm(DialogScreen[dict[str, Any] | None]):
    """Enter moves to the next field and saves from the last; Esc cancels, nothing is written."""

    CSS_PATH = ["setup_form.tcss", "store_form.tcss"]
    SCOPE: ClassVar[str] = "dialog.form"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, values: dict[str, Any] | None = None, error: str | None = None) -> None:
        super().__init__()
        self.values = dict(values or {})
        self.error = error

    def compose(self) -> ComposeResult:
        editing = bool(self.values.get("id"))
        with Vertical(classes="setup-form", id="store-form"):
            yield Label("Edit store" if editing else "Add a store", classes="form-title", markup=False)
            if self.error:
                yield Label(self.error, classes="form-error", markup=False)
            yield form_row("Name", Input(self.values.get("name", ""), placeholder="Refurb Paris", id="store-name", compact=True))
            yield form_row(
                "Country (ISO)",
                Input(self.values.get("country", ""), placeholder="FR", id="store-country", disabled=editing, max_length=2, compact=True),
            )
            yield form_row(
                "Currency", Input(self.values.get("currency", "EUR"), id="store-currency", disabled=editing, max_length=3, compact=True)
            )
            yield form_row(
                "Catalog source",
                Input(self.values.get("source", ""), placeholder="/path/feed.csv or https://…", id="store-source", compact=True),
            )
            if editing:  # a new store starts at 0; the add flow stays name → source
                yield form_row(
                    "Safety stock", Input(str(self.values.get("safety_stock", 0)), id="store-safety", max_length=7, compact=True)
                )
                yield form_row(
                    "Cut-off hour",
                    Input(str(self.values.get("cutoff_hour", 13)), placeholder="13", id="store-cutoff", max_length=5, compact=True),
                )
                yield form_row(
                    "Working days",
                    Input(self.values.get("working_days", "mon-fri"), placeholder="mon-fri", id="store-days", compact=True),
                )
            yield Label("Enter: next field, saves from the last · ctrl+s saves · Esc cancels", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#store-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        fields = [f for f in self.query(Input) if not f.disabled]
        index = fields.index(event.input) if event.input in fields else len(fields) - 1
        if index + 1 < len(fields):
            fields[index + 1].focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        get = lambda name: self.query_one(f"#store-{name}", Input).value.strip()  # noqa: E731
        self.dismiss(
            {
                "id": self.values.get("id"),
                "name": get("name"),
                "country": get("country").upper(),
                "currency": get("currency").upper() or "EUR",
                "source": get("source"),
                "safety_stock": (get("safety") or "0") if self.values.get("id") else "0",
                **({"cutoff_hour": get("cutoff"), "working_days": get("days")} if self.values.get("id") else {}),
            }
        )
