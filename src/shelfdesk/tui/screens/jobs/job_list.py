"""The Jobs screen: every scheduled sync job, its last and next run, who runs it, how it fails.

One row per schedule (job × channel): job, channel, interval, last run (time
and outcome), next run, lease holder (the process running it now, whichever
console or worker that is) and failures in a row. The lines under the table
tell the highlighted job's whole story: what it is, its last run's counts or
error, why it is inactive. ``r`` runs it now, ``p`` pauses or resumes it,
``e`` edits its schedule, Enter opens its runs.

Data comes from :mod:`shelfdesk.jobs.health` in a thread worker; the screen
polls every few seconds with ``set_timer`` after each load (never
``set_interval``, so loads never overlap) and only while it is on screen.
Changes go through :mod:`shelfdesk.jobs.schedules`, so every other console and
worker sees them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import DataTable, Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import JobsLoaded, OperationDone
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import DataWindow

if TYPE_CHECKING:
    from datetime import datetime

    from shelfdesk.jobs.health import JobRow

#: The channel is its short code ("BM FR"); the line under the table names it in full.
COLUMNS = [
    ("job", "Job", 9),
    ("channel", "Channel", 9),
    ("every", "Every", 5),
    ("last", "Last run", 15),
    ("next", "Next", 6),
    ("lease", "Lease", 16),
    ("fails", "Fail", 4),
]


class JobsScreen(ShelfdeskScreen):
    """Scheduled sync jobs, their runs and leases."""

    SCOPE = "jobs"
    VIEW = "jobs"
    TITLE = "Jobs"
    CSS_PATH = "job_list.tcss"
    BINDINGS = bindings_for(SCOPE)
    FILTERABLE = True
    POLL_SECONDS: ClassVar[float] = 5.0
    REFRESH_ON_JOB_RUNS: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, JobRow] = {}
        self.codes: dict[int, str] = {}
        self.now: datetime | None = None
        self._timer: Timer | None = None
        self._target: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Jobs · loading…", id="jobs-title", markup=False)
        yield DataWindow(COLUMNS, id="jobs-table", zebra_stripes=False, cursor_foreground_priority="renderable")
        yield Static("", id="jobs-detail", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.rows:  # back from a detail screen or another view: show fresh data
            self.refresh_data()

    # ------------------------------------------------------------ loading

    @property
    def table(self) -> DataWindow:
        return self.query_one(DataWindow)

    def refresh_data(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._load()

    @work(thread=True, group="jobs-load", exclusive=True, exit_on_error=False, description="Loading jobs")
    def _load(self) -> None:
        from shelfdesk.jobs.health import job_rows
        from shelfdesk.orders.queries import lookups

        rows = job_rows(self.ctx)
        self.post_message(JobsLoaded(rows, self.ctx.clock.now(), lookups(self.ctx).codes))

    def on_jobs_loaded(self, message: JobsLoaded) -> None:
        self.rows = {row.key: row for row in message.rows}
        self.codes = message.codes
        self.now = message.now
        self._show()
        self.refresh_bindings()
        if self._target and self._target in self.rows:
            self.table.move_to(self._target)
            self._target = None
        if self._timer is None and self.is_attached:
            self._timer = self.set_timer(self.POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        self._timer = None
        if self.app.screen is self:  # hidden or under a dialog: the next resume reloads
            self._load()

    def _show(self) -> None:
        assert self.now is not None
        wanted = self.filter_text.lower()
        shown = [row for row in self.rows.values() if not wanted or wanted in f"{row.key} {row.schedule.where} {row.state}".lower()]
        self.table.show([(row.key, self._cells(row)) for row in shown])
        failing = sum(1 for row in self.rows.values() if row.failures_in_a_row)
        paused = sum(1 for row in self.rows.values() if row.schedule.paused)
        parts = [f"Jobs · {len(shown)}" + (f" of {len(self.rows)}" if len(shown) != len(self.rows) else "")]
        if failing:
            parts.append(f"{failing} failing")
        if paused:
            parts.append(f"{paused} paused")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if not self.rows:
            parts.append("no jobs yet: they appear with the workspace's first channel")
        self.query_one("#jobs-title", Label).update(" · ".join(parts))
        self._show_detail()

    def _cells(self, row: JobRow) -> list[str]:
        from shelfdesk.jobs.display import job_cells

        assert self.now is not None
        cells = list(job_cells(row, self.now))
        cells[1] = self.codes.get(row.schedule.channel_id or 0, cells[1])  # "workspace" jobs keep their word
        return cells

    def apply_filter(self, text: str) -> None:
        if self.now is not None:
            self._show()

    # ------------------------------------------------------------ the highlighted job

    def current(self) -> JobRow | None:
        key = self.table.current_key
        return self.rows.get(key) if key else None

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_history()

    def _show_detail(self) -> None:
        self.query_one("#jobs-detail", Static).update(self.detail_text())

    def detail_text(self) -> str:
        """The highlighted job in words: what, when, how its last run went."""
        from shelfdesk.jobs.display import duration, full_time, outcome_word, run_summary
        from shelfdesk.jobs.leases import holder_label
        from shelfdesk.jobs.schedules import format_interval

        row = self.current()
        if row is None or self.now is None:
            return ""
        s = row.schedule
        lines = [f"{s.title} · {s.where} · every {format_interval(s.interval)} · {s.key}"]
        if not s.active:
            lines.append(f"inactive: {s.reason}")
        elif s.paused:
            lines.append("paused: p resumes it (for every console and worker)")
        if row.holder:
            lines.append(f"running in {holder_label(row.holder)} (lease until {row.lease_expires_at:%H:%M:%S})")
        run = row.last_finished
        if run is None:
            lines.append("never ran yet")
        else:
            lines.append(f"last run {full_time(run.started_at)} {outcome_word(run.outcome)} in {duration(run.seconds)}: {run_summary(run)}")
        if row.failures_in_a_row:
            healthy = full_time(row.last_healthy_at) if row.last_healthy_at else "never"
            lines.append(f"{row.failures_in_a_row} failure(s) in a row; last success {healthy}")
        return "\n".join(lines)

    def show_target(self, target_type: str, target_id: object) -> bool:
        """An alert about a job: highlight its row (now, or once the rows are loaded)."""
        if target_type != "job":
            return False
        key = str(target_id)
        if key in self.rows:
            self.table.move_to(key)
        else:
            self._target = key
            self.refresh_data()
        self.focus_body()
        return True

    # ------------------------------------------------------------ actions

    def _selected(self) -> JobRow | None:
        row = self.current()
        if row is None:
            self.notify("No job is highlighted.", title="Jobs", severity="warning")
        return row

    def action_open_history(self) -> None:
        from shelfdesk.tui.screens.jobs.job_runs import JobRunsScreen

        row = self.current()
        if row is not None:
            self.app.push_screen(JobRunsScreen(row.key, f"{row.schedule.job} on {row.schedule.where}"))

    def action_run_now(self) -> None:
        row = self._selected()
        if row is not None:
            self.shell.run_job_now(row.key)

    def action_toggle_pause(self) -> None:
        row = self._selected()
        if row is not None:
            self._set_paused([row.key], not row.schedule.paused)

    def action_pause_all(self) -> None:
        self._set_paused(None, True)

    def action_resume_all(self) -> None:
        self._set_paused(None, False)

    def _set_paused(self, keys: list[str] | None, paused: bool) -> None:
        from shelfdesk.jobs.schedules import set_paused

        def change() -> str:
            changed = set_paused(self.ctx, keys, paused)
            what = ("every job" if keys is None else keys[0]) if changed else "nothing"
            verb = "paused" if paused else "resumed"
            return f"{what} {verb}" + (f" ({changed} jobs)" if keys is None and changed else "")

        self.run_operation("Jobs", change)

    def action_edit_schedule(self) -> None:
        from shelfdesk.jobs.schedules import format_interval
        from shelfdesk.tui.screens.jobs.schedule_dialog import ScheduleDialog

        row = self._selected()
        if row is None:
            return
        key = row.key

        def done(seconds: int | None) -> None:
            if seconds is not None and seconds != row.schedule.interval:
                self._set_interval(key, seconds)

        title = f"{row.schedule.title} on {row.schedule.where}"
        self.app.push_screen(ScheduleDialog(title, format_interval(row.schedule.interval)), callback=done)

    def _set_interval(self, key: str, seconds: int) -> None:
        from shelfdesk.jobs.schedules import format_interval, set_interval

        def change() -> str:
            set_interval(self.ctx, key, seconds)
            return f"{key} now runs every {format_interval(seconds)}"

        self.run_operation("Jobs", change)

    def on_operation_done(self, message: OperationDone) -> None:
        """Schedules changed here: this console's scheduler re-aims now (the toast and reload are the base's)."""
        if message.reload:
            self.shell.jobs_changed()

    def disabled_reason(self, action: str) -> str | None:
        reason = super().disabled_reason(action)
        if reason is None and action in ("run_now", "toggle_pause", "edit_schedule") and not self.rows:
            return "No job yet: jobs appear once a channel is set up (Stores)."
        return reason

    def cells(self, key: str) -> list[Any]:
        """The cells shown for ``key`` (tests)."""
        return self.table.cells(key)
