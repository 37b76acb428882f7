"""Planning a run: from catalog, mappings, exclusions, stock policy and what the marketplace lists,
to the exact list of items the run sends, in the order it sends them.

The same function plans a dry run and a real run, so what a dry run shows is
what the next real run sends (a test holds this). Nothing here talks to the
network: the marketplace's listings come in as a reading (or from the last
reading stored in ``channel_listings``).

Per SKU the plan decides one action:

* **create** (products feed): an included, valid product the marketplace does
  not list yet;
* **update**: price and/or quantity (offers), or the listing itself
  (products feed, full mode or changed content);
* **zero**: the marketplace lists the SKU but the catalog lost it, flagged it
  gone, or the channel excludes it: quantity 0;
* **skip**, with a reason (unchanged, not listed yet, awaiting an earlier
  batch's answer …), counted by reason;

and items that fail validation against the connector's requirements are
recorded as failed with the reason and the attribute at fault, never sent.
Update mode sends only what changed since the last successful publication,
what failed last time, and vanished SKUs at 0; full mode sends everything.

Within the quota, stock-outs go first, then other quantity changes, then
price changes, then new listings; the rest is carried to the next run.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shelfdesk.channels.base import ListingUpdate, OfferUpdate
from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationMode
from shelfdesk.publishing.channel import ChannelSpec
from shelfdesk.publishing.stock import open_order_units, publishable_quantity

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

#: Send order under a quota (lower first): a unit offered that is not there costs more than one
#: not offered that is, so stock-outs, then decreases, then increases and prices.
RANK_STOCKOUT, RANK_DECREASE, RANK_INCREASE, RANK_PRICE, RANK_CREATE, RANK_OTHER = range(6)
RANK_LABELS = {
    RANK_STOCKOUT: "stock-out",
    RANK_DECREASE: "quantity decrease",
    RANK_INCREASE: "quantity increase",
    RANK_PRICE: "price change",
    RANK_CREATE: "new listing",
    RANK_OTHER: "resent unchanged",
}

# Skip reasons (counted, shown with counts in the plan).
UNCHANGED = "unchanged since the last successful publication"
NOT_LISTED = "not listed on the marketplace yet (the products feed creates it)"
ALREADY_LISTED = "already listed (update mode sends listing changes only)"
OWNER_CREATES = "created by the channel that owns the account's quantities"
OWNER_ZEROES = "sent to 0 by the channel that owns the account's quantities"
NOTHING_SENT = "this channel sends neither prices nor quantities"
HELD = "awaiting the marketplace's answer to an earlier batch"
NOT_REQUESTED = "not among the SKUs to re-publish"
ALREADY_ZERO = "gone or excluded, already at 0"

#: Channel attribute → ListingUpdate field; other attributes go in ``attributes``.
LISTING_FIELDS = {
    "product_id": "product_id",
    "ean": "ean",
    "grade": "grade",
    "condition": "condition",
    "new_reason": "new_reason",
    "warranty_delay": "warranty_months",
    "comment": "comment",
    "title": "title",
    "description": "description",
    "min_price": "min_price",
}
NOT_ATTRIBUTES = {"price", "safety_stock", "min_price", "max_price"}


@dataclass(slots=True)
class PlannedItem:
    """What a run does for one SKU."""

    sku: str
    product_id: int | None
    action: ItemAction
    old_price: Decimal | None = None
    new_price: Decimal | None = None
    old_quantity: int | None = None
    new_quantity: int | None = None
    rank: int = RANK_OTHER
    reason: str | None = None  #: skip reason, or why it is invalid
    attribute: str | None = None  #: the attribute at fault (invalid items)
    error_code: str | None = None
    payload: OfferUpdate | ListingUpdate | None = None
    content_hash: str | None = None  #: products feed: digest of the listing fields

    @property
    def key(self) -> str:
        return self.sku.casefold()

    @property
    def sends_price(self) -> bool:
        return self.payload is not None and self.payload.price is not None

    @property
    def sends_quantity(self) -> bool:
        return self.payload is not None and self.payload.quantity is not None


@dataclass
class Plan:
    """A run's plan: what it sends now, what it carries over, what it refuses, what it skips."""

    channel: ChannelSpec
    kind: PublicationKind
    mode: PublicationMode
    to_send: list[PlannedItem] = field(default_factory=list)  #: in send order, within the quota
    queued: list[PlannedItem] = field(default_factory=list)  #: over the quota: the next run's
    invalid: list[PlannedItem] = field(default_factory=list)
    held: list[PlannedItem] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  #: skip reason → SKUs
    built: int = 0  #: catalog products and marketplace-only SKUs considered
    excluded: int = 0
    quota: int | None = None  #: lines this run may send (None: no quota)
    warnings: list[str] = field(default_factory=list)
    only_skus: tuple[str, ...] = ()

    @property
    def wanted(self) -> int:
        """Items the plan would send with no quota."""
        return len(self.to_send) + len(self.queued)

    def action_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter(str(item.action) for item in self.to_send)
        return dict(sorted(counts.items()))

    def rank_counts(self, items: Iterable[PlannedItem] | None = None) -> dict[str, int]:
        counts: Counter[str] = Counter(RANK_LABELS[item.rank] for item in (self.to_send if items is None else items))
        return {label: counts[label] for label in RANK_LABELS.values() if counts[label]}

    def summary(self) -> dict[str, Any]:
        """Plain JSON for the publication record and ``--json``."""
        return {
            "send": len(self.to_send),
            "queued": len(self.queued),
            "invalid": len(self.invalid),
            "held": len(self.held),
            "actions": self.action_counts(),
            "priorities": self.rank_counts(),
            "queued_priorities": self.rank_counts(self.queued),
            "skipped": dict(self.skipped.most_common()),
            "built": self.built,
            "excluded": self.excluded,
            "quota": self.quota,
            "warnings": list(self.warnings),
            "only_skus": list(self.only_skus),
        }


