"""What ``s`` on Mappings would map, shown first: tick the proposals to keep, then map them.

Every proposal starts ticked (``s`` then ctrl+s keeps the old "map them all");
space unticks one, ``a`` ticks or unticks them all, Esc maps nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, SelectionList

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen


class SuggestionsDialog(DialogScreen[list[str] | None]):
    """Returns the names of the ticked proposals, or None."""

    CSS_PATH = "suggestions_dialog.tcss"
    SCOPE: ClassVar[str] = "dialog.suggestions"
    BINDINGS = bindings_for(SCOPE)
    CANCEL_NOTE = "Nothing mapped."
    HELP_TITLE = "suggestions"

    def __init__(self, title: str, proposals: list[Any], *, unit: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.proposals = proposals
        self.unit = unit

    def compose(self) -> ComposeResult:
        with Vertical(id="suggestions"):
            yield Label(self.title_text, id="suggestions-title", markup=False)
            yield SelectionList[str](*[(self._line(p), p.name, True) for p in self.proposals], id="suggestions-list")
            yield Label(
                "Space ticks or unticks · a all or none · ctrl+s maps the ticked ones · Esc maps nothing",
                classes="suggestions-hint",
                markup=False,
            )

    def _line(self, proposal: Any) -> str:
        count = f"  ({proposal.products:,} {self.unit})" if self.unit and proposal.products else ""
        return f"{proposal.name} → {proposal.target}{count}"

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_toggle_all(self) -> None:
        selection = self.query_one(SelectionList)
        if len(selection.selected) == len(self.proposals):
            selection.deselect_all()
        else:
            selection.select_all()

    def action_save(self) -> None:
        chosen = list(self.query_one(SelectionList).selected)
        if not chosen:
            self.notify("Nothing is ticked: space ticks a proposal, Esc closes.", title="Suggestions", severity="warning")
            return
        self.dismiss(chosen)
