"""Pick a marketplace leaf category for a merchant category: suggestions first, then search as you type.

Only leaves are listed (a product is published in a leaf); each line shows the
path, the default cost and whether lines need an IMEI or serial number.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.dialog import DialogScreen

MAX_SHOWN = 200


def leaf_text(leaf: Any, marker: str = "") -> str:
    cost = f"{leaf.commission.normalize():f}%" if leaf.commission is not None else ""
    if leaf.insertion_fee is not None:
        cost += f" / €{leaf.insertion_fee}"
    needs = f" · {leaf.needs.upper()}" if leaf.needs else ""
    return f"{marker}{leaf.path}  ({cost}{needs})"


class CategoryPicker(DialogScreen[str | None]):
    CSS_PATH = ["setup_form.tcss", "category_picker.tcss"]
    SCOPE: ClassVar[str] = "dialog.category-picker"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, merchant: str, leaves: list[Any], suggestions: list[Any]) -> None:
        super().__init__()
        self.merchant = merchant
        self.leaves = leaves
        self.suggestions = suggestions

    def compose(self) -> ComposeResult:
        with Vertical(classes="setup-form", id="category-picker"):
            yield Label(f"Map “{self.merchant}” to", classes="form-title", markup=False)
            yield Input(placeholder="type to search (e.g. laptop)", id="picker-search")
            yield OptionList(id="picker-list")
            yield Label("Type to search · ↓ then Enter picks · Esc cancels", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()
        self._fill("")

    def _fill(self, query: str) -> None:
        from shelfdesk.catalog.columns import normalize_name

        words = normalize_name(query).split()
        options: list[Option] = []
        seen: set[str] = set()
        if not words:
            for leaf in self.suggestions:
                options.append(Option(leaf_text(leaf, "★ "), id=leaf.id))
                seen.add(leaf.id)
        for leaf in self.leaves:
            if leaf.id in seen:
                continue
            if all(word in normalize_name(leaf.path) for word in words):
                options.append(Option(leaf_text(leaf), id=leaf.id))
            if len(options) >= MAX_SHOWN:
                break
        picker = self.query_one(OptionList)
        picker.clear_options()
        if not options:  # an empty box looked like a list still loading
            picker.add_option(Option(f"No category matches “{query.strip()}”: try another word", disabled=True))
            return
        picker.add_options(options)
        picker.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, _: Input.Submitted) -> None:
        picker = self.query_one(OptionList)
        if picker.highlighted is not None and picker.option_count:
            self.dismiss(picker.get_option_at_index(picker.highlighted).id)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
