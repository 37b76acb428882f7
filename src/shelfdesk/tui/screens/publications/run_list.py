"""The Publications screen: every channel's feed runs, newest first, and the runs started here.

The table pages the history from the database (keyset, ≤ 500 rows); the
line under it gives the highlighted run's full counters and what it left
queued. ``d`` plans a feed (dry run) and shows the plan, ``p`` publishes with
a progress bar fed by the engine's progress messages (Esc cancels between
batches), ``e`` groups a run's failures by cause, ``r`` re-publishes only its
failed items. Database work runs in thread workers; a publication runs in a
thread worker with its own event loop, so neither blocks the console.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar, Static
from textual.worker import get_current_worker

from shelfdesk.formatting import short_when
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import PublicationsLoaded, PublishFinished, PublishProgress
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.data_window import MAX_ROWS, DataWindow

if TYPE_CHECKING:
    from shelfdesk.publishing.triage import PublicationRow

#: The channel reads marketplace and country ("BM FR", "LBC FR") as on Orders: a 14-wide name was cut to
#: "Back Market Fr" and "products full" to "products ful"; the line under the table names it in full.
COLUMNS = [
    ("id", "#", 4),
    ("started", "Started", 11),
    ("channel", "Chan.", 6),
    ("feed", "Feed", 13),
    ("state", "State", 11),
    ("sent", "Sent", 7),
    ("failed", "Fail", 6),
]


def feed_text(row: PublicationRow) -> str:
    from shelfdesk.publishing.drift import DRIFT
    from shelfdesk.publishing.pusher import PUSHER

    if row.started_by == PUSHER:
        return "stock push"
    if row.started_by == DRIFT:
        return "drift check"
    return f"{row.kind} {'full' if str(row.mode) == 'full' else 'upd'}"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}min"


def counters_text(row: PublicationRow) -> str:
    """Every counter of a run on one line (the table shows only sent and failed)."""
    parts = [
        f"built {row.items_total:,}",
        f"excl {row.excluded:,}",
        f"invalid {row.invalid:,}",
        f"sent {row.sent:,}",
        f"ok {row.succeeded:,}",
        f"warn {row.warnings:,}",
        f"failed {row.failed:,}",
        f"queued {row.queued:,}",
        f"skipped {row.skipped:,}",
    ]
    if row.pending:
        parts.append(f"awaiting {row.pending:,}")
    return " · ".join(parts)


class PublicationsScreen(ShelfdeskScreen):
    """Publication history per channel, runs started from the console, and the way into triage."""

    SCOPE = "publications"
    VIEW = "publications"
    TITLE = "Publications"
    CSS_PATH = "run_list.tcss"
    FILTERABLE: ClassVar[bool] = True
    BINDINGS = bindings_for(SCOPE)
    POLL_SECONDS: ClassVar[float] = 5.0
    #: Reload when a scheduled publishing job (the stock pusher, a feed) finishes having done some work.
    RELOAD_AFTER_JOBS: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, PublicationRow] = {}
        self.codes: dict[int, str] = {}  #: channel id -> "BM FR"
        self.errors_only = False
        self.channel_id: int | None = None
        self.channel_label = "all channels"
        self.running = False
        self._listed_run: int | None = None  #: the run started here, once it is in the list
        self._cancel = threading.Event()
        #: Extra keyword arguments for the engine (tests pass a checkpoint).
        self.publish_options: dict[str, Any] = {}
        self._focus_id: str | None = None  #: a run started here: highlighted once listed
        self._poll: Any = None

    def compose_body(self) -> ComposeResult:
        yield Label("", id="pub-title", markup=False)
        yield Label("", id="pub-pusher", markup=False)
        yield DataWindow(COLUMNS, id="pub-table")
        yield Static("", id="pub-counters", markup=False)
        yield Label("⏎ open · e errors · d dry run · p publish · r re-publish · z errors only", id="pub-keys", markup=False)
        with Horizontal(id="pub-progress"):
            yield ProgressBar(total=None, show_eta=False, id="pub-bar")
            yield Label("", id="pub-progress-text", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    # ------------------------------------------------------------ data

    def refresh_data(self) -> None:
        self._load(self.filter_text, self.errors_only, self.channel_id)

    def apply_filter(self, text: str) -> None:
        self.refresh_data()

    @work(thread=True, group="publications", exclusive=True, exit_on_error=False, description="Loading publications")
    def _load(self, text: str, errors_only: bool, channel_id: int | None) -> None:
        from shelfdesk.orders.queries import lookups
        from shelfdesk.publishing.triage import list_publications

        from shelfdesk.services.stock import pusher_status

        rows = list_publications(self.ctx, channel_id=channel_id, failed_only=errors_only, search=text, limit=MAX_ROWS)
        pusher = pusher_status(self.ctx)
        self.post_message(
            PublicationsLoaded(rows, codes=lookups(self.ctx).codes, pusher=pusher.line(channel_id), pusher_waiting=pusher.waiting)
        )

    def on_publications_loaded(self, message: PublicationsLoaded) -> None:
        self.codes = message.codes
        self.rows = {str(r.id): r for r in message.rows}
        table = self.query_one(DataWindow)
        table.show([(str(r.id), self._cells(r)) for r in message.rows])
        if self._focus_id in self.rows:
            table.move_cursor(row=table.get_row_index(self._focus_id))
            self._focus_id = None
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
        self.query_one("#pub-pusher", Label).update(message.pusher)
        if (message.pusher_waiting or any(r.finished_at is None for r in message.rows)) and self.is_running:
            # A run (here, in the CLI or the scheduler) is in progress or the stock pusher has SKUs waiting:
            # counters move, look again soon.
            self._poll = self.set_timer(self.POLL_SECONDS, self.refresh_data)
        flags = [self.channel_label]
        if self.errors_only:
            flags.append("errors only")
        if self.filter_text:
            flags.append(f"filter “{self.filter_text}”")
        count = f"{len(message.rows):,}" + ("+" if len(message.rows) >= MAX_ROWS else "")
        noun = "run" if len(message.rows) == 1 else "runs"
        self.query_one("#pub-title", Label).update(f"Publications · {count} {noun} · {' · '.join(flags)}")
        if not message.rows:
            hint = (
                "No publication matches."
                if (self.filter_text or self.errors_only or self.channel_id)
                else ("No publications yet: d plans a channel's feed (sending nothing), p publishes it.")
            )
            self.query_one("#pub-counters", Static).update(hint)
        else:
            self._show_counters()

    def _cells(self, r: PublicationRow) -> list[str]:
        state = r.state_label if r.finished_at or r.state_label != "running" else "running"
        return [
            str(r.id),
            short_when(r.started_at),
            self.codes.get(r.channel_id, r.channel),
            feed_text(r),
            state,
            f"{r.sent:,}",
            f"{r.failed + r.invalid:,}",
        ]

    def _show_counters(self) -> None:
        row = self.selected
        if row is None:
            return
        lines = [f"#{row.id} {row.store} / {row.channel} · {duration_text(row.duration_seconds)} · by {row.started_by or '—'}"]
        if row.error:  # before the counters: at 80 columns they take two lines and the error was cut off
            lines.append(row.error)
        lines.append(counters_text(row))
        if not row.error and row.queued:
            lines.append(f"{row.queued:,} queued for the next run (over the quota or stopped)")
        self.query_one("#pub-counters", Static).update("\n".join(lines))

    def on_data_table_row_highlighted(self, _: Any) -> None:
        self._show_counters()

    def on_data_table_row_selected(self, _: Any) -> None:
        """Enter on the table (the table's own binding shadows the screen's)."""
        self.action_open_selected()

    @property
    def selected(self) -> PublicationRow | None:
        key = self.query_one(DataWindow).current_key
        return self.rows.get(key) if key else None

    # ------------------------------------------------------------ actions

    def _need_selected(self) -> PublicationRow | None:
        row = self.selected
        if row is None:
            self.notify("No publication highlighted.", title="Publications", severity="warning")
        return row

    def action_open_selected(self) -> None:
        from shelfdesk.tui.screens.publications.run_items import PublicationDetailScreen

        row = self._need_selected()
        if row is not None:
            self.app.push_screen(PublicationDetailScreen(row.id))

    def action_show_errors(self) -> None:
        from shelfdesk.tui.screens.publications.error_groups import PublicationErrorsScreen

        row = self._need_selected()
        if row is not None:
            self.app.push_screen(PublicationErrorsScreen(row.id))

    def action_toggle_errors_only(self) -> None:
        self.errors_only = not self.errors_only
        self.refresh_data()

    def action_next_channel(self) -> None:
        self._next_channel()

    @work(thread=True, group="publications-channels", exclusive=True, exit_on_error=False, description="Listing channels")
    def _next_channel(self) -> None:
        from shelfdesk.publishing.channel import list_channels

        channels = list_channels(self.ctx)
        ids = [c.id for c in channels]
        if self.channel_id in ids and ids.index(self.channel_id) + 1 < len(ids):
            choice = channels[ids.index(self.channel_id) + 1]
        elif self.channel_id is None and channels:
            choice = channels[0]
        else:
            choice = None
        self.app.call_from_thread(self._set_channel, choice.id if choice else None, choice.label if choice else "all channels")

    def _set_channel(self, channel_id: int | None, label: str) -> None:
        self.channel_id, self.channel_label = channel_id, label
        self.refresh_data()

    def action_dry_run(self) -> None:
        self._choose(dry_run=True)

    def action_publish(self) -> None:
        self._choose(dry_run=False)

    def _choose(self, *, dry_run: bool) -> None:
        from shelfdesk.tui.screens.publications.publish_dialog import PublishDialog

        if self.running:
            self.notify("A publication is already running: wait for it, or Esc to cancel it.", title="Publish", severity="warning")
            return

        def chosen(choice: tuple[int, str, str] | None) -> None:
            if choice is not None:
                self.start(choice[0], choice[1], choice[2], dry_run=dry_run)

        self.app.push_screen(PublishDialog(dry_run=dry_run, channel_id=self.channel_id), chosen)

    def action_republish_failed(self) -> None:
        row = self._need_selected()
        if row is not None:
            self.confirm_republish(row.id, None)

    def confirm_republish(self, publication_id: int, error_key: str | None) -> None:
        """Ask before sending a run's failed items (of one group) again, naming count and samples."""
        self._republish_prepare(publication_id, error_key)

    @work(thread=True, group="publications-republish", exclusive=True, exit_on_error=False, description="Finding failed items")
    def _republish_prepare(self, publication_id: int, error_key: str | None) -> None:
        from shelfdesk.publishing.triage import error_clusters, failed_skus, get_publication

        row = get_publication(self.ctx, publication_id)
        skus = failed_skus(self.ctx, publication_id, error_key)
        cause = None  # the group as the errors screen reads it, not its key
        if error_key is not None:
            cause = next((c.cause for c in error_clusters(self.ctx, publication_id) if c.key == error_key), error_key)
        self.app.call_from_thread(self._republish_ask, row, skus, error_key, cause)

    def _republish_ask(self, row: PublicationRow, skus: list[str], error_key: str | None, cause: str | None = None) -> None:
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        if not skus:
            self.notify(f"Publication #{row.id} has no failed items to send again.", title="Re-publish", severity="warning")
            return
        what = f"the {len(skus):,} failed item{'s' if len(skus) != 1 else ''} of #{row.id}" + (f" ({cause})" if cause else "")

        def answered(answer: str | None) -> None:
            if answer is not None:
                while len(self.app.screen_stack) > 1 and self.app.screen is not self:
                    self.app.pop_screen()
                self.start(row.channel_id, str(row.kind), "update", dry_run=False, only_skus=skus)

        self.app.push_screen(ConfirmDialog(f"Re-publish {what} to {row.channel}?", skus[:5], yes="Yes, send"), answered)

    def action_check_drift(self) -> None:
        """Compare the marketplace's listings of the chosen channel (or the highlighted run's) with what we would send."""
        row = self.selected
        channel_id = self.channel_id or (row.channel_id if row is not None else None)
        if channel_id is None:
            self.notify("Choose a channel (c) or highlight one of its runs first.", title="Drift", severity="warning")
            return
        self.notify("Reading the marketplace's listings…", title="Drift")
        self._check_drift(channel_id)

    @work(thread=True, group="publications-drift", exclusive=True, exit_on_error=False, description="Checking drift")
    def _check_drift(self, channel_id: int) -> None:
        from shelfdesk.channels.errors import ChannelError
        from shelfdesk.orders.errors import NoCredential
        from shelfdesk.publishing.drift import check_drift_sync
        from shelfdesk.publishing.errors import PublishError

        try:
            report = check_drift_sync(self.ctx, channel_id)
        except (ChannelError, NoCredential, PublishError) as exc:
            self.app.call_from_thread(self.notify, f"Drift check failed: {exc}", title="Drift", severity="error", timeout=10)
            return
        hint = ": f on it pushes the corrections" if report.drifts else ""
        self.app.call_from_thread(self.notify, f"{report.listed:,} listings read, {len(report.drifts):,} differ{hint}.", title="Drift")
        if report.publication_id is not None:
            self._focus_id = str(report.publication_id)
        self.app.call_from_thread(self.refresh_data)

    def action_push_corrections(self) -> None:
        from shelfdesk.publishing.drift import DRIFT
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        row = self._need_selected()
        if row is None:
            return
        if row.started_by != DRIFT:
            self.notify("Highlight a drift check (D runs one) to push its corrections.", title="Drift", severity="warning")
            return
        if not row.planned:
            self.notify(f"Drift check #{row.id} found nothing to correct.", title="Drift")
            return

        def answered(answer: str | None) -> None:
            if answer is not None:  # "" is yes (no field), None is no
                self._push_corrections(row.channel_id, row.id)

        self.app.push_screen(
            ConfirmDialog(f"Push the corrections of drift check #{row.id} to {row.channel}?", yes="Push corrections"), answered
        )

    @work(thread=True, group="publications-drift-push", exclusive=True, exit_on_error=False, description="Pushing corrections")
    def _push_corrections(self, channel_id: int, publication_id: int) -> None:
        from shelfdesk.publishing.drift import push_corrections

        count = push_corrections(self.ctx, channel_id, publication_id=publication_id)
        self.app.call_from_thread(
            self.notify, f"{count:,} correction(s) queued: the stock pusher sends them within seconds.", title="Drift"
        )
        self.app.call_from_thread(self.refresh_data)

    def action_export_errors(self) -> None:
        row = self._need_selected()
        if row is not None:
            self.export(row.id, None)

    def export(self, publication_id: int, error_key: str | None) -> None:
        self._export(publication_id, error_key)

    @work(thread=True, group="publications-export", exit_on_error=False, description="Exporting errors")
    def _export(self, publication_id: int, error_key: str | None) -> None:
        from shelfdesk.publishing.triage import export_errors

        folder = self.ctx.paths.home / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = self.ctx.clock.now().strftime("%Y%m%d-%H%M%S")
        target = folder / f"publication-{publication_id}-errors-{stamp}.csv"
        count = export_errors(self.ctx, publication_id, target, error_key=error_key)
        self.app.call_from_thread(self.notify, f"{count:,} failed items written to {target}", title="Export")

    # ------------------------------------------------------------ running a publication

    def start(self, channel_id: int, kind: str, mode: str, *, dry_run: bool, only_skus: list[str] | None = None) -> None:
        """Run (or plan) one feed; progress and the end arrive as messages."""
        if self.running:
            self.notify("A publication is already running.", title="Publish", severity="warning")
            return
        self.running = True
        self._cancel.clear()
        self.query_one("#pub-progress").add_class("-running")
        self.query_one("#pub-bar", ProgressBar).update(total=None, progress=0)
        verb = "Planning" if dry_run else "Publishing"
        self.query_one("#pub-progress-text", Label).update(f"{verb} {kind} ({mode})… Esc to cancel")
        self._publish(channel_id, kind, mode, dry_run, only_skus)

    @work(thread=True, group="publish", exclusive=True, exit_on_error=False, description="Publishing")
    def _publish(self, channel_id: int, kind: str, mode: str, dry_run: bool, only_skus: list[str] | None) -> None:
        from shelfdesk.channels.errors import ChannelError
        from shelfdesk.context import ReadOnlyError
        from shelfdesk.orders.errors import NoCredential
        from shelfdesk.publishing.engine import publish_sync
        from shelfdesk.publishing.errors import PublishError

        worker = get_current_worker()
        try:
            result = publish_sync(
                self.ctx,
                channel_id,
                kind,
                mode,
                dry_run=dry_run,
                only_skus=only_skus,
                started_by=self.ctx.actor,
                progress=lambda p: self.post_message(PublishProgress(p)),
                should_cancel=lambda: self._cancel.is_set() or worker.is_cancelled,
                **self.publish_options,
            )
        except (PublishError, ReadOnlyError, ChannelError, NoCredential) as exc:
            self.post_message(PublishFinished(None, str(exc)))
            return
        except Exception as exc:
            self.post_message(PublishFinished(None, f"{type(exc).__name__}: {exc}"))
            raise
        self.post_message(PublishFinished(result))

    def on_publish_progress(self, message: PublishProgress) -> None:
        p = message.progress
        if p.publication_id is not None and p.publication_id != self._listed_run:
            self._listed_run = p.publication_id  # the run has its row now: list it as it starts
            self.refresh_data()
        bar = self.query_one("#pub-bar", ProgressBar)
        if p.total:
            bar.update(total=p.total, progress=p.done)
        text = {"reading": "Reading the marketplace's listings", "planning": "Planning"}.get(p.phase, "")
        if p.phase in ("sending", "waiting"):
            verb = "sent" if p.phase == "sending" else "answered"
            text = f"{p.done:,} of {p.total:,} {verb} · {p.failed:,} failed"
        if p.phase != "done":
            self.query_one("#pub-progress-text", Label).update(f"{text} · Esc to cancel" if text else "Esc to cancel")

    def on_publish_finished(self, message: PublishFinished) -> None:
        self.running = False
        self.query_one("#pub-progress").remove_class("-running")
        self.refresh_data()
        if message.result is None:
            self.notify(message.error or "the publication could not run", title="Publish", severity="error", timeout=10)
            return
        result: Any = message.result
        self._focus_id = str(result.publication_id) if result.publication_id else None
        if str(result.state) == "dry_run":
            from shelfdesk.tui.screens.publications.plan import PublicationPlanScreen

            self.app.push_screen(PublicationPlanScreen(result))
            return
        c = result.counters
        text = (
            f"#{result.publication_id} {result.state}: {c.get('succeeded', 0):,} published, "
            f"{c.get('failed', 0) + c.get('invalid', 0):,} failed, {c.get('queued', 0):,} queued"
        )
        if c.get("failed") or c.get("invalid"):
            text += " · e shows the errors by cause"
        severity = "information" if str(result.state) in ("succeeded", "skipped") else "warning"
        self.notify(text, title="Publication", severity=severity, timeout=10)

    def action_back(self) -> None:
        """Esc cancels a running publication (between batches) before it does anything else."""
        if self.running and not self._cancel.is_set():
            self._cancel.set()
            self.query_one("#pub-progress-text", Label).update("Cancelling after the current batch…")
            return
        super().action_back()
