"""Asking for one value with a sensible default already typed (a CSV export's path, a product's stock)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class OrderPathPrompt(DialogScreen[str | None]):
    CSS_PATH = "export_path_prompt.tcss"
    SCOPE: ClassVar[str] = "dialog.path"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, question: str, default: str, hint: str = "Enter writes the file · Esc cancels") -> None:
        super().__init__()
        self.question = question
        self.default = default
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="order-prompt"):
            yield Label(self.question, id="order-prompt-question", markup=False)
            yield Input(self.default, id="order-prompt-path", compact=True, classes="path-field")
            yield Label(self.hint, classes="order-prompt-hint", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
