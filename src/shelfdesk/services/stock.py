"""Stock by hand, by script and by stock feed; safety stock settings; the stock pusher's state.

One function applies quantities whatever brought them (:func:`set_stock`): the
CLI's ``stock set`` and ``stock import``, the console's key on a product's
line, and a store's polled stock feed. It writes only rows that change, marks
them dirty for every channel publishing their quantity (in the same
transaction) and records one audit row. Unknown SKUs and unreadable lines are
refused by name, the rest is applied: bad input loses nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from shelfdesk.catalog.errors import SetupError

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

#: More SKUs than this are matched by reading the store's products once rather than by SKU lists.
BULK_READ = 2000
#: Largest quantity accepted (a typo such as 10000000 is refused, not published).
MAX_QUANTITY = 1_000_000
#: Column names a stock file's SKU, quantity and price may have (case and accents aside).
SKU_NAMES = ("sku", "ref", "reference", "référence", "seller_sku", "id")
QUANTITY_NAMES = ("quantity", "qty", "stock", "quantité", "quantite", "available", "disponible")
PRICE_NAMES = ("price", "prix")


@dataclass(frozen=True, slots=True)
class StockLine:
    """One quantity to set (and optionally a price), as read from an argument or a file line."""

    sku: str
    quantity: int
    price: Decimal | None = None
    line: int | None = None  #: file line, for error messages


@dataclass
class StockResult:
    """What :func:`set_stock` did."""

    store_id: int
    changed: int = 0  #: products whose stock (or price) changed
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)  #: SKUs the store's catalog does not have (refused)
    errors: list[str] = field(default_factory=list)  #: lines that could not be read (refused)
    marked: int = 0  #: dirty marks written (SKU × channel)

    @property
    def refused(self) -> int:
        return len(self.unknown) + len(self.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "unknown": self.unknown,
            "errors": self.errors,
            "marked": self.marked,
        }


def parse_quantity(text: str, what: str) -> int:
    """A whole quantity between 0 and :data:`MAX_QUANTITY`, or a clear error naming ``what``."""
    if text.isdigit() and len(text) < 7:  # the usual case, 20,000 times per stock feed
        return int(text)
    value = text.strip().lstrip("+")
    if value.endswith(".0"):
        value = value[:-2]
    if not value.isdigit():
        raise SetupError(f"{what}: quantity {text.strip()!r} is not a whole number of 0 or more")
    quantity = int(value)
    if quantity > MAX_QUANTITY:
        raise SetupError(f"{what}: quantity {quantity:,} is implausible (over {MAX_QUANTITY:,})")
    return quantity


def parse_assignments(items: Sequence[str]) -> list[StockLine]:
    """``SKU=QTY`` arguments; the first bad one is refused with its text (nothing is applied)."""
    lines: list[StockLine] = []
    for item in items:
        sku, sep, qty = item.rpartition("=")
        if not sep or not sku.strip():
            raise SetupError(f"{item!r}: write SKU=QUANTITY, e.g. IPH13-128=4")
        lines.append(StockLine(sku.strip(), parse_quantity(qty, sku.strip())))
    return lines


def parse_stock_file(text: str) -> tuple[list[StockLine], list[str]]:
    """A stock CSV (SKU, quantity, optional price; a header row or those three columns in order).

    Returns the lines read and one message per line refused. The delimiter is
    sniffed among ``,``, ``;`` and tab.
    """
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        return [], []
    names = [h.strip().casefold() for h in header]
    sku_at = _column(names, SKU_NAMES)
    qty_at = _column(names, QUANTITY_NAMES)
    price_at = _column(names, PRICE_NAMES)
    start = 2
    if sku_at is None or qty_at is None:
        if len(header) >= 2 and header[1].strip().lstrip("+").isdigit():  # no header: sku, quantity[, price]
            sku_at, qty_at, price_at = 0, 1, 2 if len(header) > 2 else None
            rows = csv.reader(io.StringIO(text), delimiter=delimiter)
            start = 1
        else:
            raise SetupError(f"no SKU and quantity columns in the header {header!r}: name them sku and quantity")
    out: list[StockLine] = []
    errors: list[str] = []
    for number, row in enumerate(rows, start=start):
        if not any(cell.strip() for cell in row):
            continue
        try:
            sku = row[sku_at].strip() if sku_at < len(row) else ""
            if not sku:
                raise SetupError("no SKU")
            quantity = parse_quantity(row[qty_at] if qty_at < len(row) else "", sku)
            price = None
            if price_at is not None and price_at < len(row) and row[price_at].strip():
                price = _price(row[price_at], sku)
        except SetupError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        out.append(StockLine(sku, quantity, price, number))
    return out, errors


def _column(names: list[str], wanted: Sequence[str]) -> int | None:
    for name in wanted:
        if name in names:
            return names.index(name)
    return None


def _price(text: str, sku: str) -> Decimal:
    try:
        price = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise SetupError(f"{sku}: price {text.strip()!r} is not a number") from None
    if not price.is_finite() or price <= 0:
        raise SetupError(f"{sku}: price {text.strip()!r} must be above 0")
    return price.quantize(Decimal("0.01"))


def set_stock(
    ctx: AppContext, store_id: int, lines: Iterable[StockLine], *, source: str = "manual", errors: Sequence[str] = ()
) -> StockResult:
    """Set the stock (and price, where given) of the store's products; only rows that change are rewritten.

    The new figure counts every order placed so far (as a catalog import's
    does): open orders placed after it still hold units, earlier ones no
    longer do, so an unchanged figure is stamped too. ``source`` names
    what brought it in the audit log and on the dirty marks (``manual``,
    ``stock feed``). A SKU given twice keeps its last line.
    """
    from sqlalchemy import BigInteger, select, type_coerce, update

    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Product, Store
    from shelfdesk.publishing.dirty import REASON_MANUAL, REASON_STOCK_FEED, mark_dirty
    from shelfdesk.publishing.stock import open_order_units

    ctx.require_write()
    wanted: dict[str, StockLine] = {}
    for line in lines:
        wanted[line.sku] = line
    result = StockResult(store_id, errors=list(errors))
    now = ctx.clock.now()
    t = Product.__table__
    with ctx.write_session() as session:
        if session.get(Store, store_id) is None:
            raise SetupError(f"no store with id {store_id}")
        existing: dict[str, tuple[int, int, int | None]] = {}  #: SKU → (id, stock, price in cents)
        skus = list(wanted)
        columns = (t.c.id, t.c.sku, t.c.stock, type_coerce(t.c.price, BigInteger))  # cents: no Decimal per row
        if len(skus) > BULK_READ:  # a feed: one pass over the store beats thousands of bound parameters
            every = session.execute(select(*columns).where(t.c.store_id == store_id))
            existing = {sku: (pid, stock, price) for pid, sku, stock, price in every if sku in wanted}
        else:
            for start in range(0, len(skus), 900):
                for pid, sku, stock, price in session.execute(
                    select(*columns).where(t.c.store_id == store_id, t.c.sku.in_(skus[start : start + 900]))
                ):
                    existing[sku] = (pid, stock, price)
        rows: list[dict[str, Any]] = []
        changed: list[str] = []
        for sku, line in wanted.items():
            found = existing.get(sku)
            if found is None:
                result.unknown.append(sku)
                continue
            pid, stock, cents = found
            new_cents = int(line.price * 100) if line.price is not None else cents
            if stock == line.quantity and new_cents == cents:
                result.unchanged += 1
                continue
            price = None if new_cents is None else Decimal(new_cents).scaleb(-2)
            rows.append({"b_id": pid, "stock": line.quantity, "price": price, "stock_imported_at": now, "updated_at": now})
            changed.append(sku)
        if rows:
            from sqlalchemy import bindparam

            session.execute(update(t).where(t.c.id == bindparam("b_id")), rows)
        # An unchanged figure is still a new reading: it counts the orders so far, which stop holding units.
        # Only SKUs that open orders hold need the new stamp (for the others no order falls before it).
        held = open_order_units(session, store_id)
        released = [sku for sku in wanted if sku in held and sku not in changed and sku in existing]
        stamp = [existing[sku][0] for sku in released]
        for start in range(0, len(stamp), 900):
            session.execute(update(t).where(t.c.id.in_(stamp[start : start + 900])).values(stock_imported_at=now))
        if changed or released:
            reason = REASON_STOCK_FEED if source == "stock feed" else REASON_MANUAL
            result.marked = mark_dirty(session, store_id, [*changed, *released], reason, now)
        result.changed = len(rows)
        record_audit(
            session,
            ctx,
            "stock.set",
            "store",
            store_id,
            {
                "source": source,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "unknown": result.unknown[:20],
                "refused_lines": len(result.errors),
                "skus": changed[:20],
            },
        )
    return result


def set_stock_text(ctx: AppContext, store_id: int, text: str, *, source: str = "manual") -> StockResult:
    """:func:`set_stock` from a stock file's content (``stock import``, a stock feed)."""
    lines, errors = parse_stock_file(text)
    return set_stock(ctx, store_id, lines, source=source, errors=errors)


