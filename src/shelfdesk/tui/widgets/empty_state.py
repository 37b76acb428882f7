"""The honest placeholder for a screen whose table is not built yet.

An operator must never mistake a screen under construction for an empty
workspace, nor see made-up rows: this says what will appear here and which
piece of work brings it. Screens swap it for their real body later.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class EmptyState(Vertical):
    """A centred block: a title, what will appear here, and what brings it."""

    DEFAULT_CSS = """
    EmptyState {
        height: 1fr;
        align: center middle;
        padding: 0 2;
    }
    EmptyState > Static {
        width: 100%;
        max-width: 64;
    }
    EmptyState > .empty-title {
        text-style: bold;
        margin-bottom: 1;
    }
    EmptyState > .empty-body {
        margin-bottom: 1;
    }
    EmptyState > .empty-hint {
        color: $text-muted;
    }
    """

    def __init__(self, title: str, body: str, hint: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.body = body
        self.hint = hint

    def compose(self) -> ComposeResult:
        yield Static(self.title, classes="empty-title", markup=False)
        yield Static(self.body, classes="empty-body", markup=False)
        if self.hint:
            yield Static(self.hint, classes="empty-hint", markup=False)
