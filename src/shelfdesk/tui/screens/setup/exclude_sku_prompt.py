"""Ask for the SKU of a product to keep out of a channel by hand."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from shelfdesk.tui.screens.dialog import DialogScreen


class SkuPrompt(DialogScreen[str | None]):
    CSS_PATH = ["setup_form.tcss", "exclude_sku_prompt.tcss"]

    def compose(self) -> ComposeResult:
        with Vertical(classes="setup-form", id="sku-prompt"):
            yield Label("Exclude a product from this channel", classes="form-title", markup=False)
            yield Input(placeholder="SKU", id="sku-value")
            yield Label("Enter excludes it (a rule of its own, listed as manual) · Esc cancels", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
