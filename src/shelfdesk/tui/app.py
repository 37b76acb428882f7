"""The shelfdesk console App: screens, global keys, themes, status and failures.

Only the App lives here. Screens are in ``tui/screens/``, grouped by area
(``setup/``, ``publications/``, ``orders/``, ``jobs/``, ``invoices/``,
``webhooks/``, and ``shell/`` for help, the command line and the one
confirmation), one module per screen or dialog beside its ``.tcss``;
widgets in ``tui/widgets/``, every key and command in ``tui/commands.py``.
The App owns what is shared by all screens: the workspace context, the alert
count shown in every status bar (counted in a thread worker, never on the
event loop), the theme, the command line and the one place where worker
failures become a toast and a log line.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from shelfdesk.settings import Preferences
from shelfdesk.tui.commands import (
    APP,
    Command,
    CommandLineError,
    Completion,
    CommandTableProvider,
    bindings_for,
    complete_command_line,
    help_sections,
    parse_command_line,
)
from shelfdesk.tui.messages import AlertsCounted, JobRunChanged
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.shell.command_line import CommandLineScreen
from shelfdesk.tui.screens.shell.help import HelpScreen
from shelfdesk.tui.screens.jobs.job_list import JobsScreen
from shelfdesk.tui.screens.setup.mappings import MappingsScreen
from shelfdesk.tui.screens.orders.order_list import OrdersScreen
from shelfdesk.tui.screens.publications.run_list import PublicationsScreen
from shelfdesk.tui.screens.setup.stores import StoresScreen
from shelfdesk.tui.themes import default_theme_name, load_themes, status_variables, theme_dirs
from shelfdesk.tui.widgets.status_bar import AlertStatus

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.theme import Theme

    from shelfdesk.context import AppContext
    from shelfdesk.jobs.runner import JobCall, RunEvent, RunReport
    from shelfdesk.jobs.scheduler import JobScheduler

log = logging.getLogger("shelfdesk.tui")

HOME_VIEW = "orders"
"""The screen the console opens on, and where Esc leads back to: operators live in Orders."""

#: Scheduled jobs whose runs that did some work are publications (Publications lists them).
PUBLISHING_JOBS = frozenset({"stock", "offers", "products", "drift"})


def count_open_alerts(ctx: AppContext) -> int:
    """Count alerts (runs in a worker thread; the import stays off the startup path)."""
    from shelfdesk.jobs.alerts import count_alerts

    return count_alerts(ctx)


def count_status(ctx: AppContext) -> AlertsCounted:
    """What the status bar counts: alerts, and deadlines late or within the first threshold (one indexed query)."""
    from shelfdesk.services.deadline_watch import due_counts, format_threshold

    count = count_open_alerts(ctx)
    due = due_counts(ctx)
    return AlertsCounted(count, due.overdue, due.soon, format_threshold(due.within))


class ShelfdeskApp(App[int], inherit_bindings=False):
    """The console. ``theme`` (from ``--theme``) wins over the preferences and the default."""

    CSS_PATH = "app.tcss"
    TITLE = "shelfdesk"
    BINDINGS = bindings_for(APP)
    COMMANDS: ClassVar = {CommandTableProvider}
    MODES: ClassVar = {
        "stores": StoresScreen,
        "mappings": MappingsScreen,
        "publications": PublicationsScreen,
        "orders": OrdersScreen,
        "jobs": JobsScreen,
    }
    DEFAULT_MODE = HOME_VIEW
    ALERTS_POLL_SECONDS: ClassVar[float] = 60.0

    alerts: reactive[AlertStatus] = reactive(AlertStatus)
    """What the status bars show about alerts; set only on the main thread."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        theme: str | None = None,
        preferences: Preferences | None = None,
        startup_probe: Path | None = None,
        embedded_jobs: bool = False,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.embedded_jobs = embedded_jobs and not ctx.read_only
        """Run the workspace's scheduled jobs in this console (``run_console`` turns it on)."""
        self.jobs_scheduler: JobScheduler | None = None
        self.preferences = preferences or Preferences()
        self.startup_probe = startup_probe
        # Over SSH every animation frame is bytes on a slow link.
        self.animation_level = "none"
        self.data_version = 0
        """Bumped by every change made from the console; screens behind it reload when shown."""
        self._startup_notes: list[str] = []
        self._alerts_timer: Timer | None = None
        loaded = load_themes(theme_dirs(ctx.paths.preferences))
        for found in loaded.themes:
            self.register_theme(found)
        self._startup_notes.extend(loaded.problems)
        self.theme = self._initial_theme(theme)
        self._theme_shown = self.theme  #: only a change from this one is the operator's choice to save
        self._keymap_by_id = {key: str(value) for key, value in self.preferences.keymap.items()}
        if self._keymap_by_id:
            self.set_keymap(self._keymap_by_id)

    # ------------------------------------------------------------ toasts

    TOAST_SECONDS: ClassVar[dict[str, float]] = {"information": 4, "warning": 6, "error": 8}
    """How long a toast stays, at most: long enough to read, short enough not to hide the screen."""

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None, markup: bool = True
    ) -> None:
        """Every toast of the console: its time capped by severity (screens asked for up to 10 s)."""
        cap = self.TOAST_SECONDS.get(severity, 6)
        super().notify(message, title=title, severity=severity, timeout=min(timeout or cap, cap), markup=markup)

    # ------------------------------------------------------------ themes

    def _initial_theme(self, requested: str | None) -> str:
        fallback = default_theme_name()
        for source, name in (("--theme", requested), ("your preferences", self.preferences.theme)):
            if not name:
                continue
            if name in self.available_themes:
                return name
            self._startup_notes.append(
                f"Unknown theme {name!r} (from {source}); using {fallback}. Available: {', '.join(sorted(self.available_themes))}"
            )
        return fallback

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """``$status-*`` for themes whose file does not define them (Textual's own)."""
        return status_variables(self.current_theme)

    def action_switch_theme(self, name: str | None = None) -> None:
        """``:theme NAME`` / palette; without a name, open Textual's theme picker."""
        if not name:
            self.search_themes()
            return
        if name not in self.available_themes:
            self.notify(
                f"Unknown theme {name!r}. Available: {', '.join(sorted(self.available_themes))}",
                title="Theme",
                severity="error",
            )
            return
        self.theme = name

    # ------------------------------------------------------------ lifecycle

    def _theme_changed(self, theme: Theme) -> None:
        """The operator picked a theme (``:theme``, the palette's picker): the next start opens with it.

        The theme the console started with (``--theme`` included, a one-off
        choice) is not written; only a change made here is.
        """
        if theme.name == self._theme_shown:
            return
        self._theme_shown = self.preferences.theme = theme.name
        self.run_worker(self._save_theme, thread=True, group="preferences", exit_on_error=False, description="Saving your theme")

    def _save_theme(self) -> None:
        from shelfdesk.settings import SettingsError, save_preference

        path, name = self.ctx.paths.preferences, self.preferences.theme or ""
        try:
            save_preference(path, "theme", name)
        except (OSError, SettingsError, ValueError) as exc:  # a broken file stays as it was
            self.call_from_thread(self.notify, f"Theme {name} not saved to {path}: {exc}", title="Theme", severity="warning")

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for note in self._startup_notes:
            log.warning(note)
            # Shown while the first screen still loads: Textual's own notify, not capped like the others.
            App.notify(self, note, title="Themes", severity="warning", timeout=10)

    def on_ready(self) -> None:
        if self.startup_probe is not None:
            # The startup benchmark's marker: the first interactive frame is on screen.
            self.startup_probe.write_text(f"{time.time()}\n", encoding="utf-8")
            # Exit once the frame has been written, so the benchmark sees it in the terminal too.
            self.call_after_refresh(self.exit, 0)
            return
        self.count_alerts()
        if self.embedded_jobs:
            # After the first frame: importing APScheduler and planning jobs never delays it.
            self.call_after_refresh(self.start_jobs)

    # ------------------------------------------------------------ embedded job scheduler

    def start_jobs(self) -> None:
        self.run_worker(self._start_jobs(), group="jobs", exclusive=True, exit_on_error=False, description="Starting the job scheduler")

    async def _start_jobs(self) -> None:
        import asyncio
        import importlib

        # The imports (APScheduler, the job modules) happen in a thread, off the event loop.
        await asyncio.to_thread(importlib.import_module, "apscheduler.schedulers.asyncio")
        await asyncio.to_thread(importlib.import_module, "shelfdesk.jobs.scheduler")
        from shelfdesk.jobs.registry import load_jobs
        from shelfdesk.jobs.scheduler import JobScheduler

        await asyncio.to_thread(load_jobs)
        if self.jobs_scheduler is None and self.is_running:
            self.jobs_scheduler = JobScheduler(self.ctx, role="console", listener=self._job_event)
            self.jobs_scheduler.start()

    def _job_event(self, event: RunEvent) -> None:
        """Called on the event loop by the runner; the UI hears of it through a message."""
        outcome = event.report.outcome if event.report is not None else None
        self.post_message(JobRunChanged(event.key, event.kind, str(outcome) if outcome is not None else None))

    def on_job_run_changed(self, message: JobRunChanged) -> None:
        if message.kind == "finished":
            self.count_alerts()
        # A run that did work (the stock pusher's, a scheduled feed) added a publication: screens that list
        # them reload now if shown (RELOAD_AFTER_JOBS), any other when next shown.
        did_work = message.outcome == "succeeded" and message.key.split(":")[0] in PUBLISHING_JOBS
        if did_work:
            self.data_changed()
        screen = self.view_screen()
        if screen is not None and getattr(screen, "REFRESH_ON_JOB_RUNS", False):
            screen.refresh_data()
        elif screen is not None and did_work and getattr(screen, "RELOAD_AFTER_JOBS", False):
            screen.reload_now()

    def run_job_now(self, key: str) -> None:
        """An operator's "run now": in this console's scheduler if it runs, else in a one-off runner."""
        self.run_worker(
            self._run_job_now(key), group=f"run-now:{key}", exclusive=True, exit_on_error=False, description=f"Running {key} now"
        )

    async def _run_job_now(self, key: str) -> None:
        import asyncio

        from shelfdesk.jobs.runs import format_counts
        from shelfdesk.jobs.schedules import ScheduleError, get_schedule

        self.ctx.require_write()
        try:  # the toasts name the job as the Jobs screen does, never by its key
            name = (await asyncio.to_thread(get_schedule, self.ctx, key)).name
        except ScheduleError:
            name = key
        self.notify(f"{name} started", title="Run now", timeout=3)
        report = await self.run_key(key)
        if not report.ran:
            self.notify(f"{name} did not run: {report.reason}", title="Run now", severity="warning")
        elif str(report.outcome) in ("failed", "abandoned"):
            self.notify(f"{name} {report.outcome}: {report.error}", title="Run now", severity="error")
        else:
            self.notify(f"{name} {report.outcome}: {format_counts(report.counts)}", title="Run now")

    async def run_key(self, key: str, call: JobCall | None = None) -> RunReport:
        """Run a schedule key now, under its lease: in this console's scheduler if it runs, else a one-off runner."""
        from shelfdesk.jobs.runner import MANUAL, JobRunner

        if self.jobs_scheduler is not None:
            return await self.jobs_scheduler.run_now(key, call)
        return await JobRunner(self.ctx, role="console", listener=self._job_event).run(key, trigger=MANUAL, call=call)

    def jobs_changed(self) -> None:
        """Schedules were edited here: re-aim this console's timers now, not at the next heartbeat."""
        if self.jobs_scheduler is not None:
            self.run_worker(
                self.jobs_scheduler.changed(), group="jobs-changed", exclusive=True, exit_on_error=False, description="Rescheduling jobs"
            )

    async def on_unmount(self) -> None:
        if self.jobs_scheduler is not None:
            scheduler, self.jobs_scheduler = self.jobs_scheduler, None
            await scheduler.stop(grace=0, reason="console closed")

    def data_changed(self) -> None:
        """Something an operator did changed the workspace: every screen shown later reloads first."""
        self.data_version += 1

    def open_alerts(self) -> None:
        from shelfdesk.tui.screens.jobs.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen())

    def open_due(self) -> None:
        from shelfdesk.tui.screens.jobs.due import DueScreen

        if not isinstance(self.screen, DueScreen):
            self.push_screen(DueScreen())

    # ------------------------------------------------------------ alerts (status bar)

    def count_alerts(self) -> None:
        """Count alerts now (at start, on ``R``, then every ALERTS_POLL_SECONDS)."""
        if self._alerts_timer is not None:
            self._alerts_timer.stop()
            self._alerts_timer = None
        self._count_alerts_worker()

    @work(thread=True, group="status", exclusive=True, exit_on_error=False, description="Counting alerts")
    def _count_alerts_worker(self) -> None:
        self.post_message(count_status(self.ctx))

    def on_alerts_counted(self, message: AlertsCounted) -> None:
        self.alerts = AlertStatus(message.count, None, message.overdue, message.due_soon, message.within)
        self._schedule_alert_count()

    def _schedule_alert_count(self) -> None:
        # The next count starts only after this one ended: polls never overlap.
        if self._alerts_timer is None and self.is_running:
            self._alerts_timer = self.set_timer(self.ALERTS_POLL_SECONDS, self.count_alerts)

    # ------------------------------------------------------------ failures

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_state(event.worker)

    def report_worker_state(self, worker: Worker[object]) -> None:
        """The one failure handler: a log line with the traceback and a toast.

        Screens forward their workers' state changes here.
        """
        if worker.state != WorkerState.ERROR:
            return
        error = worker.error
        what = worker.description or worker.name or "Background work"
        log.error("%s failed: %s", what, error, exc_info=error)
        if worker.group == "status":
            repeated = self.alerts.error is not None
            self.alerts = AlertStatus(None, str(error))
            self._schedule_alert_count()
            if repeated:
                return
        self.notify(f"{what} failed: {error}", title="Error", severity="error", timeout=10)

    # ------------------------------------------------------------ navigation

    def show_view(self, view: str) -> None:
        """Go to a main screen; asking for the current one leaves its detail screens."""
        if view == self.current_mode:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self.switch_mode(view)

    def go_home(self) -> None:
        if self.current_mode != HOME_VIEW:
            self.switch_mode(HOME_VIEW)

    def view_screen(self) -> ShelfdeskScreen | None:
        """The topmost shelfdesk screen (below any dialog or the palette)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ShelfdeskScreen):
                return screen
        return None

    def command_scope(self) -> str:
        screen = self.view_screen()
        return screen.SCOPE if screen is not None else APP

    def open_help(self, screen: ShelfdeskScreen) -> None:
        title = screen.TITLE or "shelfdesk"
        self.push_screen(HelpScreen(title, help_sections(self, screen.SCOPE, title), self.ctx.read_only))

    # ------------------------------------------------------------ commands

    def get_key_display(self, binding: Binding) -> str:
        """Keys as every hint writes them ("Esc cancels", "F1"): Textual shows "esc" and "f1"."""
        shown = super().get_key_display(binding)
        if shown == "esc":
            return "Esc"
        return shown.upper() if shown[:1] == "f" and shown[1:].isdigit() else shown

    def keys_display(self, command: Command, *, first_only: bool = False) -> str:
        """The keys an operator presses for ``command``, after their keymap."""
        keys = self._keymap_by_id.get(command.id) or ",".join(command.keys)
        shown = [self.get_key_display(Binding(key.strip(), "")) for key in keys.split(",") if key.strip()]
        return (shown[0] if shown else "") if first_only else ", ".join(shown)

    def is_disabled(self, command: Command) -> bool:
        return command.writes and self.ctx.read_only

    def argument_choices(self, command: Command) -> list[str]:
        if command.id == "app.theme":
            return sorted(self.available_themes)
        return []

    def open_command_line(self) -> None:
        scope = self.command_scope()

        def complete(text: str) -> Completion:
            return complete_command_line(text, scope, self.argument_choices)

        hint = "Enter runs, Tab completes, Esc cancels: :orders :jobs :help :theme NAME :q"
        self.push_screen(CommandLineScreen(complete, hint), callback=self._command_line_done)

    def _command_line_done(self, text: str | None) -> None:
        if not text or not text.strip():
            return
        try:
            command, argument = parse_command_line(text, self.command_scope())
        except CommandLineError as exc:
            self.notify(str(exc), title="Command line", severity="error")
            return
        self.run_command(command, argument)

    def run_command(self, command: Command, argument: str | None = None) -> None:
        """Run a row of the table from the palette or the command line.

        Dialogs above the current screen close first, so ``go: Jobs`` from the
        help screen lands on Jobs rather than behind the help.
        """
        target = self.view_screen()
        if target is not None:
            while self.screen is not target and len(self.screen_stack) > 1:
                self.pop_screen()
        if self.is_disabled(command):
            self.notify(
                f"{command.description} is disabled: this workspace is open read-only.",
                title="Read-only",
                severity="warning",
            )
            return
        namespace = self if command.scope == APP or target is None else target
        action = command.action if argument is None else f"{command.action}({argument!r})"
        self.call_later(self.run_action, action, namespace)