@dataclass(frozen=True, slots=True)
class RemoteView:
    """One listing as the marketplace showed it (the part the plan needs)."""

    sku: str
    remote_id: str | None
    price: Decimal | None
    quantity: int | None
    state: str | None = None


def _cents(amount: Decimal | None) -> int | None:
    """Money as whole cents: the diff compares integers (200,000 Decimals cost seconds)."""
    return None if amount is None else int((amount * 100).to_integral_value())


def from_cents(cents: int | None) -> Decimal | None:
    """Whole cents back to a two-decimal amount."""
    return None if cents is None else Decimal(cents).scaleb(-2)


@dataclass(slots=True)
class _Listing:
    """A ``channel_listings`` row, or a fresh reading merged into it (money in cents)."""

    sku: str
    remote_id: str | None = None
    remote_price: int | None = None
    remote_quantity: int | None = None
    published_price: int | None = None
    published_quantity: int | None = None
    published_hash: str | None = None
    published: bool = False
    last_failed: bool = False

    @property
    def listed(self) -> bool:
        return self.remote_id is not None


@dataclass(slots=True)
class StoreProduct:
    """A store's product as planning (and the repricer) reads it: money in cents."""

    id: int
    sku: str
    price: int | None  #: cents
    stock: int
    safety_stock: int | None
    gone: bool
    values: Any = None  #: catalog ProductValues, loaded when a mapping needs more than the role columns
    category_path: str | None = None


# --------------------------------------------------------------------------- loading


def load_listings(conn: Connection, channel_id: int, remote: Mapping[str, RemoteView] | None) -> dict[str, tuple[Any, ...]]:
    """The channel's listing state by case-folded SKU, as ``_Listing`` field tuples.

    Read as raw column values (cents, strings) on a Core connection and kept
    as the driver's rows: no ORM objects, no type processors, no per-row
    object, which is most of a 200,000-row plan's time. ``remote`` (a fresh
    reading) replaces the stored reading.
    """
    from sqlalchemy import BigInteger, select, type_coerce

    from shelfdesk.db.models import ChannelListing as L

    rows = conn.execute(
        select(
            L.sku_key,
            L.sku,
            L.remote_id,
            type_coerce(L.remote_price, BigInteger),
            L.remote_quantity,
            type_coerce(L.published_price, BigInteger),
            L.published_quantity,
            L.published_hash,
            L.published_at.is_not(None),
            L.last_outcome == ItemOutcome.failed,
        ).where(L.channel_id == channel_id)  # type: ignore[union-attr]
    ).all()
    listings: dict[str, tuple[Any, ...]] = {row[0]: row[1:] for row in rows}
    if remote is not None:
        for key, row in listings.items():  # listed only if this reading lists it
            listings[key] = (row[0], None, None, None, *row[4:])
        for key, view in remote.items():
            row = listings.get(key) or (view.sku, None, None, None, None, None, None, False, False)
            listings[key] = (row[0], view.remote_id or key, _cents(view.price), view.quantity, *row[4:])
    return listings


