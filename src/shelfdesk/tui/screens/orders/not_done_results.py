"""The outcome of a bulk order action: each refused or failed order with its reason."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class OrderResults(DialogScreen[None]):
    CSS_PATH = "not_done_results.tcss"
    SCOPE: ClassVar[str] = "dialog.results"
    BINDINGS = bindings_for(SCOPE)
    CANCEL_NOTE = ""

    def __init__(self, label: str, lines: list[str]) -> None:
        super().__init__()
        self.label = label
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="order-results"):
            count = len(self.lines)
            yield Label(f"{self.label}: {count:,} order{'' if count == 1 else 's'} not done", id="order-results-title", markup=False)
            with VerticalScroll(id="order-results-list"):
                yield Static("\n".join(self.lines), markup=False)
            yield Button("Close", id="order-results-close")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
