"""The Jobs screen: scheduled sync jobs and their runs.

Not built yet: it shows an honest empty state until issue #7 (sync jobs and alerts) replaces
``compose_body`` with the real table (set ``FILTERABLE = True`` and implement
``apply_filter`` / ``refresh_data`` then).
"""

from __future__ import annotations

from textual.app import ComposeResult

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.empty_state import EmptyState


class JobsScreen(ShelfdeskScreen):
    """Scheduled sync jobs, their runs and leases."""

    SCOPE = "jobs"
    VIEW = "jobs"
    TITLE = "Jobs"
    CSS_PATH = "jobs.tcss"
    BINDINGS = bindings_for(SCOPE)

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Jobs",
            (
                "Scheduled sync jobs will appear here (order harvest, outbox sender, offers and "
                "products publication, repricer, token checks), each with its last and next run, "
                "lease holder and failures in a row."
            ),
            "Not built yet: jobs and alerts arrive with issue #7.",
            id="jobs-empty",
        )