# --------------------------------------------------------------------------- safety stock


@dataclass(frozen=True)
class SafetyStock:
    """The safety stock a product gets on one channel, and which setting it comes from."""

    units: int
    source: str  #: "product", "mapped column", "channel" or "store"

    def describe(self) -> str:
        return f"safety {self.units} ({self.source})"


def set_store_safety(ctx: AppContext, store_id: int, units: int) -> None:
    """The store's default safety stock (its channels without their own, its products without theirs)."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Store

    ctx.require_write()
    units = _units(units)
    with ctx.write_session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise SetupError(f"no store with id {store_id}")
        before = store.safety_stock
        store.safety_stock = units
        store.updated_at = ctx.clock.now()
        record_audit(session, ctx, "store.safety_stock", "store", store_id, {"from": before, "to": units})
        _mark_store(session, store_id, None, ctx.clock.now())


def set_channel_safety(ctx: AppContext, channel_id: int, units: int | None) -> None:
    """A channel's safety stock (None: the store's default applies)."""
    from shelfdesk.audit import record_audit
    from shelfdesk.db.models import Channel

    ctx.require_write()
    value = None if units is None else _units(units)
    with ctx.write_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise SetupError(f"no channel with id {channel_id}")
        before = channel.safety_stock
        channel.safety_stock = value
        channel.updated_at = ctx.clock.now()
        record_audit(session, ctx, "channel.safety_stock", "channel", channel_id, {"from": before, "to": value})
        _mark_store(session, channel.store_id, [channel_id], ctx.clock.now())


def _units(units: int) -> int:
    if not isinstance(units, int) or units < 0 or units > MAX_QUANTITY:
        raise SetupError(f"safety stock must be a whole number of 0 or more, not {units!r}")
    return units


def _mark_store(session: Any, store_id: int, channel_ids: list[int] | None, now: Any) -> None:
    """Every product of the store: a safety stock change moves every quantity."""
    from sqlalchemy import select

    from shelfdesk.db.models import Product
    from shelfdesk.publishing.dirty import REASON_MANUAL, mark_dirty, quantity_channels

    channels = quantity_channels(session, store_id)
    if channel_ids is not None:
        channels = [c for c in channels if c in channel_ids]
    skus = session.execute(select(Product.sku).where(Product.store_id == store_id, Product.gone.is_(False))).scalars()
    mark_dirty(session, store_id, skus, REASON_MANUAL, now, channel_ids=channels)


def safety_for(ctx: AppContext, channel_id: int, skus: Sequence[str]) -> dict[str, SafetyStock]:
    """SKU → the safety stock the channel applies to it and where it comes from.

    Product column first, then the channel's mapped ``safety_stock`` column,
    then the channel's setting, then the store's default: the order the
    offers plan uses.
    """
    from sqlalchemy import select

    from shelfdesk.catalog.column_mapping import channel_rules
    from shelfdesk.catalog.fields import product_columns, to_values
    from shelfdesk.db.models import Channel, Product, Store

    rules = channel_rules(ctx, channel_id)
    rule = rules.get("safety_stock")
    out: dict[str, SafetyStock] = {}
    with ctx.engine.connect() as conn, ctx.read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise SetupError(f"no channel with id {channel_id}")
        store = session.get(Store, channel.store_id)
        fallback = (
            SafetyStock(channel.safety_stock, "channel")
            if channel.safety_stock is not None
            else SafetyStock(int(store.safety_stock or 0) if store else 0, "store")
        )
        t = Product.__table__
        query = select(t.c.safety_stock, *product_columns()).where(t.c.store_id == channel.store_id, t.c.sku.in_(list(skus)))
        for row in conn.execute(query):
            if row.safety_stock is not None:
                out[row.sku] = SafetyStock(int(row.safety_stock), "product")
                continue
            if rule is not None:
                text = rule.resolve(to_values(row))
                if text is not None and text.strip().lstrip("+").isdigit():
                    out[row.sku] = SafetyStock(int(text.strip()), "mapped column")
                    continue
            out[row.sku] = fallback
    return out


# --------------------------------------------------------------------------- one SKU's stock, per channel


@dataclass(frozen=True)
class ChannelStock:
    """What one channel may sell of a SKU, and why."""

    channel_id: int
    channel: str
    safety: SafetyStock
    publishable: int  #: what the channel sends now: stock − held − safety, never below 0
    published: int | None  #: what it last published (None: never)
    waiting: bool  #: marked dirty, not pushed yet
    sends_quantities: bool

    def text(self) -> str:
        if not self.sends_quantities:
            return f"{self.channel}: another channel of its account sends the quantities"
        last = "never published" if self.published is None else f"last published {self.published}"
        wait = " · waiting for the stock pusher" if self.waiting else ""
        return f"{self.channel}: {self.safety.describe()} → sends {self.publishable} · {last}{wait}"


@dataclass(frozen=True)
class StockView:
    store_id: int
    store_name: str
    sku: str
    stock: int
    held: int  #: units of open orders placed after the stock figure
    gone: bool
    channels: list[ChannelStock]

    def headline(self) -> str:
        gone = " (gone from the catalog: 0 everywhere)" if self.gone else ""
        return f"{self.sku}: stock {self.stock} · held by open orders {self.held}{gone}"

    def as_json(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "store": self.store_name,
            "sku": self.sku,
            "stock": self.stock,
            "held": self.held,
            "gone": self.gone,
            "channels": [
                {
                    "channel_id": c.channel_id,
                    "channel": c.channel,
                    "safety_stock": c.safety.units,
                    "safety_source": c.safety.source,
                    "publishable": c.publishable,
                    "published": c.published,
                    "waiting": c.waiting,
                    "sends_quantities": c.sends_quantities,
                }
                for c in self.channels
            ],
        }


def stock_view(ctx: AppContext, store_id: int, sku: str) -> StockView:
    """A SKU's stock, the units open orders hold, and per channel the safety stock applied and what it sends."""
    from sqlalchemy import select

    from shelfdesk.db.models import Channel, ChannelListing, Product, StockDirty, Store
    from shelfdesk.publishing.channel import channel_spec
    from shelfdesk.publishing.stock import publishable_quantity, units_held

    with ctx.read_session() as session:
        product = session.execute(select(Product).where(Product.store_id == store_id, Product.sku == sku)).scalars().first()
        if product is None:
            raise SetupError(f"no SKU {sku!r} in this store's catalog")
        held = units_held(session, store_id).get(product.sku, 0)
        store_name = session.execute(select(Store.name).where(Store.id == store_id)).scalar_one()
        channels = session.execute(select(Channel.id, Channel.name).where(Channel.store_id == store_id).order_by(Channel.id)).all()
        specs = {cid: channel_spec(session, cid) for cid, _ in channels}
        key = product.sku.casefold()
        published: dict[int, Any] = dict(
            session.execute(
                select(ChannelListing.channel_id, ChannelListing.published_quantity).where(
                    ChannelListing.sku_key == key, ChannelListing.channel_id.in_([c for c, _ in channels])
                )
            ).all()
        )
        waiting = set(session.execute(select(StockDirty.channel_id).where(StockDirty.sku_key == key)).scalars())
        stock, gone = int(product.stock), bool(product.gone)
    lines = []
    for cid, name in channels:
        safety = safety_for(ctx, cid, [sku]).get(sku, SafetyStock(0, "store"))
        quantity = 0 if gone else publishable_quantity(stock, held, safety.units)
        lines.append(ChannelStock(cid, name, safety, quantity, published.get(cid), cid in waiting, specs[cid].owns_quantities))
    return StockView(store_id, store_name, sku, stock, held, gone, lines)