def column_rules(ctx: AppContext, channel_id: int) -> dict[str, Any]:
    """The channel's column rules (price, quantity …) by role."""
    from shelfdesk.catalog.column_mapping import channel_rules

    return channel_rules(ctx, channel_id)


def _plain_role(rule: Any, role: str) -> bool:
    """True when a mapping reads the role column as-is (no constant, default or value map)."""
    return rule is None or (rule.constant is None and rule.column == role and not rule.value_map and not rule.default)


def load_products(
    ctx: AppContext, conn: Connection, channel: ChannelSpec, *, full_values: bool, only_keys: Collection[str] | None = None
) -> tuple[list[tuple[Any, ...]], set[int]]:
    """The store's products (gone ones included), as ``StoreProduct`` field tuples, and the ids the channel's
    exclusions leave out.

    ``full_values`` loads every column and the raw attributes, for mappings
    that read more than the role columns; offers usually need only sku,
    price and stock, which keeps a 200,000-product plan in memory budget.
    """
    from sqlalchemy import BigInteger, select, type_coerce

    from shelfdesk.catalog.exclusions import channel_rules as exclusion_rules, exclusion_sql
    from shelfdesk.catalog.fields import product_columns, to_values
    from shelfdesk.db.models import Product

    t = Product.__table__
    products: list[StoreProduct] = []
    if full_values:
        query = select(t.c.safety_stock, t.c.gone, *product_columns()).where(t.c.store_id == channel.store_id)
        for row in conn.execute(query.order_by(t.c.id)):
            if only_keys is None or row.sku.casefold() in only_keys:
                products.append(
                    (row.id, row.sku, _cents(row.price), row.stock, row.safety_stock, row.gone, to_values(row), row.category_path)
                )
    else:  # the offers path: raw values only
        query = select(t.c.id, t.c.sku, type_coerce(t.c.price, BigInteger), t.c.stock, t.c.safety_stock, t.c.gone, t.c.category_path).where(
            t.c.store_id == channel.store_id
        )
        for pid, sku, price, stock, safety, gone, category in conn.execute(query.order_by(t.c.id)).all():
            if only_keys is None or sku.casefold() in only_keys:
                products.append((pid, sku, price, stock, safety, gone, None, category))
    condition = exclusion_sql(exclusion_rules(ctx, channel.id))
    excluded: set[int] = set()
    if condition is not None:
        excluded = set(conn.execute(select(t.c.id).where(t.c.store_id == channel.store_id, condition)).scalars())
    return products, excluded


# --------------------------------------------------------------------------- planning


