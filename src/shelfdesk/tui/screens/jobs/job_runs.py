"""One job's runs, newest first; Enter opens a run with its error and traceback.

A detail screen pushed from Jobs (Esc goes back). Runs are read in a thread
worker, at most 200 (the retention settings keep a month of them by default);
``shelfdesk jobs history`` shows the same from a shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import JobRunsLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow

if TYPE_CHECKING:
    from shelfdesk.jobs.runs import RunInfo

COLUMNS = [
    ("started", "Started", 19),
    ("trigger", "Trigger", 8),
    ("outcome", "Outcome", 9),
    ("took", "Took", 5),
    ("what", "Counts or error", 28),
]
RUNS_SHOWN = 200


class JobRunsScreen(ShelfdeskScreen):
    """Runs of one schedule key."""

    SCOPE = "job-runs"
    VIEW = "jobs"
    TITLE = "Job runs"
    CSS_PATH = "job_runs.tcss"
    BINDINGS = bindings_for(SCOPE)
    REFRESH_ON_JOB_RUNS: ClassVar[bool] = True

    def __init__(self, key: str, label: str) -> None:
        super().__init__()
        self.key = key
        self.label = label
        self.runs: dict[str, RunInfo] = {}

    def compose_body(self) -> ComposeResult:
        yield Label(f"Runs of {self.label} · loading…", id="runs-title", markup=False)
        yield DataWindow(COLUMNS, id="runs-table", zebra_stripes=False, cursor_foreground_priority="renderable")
        yield Static("", id="runs-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="job-runs", exclusive=True, exit_on_error=False, description="Loading job runs")
    def _load(self) -> None:
        from shelfdesk.jobs.runs import list_runs

        self.post_message(JobRunsLoaded(self.key, list_runs(self.ctx, self.key, limit=RUNS_SHOWN), self.ctx.clock.now()))

    def on_job_runs_loaded(self, message: JobRunsLoaded) -> None:
        from shelfdesk.jobs.display import run_cells

        self.runs = {str(run.id): run for run in message.runs}
        self.query_one(DataWindow).show([(str(run.id), list(run_cells(run, message.now))) for run in message.runs])
        failed = sum(1 for run in message.runs if str(run.outcome) == "failed")
        count = f"{len(message.runs)}" + ("+" if len(message.runs) == RUNS_SHOWN else "")
        title = f"Runs of {self.label} · {count} runs" + (f" · {failed} failed" if failed else "")
        self.query_one("#runs-title", Label).update(title if message.runs else f"Runs of {self.label} · it has not run yet")
        self._show_detail()

    def current(self) -> RunInfo | None:
        key = self.query_one(DataWindow).current_key
        return self.runs.get(key) if key else None

    def _show_detail(self) -> None:
        from shelfdesk.jobs.display import counts_text
        from shelfdesk.jobs.leases import holder_label

        run = self.current()
        text = ""
        if run is not None:
            text = f"run {run.id} by {holder_label(run.holder) or '?'} · counts: {counts_text(run)}"
            if run.error:
                text += f"\n{run.error_line} · Enter shows the traceback"
        self.query_one("#runs-detail", Static).update(text)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        from shelfdesk.tui.screens.jobs.job_run_detail import JobRunScreen

        run = self.current()
        if run is not None:
            self.app.push_screen(JobRunScreen(run.id))

    def action_run_now(self) -> None:
        self.shell.run_job_now(self.key)
