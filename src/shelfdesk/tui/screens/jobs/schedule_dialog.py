"""The "edit schedule" dialog: how often one job runs, typed as 30s, 5m, 2h or 1d.

Returns the new interval in seconds on Enter (after checking it), None on
Esc. The Jobs screen writes it; every console and worker picks it up at its
next version check (within 30 s).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from shelfdesk.tui.screens.dialog import DialogScreen


class ScheduleDialog(DialogScreen[int | None]):
    """One Input, pre-filled with the current interval."""

    CSS_PATH = "schedule_dialog.tcss"

    def __init__(self, title: str, current: str) -> None:
        super().__init__()
        self.job_title = title
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="schedule-dialog"):
            yield Label(f"How often should {self.job_title} run?", id="schedule-title", markup=False)
            with Horizontal(id="schedule-row"):
                yield Label("every ", id="schedule-prompt")
                yield Input(self.current, id="schedule-input", compact=True)
            yield Static("30s, 5m, 2h or 1d · Enter saves · Esc cancels", id="schedule-hint", markup=False)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    @on(Input.Submitted, "#schedule-input")
    def _submitted(self, event: Input.Submitted) -> None:
        from shelfdesk.jobs.schedules import ScheduleError, parse_interval

        try:
            seconds = parse_interval(event.value)
        except ScheduleError as exc:
            hint = self.query_one("#schedule-hint", Static)
            hint.update(str(exc))
            hint.add_class("-error")
            return
        self.dismiss(seconds)
