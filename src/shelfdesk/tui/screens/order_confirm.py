"""Confirming a bulk order action: the action, the count, sample order ids; "No" focused.

Enter presses the focused button, so Enter alone never changes anything;
``y`` confirms, Esc or ``n`` cancels. An optional reason field (cancel) is
returned with the answer.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class OrderConfirm(ModalScreen[dict[str, str] | None]):
    """Returns ``{"reason": …}`` (empty dict without a reason field) on yes, None on no."""

    CSS_PATH = "order_confirm.tcss"
    BINDINGS = [
        Binding("escape,n", "cancel", "No", id="order_confirm.cancel", tooltip="Do nothing"),
        Binding("y", "confirm", "Yes", id="order_confirm.yes", tooltip="Go ahead"),
    ]

    def __init__(self, question: str, samples: str, *, confirm: str = "Yes", reason: str = "") -> None:
        super().__init__()
        self.question = question
        self.samples = samples
        self.confirm_label = confirm
        self.reason_label = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="order-confirm"):
            yield Label(self.question, id="order-confirm-question", markup=False)
            if self.samples:
                yield Label(self.samples, id="order-confirm-samples", markup=False)
            if self.reason_label:
                yield Label(self.reason_label, classes="order-confirm-hint", markup=False)
                # A compact input has no border: empty, only its placeholder shows that it is there.
                yield Input(placeholder="optional · shift+Tab to type it", id="order-confirm-reason", compact=True)
            yield Label("y confirms · n or Esc cancels", classes="order-confirm-hint", markup=False)
            with Horizontal(id="order-confirm-buttons"):
                yield Button("No", id="order-confirm-no", variant="default")
                yield Button(self.confirm_label, id="order-confirm-yes", variant="warning")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#order-confirm-no", Button).focus()

    def _answer(self) -> dict[str, str]:
        fields = self.query(Input)
        return {"reason": fields.first().value.strip()} if fields else {}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._answer() if event.button.id == "order-confirm-yes" else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#order-confirm-no", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(self._answer())

    def action_cancel(self) -> None:
        self.dismiss(None)
