"""Asking for one value with a sensible default already typed (a CSV export's path, a product's stock)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class OrderPathPrompt(ModalScreen[str | None]):
    CSS_PATH = "order_prompt.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="order_prompt.cancel", tooltip="Close without writing")]

    def __init__(self, question: str, default: str, hint: str = "Enter writes the file · Esc cancels") -> None:
        super().__init__()
        self.question = question
        self.default = default
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="order-prompt"):
            yield Label(self.question, id="order-prompt-question", markup=False)
            yield Input(self.default, id="order-prompt-path", compact=True)
            yield Label(self.hint, classes="order-prompt-hint", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