@contextmanager
def _no_gc() -> Iterator[None]:
    """Cyclic collections over hundreds of thousands of fresh row tuples cost seconds and free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_plan(
    ctx: AppContext,
    channel: ChannelSpec,
    kind: PublicationKind,
    mode: PublicationMode,
    *,
    remote: Mapping[str, RemoteView] | None = None,
    held: Collection[str] = (),
    only_skus: Collection[str] | None = None,
    quota: int | None = None,
    changed_only: bool = False,
    reserve: int = 0,
) -> Plan:
    """Plan one run of ``kind`` in ``mode`` for ``channel``.

    ``remote`` is a fresh reading of the marketplace's listings by case-folded
    SKU (None: the stored one). ``held`` SKUs await an earlier batch's answer
    and are not sent. ``only_skus`` restricts the run to those SKUs and sends
    them even when unchanged (re-publishing failed items), unless
    ``changed_only`` (the stock pusher: of those SKUs, only what differs from
    what was last published). ``quota`` caps the lines sent; the rest is
    queued in priority order; the last ``reserve`` lines of the quota are for
    stock-outs only.
    """
    with _no_gc():
        return _build_plan(ctx, channel, kind, mode, remote, held, only_skus, quota, changed_only, reserve)


def _build_plan(
    ctx: AppContext,
    channel: ChannelSpec,
    kind: PublicationKind,
    mode: PublicationMode,
    remote: Mapping[str, RemoteView] | None,
    held: Collection[str],
    only_skus: Collection[str] | None,
    quota: int | None,
    changed_only: bool = False,
    reserve: int = 0,
) -> Plan:
    plan = Plan(channel, kind, mode, warnings=list(channel.warnings))
    only_keys = {s.casefold() for s in only_skus} if only_skus is not None else None
    if only_skus is not None:
        plan.only_skus = tuple(sorted(set(only_skus)))
    held_keys = {s.casefold() for s in held}
    rules = column_rules(ctx, channel.id)
    if kind is PublicationKind.offers:
        full_values = not (_plain_role(rules.get("price"), "price") and "safety_stock" not in rules)
    else:
        full_values = True
    with ctx.engine.connect() as conn:
        listings = load_listings(conn, channel.id, remote)
        products, excluded = load_products(ctx, conn, channel, full_values=full_values, only_keys=only_keys)
    with ctx.read_session() as session:
        held_units = open_order_units(session, channel.store_id)
        categories = _category_mappings(session, channel) if kind is PublicationKind.products else {}
    force = only_keys is not None and not changed_only
    candidates: list[PlannedItem] = []
    seen: set[str] = set()
    offers = kind is PublicationKind.offers
    if offers and not channel.owns_quantities and not channel.sends_prices:
        plan.warnings.append(
            "this channel sends neither prices nor quantities (quantities only, and another channel of the account owns them)"
        )
    attrs = None
    if not offers:
        from shelfdesk.catalog.attributes import attribute_set

        attrs = attribute_set(channel.marketplace)
    if offers:
        _plan_offers(plan, candidates, products, listings, excluded, held_keys, held_units, rules, force, seen)
    else:
        for row in products:
            product = StoreProduct(*row)
            key = product.sku.casefold()
            seen.add(key)
            plan.built += 1
            if product.id in excluded:
                plan.excluded += 1
            if key in held_keys:
                plan.held.append(PlannedItem(product.sku, product.id, ItemAction.skip, reason=HELD))
                continue
            if product.gone or product.id in excluded:
                continue
            listing = _Listing(*listings[key]) if key in listings else None
            quantity = publishable_quantity(product.stock, held_units.get(product.sku, 0), _safety(product, rules, channel))
            _listing(plan, candidates, product, listing, quantity, rules, attrs, categories, force)
    if offers:  # what the marketplace lists and the catalog never had
        for key, row in listings.items():
            if key in seen or row[1] is None or (only_keys is not None and key not in only_keys):
                continue
            plan.built += 1
            if key in held_keys:
                plan.held.append(PlannedItem(row[0], None, ItemAction.skip, reason=HELD))
                continue
            _zero(plan, candidates, row[0], None, _Listing(*row), force)
    if only_keys is not None:
        missing = only_keys - seen - {k for k, v in listings.items() if v[1] is not None}
        if missing:
            plan.skipped[NOT_REQUESTED + " (unknown here)"] += len(missing)
    candidates.sort(key=lambda item: item.rank)
    plan.quota = quota
    general = None if quota is None else max(0, quota - max(0, reserve))
    if quota is None or len(candidates) <= general:  # type: ignore[operator]
        plan.to_send = candidates
    else:  # in rank order: stock-outs may use the whole quota, everything else stops short of the reserve
        for item in candidates:
            room = quota if item.rank == RANK_STOCKOUT else general
            (plan.to_send if len(plan.to_send) < room else plan.queued).append(item)  # type: ignore[operator]
    return plan


def _safety(product: StoreProduct, rules: Mapping[str, Any], channel: ChannelSpec) -> int:
    if product.safety_stock is not None:
        return product.safety_stock
    rule = rules.get("safety_stock")
    if rule is not None and product.values is not None:
        text = rule.resolve(product.values)
        if text is not None and text.strip().lstrip("+").isdigit():
            return int(text.strip())
    return channel.safety_stock


def product_price(product: StoreProduct, rules: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The price to publish, in cents, and, when it cannot be published, why."""
    rule = rules.get("price")
    if _plain_role(rule, "price") or product.values is None:
        price = product.price
    else:
        from shelfdesk.catalog.attributes import AttributeSpec

        text, problem = AttributeSpec("price", "Price", "decimal").check(rule.resolve(product.values))
        if problem:
            return None, f"price {problem}"
        price = _cents(Decimal(text)) if text is not None else None
    if price is None:
        return None, "price missing"
    if price <= 0:
        return None, f"price {from_cents(price)} is not above 0"
    return price, None


