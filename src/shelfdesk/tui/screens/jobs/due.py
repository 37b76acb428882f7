"""The Due list (``D`` from any screen): everything due before a marketplace penalises it.

The same list as ``shelfdesk due`` (:func:`shelfdesk.services.deadlines.list_due`),
read in a thread worker: grouped by what to do (the group with the most
urgent item first), most urgent first within a group, with the time left and
overdue items in red. Enter leaves the list for the order's detail on the
Orders screen, where its actions are one key away, or for the account whose
token is to renew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import DueLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow

if TYPE_CHECKING:
    from datetime import datetime

    from shelfdesk.deadlines import Due
    from shelfdesk.tui.app import ShelfdeskApp

COLUMNS = [("left", "Left", 12), ("todo", "To do", 20), ("what", "Order", 14), ("by", "Due (UTC)", 11), ("why", "Why", 14)]
#: Urgencies drawn in red (overdue) or bold (within the hour).
_STYLES = {"overdue": "bold red", "within 1 h": "bold"}


def grouped(items: list[Due]) -> list[Due]:
    """Grouped by kind, each group where its most urgent item falls (``items`` come most urgent first)."""
    groups: dict[str, list[Due]] = {}
    for d in items:
        groups.setdefault(str(d.kind), []).append(d)
    return [d for group in groups.values() for d in group]


def summary(counts: dict[str, int]) -> str:
    """``2 overdue · 1 within 1 h …`` (urgencies with items only)."""
    return " · ".join(f"{n} {u}" for u, n in counts.items() if n)


class DueScreen(ShelfdeskScreen):
    """Everything due, most urgent first; Enter goes to the order or account."""

    SCOPE = "due"
    VIEW = ""
    TITLE = "Due"
    CSS_PATH = "due.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Due] = []
        self.now: datetime | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Due · loading…", id="due-title", markup=False)
        yield DataWindow(COLUMNS, id="due-table", zebra_stripes=False, cursor_foreground_priority="renderable")
        yield Static("", id="due-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="due", exclusive=True, exit_on_error=False, description="Listing what is due")
    def _load(self) -> None:
        from shelfdesk.services.deadlines import list_due

        self.post_message(DueLoaded(list_due(self.ctx)))

    def on_due_loaded(self, message: DueLoaded) -> None:
        from shelfdesk.deadlines import format_left

        now = self.now = message.due.now
        self.items = grouped(message.due.items)
        rows = []
        for n, d in enumerate(self.items):
            style = _STYLES.get(str(d.urgency(now)), "")
            rows.append(
                (str(n), [Text(format_left(d.left(now)), style=style), str(d.kind), d.reference, f"{d.due_at:%m-%d %H:%M}", d.note or ""])
            )
        self.query_one(DataWindow).show(rows)
        counts = {str(u): c for u, c in message.due.counts().items()}
        title = f"Due · {summary(counts)}" if self.items else "Due · nothing: no deadline waits on you"
        self.query_one("#due-title", Label).update(title)
        self._show_detail()

    def current(self) -> Due | None:
        key = self.query_one(DataWindow).current_key
        return self.items[int(key)] if key is not None and int(key) < len(self.items) else None

    def _show_detail(self) -> None:
        d = self.current()
        text = (
            ""
            if d is None
            else f"{d.kind} {d.reference} by {d.due_at:%Y-%m-%d %H:%M} UTC ({d.source}).\n"
            f"If missed: {d.consequence}." + (f"\nWaits because: {d.note}" if d.note else "")
        )
        self.query_one("#due-detail", Static).update(text)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_due()

    def action_open_due(self) -> None:
        d = self.current()
        if d is not None:
            # On the App: this screen closes on the way, and its own workers with it.
            self.app.run_worker(
                go_to_due(self.shell, d), group="navigate", exclusive=True, exit_on_error=False, description="Opening what is due"
            )


async def go_to_due(app: ShelfdeskApp, due: Due) -> None:
    """Leave the Due list for the order's detail (orders, lines, actions) or the account (tokens)."""
    from shelfdesk.jobs.alerts import Alert, Severity
    from shelfdesk.tui.screens.jobs.alerts import go_to

    if isinstance(app.screen, DueScreen):
        await app.pop_screen()
    target = ("order", due.order_id) if due.order_id is not None else (due.target_type, due.target_id)
    message = f"{due.kind} {due.reference} by {due.due_at:%Y-%m-%d %H:%M} UTC"
    await go_to(app, Alert("deadline", Severity.warning, message, *target))
