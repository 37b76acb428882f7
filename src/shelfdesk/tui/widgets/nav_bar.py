"""The top line: which main screens exist, their keys, and where the operator is.

The footer has room for about six keys, so the five screen keys live here
instead, always visible. The current screen is shown in reverse video as well
as in colour, so it stays obvious with NO_COLOR or a 16-colour terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label


class NavBar(Horizontal):
    """``shelfdesk  1 Stores  2 Mappings  …`` with the current screen highlighted."""

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        width: 100%;
    }
    NavBar > Label {
        width: auto;
        padding: 0 1;
    }
    NavBar > .nav-brand {
        text-style: bold;
    }
    NavBar > .nav-item.-current {
        text-style: reverse bold;
    }
    """

    def __init__(self, items: Sequence[tuple[str, str, str]], current: str) -> None:
        """``items`` are (key shown, title, view name); ``current`` is the view to highlight."""
        super().__init__()
        self.items = list(items)
        self.current = current

    def compose(self) -> ComposeResult:
        yield Label("shelfdesk", classes="nav-brand")
        for key, title, view in self.items:
            classes = "nav-item -current" if view == self.current else "nav-item"
            yield Label(f"{key} {title}", classes=classes, id=f"nav-{view}", markup=False)
