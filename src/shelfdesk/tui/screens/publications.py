"""The Publications screen: the history of product and offer feeds, and their errors.

Not built yet: it shows an honest empty state until issue #5 (publication engine) replaces
``compose_body`` with the real table (set ``FILTERABLE = True`` and implement
``apply_filter`` / ``refresh_data`` then).
"""

from __future__ import annotations

from textual.app import ComposeResult

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.empty_state import EmptyState


class PublicationsScreen(ShelfdeskScreen):
    """Publication history per channel and error triage."""

    SCOPE = "publications"
    VIEW = "publications"
    TITLE = "Publications"
    CSS_PATH = "publications.tcss"
    BINDINGS = bindings_for(SCOPE)

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Publications",
            (
                "Every publication of each channel's product and offer feeds will appear here "
                "with its counters, duration and status; failed items are grouped by cause so "
                "they can be fixed and re-published."
            ),
            "Not built yet: publications arrive with issue #5.",
            id="publications-empty",
        )
