"""Confirming a publication that sends again (re-publishing failed items): count and sample SKUs, No focused."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class PublishConfirm(ModalScreen[bool]):
    """Enter on the focused button; Esc (or No, focused first) cancels."""

    CSS_PATH = "publish_confirm.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="publish_confirm.cancel", tooltip="Do nothing")]

    def __init__(self, question: str, samples: list[str]) -> None:
        super().__init__()
        self.question = question
        self.samples = samples

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-question", markup=False)
            if self.samples:
                yield Label("e.g. " + ", ".join(self.samples), id="confirm-samples", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("No", id="confirm-no", variant="default")
                yield Button("Yes, send", id="confirm-yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_cancel(self) -> None:
        self.dismiss(False)
