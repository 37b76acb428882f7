"""The Mappings screen: category and column mappings per channel.

Not built yet: it shows an honest empty state until issue #4 (category and column mappings, exclusions) replaces
``compose_body`` with the real table (set ``FILTERABLE = True`` and implement
``apply_filter`` / ``refresh_data`` then).
"""

from __future__ import annotations

from textual.app import ComposeResult

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.empty_state import EmptyState


class MappingsScreen(ShelfdeskScreen):
    """Category mapping, column mapping, exclusions and readiness per channel."""

    SCOPE = "mappings"
    VIEW = "mappings"
    TITLE = "Mappings"
    CSS_PATH = "mappings.tcss"
    BINDINGS = bindings_for(SCOPE)

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Mappings",
            (
                "For each channel: merchant categories mapped to marketplace categories (unmapped"
                " ones first, with product counts), channel attributes mapped to catalog columns "
                "with a preview, exclusion rules with a live count, and the readiness panel."
            ),
            "Not built yet: mappings and exclusions arrive with issue #4.",
            id="mappings-empty",
        )
