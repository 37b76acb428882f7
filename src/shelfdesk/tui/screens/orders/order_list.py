"""The Orders screen: every marketplace account's orders, newest first, filtered, marked, acted on in bulk.

* The table holds one keyset page (100 rows; never more than 500) read from
  the database in a thread worker; moving past the last row loads the next
  page. The title gives the count, the filter and the marks; the line below
  counts orders per status under the filter.
* Filters stay set while the operator moves around the console: status
  (``t``), channel (``c``), store (``w``), purchase dates (``:after``,
  ``:before``) and text (``/``, order id or buyer).
* Marks are a set of order ids (``space``, ``V`` for a range); ``*`` marks
  "all matching", kept as the filter itself, not as a list of ids. A bulk
  action confirms with the count and sample ids (the safe button focused),
  then a progress bar shows sent / confirmed / failed with Esc to cancel, and
  the result lists each failure with its reason.
* Network work (sending, harvesting) runs in async workers, database work in
  thread workers; a background sweep sends actions left queued (by the CLI, a
  stopped console, a retry) every few seconds.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Label, ProgressBar

from shelfdesk.domain import NormalizedStatus
from shelfdesk.formatting import money, short_when
from shelfdesk.orders.queries import Cursor, Lookups, OrderFilter, OrderPage, OrderRow
from shelfdesk.tui.commands import bindings_for
from shelfdesk.tui.messages import OrderActionsProgress, OrderCountsLoaded, OrdersHarvested, OrdersLoaded, OrdersQueued
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.invoices.issuing import invoiced_cell
from shelfdesk.tui.screens.orders.order_flows import OrderFlows
from shelfdesk.tui.widgets.empty_state import EmptyState
from shelfdesk.tui.widgets.orders_table import OrdersTable, status_text, sync_text

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from shelfdesk.orders.actions import BulkReach
    from shelfdesk.orders.outbox import SendReport

PAGE_SIZE = 100
SWEEP_SECONDS = 10.0
STATUS_CYCLE: list[NormalizedStatus | None] = [None, *NormalizedStatus]


@dataclass
class _Job:
    """A batch of actions being sent, behind the progress bar."""

    label: str
    batch_key: str
    total: int
    refused: list[str]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    confirmed: int = 0
    sent: int = 0
    failed: int = 0


class OrdersScreen(OrderFlows, ShelfdeskScreen):
    """Orders harvested from every marketplace account."""

    SCOPE = "orders"
    VIEW = "orders"
    TITLE = "Orders"
    CSS_PATH = "order_list.tcss"
    BINDINGS = bindings_for(SCOPE)
    FILTERABLE = True

    def __init__(self) -> None:
        super().__init__()
        self.filter = OrderFilter()
        self.page: OrderPage | None = None
        self.names = Lookups()
        self.counts: dict[NormalizedStatus, int] | None = None
        self._quick: tuple[dict[NormalizedStatus, int], int] | None = None  #: bounded counts until the exact ones
        self._counting: OrderFilter | None = None  #: the filter of the counts on their way
        self._counted: OrderFilter | None = None  #: the filter of the exact counts on screen
        self.marks: set[int] = set()
        self.all_matching: OrderFilter | None = None
        self._mids: dict[int, str] = {}  #: marketplace ids of orders seen, for confirmations
        self._last_marked: int | None = None
        self._anchor: tuple[str, Cursor] | None = None  #: how the current page was reached
        self._request = 0
        self._counts_request = 0
        self._job: _Job | None = None
        self._sweep_timer: Timer | None = None

    # ------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        yield Label("Orders", id="orders-title", markup=False)
        yield Label("", id="orders-counts", markup=False)
        yield EmptyState(
            "No orders yet",
            "Orders from your marketplace accounts (Back Market, Leboncoin) appear here once harvested, newest "
            "first, with their status, buyer, total and channel; you filter them, mark them and accept, ship or "
            "cancel them in bulk.",
            "Press f to fetch orders now; the scheduler also harvests every minute once it runs.",
            id="orders-empty",
        )
        yield OrdersTable(id="orders-table")
        with Vertical(id="orders-progress"):
            yield ProgressBar(total=1, id="orders-progress-bar", show_eta=False)  # determinate: no animation timer
            yield Label("", id="orders-progress-label", markup=False)

    def on_mount(self) -> None:
        self.query_one(OrdersTable).set_columns(self.app.size.width)
        self.reload()
        if not self.ctx.read_only:
            self.sweep_outbox()  # loads the sender only for an outbox with something in it, in a thread

    @property
    def table(self) -> OrdersTable:
        return self.query_one(OrdersTable)

    # ------------------------------------------------------------ loading

    def reload(self, *, first_page: bool = False, counts: bool = True) -> None:
        """Reload the current page (or the first one) and, unless told otherwise, the counts."""
        if first_page:
            self._anchor = None
        after = self._anchor[1] if self._anchor and self._anchor[0] == "after" else None
        before = self._anchor[1] if self._anchor and self._anchor[0] == "before" else None
        self._request += 1
        self._load_page(self.filter, after, before, 0, self._request)
        if counts:
            self._counts_request += 1
            # Bounded counts first only for a new filter: a refresh keeps the exact counts on screen.
            self._load_counts(self.filter, self._counts_request, quick=self.filter != self._counted)
            self._counting = self.filter

    def refresh_data(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="orders-page", exit_on_error=False, description="Loading orders")
    def _load_page(self, flt: OrderFilter, after: Cursor | None, before: Cursor | None, edge: int, request: int) -> None:
        from shelfdesk.orders.queries import list_orders, lookups

        names = lookups(self.ctx)
        page = list_orders(self.ctx, flt, after=after, before=before, limit=PAGE_SIZE, names=names)
        self.post_message(OrdersLoaded(page, names, request, edge))

    @work(thread=True, exclusive=True, group="orders-counts", exit_on_error=False, description="Counting orders")
    def _load_counts(self, flt: OrderFilter, request: int, quick: bool = True) -> None:
        """Bounded counts first (milliseconds on a million orders, shown "1,000+"), then the exact ones.

        A text filter is counted exactly at once: bounded per status, a word
        matching many orders in few statuses reads further than the exact count.
        """
        from shelfdesk.orders.queries import QUICK_COUNT, count_by_status

        if quick and not flt.text.strip():
            self.post_message(OrderCountsLoaded(count_by_status(self.ctx, flt, at_most=QUICK_COUNT), request, QUICK_COUNT))
        self.post_message(OrderCountsLoaded(count_by_status(self.ctx, flt), request))

    def on_orders_loaded(self, message: OrdersLoaded) -> None:
        if message.request != self._request:
            return  # a newer request is on its way
        page: OrderPage = message.page
        self.names = message.names
        if message.edge and not page.rows:
            return  # nothing beyond this edge: stay
        self.page = page
        for row in page.rows:
            self._mids[row.id] = row.marketplace_order_id
        self.table.fill(((str(r.id), self._cells(r)) for r in page.rows), at_end=message.edge < 0)
        self._show_title()

    def on_order_counts_loaded(self, message: OrderCountsLoaded) -> None:
        from shelfdesk.orders.queries import describe_count

        if message.request != self._counts_request or (message.at_most is not None and self._counted == self._counting):
            return  # a newer filter's, or bounded counts arriving after the exact ones
        counts: dict[NormalizedStatus, int] = message.counts
        if message.at_most is None:
            self._counted = self._counting
        # Bounded counts only show; bulk confirmations name a count, so they wait for the exact ones.
        self.counts = counts if message.at_most is None else None
        self._quick = None if message.at_most is None else (counts, message.at_most)
        parts = []
        for status, count in counts.items():
            if count or status is self.filter.status:
                text = f"{status.value} {describe_count(count, message.at_most)}"
                parts.append(f"[{text}]" if status is self.filter.status else text)
        self.query_one("#orders-counts", Label).update("  ".join(parts) or "no orders")
        self._show_title()

    def _cells(self, row: OrderRow) -> list[Any]:
        marked = row.id in self.marks or self.all_matching is not None
        sync = sync_text(row.sync) if row.sync or not row.invoiced else invoiced_cell()
        return [
            "*" if marked else " ",
            row.marketplace_order_id,
            status_text(row.status),
            sync,
            short_when(row.purchased_at),
            row.buyer_name or "—",
            Text(money(row.total, row.currency), justify="right"),
            row.channel_code or row.channel,
        ]

    def _matching(self) -> int | None:
        if self.counts is None:
            return None
        return self.counts[self.filter.status] if self.filter.status is not None else sum(self.counts.values())

    def _show_title(self) -> None:
        count = self._matching()
        shown = "…" if count is None else f"{count:,}"
        if count is None and self._quick is not None:
            quick, bound = self._quick
            n = quick[self.filter.status] if self.filter.status is not None else sum(quick.values())
            capped = any(v >= bound for s, v in quick.items() if self.filter.status in (None, s))
            shown = f"{n:,}+" if capped else f"{n:,}"
        parts = ["Orders", shown, self.filter.describe(self.names)]
        if self.all_matching is not None:
            parts.append("ALL MATCHING MARKED")
        elif self.marks:
            parts.append(f"{len(self.marks):,} marked")
        if self.page is not None and (self.page.has_prev or self.page.has_next):
            parts.append("[ newer · ] older")
        empty = count == 0 and self.filter.is_empty
        self.query_one("#orders-empty").display = empty
        self.query_one(OrdersTable).display = not empty
        self.query_one("#orders-title", Label).update(" · ".join(parts))

    # ------------------------------------------------------------ paging

    @on(OrdersTable.EdgeReached)
    def _edge(self, message: OrdersTable.EdgeReached) -> None:
        self.action_page(message.direction)

    def action_page(self, direction: int) -> None:
        page = self.page
        if page is None:
            return
        if direction > 0 and page.has_next and page.last:
            self._anchor = ("after", page.last)
        elif direction < 0 and page.has_prev and page.first:
            self._anchor = ("before", page.first)
        else:
            return
        self._request += 1
        after = self._anchor[1] if self._anchor[0] == "after" else None
        before = self._anchor[1] if self._anchor[0] == "before" else None
        self._load_page(self.filter, after, before, direction, self._request)

    # ------------------------------------------------------------ filters

    def _set_filter(self, flt: OrderFilter) -> None:
        if flt == self.filter:
            return
        if self.all_matching is not None:
            self.all_matching = None
            self.notify('The filter changed: "all matching" is no longer marked.', title="Marks")
        self.filter = flt
        self.reload(first_page=True)

    def apply_filter(self, text: str) -> None:
        self._set_filter(self.filter.with_(text=text.strip()))

    def action_filter_status(self, value: str | None = None) -> None:
        if value is None:
            current = STATUS_CYCLE.index(self.filter.status)
            self._set_filter(self.filter.with_(status=STATUS_CYCLE[(current + 1) % len(STATUS_CYCLE)]))
            return
        wanted = value.strip().casefold()
        if wanted in ("all", "any", ""):
            self._set_filter(self.filter.with_(status=None))
            return
        match = next((s for s in NormalizedStatus if s.value.casefold() == wanted), None)
        if match is None:
            self.notify(
                f"Unknown status {value!r}: one of {', '.join(s.value for s in NormalizedStatus)} or all", title="Filter", severity="error"
            )
            return
        self._set_filter(self.filter.with_(status=match))

    def action_filter_invoiced(self, value: str | None = None) -> None:
        """``$`` cycles all → invoiced → not invoiced; ``:invoiced yes|no|all`` sets it."""
        if value is None:
            cycle: list[bool | None] = [None, True, False]
            self._set_filter(self.filter.with_(invoiced=cycle[(cycle.index(self.filter.invoiced) + 1) % 3]))
            return
        wanted = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False, "all": None, "": None}
        if value.strip().casefold() not in wanted:
            self.notify(f"{value!r}: :invoiced yes, no or all", title="Filter", severity="error")
            return
        self._set_filter(self.filter.with_(invoiced=wanted[value.strip().casefold()]))

    def action_invoice(self) -> None:
        """``I``: issue invoices for the marked orders (or all matching), or the highlighted one."""
        from shelfdesk.tui.screens.invoices.issuing import start_invoicing

        start_invoicing(self)

    def action_open_invoices(self) -> None:
        """``i``: the highlighted order's invoices and credit notes."""
        from shelfdesk.tui.screens.invoices.invoice_screens import InvoicesScreen

        order_id = self._cursor_order()
        if order_id is not None:
            self.app.push_screen(InvoicesScreen(order_id, self._mids.get(order_id)))

    def _cycle(self, table: dict[int, str], current: int | None, value: str | None, kind: str) -> tuple[bool, int | None]:
        ids: list[int | None] = [None, *table]
        if value is None:
            return True, ids[(ids.index(current) + 1) % len(ids)] if current in ids else None
        wanted = value.strip().casefold()
        if wanted in ("all", "any", ""):
            return True, None
        for key, name in table.items():
            if name.casefold() == wanted or str(key) == wanted:
                return True, key
        self.notify(f"No {kind} {value!r}: {', '.join(table.values()) or 'none yet'}", title="Filter", severity="error")
        return False, None

    def action_filter_channel(self, value: str | None = None) -> None:
        ok, channel = self._cycle(self.names.channels, self.filter.channel_id, value, "channel")
        if ok:
            self._set_filter(self.filter.with_(channel_id=channel))

    def action_filter_store(self, value: str | None = None) -> None:
        ok, store = self._cycle(self.names.stores, self.filter.store_id, value, "store")
        if ok:
            self._set_filter(self.filter.with_(store_id=store, channel_id=None))

    def _date(self, value: str | None) -> tuple[bool, datetime | None]:
        if not value or not value.strip():
            return True, None
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            self.notify(f"{value!r} is not a date: write it as 2026-02-01", title="Filter", severity="error")
            return False, None
        return True, parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def action_filter_after(self, value: str | None = None) -> None:
        ok, when_ = self._date(value)
        if ok:
            self._set_filter(self.filter.with_(purchased_after=when_))

    def action_filter_before(self, value: str | None = None) -> None:
        ok, when_ = self._date(value)
        if ok:
            self._set_filter(self.filter.with_(purchased_before=when_))

    def action_reset_filters(self) -> None:
        self._set_filter(OrderFilter())

    # ------------------------------------------------------------ marks

    def _cursor_order(self) -> int | None:
        key = self.table.current_key
        return int(key) if key is not None else None

    def _redraw_marks(self, ids: set[int] | None = None) -> None:
        for row in self.page.rows if self.page else []:
            if ids is None or row.id in ids:
                marked = row.id in self.marks or self.all_matching is not None
                self.table.update_cell(str(row.id), "mark", "*" if marked else " ")
        self._show_title()

    def action_toggle_mark(self) -> None:
        order_id = self._cursor_order()
        if order_id is None:
            return
        if self.all_matching is not None:
            self.notify("Every order matching the filter is marked: U clears the marks first.", title="Marks")
            return
        self.marks.symmetric_difference_update({order_id})
        self._last_marked = order_id if order_id in self.marks else self._last_marked
        self._redraw_marks({order_id})
        self.table.action_cursor_down()

    def action_mark_range(self) -> None:
        order_id = self._cursor_order()
        if order_id is None or self.page is None:
            return
        ids = [r.id for r in self.page.rows]
        start = ids.index(self._last_marked) if self._last_marked in ids else 0
        end = ids.index(order_id)
        chosen = set(ids[min(start, end) : max(start, end) + 1])
        self.marks |= chosen
        self._redraw_marks(chosen)

    def action_mark_all(self) -> None:
        self.all_matching = None if self.all_matching is not None else self.filter
        self._redraw_marks()

    def action_clear_marks(self) -> None:
        self.marks.clear()
        self.all_matching = None
        self._redraw_marks()

    # ------------------------------------------------------------ bulk actions

    def targets(self) -> tuple[list[int] | OrderFilter, int, list[str]] | None:
        """What a bulk action applies to: all matching (a filter), the marks, or the cursor row."""
        if self.all_matching is not None:
            count = self._matching() or 0
            samples = [r.marketplace_order_id for r in (self.page.rows if self.page else [])[:5]]
            return self.all_matching, count, samples
        if self.marks:
            ids = sorted(self.marks)
            return ids, len(ids), [self._mids.get(i, f"#{i}") for i in ids[:5]]
        order_id = self._cursor_order()
        if order_id is None:
            return None
        return [order_id], 1, [self._mids.get(order_id, f"#{order_id}")]

    def _bulk(self, intent: str, verb: str, *, reason: str = "") -> None:
        if self._job is not None:
            self.notify(f"{self._job.label} is still running: Esc cancels it.", title="Busy", severity="warning")
            return
        target = self.targets()
        if target is None:
            self.notify("There is no order here to act on.", title=verb)
            return
        self._reach(intent, verb, reason, target)

    @work(thread=True, group="orders-reach", exclusive=True, exit_on_error=False, description="Checking the orders")
    def _reach(self, intent: str, verb: str, reason: str, target: tuple[list[int] | OrderFilter, int, list[str]]) -> None:
        """Count the orders the action applies to, so the question names only those."""
        from shelfdesk.orders.actions import bulk_reach
        from shelfdesk.orders.queries import iter_order_ids

        what = target[0]
        ids = [i for batch in iter_order_ids(self.ctx, what) for i in batch] if isinstance(what, OrderFilter) else what
        self.app.call_from_thread(self._ask_bulk, intent, verb, reason, target, bulk_reach(self.ctx, ids, intent))

    def _ask_bulk(
        self, intent: str, verb: str, reason: str, target: tuple[list[int] | OrderFilter, int, list[str]], reach: BulkReach
    ) -> None:
        from shelfdesk.catalog.readiness import plural
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        what, _, _ = target
        if not reach.applicable:
            self.notify(
                f"Nothing to {verb.lower()}: of the {plural(reach.total, 'order')} chosen, {reach.others_text()}.",
                title=verb,
                severity="warning",
            )
            return
        n = len(reach.applicable)
        samples = [self._mids.get(i, f"#{i}") for i in reach.applicable[:5]]
        more = f" and {n - len(samples):,} more" if n > len(samples) else ""
        chosen = "marked " if self.marks or self.all_matching is not None else ""
        if n == reach.total:
            question = f"{verb} {plural(n, 'order')}?"
        else:
            question = f"{verb} {n:,} of the {plural(reach.total, chosen + 'order')}? The others cannot be: {reach.others_text()}."
        label = f"{verb} {plural(n, 'order')}"

        def done(answer: str | None) -> None:
            if answer is not None:
                fields = {"reason": answer} if reason else {}
                self._queue_bulk(intent, fields, reach.applicable if n < reach.total else what, label)

        self.app.push_screen(
            ConfirmDialog(
                question,
                ", ".join(samples) + more,
                yes=f"Yes, {verb.lower()}",
                field=reason,
                cancelled=f"Not confirmed: no order was sent to {verb.lower()}.",
            ),
            callback=done,
        )

    def action_accept(self) -> None:
        self._bulk("accept", "Accept")

    def action_cancel_orders(self) -> None:
        self._bulk("cancel", "Cancel", reason="Reason (Leboncoin: out_of_stock, item_damaged, buyer_request, other)")

    @work(thread=True, group="orders-queue", exit_on_error=False, description="Queuing order actions")
    def _queue_bulk(self, intent: str, fields: dict[str, str], what: list[int] | OrderFilter, label: str) -> None:
        from shelfdesk.orders.actions import enqueue_bulk
        from shelfdesk.orders.queries import iter_order_ids

        ids = [i for batch in iter_order_ids(self.ctx, what) for i in batch] if isinstance(what, OrderFilter) else what
        batch = f"{intent}:{uuid.uuid4().hex[:12]}"
        result = enqueue_bulk(self.ctx, ids, intent, fields, batch_key=batch)
        self.post_message(
            OrdersQueued(label, batch, len(result.queued), [str(r) for r in result.refused], {q.action_id for q in result.queued})
        )

    def action_ship(self) -> None:
        if self._job is not None:
            self.notify(f"{self._job.label} is still running: Esc cancels it.", title="Busy", severity="warning")
            return
        if self.marks or self.all_matching is not None:
            self.notify("Several orders need one tracking number each: ship them from a CSV file with B.", title="Ship", severity="warning")
            return
        order_id = self._cursor_order()
        if order_id is None:
            self.notify("There is no order here to ship.", title="Ship")
            return
        self.start_ship(order_id, self._mids.get(order_id, f"#{order_id}"))

    def action_bulk_ship(self) -> None:
        from shelfdesk.tui.screens.orders.bulk_ship_dialog import OrderBulkShipDialog

        if self._job is not None:
            self.notify(f"{self._job.label} is still running: Esc cancels it.", title="Busy", severity="warning")
            return

        def done(result: tuple[str, str] | None) -> None:
            if result is not None:
                self._queue_csv(*result)

        self.app.push_screen(OrderBulkShipDialog(str(self.ctx.paths.home)), callback=done)

    @work(thread=True, group="orders-queue", exit_on_error=False, description="Queuing the CSV shipments")
    def _queue_csv(self, path: str, text: str) -> None:
        from shelfdesk.orders.bulk import apply_bulk_ship

        batch = f"bulk-ship:{uuid.uuid4().hex[:12]}"
        plan, result = apply_bulk_ship(self.ctx, path, batch_key=batch, text=text)
        self.post_message(
            OrdersQueued(
                f"Ship {len(result.queued):,} orders from {path.rsplit('/', 1)[-1]}",
                batch,
                len(result.queued),
                [str(r) for r in result.refused],
                {q.action_id for q in result.queued},
            )
        )

    # ------------------------------------------------------------ sending, with the progress bar

    def on_orders_queued(self, message: OrdersQueued) -> None:
        if not message.queued:
            self._show_results(message.label, [], message.refused)
            return
        self._job = _Job(message.label, message.batch_key, message.queued, message.refused)
        self.query_one("#orders-progress").add_class("-running")
        self.query_one("#orders-progress-bar", ProgressBar).update(total=message.queued, progress=0)
        self._show_progress()
        self._send_batch(self._job)

    def _show_progress(self) -> None:
        job = self._job
        if job is None:
            return
        done = job.sent + job.failed
        self.query_one("#orders-progress-bar", ProgressBar).update(progress=done)
        stopping = " · stopping…" if job.stop.is_set() else " · Esc to cancel"
        self.query_one("#orders-progress-label", Label).update(
            f"{job.label}: {done:,} of {job.total:,} · sent {job.sent:,} · confirmed {job.confirmed:,} · failed {job.failed:,}{stopping}"
        )

    @work(exclusive=True, group="orders-batch", exit_on_error=False, description="Sending order actions")
    async def _send_batch(self, job: _Job) -> None:
        from shelfdesk.domain import ActionState
        from shelfdesk.orders.actions import batch_progress
        from shelfdesk.orders.outbox import ActionOutcome, OutboxSender

        def counted(outcome: ActionOutcome) -> None:
            if outcome.state is ActionState.failed:
                job.failed += 1
            elif outcome.state in (ActionState.confirmed, ActionState.synchronizing):
                job.sent += 1
                job.confirmed += outcome.state is ActionState.confirmed
            self._show_progress()

        async with OutboxSender(self.ctx) as sender:
            report = await sender.run_until_idle(batch_key=job.batch_key, progress=counted, stop=job.stop, max_wait=60)
        progress = await asyncio.to_thread(batch_progress, self.ctx, job.batch_key)
        failures = [(o.marketplace_order_id, o.message) for o in report.failed]
        self.post_message(OrderActionsProgress(job.batch_key, progress, finished=True, failures=failures))

    def on_order_actions_progress(self, message: OrderActionsProgress) -> None:
        job = self._job
        if job is None or message.batch_key != job.batch_key or not message.finished:
            return
        self._job = None
        self.query_one("#orders-progress").remove_class("-running")
        progress = message.progress
        waiting = getattr(progress, "synchronizing", 0) + getattr(progress, "pending", 0)
        # Only the counts that happened; "cancelled" beside "Cancel 3 orders" read as orders cancelled:
        # these are actions Esc stopped before they were sent.
        counts = [
            (getattr(progress, "confirmed", 0), "confirmed"),
            (waiting, "still synchronizing"),
            (getattr(progress, "failed", 0), "failed"),
            (getattr(progress, "abandoned", 0), "not sent (stopped)"),
        ]
        summary = f"{job.label}: " + (", ".join(f"{n:,} {what}" for n, what in counts if n) or "nothing sent")
        failed = bool(message.failures or job.refused)
        self.notify(
            summary + (" (F lists failed actions)" if failed else ""),
            title="Orders",
            severity="warning" if failed else "information",
            timeout=10,
        )
        if failed:
            self._show_results(job.label, message.failures, job.refused)
        if not failed:
            self.marks.clear()
            self.all_matching = None
        self.reload()

    def _show_results(self, label: str, failures: list[tuple[str, str]], refused: list[str]) -> None:
        from shelfdesk.tui.screens.orders.not_done_results import OrderResults

        lines = [f"{order}: {reason}" for order, reason in failures] + refused
        if lines:
            self.app.push_screen(OrderResults(label, lines))

    def action_back(self) -> None:
        """Esc stops a running bulk action (what was not sent yet is abandoned), else goes back as usual."""
        if self._job is not None and not self._job.stop.is_set():
            self._job.stop.set()
            self._cancel_batch(self._job.batch_key)
            self._show_progress()
            return
        super().action_back()

    @work(thread=True, group="orders-queue", exit_on_error=False, description="Cancelling the bulk action")
    def _cancel_batch(self, batch_key: str) -> None:
        from shelfdesk.orders.actions import cancel_batch

        count = cancel_batch(self.ctx, batch_key)
        self.app.call_from_thread(self.notify, f"Stopped: {count:,} action(s) not sent were cancelled.", title="Orders")

    def on_actions_sent(self, report: SendReport) -> None:
        self.reload()

    # ------------------------------------------------------------ sweep, harvest, export, detail

    def on_worker_state_changed(self, event: Any) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "outbox-sweep" and event.worker.is_finished and self.is_attached:
            if self._sweep_timer is not None:
                self._sweep_timer.stop()
            self._sweep_timer = self.set_timer(SWEEP_SECONDS, self._sweep)

    def _sweep(self) -> None:
        self._sweep_timer = None
        if self._job is None and not self.ctx.read_only:
            self.sweep_outbox()

    def action_fetch(self) -> None:
        self.notify("Fetching orders from every account…", title="Orders")
        self._harvest()

    @work(exclusive=True, group="orders-harvest", exit_on_error=False, description="Fetching orders")
    async def _harvest(self) -> None:
        from shelfdesk.jobs.manual import harvest_now

        self.post_message(OrdersHarvested(await harvest_now(self.ctx, self.shell.run_key)))

    def on_orders_harvested(self, message: OrdersHarvested) -> None:
        """One line for the whole fetch: new and changed orders, then each account that failed or was busy."""
        ran = [m.result for m in message.results if m.result is not None]
        problems = [m.error for m in message.results if m.error]
        created = sum(len(r.stored.created) for r in ran)
        updated = sum(len(r.stored.updated) for r in ran)
        text = f"{created:,} new, {updated:,} changed"
        if problems:
            text += "; " + "; ".join(p or "" for p in problems)
        severity: SeverityLevel = "error" if any(m.failed for m in message.results) else "warning" if problems else "information"
        self.notify(text if message.results else "No channel manages orders yet.", title="Orders fetched", severity=severity, timeout=10)
        self.reload()

    def action_export(self) -> None:
        from shelfdesk.tui.screens.orders.export_path_prompt import OrderPathPrompt

        stamp = self.ctx.clock.now().strftime("%Y%m%d-%H%M")
        default = str(self.ctx.paths.exports_dir / f"orders-{stamp}.csv")

        def done(path: str | None) -> None:
            if path:
                self._export(path)

        self.app.push_screen(OrderPathPrompt(f"Export {self.filter.describe(self.names)} to CSV", default), callback=done)

    @work(thread=True, group="orders-export", exit_on_error=False, description="Exporting orders")
    def _export(self, path: str) -> None:
        from shelfdesk.orders.export import export_orders

        rows = export_orders(self.ctx, self.filter, path)
        self.app.call_from_thread(self.notify, f"{rows:,} row(s) written to {path}", title="Export")

    def action_failed_actions(self) -> None:
        from shelfdesk.tui.screens.orders.failed_actions import OrderActionsScreen

        self.app.push_screen(OrderActionsScreen())

    def action_open_order(self) -> None:
        order_id = self._cursor_order()
        if order_id is not None:
            self._open(order_id)

    @on(OrdersTable.RowSelected)
    def _row_selected(self, event: OrdersTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(int(event.row_key.value))

    def _open(self, order_id: int) -> None:
        from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen

        self.app.push_screen(OrderDetailScreen(order_id))

    def on_screen_resume(self) -> None:
        if self.page is not None:
            self.reload()
