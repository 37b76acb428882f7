"""What every dialog of the console shares: its keys from the command table, a footer, F1, Esc.

A dialog sets ``SCOPE`` to its rows of the command table (``dialog.confirm``,
``dialog.form`` …) and ``BINDINGS = bindings_for(SCOPE)``; Esc (cancel) and F1
(its keys) come from the ``dialog`` rows bound here. Its own footer covers the
footer of the screen below, whose keys do not work while the dialog is open,
so what the footer shows is always what works. Closing without acting says so
(``CANCEL_NOTE``), so an operator never wonders whether something was sent.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.screen import ModalScreen
from textual.widgets import Footer

from shelfdesk.tui.commands import DIALOG, bindings_for, help_sections
from shelfdesk.tui.screens.console_access import ConsoleAccess

ResultType = TypeVar("ResultType")


class DialogScreen(ConsoleAccess, ModalScreen[ResultType], Generic[ResultType]):
    """Base of every modal dialog; subclasses compose their body and answer with ``dismiss``."""

    SCOPE: ClassVar[str] = DIALOG
    BINDINGS = bindings_for(DIALOG)
    FOOTER: ClassVar[bool] = True
    """A footer with the dialog's keys (off for the one-line command prompt)."""
    CANCEL_NOTE: ClassVar[str] = "Closed: nothing was changed."
    """Toast when the dialog is closed without acting ("" for dialogs that only show something)."""
    HELP_TITLE: ClassVar[str] = "this dialog"

    def on_mount(self) -> None:
        if self.FOOTER:
            self.mount(Footer(compact=True))

    def action_cancel(self) -> None:
        """Esc (and n where there is a No): close without acting, and say so."""
        if self.CANCEL_NOTE:
            self.app.notify(self.CANCEL_NOTE, title="Cancelled", timeout=3)
        self.dismiss(None)

    def action_complete_path(self) -> None:
        """Tab in a dialog with a path field (``dialog.path``): complete the path, elsewhere move on."""
        from textual.widgets import Input

        from shelfdesk.tui.path_completion import complete_path

        field = self.focused
        if not isinstance(field, Input) or not field.has_class("path-field"):
            self.focus_next()
            return
        completion = complete_path(field.value)
        if completion.text == field.value and len(completion.candidates) <= 1:
            self.focus_next()  # nothing to complete: Tab moves on as everywhere else
            return
        field.value = completion.text
        field.cursor_position = len(field.value)
        if len(completion.candidates) > 1:
            shown = ", ".join(name for name in completion.candidates[:8])
            more = f" … {len(completion.candidates) - 8} more" if len(completion.candidates) > 8 else ""
            self.app.notify(shown + more, title="Files", timeout=4)

    def action_help(self) -> None:
        """F1: the keys of this dialog, from the same table as its footer."""
        from shelfdesk.tui.screens.shell.help import HelpScreen

        read_only = bool(getattr(getattr(self.app, "ctx", None), "read_only", False))
        self.app.push_screen(HelpScreen(self.HELP_TITLE, help_sections(self.shell, self.SCOPE, self.HELP_TITLE), read_only))
