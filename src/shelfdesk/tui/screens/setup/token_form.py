"""Replace an account's token: typed into a masked field (or named as an environment variable)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from shelfdesk.tui.screens.dialog import DialogScreen
from shelfdesk.tui.screens.setup.store_form import form_row


class TokenForm(DialogScreen[dict[str, str] | None]):
    """The new token is never shown; saving resets its expiry and asks for a new connection test."""

    CSS_PATH = ["setup_form.tcss", "token_form.tcss"]

    def __init__(self, account_name: str) -> None:
        super().__init__()
        self.account_name = account_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="setup-form", id="token-form"):
            yield Label(f"Replace the token of {self.account_name}", classes="form-title", markup=False)
            yield form_row("New token", Input(password=True, placeholder="paste the renewed token", id="token-value", compact=True))
            yield form_row("or env variable", Input(placeholder="SHELFDESK_BM_TOKEN", id="token-env", compact=True))
            yield Label(
                "Kept in the workspace secrets file (0600), never shown again in full · Enter saves · Esc cancels",
                classes="form-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#token-value", Input).focus()

    def on_input_submitted(self, _: Input.Submitted) -> None:
        token = self.query_one("#token-value", Input).value.strip()
        env = self.query_one("#token-env", Input).value.strip()
        if token or env:
            self.dismiss({"token": token, "token_env": env})
