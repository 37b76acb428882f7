"""The ``?`` / F1 help screen, generated from the command table.

It lists what the operator can do *here*: the current screen's own commands
first, then the screen keys and the keys that work everywhere, with the
``:`` names beside them. Commands disabled by read-only mode stay listed but
are marked, so nobody wonders where a key went.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from shelfdesk.tui.commands import HelpRow, bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class HelpScreen(DialogScreen[None]):
    """A scrollable list of keys and commands; Esc, q, ? or F1 closes it."""

    CSS_PATH = "help.tcss"
    SCOPE: ClassVar[str] = "dialog.help"
    BINDINGS = bindings_for(SCOPE)
    CANCEL_NOTE = ""

    def action_help(self) -> None:
        """F1 closes the help it opened."""
        self.action_cancel()

    def __init__(self, title: str, sections: list[tuple[str, list[HelpRow]]], read_only: bool) -> None:
        super().__init__()
        self.help_title = title
        self.sections = sections
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label(f"Keys and commands: {self.help_title}", id="help-title", markup=False)
            with VerticalScroll(id="help-body"):
                yield Static(self._render_sections(), id="help-text")
            note = "Read-only workspace: commands that change data are disabled. " if self.read_only else ""
            yield Label(f"{note}Esc, q or ? closes; arrows and PgUp/PgDn scroll.", id="help-hint", markup=False)

    def _render_sections(self) -> Group:
        parts: list[RenderableType] = []
        for heading, rows in self.sections:
            table = Table(box=None, show_header=False, padding=(0, 1), expand=True, pad_edge=False)
            table.add_column("keys", no_wrap=True, width=8, style="bold")
            table.add_column("name", width=13)  # wraps: ":invoiced yes|no|all" was cut to ":invoiced ye…"
            table.add_column("what", ratio=1)
            for row in rows:
                what = row.description if row.enabled else f"{row.description} (disabled: read-only)"
                table.add_row(row.keys, row.name, what, style=None if row.enabled else "dim")
            parts.append(Text(heading, style="bold underline"))
            parts.append(table)
            parts.append(Text(""))
        return Group(*parts[:-1])
