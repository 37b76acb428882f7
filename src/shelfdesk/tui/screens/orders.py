"""The Orders screen: orders from every marketplace account.

Not built yet: it shows an honest empty state until issue #6 (order harvest and actions) replaces
``compose_body`` with the real table (set ``FILTERABLE = True`` and implement
``apply_filter`` / ``refresh_data`` then).
"""

from __future__ import annotations

from textual.app import ComposeResult

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.empty_state import EmptyState


class OrdersScreen(ShelfdeskScreen):
    """Orders harvested from every marketplace account."""

    SCOPE = "orders"
    VIEW = "orders"
    TITLE = "Orders"
    CSS_PATH = "orders.tcss"
    BINDINGS = bindings_for(SCOPE)

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Orders",
            (
                "Orders harvested from your marketplace accounts (Back Market, Leboncoin) will "
                "appear here, newest first, with their status, buyer, total and channel; you will"
                " filter them, mark them and accept, ship or cancel them in bulk."
            ),
            "Not built yet: the orders table arrives with issue #6 (harvest and order actions).",
            id="orders-empty",
        )
