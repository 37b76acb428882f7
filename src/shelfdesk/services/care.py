"""After-sales (Care): what the console's Care screen and ``shelfdesk care`` call.

Back Market calls an after-sales case a *Care folder*; shelfdesk calls it a
**case**. Cases are harvested (``care`` job, :mod:`shelfdesk.care.harvest`)
into ``care_cases`` with their whole message thread; everything an operator
does on one (reply, declare a problem, declare an item transfer, refund a
line) is queued in the orders outbox (``order_actions``, on the case's order)
and sent exactly once by :mod:`shelfdesk.orders.outbox`, which hands Care
kinds to :mod:`shelfdesk.care.outbox`. An action stays *synchronizing* until
the marketplace's own state shows it (the message in the thread, the line
refunded, the folder modified after the call).

The names below are stable: the console and the CLI are built on them.
A case is named by its marketplace id (``"123"``) or by its local id
(``"#7"``). Amounts are :class:`~decimal.Decimal`, times aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: Case states as shelfdesk shows them (Back Market's 0 OPEN and 9 CLOSED).
CASE_STATES = ("open", "closed")

#: ``problem_type`` values of ``POST /ws/sav/{id}/problem``; the first three need an attachment.
PROBLEM_TYPES = (
    "OTHER",
    "ACCOUNT_LOCKED",
    "CODE_LOCKED",
    "DAMAGED_PACKAGE",
    "ITEM_NOT_RECEIVED",
    "MISSING_PART",
    "OOW_ITEM",
    "PROBLEM_NOT_IDENTIFIED",
    "WRONG_ITEM",
)
PROBLEMS_NEEDING_ATTACHMENT = frozenset({"DAMAGED_PACKAGE", "ITEM_NOT_RECEIVED", "OOW_ITEM"})

#: ``action`` values of ``POST /ws/sav/{id}/item-transfer`` (what the seller did to the item).
TRANSFER_ACTIONS = ("REPAIR", "REPLACE", "NOTHING")

#: Refund types of ``POST /ws/sav/refund``: 4 full on a paid line, 5 full on an accepted one,
#: 6 full or partial on a shipped one.
REFUND_TYPES = {4: "full refund of a paid line", 5: "full refund of an accepted line", 6: "refund after shipping (full or partial)"}

#: Where a returned unit goes when an operator releases it.
RELEASE_TARGETS = ("sellable", "written_off")


class CareError(Exception):
    """An operator's request about a case that cannot be done as asked (the message says why)."""


# ---------------------------------------------------------------------- what lists and details show


@dataclass(frozen=True)
class CaseRow:
    """One case as the Care list shows it (sorted by ``due_at``, soonest first, then newest)."""

    id: int  #: local id
    case_id: str  #: the marketplace's id (Back Market's care folder id)
    account_id: int
    channel: str  #: short channel label ("BM FR"), "" when no channel covers it
    marketplace: str
    state: str  #: open / closed
    order_id: int | None  #: local order, None until the order is harvested
    order_ref: str | None  #: the marketplace's order id
    buyer: str
    problem: str  #: the buyer's issues, comma-separated ("BATTERY_NOT_CHARGING")
    resolution: str | None  #: the buyer's chosen resolution (REFUND, REPAIR, REPLACE …)
    return_label: str | None  #: ALIVE / USED / EXPIRED of the latest return label
    opened_at: datetime
    modified_at: datetime | None
    last_message_at: datetime | None
    last_message_from: str | None  #: buyer / merchant / backmarket
    messages: int
    due_at: datetime | None  #: when the next answer or resolution is due (see care.deadlines)
    due_what: str | None  #: "answer" or "resolve"
    synchronizing: bool  #: an action of this case is queued or sent and not yet visible
    refunded: Decimal  #: refunded so far on the case's lines


@dataclass(frozen=True)
class CaseAttachment:
    id: int
    message_id: int | None
    name: str  #: file name (from the URL)
    url: str
    created_at: datetime | None
    local_path: Path | None  #: set once downloaded into the workspace


@dataclass(frozen=True)
class CaseMessage:
    """One entry of the case's timeline: a message, or an action of ours (``kind`` "action")."""

    id: int
    at: datetime
    sender: str  #: buyer / merchant / backmarket / shelfdesk (our queued actions)
    kind: str  #: the marketplace's kind (CUSTOMER_TO_MERCHANT …) or "action"
    body: str
    informative: bool = False
    attachments: tuple[CaseAttachment, ...] = ()
    state: str | None = None  #: for actions: pending / sending / synchronizing / confirmed / failed


