"""Shared vocabulary: the enums connectors, services, the database and the console agree on.

Pure Python (no SQLModel, no Textual) so any layer can import it cheaply. Every
enum is a :class:`~enum.StrEnum`: its members compare equal to their string
values, which is also what the database stores (see
:class:`shelfdesk.db.types.EnumString`), so a value read back by raw SQL or
written by a script means the same thing everywhere.

Adding a member is backwards compatible (columns are plain strings, no database
enum type); renaming or removing one needs a data migration.
"""

from __future__ import annotations

from enum import StrEnum


class Marketplace(StrEnum):
    """The marketplaces shelfdesk has a connector for."""

    backmarket = "backmarket"
    leboncoin = "leboncoin"


#: How narrow columns (the orders table's channel, 80 columns wide) name a marketplace.
MARKETPLACE_SHORT: dict[str, str] = {Marketplace.backmarket: "BM", Marketplace.leboncoin: "LBC"}


class NormalizedStatus(StrEnum):
    """One order status across marketplaces (BeezUP's unified model).

    The marketplace's own status is kept beside it, raw, on the order.
    """

    New = "New"  #: to accept or refuse
    InProgress = "InProgress"  #: accepted, to ship
    Canceled = "Canceled"
    Shipped = "Shipped"
    Closed = "Closed"  #: final, no more updates
    Undefined = "Undefined"  #: the marketplace status maps to nothing known
    NotProvided = "NotProvided"  #: the marketplace sent no status


class OrderScope(StrEnum):
    """Which orders a channel's harvest takes from its account."""

    account = "account"  #: every country of the account
    market = "market"  #: only the channel's own market


class ActionKind(StrEnum):
    """What an order action (outbox row) asks the marketplace to do."""

    accept = "accept"
    ship = "ship"
    cancel = "cancel"
    set_line_details = "set_line_details"  #: IMEI / serial number on a line
    confirm_availability = "confirm_availability"  #: Leboncoin's accept
    confirm_shipping = "confirm_shipping"  #: Leboncoin's ship
    upload_invoice = "upload_invoice"
    care_reply = "care_reply"  #: a message on an after-sales case
    care_problem = "care_problem"  #: a problem declared on an after-sales case
    care_transfer = "care_transfer"  #: an item sent back to the buyer (carrier, tracking)
    refund = "refund"  #: a refund of an order line (Back Market's Care API)


class ActionState(StrEnum):
    """Life of an outbox row; only ``pending`` rows may be claimed by a sender."""

    pending = "pending"  #: written, waiting to be sent (or retried after back-off)
    sending = "sending"  #: claimed by one sender; outcome unknown until it finishes
    synchronizing = "synchronizing"  #: the marketplace took it; waiting to see it in its state
    confirmed = "confirmed"  #: the marketplace's state shows it (final)
    failed = "failed"  #: refused for good; waits for an operator to retry or dismiss
    abandoned = "abandoned"  #: dismissed by an operator (final)

    @property
    def is_final(self) -> bool:
        return self in (ActionState.confirmed, ActionState.abandoned)

    @property
    def is_open(self) -> bool:
        """Still in flight: the order shows "synchronizing" while any action is open."""
        return self in (ActionState.pending, ActionState.sending, ActionState.synchronizing)


class PublicationKind(StrEnum):
    """The two feeds of a channel."""

    products = "products"  #: listings the marketplace does not have yet
    offers = "offers"  #: price and quantity of what it has


class PublicationMode(StrEnum):
    full = "full"  #: everything
    update = "update"  #: only what changed since the last successful run


class PublicationState(StrEnum):
    """Where a publication run is, or how it ended."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    partial = "partial"  #: some items failed or were carried to the next run
    failed = "failed"
    skipped = "skipped"  #: nothing to send
    dry_run = "dry_run"  #: computed, nothing sent
    interrupted = "interrupted"  #: the process died mid-run; the next run follows its task ids
    canceled = "canceled"  #: stopped by the operator between batches


class ItemAction(StrEnum):
    """What a publication planned for one item."""

    create = "create"
    update = "update"
    zero = "zero"  #: quantity to 0 (gone, excluded or unknown SKU)
    skip = "skip"


class ItemOutcome(StrEnum):
    """What happened to one publication item."""

    queued = "queued"  #: over quota, carried to the next run
    sent = "sent"  #: sent, the marketplace's per-item result is not known yet
    created = "created"
    updated = "updated"
    zeroed = "zeroed"
    unchanged = "unchanged"
    failed = "failed"
    skipped = "skipped"


class EventSource(StrEnum):
    """Who or what caused an order event."""

    harvest = "harvest"
    operator = "operator"
    rule = "rule"  #: an automatic rule such as auto-accept
    system = "system"


class JobOutcome(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"  #: another process held the lease, or nothing to do
    abandoned = "abandoned"  #: stopped on shutdown, or its holder died


class ExclusionOperator(StrEnum):
    """Comparisons an exclusion rule can apply to a catalog column."""

    equals = "equals"
    not_equals = "not_equals"
    contains = "contains"
    greater_than = "greater_than"
    less_than = "less_than"
    empty = "empty"
    not_empty = "not_empty"
    matches = "matches"  #: regular expression