def _invalid(plan: Plan, sku: str, product_id: int | None, action: ItemAction, attribute: str, code: str, message: str) -> None:
    plan.invalid.append(PlannedItem(sku, product_id, action, reason=message, attribute=attribute, error_code=code))


def _plan_offers(
    plan: Plan,
    out: list[PlannedItem],
    products: list[tuple[Any, ...]],
    listings: dict[str, tuple[Any, ...]],
    excluded: set[int],
    held_keys: set[str],
    held_units: dict[str, int],
    rules: Mapping[str, Any],
    force: bool,
    seen: set[str],
) -> None:
    """The offers decisions for catalog products, on raw tuples and whole cents.

    This loop runs once per catalog product (200,000 in the benchmark): it
    decides "unchanged" with integer comparisons and no object per product,
    and builds a :class:`PlannedItem` only for what it sends.
    """
    channel = plan.channel
    send_qty, send_price = channel.owns_quantities, channel.sends_prices
    resend_all = force or plan.mode is PublicationMode.full
    plain_price = _plain_role(rules.get("price"), "price")
    mapped_safety = "safety_stock" in rules
    default_safety = channel.safety_stock
    held_get = held_units.get
    listing_get = listings.get
    not_listed = unchanged = excluded_count = nothing = 0
    for row in products:
        pid, sku, price, stock, safety, gone, values, _category = row
        key = sku.casefold()
        seen.add(key)
        listing = listing_get(key)
        out_of_channel = pid in excluded
        if out_of_channel:
            excluded_count += 1
        if key in held_keys:
            plan.held.append(PlannedItem(sku, pid, ItemAction.skip, reason=HELD))
            continue
        if gone or out_of_channel:
            if listing is not None:
                _zero(plan, out, sku, pid, _Listing(*listing), force)
            continue
        if listing is None or listing[1] is None:
            not_listed += 1
            continue
        if not send_qty and not send_price:
            nothing += 1
            continue
        _, remote_id, rprice, rqty, pprice, pqty, _hash, _published, failed = listing
        if send_price and not (plain_price and price is not None and price > 0):
            price, problem = product_price(StoreProduct(*row), rules)
            if problem:
                _invalid(plan, sku, pid, ItemAction.update, "price", "invalid-price", problem)
                continue
        quantity = 0
        if send_qty:
            if safety is None:
                safety = _safety(StoreProduct(*row), rules, channel) if mapped_safety else default_safety
            quantity = stock - held_get(sku, 0) - safety
            if quantity < 0:
                quantity = 0
        base_price = pprice if pprice is not None else rprice
        base_qty = pqty if pqty is not None else rqty
        price_changed = send_price and price != base_price
        qty_changed = send_qty and quantity != base_qty
        if not (price_changed or qty_changed or failed or resend_all):
            unchanged += 1
            continue
        _offer_item(
            plan,
            out,
            sku,
            pid,
            _Listing(*listing),
            price if send_price else None,
            quantity if send_qty else None,
            price_changed,
            qty_changed,
            force,
        )
    plan.built += len(products)
    plan.excluded += excluded_count
    for reason, count in ((NOT_LISTED, not_listed), (UNCHANGED, unchanged), (NOTHING_SENT, nothing)):
        if count:
            plan.skipped[reason] += count