@dataclass(frozen=True)
class CaseLine:
    """An order line a case is about, with what is left to refund on it."""

    order_line_id: int | None
    line_ref: str  #: the marketplace's order-line id
    sku: str | None
    title: str | None
    quantity: int
    unit_price: Decimal | None
    currency: str
    status: str | None  #: normalized line status
    marketplace_status: str | None  #: raw (Back Market 0-8)
    imei: str | None
    serial_number: str | None
    return_reason: str | None
    refunded: Decimal
    refundable: Decimal  #: what is left to refund (0 when nothing can be)
    refund_types: tuple[int, ...]  #: refund types the line's state allows now
    claim_state: str | None = None
    issues: tuple[str, ...] = ()
    resolution: str | None = None
    warranty: str | None = None
    return_labels: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class CaseAction:
    id: int
    kind: str  #: care_reply / care_problem / care_transfer / refund
    state: str
    summary: str
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class RefundRow:
    id: int
    order_id: int
    order_ref: str
    line_ref: str | None
    sku: str | None
    amount: Decimal
    currency: str
    refund_type: int | None
    source: str  #: shelfdesk (asked here) / marketplace (seen in a harvest)
    state: str  #: pending / sent / confirmed / failed
    reason: str | None
    credit_note: str | None  #: the credit note's number once issued
    created_at: datetime


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case screen shows, on one timeline."""

    case: CaseRow
    order_status: str | None
    order_total: Decimal | None
    currency: str
    buyer_email: str | None
    country: str | None
    invoice: str | None  #: the order's invoice number, when it has one
    lines: tuple[CaseLine, ...]
    timeline: tuple[CaseMessage, ...]  #: messages and our actions, oldest first
    actions: tuple[CaseAction, ...]
    refunds: tuple[RefundRow, ...]
    attachments: tuple[CaseAttachment, ...]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class RefundQuote:
    """What a refund would do, for the confirmation ("Refund 49.00 EUR to Jane D.?")."""

    case_id: str | None
    order_id: int
    order_ref: str
    line_ref: str
    sku: str | None
    buyer: str
    refund_type: int
    amount: Decimal
    currency: str
    refundable: Decimal  #: left to refund before this one
    full: bool

    def sentence(self) -> str:
        kind = "full" if self.full else "partial"
        return f"Refund {self.amount} {self.currency} ({kind}) to {self.buyer or 'the buyer'} on order {self.order_ref}, line {self.sku or self.line_ref}"


@dataclass(frozen=True)
class QueuedAction:
    """An action written to the outbox (or found there already, ``created`` False)."""

    action_id: int
    case_id: str | None
    order_ref: str
    kind: str
    created: bool
    summary: str


@dataclass(frozen=True)
class SavedReply:
    id: int
    name: str
    language: str  #: two letters (fr, en, es …)
    body: str


@dataclass(frozen=True)
class ReturnedUnit:
    """A returned unit waiting for inspection (or released: ``state`` sellable / written_off)."""

    id: int
    store_id: int
    store: str
    sku: str
    quantity: int
    state: str  #: to_inspect / sellable / written_off
    order_ref: str | None
    case_id: str | None
    reason: str | None
    returned_at: datetime
    released_at: datetime | None
    released_by: str | None
    note: str | None


@dataclass
class CareHarvestResult:
    """One account's Care harvest (job runs, CLI)."""

    account_id: int
    account: str
    listed: int = 0  #: list calls made
    detailed: int = 0  #: detail calls made
    cases_new: int = 0
    cases_updated: int = 0
    messages_new: int = 0
    confirmed_actions: int = 0
    skipped_for_budget: bool = False
    next_interval: int | None = None  #: seconds until the next poll fits the day's budget
    budget_note: str = ""  #: the line the Jobs screen shows ("list 412/3600 today, polling every 2 min")
    error: str | None = None
    list_calls_today: int = 0  #: the account's list calls so far today (UTC), all processes
    list_budget: int = 0  #: what the harvest may spend on lists in a day (the published limit less the reserve)


# ---------------------------------------------------------------------- reading


def list_cases(
    ctx: AppContext,
    *,
    state: str | None = None,
    channel: str | None = None,
    text: str | None = None,
    limit: int | None = 500,
) -> list[CaseRow]:
    """Cases, what is due first (then newest activity); filters like Orders.

    ``state`` is open / closed (None: all); ``channel`` a channel name or id;
    ``text`` matches the case id, the order id, the buyer's name or e-mail, the
    SKU or the problem, case-insensitively.
    """
    from shelfdesk.care.queries import list_cases as impl

    return impl(ctx, state=state, channel=channel, text=text, limit=limit)


def get_case(ctx: AppContext, ref: str | int) -> CaseDetail:
    """One case with its order, lines, invoice and every message on one timeline; CareError when unknown."""
    from shelfdesk.care.queries import get_case as impl

    return impl(ctx, ref)


def case_refs(ctx: AppContext, order_id: int) -> list[str]:
    """Marketplace ids of the cases of one order (the Orders screen links to them)."""
    from shelfdesk.care.queries import case_refs as impl

    return impl(ctx, order_id)


# ---------------------------------------------------------------------- acting (all through the outbox)


