"""The ``:`` command line, a one-line dialog at the bottom of the screen.

Operators coming from vim, k9s or less type ``:orders`` or ``:q`` without
thinking; this gives them that. It only collects and completes text: the App
parses it against the command table when the dialog closes, so the command
line can never run something the table does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from shelfdesk.tui.commands import Completion, bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class CommandLineScreen(DialogScreen[str | None]):
    """Returns the typed text on Enter, None on Esc."""

    CSS_PATH = "command_line.tcss"
    SCOPE: ClassVar[str] = "dialog.command-line"
    BINDINGS = bindings_for(SCOPE)
    FOOTER = False
    CANCEL_NOTE = ""

    def __init__(self, complete: Callable[[str], Completion], hint: str) -> None:
        super().__init__()
        self._complete = complete
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="command-line"):
            yield Static(self.hint, id="command-line-hint", markup=False)
            with Horizontal(id="command-line-row"):
                yield Label(":", id="command-line-prompt")
                yield Input(id="command-line-input", compact=True)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def action_complete(self) -> None:
        field = self.query_one(Input)
        completion = self._complete(field.value)
        field.value = completion.text
        field.cursor_position = len(completion.text)
        if len(completion.candidates) > 1:
            self.query_one("#command-line-hint", Static).update("  ".join(completion.candidates))

    @on(Input.Submitted, "#command-line-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
