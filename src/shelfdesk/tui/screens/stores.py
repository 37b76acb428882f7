"""The Stores screen: stores and their channels, with readiness lights.

Not built yet: it shows an honest empty state until issue #4 (stores, catalog import and channel set-up) replaces
``compose_body`` with the real table (set ``FILTERABLE = True`` and implement
``apply_filter`` / ``refresh_data`` then).
"""

from __future__ import annotations

from textual.app import ComposeResult

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.empty_state import EmptyState


class StoresScreen(ShelfdeskScreen):
    """Stores and their channels, with readiness and catalog imports."""

    SCOPE = "stores"
    VIEW = "stores"
    TITLE = "Stores"
    CSS_PATH = "stores.tcss"
    BINDINGS = bindings_for(SCOPE)

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Stores",
            (
                "Your stores and their channels will appear here: each channel with its three "
                "readiness lights (categories, mapping, API settings), the last catalog import "
                "and product counts."
            ),
            "Not built yet: stores, channels and catalog import arrive with issue #4.",
            id="stores-empty",
        )