def queue_reply(ctx: AppContext, ref: str | int, message: str, *, attachments: Sequence[Path] = ()) -> QueuedAction:
    """Queue a reply on the case's thread (``POST /ws/sav/{id}/msg``); refuses an empty message.

    Attachments are copied into the workspace when queued (at most 10 of 3 MB).
    Posting to a closed case reopens it, as on Back Market.
    """
    from shelfdesk.care.actions import queue_reply as impl

    return impl(ctx, ref, message, attachments=attachments)


def queue_problem(
    ctx: AppContext, ref: str | int, problem_type: str = "OTHER", message: str | None = None, *, attachments: Sequence[Path] = ()
) -> QueuedAction:
    """Queue a problem declaration; refuses an unknown type, or a type needing an attachment without one."""
    from shelfdesk.care.actions import queue_problem as impl

    return impl(ctx, ref, problem_type, message, attachments=attachments)


def queue_transfer(ctx: AppContext, ref: str | int, carrier: str, tracking: str, action: str | None = None) -> QueuedAction:
    """Queue an item transfer back to the buyer (carrier, tracking number, REPAIR/REPLACE/NOTHING)."""
    from shelfdesk.care.actions import queue_transfer as impl

    return impl(ctx, ref, carrier, tracking, action)


def quote_refund(ctx: AppContext, ref: str | int, line: str | None = None, amount: Decimal | str | None = None) -> RefundQuote:
    """What refunding would send, checked: the type from the line's state, the amount within what is left.

    ``ref`` is a case (its lines) or ``order:ID`` for an order without a case;
    ``line`` a SKU or order-line id (optional when the case has one line);
    ``amount`` None means the whole remainder. Raises CareError when the line
    cannot be refunded, or the amount is above what is left, not positive, or
    partial on a line that is not shipped (types 4 and 5 are full only).
    """
    from shelfdesk.care.refunds import quote_refund as impl

    return impl(ctx, ref, line, amount)


def queue_refund(
    ctx: AppContext, ref: str | int, line: str | None = None, amount: Decimal | str | None = None, *, reason: str | None = None
) -> QueuedAction:
    """Queue the refund :func:`quote_refund` describes (checked again inside the write transaction)."""
    from shelfdesk.care.refunds import queue_refund as impl

    return impl(ctx, ref, line, amount, reason=reason)


def send_actions(ctx: AppContext, action_ids: set[int] | None = None, *, max_wait: float | None = 120.0) -> dict[str, int]:
    """Send queued Care actions now (the CLI's ``--send``); counts per resulting state."""
    from shelfdesk.orders.outbox import outcome_counts, send_pending

    return dict(outcome_counts(send_pending(ctx, action_ids=action_ids, max_wait=max_wait)))


def list_refunds(ctx: AppContext, *, order_id: int | None = None, limit: int | None = 500) -> list[RefundRow]:
    """Refunds, newest first (made in shelfdesk and seen on the marketplace), with their credit notes."""
    from shelfdesk.care.refunds import list_refunds as impl

    return impl(ctx, order_id=order_id, limit=limit)


# ---------------------------------------------------------------------- harvest, attachments


def harvest_care(ctx: AppContext, *, account_id: int | None = None, force: bool = False) -> list[CareHarvestResult]:
    """Harvest Care cases now (every Back Market account, or one); ``force`` ignores the poll interval.

    The daily budgets still hold: a harvest never makes a call the day's
    budget has no room for.
    """
    from shelfdesk.care.harvest import harvest_care_sync as impl

    return impl(ctx, account_id=account_id, force=force)


def download_attachment(ctx: AppContext, attachment_id: int) -> Path:
    """Download one attachment into the workspace (once; later calls return the same file)."""
    from shelfdesk.care.attachments import download_attachment as impl

    return impl(ctx, attachment_id)


# ---------------------------------------------------------------------- saved replies


def saved_replies(ctx: AppContext, language: str | None = None) -> list[SavedReply]:
    """Saved replies, for one language or all, by name."""
    from shelfdesk.care.replies import saved_replies as impl

    return impl(ctx, language)


def save_reply(ctx: AppContext, name: str, language: str, body: str) -> SavedReply:
    """Create or replace the saved reply ``name`` in ``language``."""
    from shelfdesk.care.replies import save_reply as impl

    return impl(ctx, name, language, body)


def delete_reply(ctx: AppContext, reply_id: int) -> None:
    from shelfdesk.care.replies import delete_reply as impl

    impl(ctx, reply_id)


# ---------------------------------------------------------------------- returned stock


def returned_units(ctx: AppContext, *, store: str | None = None, state: str | None = "to_inspect") -> list[ReturnedUnit]:
    """Returned units (by default those still to inspect), newest first."""
    from shelfdesk.care.returns import returned_units as impl

    return impl(ctx, store=store, state=state)


def release_returned(ctx: AppContext, unit_id: int, to: str, *, note: str | None = None) -> ReturnedUnit:
    """Release a unit to inspect: ``sellable`` (published again) or ``written_off``; audit-logged."""
    from shelfdesk.care.returns import release_returned as impl

    return impl(ctx, unit_id, to, note=note)
