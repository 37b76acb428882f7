"""One job run in full: when, who, counts, the error and its traceback.

The last step of "why did this job fail?": reached with Enter from a job's
runs (or ``shelfdesk jobs show RUN`` from a shell). Secrets were masked before
the error was stored. Scrolls with the arrows and PgUp/PgDn; Esc goes back.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import JobRunDetailLoaded
from shelfdesk.tui.screens.base import ShelfdeskScreen


class JobRunScreen(ShelfdeskScreen):
    """The run ``run_id``."""

    SCOPE = "job-run"
    VIEW = "jobs"
    TITLE = "Job run"
    CSS_PATH = "job_run_detail.tcss"
    BINDINGS = bindings_for(SCOPE)

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id

    def compose_body(self) -> ComposeResult:
        yield Label(f"Run {self.run_id} · loading…", id="run-title", markup=False)
        with VerticalScroll(id="run-scroll"):
            yield Static("", id="run-text", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, group="job-run", exclusive=True, exit_on_error=False, description="Loading a job run")
    def _load(self) -> None:
        from shelfdesk.jobs.runs import get_run

        self.post_message(JobRunDetailLoaded(get_run(self.ctx, self.run_id)))

    def on_job_run_detail_loaded(self, message: JobRunDetailLoaded) -> None:
        from shelfdesk.jobs.display import counts_text, duration, full_time, outcome_word
        from shelfdesk.jobs.leases import holder_label
        from shelfdesk.jobs.runs import RunDetail

        run = message.run
        assert isinstance(run, RunDetail)
        self.query_one("#run-title", Label).update(f"Run {run.id} of {run.key} · {outcome_word(run.outcome)}")
        lines = [
            f"trigger   {run.trigger or '-'}",
            f"process   {holder_label(run.holder) or '-'}",
            f"started   {full_time(run.started_at)} UTC",
            f"finished  {full_time(run.finished_at)} UTC ({duration(run.seconds)})",
            f"counts    {counts_text(run)}",
        ]
        if run.error:
            lines += ["", "error", run.error.rstrip()]
        if run.traceback:
            lines += ["", "traceback (also in the workspace log)", run.traceback.rstrip()]
        self.query_one("#run-text", Static).update("\n".join(lines))
        self.query_one("#run-scroll").focus()
