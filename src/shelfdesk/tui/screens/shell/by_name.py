"""Screens opened by name from anywhere (``:webhooks``, ``:invoices``, the palette), without a number key.

The main screens are modes with their own key; these are pushed over the
current screen, so Esc returns where the operator was. Classes are imported
on first use, keeping them off the console's startup path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

#: name → "module:Class" of a screen that takes no argument.
EXTRA_SCREENS: dict[str, str] = {
    "webhooks": "shelfdesk.tui.screens.webhooks.webhook_screens:WebhooksScreen",
    "invoices": "shelfdesk.tui.screens.invoices.invoice_screens:InvoicesScreen",
}


def screen_class(name: str) -> Any:
    module, _, attr = EXTRA_SCREENS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def open_screen(app: App[Any], name: str) -> None:
    """Push screen ``name`` unless it is already the one on top."""
    cls = screen_class(name)
    if not isinstance(app.screen, cls):
        app.push_screen(cls())