def stock_views_for_sku(ctx: AppContext, sku: str) -> list[StockView]:
    """:func:`stock_view` in every store whose catalog has ``sku`` (a SKU's history spans stores)."""
    from sqlalchemy import select

    from shelfdesk.db.models import Product

    with ctx.read_session() as session:
        stores = list(session.execute(select(Product.store_id).where(Product.sku == sku).order_by(Product.store_id)).scalars())
    return [stock_view(ctx, store_id, sku) for store_id in stores]


# --------------------------------------------------------------------------- the stock pusher's state

#: An alert fires when a quantity change has waited this long for the pusher (it normally takes seconds).
LAG_ALERT = timedelta(minutes=5)


@dataclass(frozen=True)
class PusherChannel:
    """The stock pusher's state for one channel."""

    channel_id: int
    name: str
    account: str
    waiting: int  #: dirty SKUs not pushed yet
    oldest: datetime | None  #: the oldest change not pushed yet
    last_push_at: datetime | None
    last_push_sent: int
    budget_left: int | None  #: lines the account may still send this hour (None: no hourly limit)
    budget_limit: int | None
    budget_wait: str  #: "" when the waiting SKUs fit the budget, else "about N min"


@dataclass(frozen=True)
class PusherStatus:
    checked_at: datetime
    channels: list[PusherChannel]

    @property
    def waiting(self) -> int:
        return sum(c.waiting for c in self.channels)

    @property
    def oldest(self) -> datetime | None:
        return min((c.oldest for c in self.channels if c.oldest is not None), default=None)

    def oldest_age_seconds(self) -> float | None:
        oldest = self.oldest
        return None if oldest is None else max(0.0, (self.checked_at - oldest).total_seconds())

    def line(self, channel_id: int | None = None) -> str:
        """One line for the Publications screen (one channel, or all)."""
        rows = [c for c in self.channels if channel_id is None or c.channel_id == channel_id]
        if not rows:
            return "Stock pusher: no channel publishes quantities yet"
        waiting = sum(c.waiting for c in rows)
        parts = ["Stock pusher: nothing waiting" if not waiting else f"Stock pusher: {waiting:,} quantity update(s) waiting"]
        oldest = min((c.oldest for c in rows if c.oldest is not None), default=None)
        if oldest is not None:
            parts[0] += f" (oldest {_age(self.checked_at - oldest)})"
        pushes = [c for c in rows if c.last_push_at is not None]
        if pushes:
            last = max(pushes, key=lambda c: c.last_push_at)  # type: ignore[return-value]  # pushes hold only rows with a push time
            parts.append(f"last push {last.last_push_at:%H:%M:%S} ({last.last_push_sent:,} sent)")
        seen: set[str] = set()
        for c in rows:
            if c.budget_left is None or c.account in seen:
                continue
            seen.add(c.account)
            text = f"{c.account} {c.budget_left:,}/{c.budget_limit:,} lines left/hour"
            if c.budget_wait:
                text += f"; {c.waiting:,} wait for it, {c.budget_wait}"
            parts.append(text)
        return " · ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "waiting": self.waiting,
            "oldest_unpushed_at": self.oldest.isoformat() if self.oldest else None,
            "oldest_unpushed_age_seconds": self.oldest_age_seconds(),
            "channels": [
                {
                    "channel_id": c.channel_id,
                    "name": c.name,
                    "waiting": c.waiting,
                    "oldest_unpushed_at": c.oldest.isoformat() if c.oldest else None,
                    "last_push_at": c.last_push_at.isoformat() if c.last_push_at else None,
                    "last_push_sent": c.last_push_sent,
                    "budget_left": c.budget_left,
                    "budget_limit": c.budget_limit,
                    "budget_wait": c.budget_wait or None,
                }
                for c in self.channels
            ],
        }


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def pusher_status(ctx: AppContext) -> PusherStatus:
    """Per channel that sends quantities: SKUs waiting, the last push, the account's budget left this hour."""
    from sqlalchemy import select

    from shelfdesk.channels.registry import capabilities
    from shelfdesk.db.tables import table
    from shelfdesk.publishing.budget import account_budget
    from shelfdesk.publishing.dirty import waiting_counts
    from shelfdesk.publishing.pusher import PUSHER

    now = ctx.clock.now()
    out: list[PusherChannel] = []
    Channel, MarketplaceAccount, Publication = table("channels").c, table("marketplace_accounts").c, table("publications").c
    with ctx.read_connection() as session:
        waiting = waiting_counts(session)
        rows = session.execute(
            select(Channel.id, Channel.name, Channel.account_id, Channel.marketplace, MarketplaceAccount.name)
            .join(table("marketplace_accounts"), MarketplaceAccount.id == Channel.account_id)
            .where(Channel.enabled.is_(True), Channel.activated_at.is_not(None), Channel.owns_quantities.is_(True))
            .order_by(Channel.id)
        ).all()
        budgets: dict[int, Any] = {}
        for cid, name, account_id, marketplace, account in rows:
            if account_id not in budgets:
                budgets[account_id] = account_budget(session, account_id, capabilities(marketplace).lines_per_hour, now)
            last = session.execute(
                select(Publication.started_at, Publication.sent)
                .where(Publication.channel_id == cid, Publication.started_by == PUSHER)
                .order_by(Publication.started_at.desc(), Publication.id.desc())
                .limit(1)
            ).first()
            count, oldest = waiting.get(cid, (0, None))
            budget = budgets[account_id]
            out.append(
                PusherChannel(
                    cid,
                    name,
                    account,
                    count,
                    oldest,
                    last[0] if last else None,
                    int(last[1] or 0) if last else 0,
                    budget.left if budget else None,
                    budget.limit if budget else None,
                    budget.wait_text(count, now) if budget and count else "",
                )
            )
    return PusherStatus(now, out)