def _offer_item(
    plan: Plan,
    out: list[PlannedItem],
    sku: str,
    product_id: int,
    listing: _Listing,
    price: int | None,
    quantity: int | None,
    price_changed: bool,
    qty_changed: bool,
    force: bool,
) -> None:
    """The item of one offer that changed (or that full mode, a failure or a re-publish resends)."""
    if plan.mode is PublicationMode.update and not (listing.last_failed or force):
        # Update mode sends what changed, nothing else: a stock change is a quantity line only.
        price = price if price_changed else None
        quantity = quantity if qty_changed else None
    base_qty = listing.published_quantity if listing.published_quantity is not None else listing.remote_quantity
    out.append(
        PlannedItem(
            sku,
            product_id,
            ItemAction.zero if quantity == 0 and base_qty != 0 else ItemAction.update,
            old_price=from_cents(listing.remote_price if listing.remote_price is not None else listing.published_price),
            new_price=from_cents(price),
            old_quantity=listing.remote_quantity if listing.remote_quantity is not None else listing.published_quantity,
            new_quantity=quantity,
            rank=_rank(qty_changed, price_changed, quantity, base_qty),
            payload=OfferUpdate(
                sku,
                price=from_cents(price),
                quantity=quantity,
                currency=plan.channel.currency if price is not None else None,
                remote_id=listing.remote_id,
            ),
        )
    )


def _rank(qty_changed: bool, price_changed: bool, new_qty: int | None, old_qty: int | None = None) -> int:
    if qty_changed and new_qty == 0:
        return RANK_STOCKOUT
    if qty_changed:
        return RANK_DECREASE if old_qty is not None and new_qty is not None and new_qty < old_qty else RANK_INCREASE
    if price_changed:
        return RANK_PRICE
    return RANK_OTHER


def _zero(plan: Plan, out: list[PlannedItem], sku: str, product_id: int | None, listing: _Listing | None, force: bool) -> None:
    """A SKU the channel must not sell any more: quantity 0 where the marketplace still lists it."""
    if listing is None or not listing.listed:
        return
    if not plan.channel.owns_quantities:
        plan.skipped[OWNER_ZEROES] += 1
        return
    base_qty = listing.published_quantity if listing.published_quantity is not None else listing.remote_quantity
    still_selling = (listing.remote_quantity or 0) > 0 or base_qty != 0
    if not (still_selling or listing.last_failed or force or plan.mode is PublicationMode.full):
        plan.skipped[ALREADY_ZERO] += 1
        return
    out.append(
        PlannedItem(
            sku,
            product_id,
            ItemAction.zero,
            old_price=from_cents(listing.remote_price),
            old_quantity=listing.remote_quantity,
            new_quantity=0,
            rank=RANK_STOCKOUT if still_selling else RANK_OTHER,
            payload=OfferUpdate(sku, quantity=0, remote_id=listing.remote_id),
        )
    )


def _category_mappings(session: Session, channel: ChannelSpec) -> dict[str, tuple[str | None, str | None]]:
    """Merchant category → (leaf id, problem)."""
    from sqlalchemy import select

    from shelfdesk.catalog.categories import category_tree
    from shelfdesk.db.models import CategoryMapping

    tree = category_tree(channel.marketplace)
    out: dict[str, tuple[str | None, str | None]] = {}
    for merchant, leaf in session.execute(
        select(CategoryMapping.merchant_category, CategoryMapping.channel_category_id).where(CategoryMapping.channel_id == channel.id)
    ):
        node = tree.get(leaf)
        if node is None:
            out[merchant] = (None, f"mapped category {leaf} no longer exists on the marketplace")
        elif not node.leaf:
            out[merchant] = (None, f"mapped category {node.path} is not a leaf category")
        else:
            out[merchant] = (node.id, None)
    return out


