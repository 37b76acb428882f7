"""The one yes/no question of the console, before anything that cannot be taken back.

Re-publishing, deleting a rule, accepting or cancelling orders, issuing an
invoice: all ask here, so they all behave alike. No is focused, so Enter alone
never changes anything; ``y`` confirms, ``n`` or Esc cancels (and says so).
An optional field (a cancellation reason, an invoice number) comes back as
typed; Enter in it moves to the confirming button, never to No.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class ConfirmDialog(DialogScreen[str]):
    """Returns the field's text ("" without a field) on yes, None on no.

    ``samples`` name a few of the things concerned (SKUs, order ids): a list
    reads "e.g. a, b", a string is shown as it is. ``details`` are extra lines;
    ``yes`` is the confirming button's label, saying what it does.
    """

    SCOPE: ClassVar[str] = "dialog.confirm"
    BINDINGS = bindings_for(SCOPE)
    CSS_PATH = "confirm_dialog.tcss"
    HELP_TITLE = "confirmation"

    def __init__(
        self,
        question: str,
        samples: Sequence[str] | str = (),
        *,
        yes: str = "Yes",
        details: Sequence[str] = (),
        field: str = "",
        value: str = "",
        placeholder: str = "",
        cancelled: str = "",
    ) -> None:
        super().__init__()
        self.question = question
        self.samples = samples if isinstance(samples, str) else ("e.g. " + ", ".join(samples) if samples else "")
        self.yes = yes
        self.details = list(details)
        self.field_label = field
        self.value = value
        self.placeholder = placeholder or "optional · shift+Tab to type it"
        self.cancelled = cancelled

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-question", markup=False)
            if self.samples:
                yield Label(self.samples, id="confirm-samples", markup=False)
            for line in self.details:
                yield Label(line, classes="confirm-detail", markup=False)
            if self.field_label:
                yield Label(self.field_label, classes="confirm-hint", markup=False)
                # A compact input has no border: empty, only its placeholder shows that it is there.
                yield Input(self.value, placeholder=self.placeholder, id="confirm-field", compact=True)
            yield Label(self._hint(), classes="confirm-hint", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("No", id="confirm-no", variant="default")
                yield Button(self.yes, id="confirm-yes", variant="warning")

    def _hint(self) -> str:
        if self.field_label:
            return "y confirms · n or Esc cancels · Enter in the field moves to " + self.yes
        return "y confirms · n or Esc cancels"

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#confirm-no", Button).focus()

    def _answer(self) -> str:
        fields = self.query(Input)
        return fields.first().value.strip() if fields else ""

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm-yes":
            self.dismiss(self._answer())
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#confirm-yes", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(self._answer())

    def action_refuse(self) -> None:
        """n: the same as Esc (its own action, so the footer shows both keys)."""
        self.action_cancel()

    def action_cancel(self) -> None:
        self.app.notify(self.cancelled or f"Not confirmed: {self.question.rstrip('?')} — nothing done.", title="Cancelled", timeout=3)
        self.dismiss(None)
