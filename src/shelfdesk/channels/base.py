"""The connector contract every marketplace implements.

Services talk to a :class:`Connector` and read its :class:`Capabilities`; they
never branch on a marketplace's name. Connectors know nothing of the console
or the database: they take plain values and return the plain dataclasses
below. Money is :class:`~decimal.Decimal`, datetimes are aware UTC, and every
remote object keeps the marketplace's ``raw`` payload beside the normalized
fields so nothing is lost.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shelfdesk.domain import ActionKind, Marketplace, NormalizedStatus, PublicationKind, PublicationMode

# --------------------------------------------------------------------------- capabilities


@dataclass(frozen=True)
class FieldSpec:
    """One field an order action requires or accepts.

    ``single_unit_only`` marks a field the marketplace accepts in this call only
    when the order has a single line of quantity 1 (Back Market's IMEI/serial in
    the ship call); for other orders it goes per line through
    :meth:`Connector.set_line_details` first.
    """

    name: str
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    single_unit_only: bool = False
    help: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """An order action: what it needs and in which normalized statuses it makes sense.

    ``per_line`` actions name the line by SKU (field ``sku``). The allowed
    statuses are a guide for the console; the marketplace has the last word
    and refuses illegal transitions with :class:`~shelfdesk.channels.errors.RemoteRejected`.
    """

    kind: ActionKind
    label: str
    fields: tuple[FieldSpec, ...] = ()
    allowed_statuses: frozenset[NormalizedStatus] = frozenset()
    per_line: bool = False
    help: str = ""

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def optional_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if not f.required)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Capabilities:
    """What a marketplace offers, as data the console and services read."""

    marketplace: Marketplace
    feed_modes: frozenset[PublicationMode]
    feeds: frozenset[PublicationKind]
    ean_mandatory: bool
    ean_matching: bool
    actions: Mapping[ActionKind, ActionSpec]
    line_detail_fields: tuple[FieldSpec, ...] = ()
    line_details_write_once: bool = False
    grades: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    new_reasons: tuple[str, ...] = ()
    competitors: bool = False
    credential_expires: bool = False
    max_batch_lines: int = 1000
    lines_per_hour: int | None = None
    sync_overlap: timedelta = timedelta(minutes=10)

    def action(self, kind: ActionKind | str) -> ActionSpec:
        try:
            return self.actions[ActionKind(kind)]
        except (KeyError, ValueError):
            from shelfdesk.channels.errors import UnsupportedOperation

            raise UnsupportedOperation(f"{self.marketplace} has no action {kind!s}", marketplace=str(self.marketplace)) from None

    def actions_for(self, status: NormalizedStatus) -> list[ActionSpec]:
        """Actions whose allowed statuses include ``status``."""
        return [spec for spec in self.actions.values() if status in spec.allowed_statuses]


@dataclass(frozen=True)
class CredentialStatus:
    """Result of a credentials check. ``expires_at`` is set where the credential expires."""

    valid: bool
    message: str = ""
    expires_at: datetime | None = None
    expired: bool = False


# --------------------------------------------------------------------------- orders


@dataclass
class RemoteOrderLine:
    remote_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    raw_status: str | None
    status: NormalizedStatus
    title: str = ""
    product_id: str | None = None
    imei: str | None = None
    serial_number: str | None = None
    shipping_price: Decimal = Decimal("0")
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Why a refunded line was refunded (Back Market's ``return_reason`` code), when the marketplace says.
    return_reason: str | None = None


@dataclass
class RemoteOrder:
    """An order as the marketplace has it, with its status normalized.

    ``allowed_actions`` is computed from the raw states (like BeezUP's
    transition links); ``country`` is the ISO 3166-1 alpha-2 country of the
    order's market (Back Market sends a locale, ``en-gb``: this is ``GB``);
    ``deadline`` is the next date by which the seller must
    act (Back Market's expected dispatch date, Leboncoin's confirmation
    deadlines), when there is one.
    """

    marketplace: Marketplace
    remote_id: str
    raw_status: str | None
    status: NormalizedStatus
    created_at: datetime
    modified_at: datetime
    currency: str
    total: Decimal
    lines: list[RemoteOrderLine]
    shipping_price: Decimal = Decimal("0")
    country: str | None = None
    customer_name: str = ""
    shipping_address: dict[str, Any] = field(default_factory=dict)
    #: In shelfdesk's field names when the connector reads one; None: ``raw["billing_address"]`` as sent.
    billing_address: dict[str, Any] | None = None
    tracking_number: str | None = None
    shipper: str | None = None
    deadline: datetime | None = None
    allowed_actions: tuple[ActionKind, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Fields of ``raw`` that could not be read as expected (``country_code``,
    #: ``orderlines[0].price`` …): the order is kept with what could be read, and flagged.
    problems: tuple[str, ...] = ()

    def line_by_sku(self, sku: str) -> RemoteOrderLine | None:
        wanted = sku.casefold()
        return next((line for line in self.lines if line.sku.casefold() == wanted), None)

    @property
    def is_single_unit(self) -> bool:
        """One line of quantity 1: where Back Market takes IMEI/serial in the ship call."""
        return len(self.lines) == 1 and self.lines[0].quantity == 1


# --------------------------------------------------------------------------- listings and feeds


@dataclass
class RemoteListing:
    """A listing (Back Market) or ad (Leboncoin) the account has."""

    remote_id: str
    sku: str
    title: str
    quantity: int
    price: Decimal | None
    currency: str
    raw_state: str | None = None
    online: bool = False
    grade: str | None = None
    condition: str | None = None
    product_id: str | None = None
    ean: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class OfferUpdate:
    """Price and/or quantity for an existing listing, matched by SKU."""

    sku: str
    price: Decimal | None = None
    quantity: int | None = None
    min_price: Decimal | None = None
    currency: str | None = None
    remote_id: str | None = None  #: needed for real-time single updates


@dataclass(frozen=True)
class ListingUpdate:
    """A product/listing to create or update; each connector uses the fields it knows.

    Back Market uses ``product_id`` or ``ean``, ``grade``, ``warranty_months``,
    ``comment``; Leboncoin uses ``title``, ``description``, ``category``,
    ``condition``, ``new_reason`` and ``attributes``.
    """

    sku: str
    price: Decimal | None = None
    quantity: int | None = None
    currency: str | None = None
    ean: str | None = None
    product_id: str | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    grade: str | None = None
    condition: str | None = None
    new_reason: str | None = None
    warranty_months: int | None = None
    comment: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: A new listing whose product the marketplace's catalog may not know: send the product's own
    #: data with it, for the marketplace to review (Back Market's product proposals).
    propose: bool = False
    brand: str | None = None  #: the product's brand, for a proposal


class BatchState(StrEnum):
    pending = "pending"  #: accepted by the marketplace, not processed yet
    done = "done"  #: processed; see the per-item outcomes
    failed = "failed"  #: the whole batch failed (see ``error``)


@dataclass(frozen=True)
class BatchTicket:
    """What to keep after submitting a batch so its result can be followed later
    (even after a restart): never re-post a batch, poll its ticket."""

    marketplace: Marketplace
    kind: PublicationKind
    remote_id: str
    skus: tuple[str, ...]
    submitted_at: datetime


@dataclass(frozen=True)
class BatchItemResult:
    sku: str
    ok: bool
    message: str = ""
    code: str | None = None
    remote_id: str | None = None


@dataclass
class BatchResult:
    ticket: BatchTicket
    state: BatchState
    items: list[BatchItemResult] = field(default_factory=list)
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    #: The marketplace's per-item report when it could not be read (its SKUs were then
    #: judged another way, e.g. by reading their listings back): kept for triage.
    unread_result: Any = None

    @property
    def succeeded(self) -> list[BatchItemResult]:
        return [i for i in self.items if i.ok]

    @property
    def failed(self) -> list[BatchItemResult]:
        return [i for i in self.items if not i.ok]


@dataclass(frozen=True)
class Competitor:
    """One competitor view for a listing in one market (Back Market's Backbox)."""

    listing_id: str
    market: str
    currency: str
    price: Decimal | None
    min_price: Decimal | None
    price_to_win: Decimal | None
    winner_price: Decimal | None
    is_winning: bool
    product_id: str | None = None


# --------------------------------------------------------------------------- the contract


class Connector(abc.ABC):
    """One marketplace account, spoken to over HTTP.

    Constructors take ``base_url``, the credential, a :class:`~shelfdesk.clock.Clock`
    and optionally an ``httpx.AsyncClient`` or transport. Use as an async
    context manager (or call :meth:`aclose`) to release the HTTP client.
    """

    marketplace: Marketplace

    @classmethod
    @abc.abstractmethod
    def capabilities(cls) -> Capabilities: ...

    @abc.abstractmethod
    async def check_credentials(self) -> CredentialStatus: ...

    @abc.abstractmethod
    def iter_orders(self, modified_since: datetime | None = None) -> AsyncIterator[list[RemoteOrder]]:
        """Orders modified since ``modified_since`` (minus the capability's overlap
        window), one page per item. The same order may come twice: callers keep
        the copy with the latest ``modified_at``."""

    @abc.abstractmethod
    async def get_order(self, order_id: str) -> RemoteOrder: ...

    @abc.abstractmethod
    async def apply_action(self, order_id: str, action: ActionKind | str, fields: Mapping[str, Any] | None = None) -> RemoteOrder:
        """Apply one order action and return the order as the marketplace now has it.

        An ambiguous failure (timeout, 5xx) is resolved by reading the order back:
        the action is re-sent only if its effect is absent, so it is never
        applied twice.
        """

    @abc.abstractmethod
    async def set_line_details(
        self, order_id: str, line_id: str, *, imei: str | None = None, serial_number: str | None = None
    ) -> RemoteOrder: ...

    @abc.abstractmethod
    def iter_listings(self) -> AsyncIterator[list[RemoteListing]]:
        """Every listing/ad of the account, one page per item."""

    @abc.abstractmethod
    async def submit_offers(self, updates: Sequence[OfferUpdate]) -> list[BatchTicket]: ...

    @abc.abstractmethod
    async def submit_listings(self, updates: Sequence[ListingUpdate]) -> list[BatchTicket]: ...

    @abc.abstractmethod
    async def get_batch(self, ticket: BatchTicket) -> BatchResult: ...

    @abc.abstractmethod
    async def update_offer(self, update: OfferUpdate) -> RemoteListing:
        """Real-time update of one listing's price/quantity."""

    @abc.abstractmethod
    async def get_competitors(self, listing_id: str) -> list[Competitor]: ...

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    # ---- shared behaviour

    batch_poll_interval: float = 30.0

    async def wait_for_batch(self, ticket: BatchTicket, *, poll_every: float | None = None, timeout: float = 3600.0) -> BatchResult:
        """Poll a batch on the injected clock until it is processed (or ``timeout`` passes)."""
        clock = self.clock  # type: ignore[attr-defined]  # every connector is built with the injected clock; the base class declares no fields
        interval = poll_every if poll_every is not None else self.batch_poll_interval
        deadline = clock.monotonic() + timeout
        while True:
            result = await self.get_batch(ticket)
            if result.state is not BatchState.pending or clock.monotonic() >= deadline:
                return result
            await clock.sleep(interval)

    async def push(self, kind: PublicationKind, updates: Sequence[Any]) -> list[BatchResult]:
        """Submit a feed and wait for each of its batches' per-item outcome."""
        if kind is PublicationKind.offers:
            tickets = await self.submit_offers(updates)
        else:
            tickets = await self.submit_listings(updates)
        return [await self.wait_for_batch(t) for t in tickets]

    async def update_listing_now(
        self,
        *,
        sku: str | None = None,
        quantity: int | None,
        price: Decimal | None = None,
        listing_id: str | None = None,
        currency: str | None = None,
        min_price: Decimal | None = None,
    ) -> BatchItemResult:
        """Set one listing's quantity (and optionally its price) in real time, outside any batch.

        The path for a few SKUs whose stock must reach the marketplace now (Back
        Market advises it when a stock is close to 0, instead of its CSV batch
        that takes minutes): one absolute update per listing, harmless to repeat.
        Give the listing's ``sku``, its ``listing_id``, or both (the id spares
        the look-up by SKU; the outcome names the SKU the marketplace answers with).

        Returns the per-SKU outcome publication runs already record
        (:class:`BatchItemResult`): a marketplace refusal (unknown listing,
        refused value) is ``ok=False`` with the marketplace's message and code;
        failures that are not about this SKU (credential refused, throttled,
        unreachable) are raised, as for any other call.
        """
        from shelfdesk.channels.errors import RemoteRejected

        if not sku and not listing_id:
            raise ValueError("update_listing_now needs the listing's sku or its listing_id")
        update = OfferUpdate(sku or "", price=price, quantity=quantity, min_price=min_price, currency=currency, remote_id=listing_id)
        try:
            listing = await self.update_offer(update)
        except RemoteRejected as exc:
            return BatchItemResult(sku or "", False, exc.message, exc.code, listing_id)
        return BatchItemResult(sku or listing.sku, True, "", None, listing.remote_id or listing_id)

    async def upload_invoice(self, order_id: str, filename: str, content: bytes) -> None:
        """Send the invoice PDF of an order, where the marketplace takes one."""
        from shelfdesk.channels.errors import UnsupportedOperation

        raise UnsupportedOperation(f"{self.marketplace} takes no invoice upload", marketplace=str(self.marketplace))

    async def __aenter__(self) -> Connector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def check_action_fields(spec: ActionSpec, fields: Mapping[str, Any], *, single_unit: bool | None = None) -> dict[str, Any]:
    """Validate ``fields`` against ``spec`` before any call; return the non-empty ones.

    Raises :class:`~shelfdesk.channels.errors.InvalidActionInput` for an unknown
    field, a missing required one, one too long, one outside its choices, or a
    ``single_unit_only`` field on an order that is not a single unit.
    """
    from shelfdesk.channels.errors import InvalidActionInput

    known = {f.name: f for f in spec.fields}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in known:
            raise InvalidActionInput(f"{spec.label}: unknown field {name!r} (accepted: {', '.join(known) or 'none'})")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        f = known[name]
        text = str(value).strip()
        if f.max_length is not None and len(text) > f.max_length:
            raise InvalidActionInput(f"{spec.label}: {name} is longer than {f.max_length} characters")
        if f.choices and text not in f.choices:
            raise InvalidActionInput(f"{spec.label}: {name} must be one of {', '.join(f.choices)}")
        if f.single_unit_only and single_unit is False:
            raise InvalidActionInput(
                f"{spec.label}: {name} goes in this call only for a single-line order of quantity 1; "
                "set it per line (set_line_details) before shipping"
            )
        clean[name] = value
    missing = [f.name for f in spec.fields if f.required and f.name not in clean]
    if missing:
        raise InvalidActionInput(f"{spec.label}: missing required field(s) {', '.join(missing)}")
    return clean
