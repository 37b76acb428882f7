"""Typed messages of the console.

Thread workers never touch widgets: they post one of these (``post_message``
is thread-safe) and the main thread updates the screen. Tests assert on them
through ``run_test(message_hook=...)`` rather than on pixels.

Each message is a dataclass (as in Toolong): its fields are its payload, typed
with the service's own result types, so a handler reads ``message.page.rows``
with its type known. Textual's ``Message.__init__`` only calls
``__post_init__``, which the dataclass ``__init__`` calls too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from textual.message import Message

if TYPE_CHECKING:
    from shelfdesk.catalog.exclusions import ExclusionCount
    from shelfdesk.catalog.importer import ImportProgress, ImportResult
    from shelfdesk.invoices.service import InvoiceInfo
    from shelfdesk.jobs.health import JobRow
    from shelfdesk.jobs.manual import ManualHarvest
    from shelfdesk.jobs.runs import RunDetail, RunInfo
    from shelfdesk.orders.actions import BatchProgress
    from shelfdesk.orders.detail import OrderDetail
    from shelfdesk.orders.queries import Lookups, OrderPage
    from shelfdesk.services.deadlines import DueList
    from shelfdesk.publishing.engine import Progress, PublishResult
    from shelfdesk.publishing.triage import ErrorCluster, ItemRow, PublicationRow
    from shelfdesk.jobs.alerts import Alert
    from shelfdesk.services.channels import ChannelView
    from shelfdesk.services.stores import StoreSummary
    from shelfdesk.webhooks.delivery import AttemptInfo, DeliveryInfo
    from shelfdesk.webhooks.subscriptions import SubscriptionInfo

Severity = Literal["information", "warning", "error"]


@dataclass
class AlertsCounted(Message):
    """The status worker counted the open alerts of the workspace, and its deadlines late or due soon."""

    count: int
    overdue: int = 0
    due_soon: int = 0
    within: str = "4 h"


@dataclass
class FilterChanged(Message):
    """The operator edited (or cleared, with ``text == ""``) the filter of the current screen."""

    text: str
    submitted: bool = False


@dataclass
class OperationDone(Message):
    """An operator's action run by ``ShelfdeskScreen.run_operation`` ended: the toast, and what follows.

    ``reload``: the workspace changed, so this screen reloads and the others
    reload when shown again. ``retry``: what to reopen a refused form with
    (its kind and the values typed), so nothing typed is lost.
    """

    title: str
    text: str
    severity: Severity = "information"
    reload: bool = True
    retry: tuple[str, dict[str, Any]] | None = None


# ---------------------------------------------------------------- jobs and alerts


@dataclass
class JobsLoaded(Message):
    """The Jobs screen's rows, read at ``now`` on the workspace clock."""

    rows: list[JobRow]
    now: datetime
    codes: dict[int, str] = field(default_factory=dict)
    """Channel id -> "BM FR", as on Orders and Publications."""


@dataclass
class JobRunsLoaded(Message):
    """A job's runs, newest first."""

    key: str
    runs: list[RunInfo]
    now: datetime


@dataclass
class JobRunDetailLoaded(Message):
    """One run with its error and traceback."""

    run: RunDetail


@dataclass
class JobRunChanged(Message):
    """A run of this console's scheduler started or finished (``kind``: "started" or "finished").

    ``outcome`` is the finished run's outcome ("succeeded" when it did some work, "skipped" when idle).
    """

    key: str
    kind: str
    outcome: str | None = None


@dataclass
class DueLoaded(Message):
    """Everything due, most urgent first (``services.deadlines.list_due``)."""

    due: DueList


@dataclass
class AlertsLoaded(Message):
    """Every current alert, critical first."""

    alerts: list[Alert]


# ---------------------------------------------------------------- orders


@dataclass
class OrdersLoaded(Message):
    """A page of the orders list for ``request`` (newest wins)."""

    page: OrderPage
    names: Lookups
    request: int
    edge: int = 0
    """+1 moved forward (cursor to the top), -1 backward (cursor to the bottom)."""


@dataclass
class OrderCountsLoaded(Message):
    """Orders per status under the current filter (its status part left out).

    ``at_most``: the counts stopped there (a quick first answer, "1,000+"); the exact ones follow.
    """

    counts: dict[Any, int]
    request: int
    at_most: int | None = None


@dataclass
class OrderDetailLoaded(Message):
    """One order in full."""

    detail: OrderDetail


@dataclass
class OrdersQueued(Message):
    """A bulk (or single) action was written to the outbox; ``refused`` holds the reasons of the others."""

    label: str
    batch_key: str
    queued: int
    refused: list[str]
    action_ids: set[int]


@dataclass
class OrderActionsProgress(Message):
    """Where a batch of actions stands."""

    batch_key: str
    progress: BatchProgress
    finished: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class OrdersHarvested(Message):
    """A manual fetch finished, one result per account."""

    results: list[ManualHarvest]


# ---------------------------------------------------------------- publications


@dataclass
class PublicationsLoaded(Message):
    """A page of the publication history."""

    rows: list[PublicationRow]
    running: list[PublicationRow] = field(default_factory=list)
    codes: dict[int, str] = field(default_factory=dict)
    """Channel id -> short name ("BM FR"), as on Orders."""
    pusher: str = ""
    """The stock pusher's state line."""
    pusher_waiting: int = 0


@dataclass
class PublicationItemsLoaded(Message):
    """A page of one publication's items, with the count matching the filter."""

    publication: PublicationRow
    items: list[ItemRow]
    total: int
    page: int


@dataclass
class ErrorClustersLoaded(Message):
    """Failed items of a publication grouped by cause, largest first."""

    publication: PublicationRow
    clusters: list[ErrorCluster]


@dataclass
class PublishProgress(Message):
    """A running publication reported progress."""

    progress: Progress


@dataclass
class PublishFinished(Message):
    """A publication (or dry run) started from the console ended; ``error`` when it could not run."""

    result: PublishResult | None
    error: str | None = None


@dataclass
class InvoicesLoaded(Message):
    """The invoices list read by a worker (``detail``: the text of the cursor row's invoice)."""

    invoices: list[InvoiceInfo]
    detail: str = ""


@dataclass
class WebhooksLoaded(Message):
    """Subscriptions with their delivery health."""

    subscriptions: list[SubscriptionInfo]


@dataclass
class DeliveriesLoaded(Message):
    """One subscription's queue (deliveries) or delivery log (attempts, ``log``)."""

    rows: list[DeliveryInfo] | list[AttemptInfo]
    log: bool


# ---------------------------------------------------------------- stores and mappings


@dataclass
class StoresLoaded(Message):
    """Every store with its channels."""

    stores: list[StoreSummary]


@dataclass
class ImportProgressed(Message):
    """A running catalog import reported progress."""

    store_name: str
    progress: ImportProgress


@dataclass
class ImportFinished(Message):
    """A catalog import started here ended (``result``), or could not start (``error``)."""

    store_name: str
    result: ImportResult | None
    error: str | None = None


@dataclass
class MappingChannelsLoaded(Message):
    """The channels the Mappings screen can show."""

    channels: list[ChannelView]


@dataclass
class MappingPaneLoaded(Message):
    """One pane of the Mappings screen loaded for ``channel_id``.

    ``data`` depends on ``pane``: category rows, (column rows, preview),
    (rules, count) or the readiness.
    """

    channel_id: int
    pane: str
    data: Any


@dataclass
class ExclusionCounted(Message):
    """The live count of products an edited (unsaved) rule set excludes, or why it cannot be counted."""

    count: ExclusionCount | str
    request: int
