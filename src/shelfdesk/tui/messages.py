"""Typed messages of the console shell.

Thread workers never touch widgets: they post one of these (``post_message``
is thread-safe) and the main thread updates the screen. Tests assert on them
through ``run_test(message_hook=...)`` rather than on pixels.
"""

from __future__ import annotations

from textual.message import Message


class AlertsCounted(Message):
    """The status worker counted the open alerts of the workspace."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class FilterChanged(Message):
    """The operator edited (or cleared, with ``text == ""``) the filter of the current screen."""

    def __init__(self, text: str, *, submitted: bool = False) -> None:
        super().__init__()
        self.text = text
        self.submitted = submitted


# ---------------------------------------------------------------- jobs and alerts (issue 7)


class JobsLoaded(Message):
    """The Jobs screen's rows (``shelfdesk.jobs.health.JobRow``), read at ``now`` on the workspace clock."""

    def __init__(self, rows: list, now: object, codes: dict[int, str] | None = None) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.rows = rows
        self.now = now
        self.codes = codes or {}  #: channel id -> "BM FR", as on Orders and Publications


class JobRunsLoaded(Message):
    """A job's runs, newest first (``shelfdesk.jobs.runs.RunInfo``)."""

    def __init__(self, key: str, runs: list, now: object) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.key = key
        self.runs = runs
        self.now = now


class JobRunDetailLoaded(Message):
    """One run with its error and traceback (``shelfdesk.jobs.runs.RunDetail``)."""

    def __init__(self, run: object) -> None:
        super().__init__()
        self.run = run


class JobRunChanged(Message):
    """A run of this console's scheduler started or finished (``kind``: "started" or "finished")."""

    def __init__(self, key: str, kind: str) -> None:
        super().__init__()
        self.key = key
        self.kind = kind


class JobCommandDone(Message):
    """Run now, pause, resume or a schedule edit finished; ``text`` says what happened."""

    def __init__(self, text: str, *, ok: bool = True) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


