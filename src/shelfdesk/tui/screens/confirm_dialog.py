"""A yes/no question before something that cannot be taken back (re-publishing, deleting): No is focused."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmDialog(ModalScreen[bool]):
    """Enter on the focused button; Esc (or No, focused first) cancels.

    ``samples`` name a few of the things concerned (SKUs, order ids);
    ``yes`` is the confirming button's label, saying what it does.
    """

    CSS_PATH = "confirm_dialog.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm_dialog.cancel", tooltip="Do nothing")]

    def __init__(self, question: str, samples: list[str] | None = None, *, yes: str = "Yes, send") -> None:
        super().__init__()
        self.question = question
        self.samples = samples or []
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-question", markup=False)
            if self.samples:
                yield Label("e.g. " + ", ".join(self.samples), id="confirm-samples", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("No", id="confirm-no", variant="default")
                yield Button(self.yes, id="confirm-yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_cancel(self) -> None:
        self.dismiss(False)