def _listing(
    plan: Plan,
    out: list[PlannedItem],
    product: StoreProduct,
    listing: _Listing | None,
    quantity: int,
    rules: Mapping[str, Any],
    attrs: Any,
    categories: Mapping[str, tuple[str | None, str | None]],
    force: bool,
) -> None:
    channel = plan.channel
    listed = listing is not None and listing.listed
    if not listed and not channel.owns_quantities:
        plan.skipped[OWNER_CREATES] += 1
        return
    action = ItemAction.update if listed else ItemAction.create
    from shelfdesk.catalog.column_mapping import evaluate

    evaluated = evaluate(attrs, rules, product.values)
    for spec in attrs.specs:
        value, problem = evaluated.get(spec.name, (None, None))
        if problem is not None:
            code = problem.split(" ", 1)[0] if problem in ("unmapped", "missing") else "invalid"
            message = f"{spec.label}: {problem}" if problem in ("unmapped", "missing") else f"{spec.label} {problem}"
            _invalid(plan, product.sku, product.id, action, spec.name, f"attribute-{code}", message)
            return
    category = product.category_path or ""
    leaf, category_problem = categories.get(category, (None, None))
    if leaf is None:
        problem = category_problem or (f"category {category!r} is not mapped" if category else "the product has no category")
        _invalid(
            plan, product.sku, product.id, action, "category", "category-unmapped" if not category_problem else "category-invalid", problem
        )
        return
    price, problem = product_price(product, rules)
    if problem:
        _invalid(plan, product.sku, product.id, action, "price", "invalid-price", problem)
        return
    values = {name: value for name, (value, _) in evaluated.items() if value is not None}
    fields: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, value in values.items():
        target = LISTING_FIELDS.get(name)
        if target == "warranty_months":
            fields[target] = int(value)
        elif target == "min_price":
            fields[target] = Decimal(value)
        elif target is not None:
            fields[target] = value
        elif name not in NOT_ATTRIBUTES:
            extra[name] = value
    for name, raw in (product.values.attributes or {}).items():  # the feed's extra columns travel as attributes
        if name not in extra and name not in LISTING_FIELDS and raw not in (None, "") and isinstance(raw, (str, int)):
            extra[str(name)] = str(raw)
    fields.setdefault("title", product.values.title)
    update = ListingUpdate(
        product.sku,
        price=from_cents(price),
        quantity=quantity if channel.owns_quantities else None,
        currency=channel.currency,
        category=leaf,
        attributes=extra,
        **fields,
    )
    digest = content_hash(update)
    if listed and plan.mode is PublicationMode.update and not force:
        assert listing is not None
        if listing.published_hash is None or listing.published_hash == digest:
            if not listing.last_failed:
                plan.skipped[ALREADY_LISTED if listing.published_hash is None else UNCHANGED] += 1
                return
    base_qty = None
    if listing is not None:
        base_qty = listing.published_quantity if listing.published_quantity is not None else listing.remote_quantity
    qty_changed = listed and channel.owns_quantities and quantity != base_qty
    price_changed = (
        listed
        and listing is not None
        and price != (listing.published_price if listing.published_price is not None else listing.remote_price)
    )
    out.append(
        PlannedItem(
            product.sku,
            product.id,
            action,
            old_price=from_cents(listing.remote_price) if listing is not None else None,
            new_price=from_cents(price),
            old_quantity=listing.remote_quantity if listing is not None else None,
            new_quantity=update.quantity,
            rank=RANK_CREATE if not listed else _rank(qty_changed, price_changed, update.quantity, base_qty),
            payload=update,
            content_hash=digest,
        )
    )


def content_hash(update: ListingUpdate) -> str:
    """Digest of a listing's fields other than price and quantity (those are the offers feed's)."""
    data = {
        k: (str(v) if v is not None else None)
        for k, v in (
            ("product_id", update.product_id),
            ("ean", update.ean),
            ("title", update.title),
            ("description", update.description),
            ("category", update.category),
            ("grade", update.grade),
            ("condition", update.condition),
            ("new_reason", update.new_reason),
            ("warranty_months", update.warranty_months),
            ("comment", update.comment),
            ("min_price", update.min_price),
        )
    }
    data["attributes"] = dict(sorted(update.attributes.items()))
    return hashlib.sha1(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