class AlertsLoaded(Message):
    """Every current alert (``shelfdesk.services.alerts.Alert``), critical first."""

    def __init__(self, alerts: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.alerts = alerts


# ---------------------------------------------------------------- orders


class OrdersLoaded(Message):
    """A page of the orders list (``page``: ``orders.queries.OrderPage``) for ``request`` (newest wins)."""

    def __init__(self, page: object, names: object, request: int, edge: int = 0) -> None:
        super().__init__()
        self.page = page
        self.names = names
        self.request = request
        self.edge = edge  #: +1 moved forward (cursor to the top), -1 backward (cursor to the bottom)


class OrderCountsLoaded(Message):
    """Orders per status under the current filter (its status part left out)."""

    def __init__(self, counts: dict, request: int) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.counts = counts
        self.request = request


class OrderDetailLoaded(Message):
    """One order in full (``detail``: ``orders.detail.OrderDetail``)."""

    def __init__(self, detail: object) -> None:
        super().__init__()
        self.detail = detail


class OrdersQueued(Message):
    """A bulk (or single) action was written to the outbox; ``refused`` holds the reasons of the others."""

    def __init__(self, label: str, batch_key: str, queued: int, refused: list[str], action_ids: set[int]) -> None:
        super().__init__()
        self.label = label
        self.batch_key = batch_key
        self.queued = queued
        self.refused = refused
        self.action_ids = action_ids


class OrderActionsProgress(Message):
    """Where a batch of actions stands (``progress``: ``orders.actions.BatchProgress``)."""

    def __init__(self, batch_key: str, progress: object, *, finished: bool = False,
                 failures: list[tuple[str, str]] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.batch_key = batch_key
        self.progress = progress
        self.finished = finished
        self.failures = failures or []


class OrdersHarvested(Message):
    """A manual fetch finished (``results``: ``jobs.manual.ManualHarvest`` per account)."""

    def __init__(self, results: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.results = results


# ---------------------------------------------------------------- publications


class PublicationsLoaded(Message):
    """A page of the publication history (``rows``: ``publishing.triage.PublicationRow``)."""

    def __init__(self, rows: list, *, running: list | None = None, codes: dict[int, str] | None = None) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.rows = rows
        self.running = running or []
        self.codes = codes or {}  #: channel id -> short name ("BM FR"), as on Orders


class PublicationItemsLoaded(Message):
    """A page of one publication's items, with the count matching the filter."""

    def __init__(self, publication: object, items: list, total: int, page: int) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.publication = publication
        self.items = items
        self.total = total
        self.page = page


class ErrorClustersLoaded(Message):
    """Failed items of a publication grouped by cause, largest first."""

    def __init__(self, publication: object, clusters: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.publication = publication
        self.clusters = clusters


class PublishProgress(Message):
    """A running publication reported progress (``publishing.engine.Progress``)."""

    def __init__(self, progress: object) -> None:
        super().__init__()
        self.progress = progress


class PublishFinished(Message):
    """A publication (or dry run) started from the console ended; ``error`` when it could not run."""

    def __init__(self, result: object | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class InvoicesLoaded(Message):
    """The invoices list read by a worker (``invoices``: ``invoices.service.InvoiceInfo``; ``detail`` for the cursor row)."""

    def __init__(self, invoices: list, detail: str = "") -> None:  # type: ignore[type-arg]
        super().__init__()
        self.invoices = invoices
        self.detail = detail


class WebhooksLoaded(Message):
    """Subscriptions with their delivery health (``webhooks.subscriptions.SubscriptionInfo``)."""

    def __init__(self, subscriptions: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.subscriptions = subscriptions


class DeliveriesLoaded(Message):
    """One subscription's queue (``DeliveryInfo``) or delivery log (``AttemptInfo``)."""

    def __init__(self, rows: list, *, log: bool) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.rows = rows
        self.log = log


class OperationDone(Message):
    """A worker finished an operator's action: what to tell them (a toast) and whether to reload."""

    def __init__(self, title: str, text: str, *, severity: str = "information", reload: bool = True) -> None:
        super().__init__()
        self.title = title
        self.text = text
        self.severity = severity
        self.reload = reload


# ---------------------------------------------------------------- stores and mappings


class StoresLoaded(Message):
    """Every store with its channels (``stores``: ``services.stores.StoreSummary``)."""

    def __init__(self, stores: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.stores = stores


class ImportProgressed(Message):
    """A running catalog import reported progress (``catalog.importer.ImportProgress``)."""

    def __init__(self, store_name: str, progress: object) -> None:
        super().__init__()
        self.store_name = store_name
        self.progress = progress


class ImportFinished(Message):
    """A catalog import started here ended (``result``: ``ImportResult``), or could not start (``error``)."""

    def __init__(self, store_name: str, result: object | None, error: str | None = None) -> None:
        super().__init__()
        self.store_name = store_name
        self.result = result
        self.error = error


class SetupDone(Message):
    """A set-up action (store, channel, token, connection test …) finished; ``error`` says why it did not."""

    def __init__(self, what: str, message: str, *, error: str | None = None, retry: object | None = None,
                 ok: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.what = what
        self.message = message
        self.error = error
        self.retry = retry  #: what to reopen a form with, so nothing typed is lost
        self.ok = ok


class MappingChannelsLoaded(Message):
    """The channels the Mappings screen can show (``channels``: ``services.channels.ChannelView``)."""

    def __init__(self, channels: list) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.channels = channels


class MappingPaneLoaded(Message):
    """One pane of the Mappings screen loaded for ``channel_id`` (``pane``: categories, columns, exclusions, readiness)."""

    def __init__(self, channel_id: int, pane: str, data: object) -> None:
        super().__init__()
        self.channel_id = channel_id
        self.pane = pane
        self.data = data


class ExclusionCounted(Message):
    """The live count of products an edited (unsaved) rule set excludes."""

    def __init__(self, count: object, request: int) -> None:
        super().__init__()
        self.count = count
        self.request = request
