"""What every screen and dialog of the console reads from its App: the App itself, typed, and the workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from textual.app import App

    from shelfdesk.context import AppContext
    from shelfdesk.tui.app import ShelfdeskApp


class ConsoleAccess:
    """Mixed into the console's screens and dialogs (Textual types ``self.app`` as its base App)."""

    app: App[Any]  # Textual's, on the screen this is mixed into

    @property
    def shell(self) -> ShelfdeskApp:
        return cast("ShelfdeskApp", self.app)

    @property
    def ctx(self) -> AppContext:
        return self.shell.ctx
