"""The ``/`` filter line shown above the status bar.

It only collects text: it posts :class:`~shelfdesk.tui.messages.FilterChanged`
and the screen decides what filtering means (a SQL condition for a
database-backed table). The filter stays visible while set, so nobody reads a
filtered table as the whole list.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from shelfdesk.tui.messages import FilterChanged


class FilterBar(Horizontal):
    """A one-line ``/`` input; hidden until opened, kept visible while a filter is set."""

    DEFAULT_CSS = """
    FilterBar {
        display: none;
        height: 1;
        width: 100%;
    }
    FilterBar.-open {
        display: block;
    }
    FilterBar > Label {
        width: auto;
        padding: 0 1;
        text-style: bold;
    }
    FilterBar > Input {
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("escape", "clear", "Clear filter", show=False, id="filter.clear", tooltip="Clear the filter and close it"),
    ]

    def compose(self) -> ComposeResult:
        yield Label("/")
        yield Input(
            placeholder="filter (Enter keeps it, Esc clears it)",
            compact=True,
            id="filter-input",
            disabled=True,  # not focusable while the bar is closed
        )

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        """Show the filter line and put the cursor in it."""
        self.add_class("-open")
        field = self.query_one(Input)
        field.disabled = False
        field.focus()

    def action_clear(self) -> None:
        """Empty and hide the filter (Esc)."""
        self.clear()

    def clear(self) -> None:
        field = self.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = ""
        self._close()
        self.post_message(FilterChanged("", submitted=True))

    def _close(self) -> None:
        self.remove_class("-open")
        self.query_one(Input).disabled = True

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            self._close()
        self.post_message(FilterChanged(event.value, submitted=True))
