"""Shipping one order: carrier, tracking number and URL, IMEI or serial numbers, a note.

Returns what was typed; the screen validates it through the order service. A
refusal brings the dialog back with the values and the service's reason at
the top, so nothing typed is lost. Enter moves to the next field and, on the
last one, ships; Esc closes without shipping.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Label

from shelfdesk.tui.screens.dialog import DialogScreen

FIELDS = (
    ("carrier", "Carrier", "Colissimo, UPS, DHL Express …"),
    # Hints fit their field whole at 80 columns (the dialog is 76 wide, 53 for the field).
    ("tracking_number", "Tracking number", "required on Back Market; Leboncoin: kept here only"),
    ("tracking_url", "Tracking URL", "optional"),
    ("identifiers", "IMEI / serial", "one per line of 1 unit, by commas; SKU=IMEI names it"),
    ("note", "Note", "kept with the order"),
)

FIELD_OF_ERROR = {
    "imei": "identifiers",
    "serial_number": "identifiers",
    "sku": "identifiers",
    "identifiers": "identifiers",
    "carrier": "carrier",
    "tracking_number": "tracking_number",
    "tracking_url": "tracking_url",
    "note": "note",
}
"""The field a refusal's ``ActionRefused.field`` points at; the cursor goes there, after what was typed."""


class OrderShipDialog(DialogScreen[dict[str, str] | None]):
    CSS_PATH = "ship_dialog.tcss"

    def __init__(self, order: str, values: dict[str, str] | None = None, error: str = "", error_field: str | None = None) -> None:
        super().__init__()
        self.order = order
        self.values = values or {}
        self.error = error
        self.error_field = FIELD_OF_ERROR.get(error_field or "")

    def compose(self) -> ComposeResult:
        with Vertical(id="order-ship"):
            yield Label(f"Ship order {self.order}", id="order-ship-title", markup=False)
            if self.error:
                yield Label(self.error, id="order-ship-error", markup=False)
            for key, label, hint in FIELDS:
                with Horizontal(classes="order-ship-row"):
                    yield Label(label, classes="order-ship-label", markup=False)
                    yield Input(
                        self.values.get(key, ""), placeholder=hint, id=f"ship-{key}", compact=True, select_on_focus=False
                    )  # typing adds to what is there, never replaces it
            with Horizontal(id="order-ship-buttons"):
                yield Button("Cancel", id="order-ship-cancel")
                yield Button("Ship", id="order-ship-go", variant="warning")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        target: Widget
        if self.error_field:  # refused: the cursor goes to the field at fault, after its text
            target = self.query_one(f"#ship-{self.error_field}", Input)
        elif self.error:  # refused for the order as a whole: the first empty field, else Ship
            empty = [field for field in self.query(Input) if not field.value]
            target = empty[0] if empty else self.query_one("#order-ship-go", Button)
        else:
            target = self.query_one("#ship-tracking_number" if self.values.get("carrier") else "#ship-carrier", Input)
        target.focus()
        if isinstance(target, Input):
            target.cursor_position = len(target.value)

    def _values(self) -> dict[str, str]:
        return {key: self.query_one(f"#ship-{key}", Input).value.strip() for key, _, _ in FIELDS}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == f"ship-{FIELDS[-1][0]}":
            self.dismiss(self._values())
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._values() if event.button.id == "order-ship-go" else None)
