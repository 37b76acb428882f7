"""Writing marketplace orders into the database: idempotent upserts, history events, confirmations.

One function, :func:`store_remote_orders`, is used by the harvest (a page at a
time) and by the outbox sender (the order the marketplace returned after an
action), so an order looks the same whichever way it arrived:

* an order is upserted on (account, marketplace order id), its lines on
  (order, marketplace line id): the stored orders of the page are read first
  (in the same write transaction), new ones are inserted and known ones
  updated by id. Running it twice changes nothing, and an older copy of an
  order (the marketplace may list one twice while it changes) never
  overwrites a newer one (``modified_at`` guard, in the UPDATE itself). A copy
  that changes nothing (same modification time, same state) is not written;
* what only shelfdesk knows is never erased by a marketplace that stays
  silent about it: a tracking number kept locally (Leboncoin takes none), an
  address once revealed, an IMEI once set (``COALESCE(new, stored)``).
  Internal notes, hold reasons and the outbox are not columns of the upsert
  at all, so a harvest never touches a pending action;
* every change of status, amount or address becomes an order event with its
  source (harvest, operator, rule);
* the order's search terms (``orders/terms.py``: id, buyer name, e-mail) are
  written with it, and replaced when the buyer's name or e-mail changes;
* an action waiting in ``synchronizing`` is confirmed as soon as the
  marketplace's state shows it.

Speed (budget: 20,000 orders a second on the harvest's side,
``benchmarks/harvest.py``): values are converted once by the column types'
own processors and go to the driver's ``executemany`` through statements
compiled once per dialect (``db/upsert.py``, :class:`DriverStatement`), not
through SQLAlchemy's per-row parameter processing. New orders are plain
INSERTs: on SQLite with foreign keys on, ``INSERT … ON CONFLICT DO UPDATE``
into ``orders`` (a parent table) costs three times a plain insert. An UPDATE
leaves out of its SET list the indexed columns that did not change (channel,
status, address flag, modification time), so SQLite keeps their index entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, cast, delete, func, insert, or_, select, type_coerce, update

from shelfdesk.channels.parsing import int_or_none, text_or_none, to_decimal
from shelfdesk.domain import ActionKind, ActionState, EventSource, Marketplace, NormalizedStatus, OrderScope
from shelfdesk.formatting import amount_text
from shelfdesk.markets import country_of
from shelfdesk.orders.terms import order_terms
from shelfdesk.orders.validation import format_allowed
from shelfdesk.publishing.dirty import REASON_ORDER, mark_dirty

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.orm import Session

    from shelfdesk.channels.base import RemoteOrder

S = NormalizedStatus

#: Columns a marketplace's silence never erases (None from the marketplace keeps the stored value).
STICKY_ORDER_COLUMNS = (
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "shipping_address",
    "billing_address",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipping_method",
    "payment_method",
)
STICKY_LINE_COLUMNS = ("imei", "serial_number")
ORDER_KEY = ("account_id", "marketplace_order_id")
#: Never in an update's SET list: they cannot change, and leaving them out spares SQLite
#: rewriting the six indexes that hold the purchase time.
IMMUTABLE_COLUMNS = frozenset({"marketplace", "purchased_at"})
LINE_KEY = ("order_id", "marketplace_line_id")
#: Lines of an IN (...) query: well under SQLite's variable limit.
CHUNK = 500


@dataclass(frozen=True)
class ChannelScope:
    """One channel of an account, as the harvest needs it."""

    id: int
    store_id: int
    name: str
    market: str
    country: str
    scope: OrderScope
    orders_enabled: bool = True
    auto_accept: bool = False
    activated_at: datetime | None = None


@dataclass(frozen=True)
class AccountScope:
    """An account and its channels: which channel each harvested order belongs to."""

    account_id: int
    marketplace: Marketplace
    channels: tuple[ChannelScope, ...]

    @property
    def market(self) -> str | None:
        """The market an account-wide request (the order harvest) speaks for.

        The one market of the account's channels that take orders; with several,
        the first channel's (the harvest reads every market's orders whatever the
        header says: it only has to name one the account sells in) [I].
        """
        enabled = [c for c in self.channels if c.orders_enabled] or list(self.channels)
        return enabled[0].market if enabled else None

    def channel_for(self, country: str | None) -> ChannelScope | None:
        """The channel of the order's market (a country or a locale); an account-scoped channel takes the other countries.

        None means no channel of this account manages that market's orders
        (scope "market" everywhere, or orders turned off for it).
        """
        enabled = [c for c in self.channels if c.orders_enabled]
        # A market's locale (Back Market's ``en-gb``) or its country (``GB``) name the same market.
        iso = country_of(country)[0]
        if iso:
            exact = [c for c in self.channels if c.country.upper() == iso]
            if exact:
                return exact[0] if exact[0].orders_enabled else None
            return next((c for c in enabled if c.scope is OrderScope.account), None)
        # No country yet (address hidden until accepted): never drop the order.
        if len(enabled) == 1:
            return enabled[0]
        return next((c for c in enabled if c.scope is OrderScope.account), enabled[0] if enabled else None)


def load_scope(session: Session, account_id: int) -> AccountScope:
    from shelfdesk.db.models import Channel, MarketplaceAccount

    account = session.get(MarketplaceAccount, account_id)
    if account is None:
        raise LookupError(f"marketplace account {account_id} does not exist")
    rows = session.execute(select(Channel).where(Channel.account_id == account_id).order_by(Channel.id)).scalars()
    channels = tuple(
        ChannelScope(
            c.id,
            c.store_id,
            c.name,
            c.market,
            c.country,
            OrderScope(c.orders_scope),
            c.orders_enabled and c.enabled,
            c.auto_accept,
            c.activated_at,
        )
        for c in rows
    )
    return AccountScope(account.id, Marketplace(account.marketplace), channels)


@dataclass
class StoreOutcome:
    """What one call stored."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    stale: int = 0  #: older copies ignored (a newer one is stored)
    out_of_scope: int = 0
    events: int = 0
    confirmed_actions: int = 0
    ids: dict[str, int] = field(default_factory=dict)  #: marketplace order id -> orders.id

    def add(self, other: StoreOutcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.out_of_scope += other.out_of_scope
        self.events += other.events
        self.confirmed_actions += other.confirmed_actions
        self.ids.update(other.ids)


@dataclass(frozen=True, slots=True)
class _Existing:
    id: int
    status: NormalizedStatus
    marketplace_status: str | None
    total: Decimal | None
    shipping_price: Decimal | None
    shipping_address: dict[str, Any] | None
    modified_at: datetime | None
    channel_id: int | None
    store_id: int | None
    address_missing: bool
    buyer_name: str | None
    buyer_email: str | None
    unread_fields: str | None = None


def store_remote_orders(
    session: Session,
    scope: AccountScope,
    remotes: Iterable[RemoteOrder],
    now: datetime,
    *,
    source: EventSource = EventSource.harvest,
    actor: str | None = None,
) -> StoreOutcome:
    """Store ``remotes`` (one account's orders) with their lines, events and search terms; nothing is committed here."""
    outcome = StoreOutcome()
    latest: dict[str, RemoteOrder] = {}
    for remote in remotes:  # the same order may come twice: keep the latest copy
        kept = latest.get(remote.remote_id)
        if kept is None or remote.modified_at >= kept.modified_at:
            latest[remote.remote_id] = remote
    placed: list[tuple[RemoteOrder, ChannelScope]] = []
    for remote in latest.values():
        channel = scope.channel_for(remote.country)
        if channel is None:
            outcome.out_of_scope += 1
            continue
        placed.append((remote, channel))
    if not placed:
        return outcome

    session.flush()  # objects the caller added are rows before the reads below (they bypass the ORM)
    existing = _existing(session, scope.account_id, [r.remote_id for r, _ in placed])
    w = _writer(session)
    at = w.dt(now)
    harvest = source is EventSource.harvest
    source_value = w.event_source[source]
    new: list[tuple[RemoteOrder, list[Any]]] = []
    updates: dict[tuple[bool, ...], list[list[Any]]] = defaultdict(list)  #: by the SET list they need
    written: list[tuple[RemoteOrder, _Existing | None]] = []
    events: list[tuple[str, tuple[Any, ...]]] = []  #: (marketplace order id, event row without its order id)
    renamed: list[tuple[int, set[str]]] = []  #: existing orders whose search terms change
    dirty: dict[int, set[str]] = defaultdict(set)  #: store id → SKUs of the orders written
    for remote, channel in placed:
        old = existing.get(remote.remote_id)
        if old is not None and old.modified_at is not None and remote.modified_at < old.modified_at:
            outcome.stale += 1
            continue
        changes = _changes(old, remote, at, source, source_value, actor)
        if old is not None and not changes and remote.modified_at == old.modified_at and harvest:
            outcome.unchanged += 1
            outcome.ids[remote.remote_id] = old.id
            continue
        values = _order_values(w, scope, channel, remote, at, old)
        written.append((remote, old))
        # Units held by orders change what every channel of the store may sell: the stock pusher sends it.
        dirty[channel.store_id].update(line.sku for line in remote.lines if line.sku)
        events.extend((remote.remote_id, change) for change in changes)
        if old is None:
            new.append((remote, values))
            continue
        moved = old.channel_id != channel.id or old.store_id != channel.store_id
        key = (
            moved,
            old.status is not remote.status,
            old.address_missing != values[_ADDRESS_MISSING],
            old.modified_at != remote.modified_at,
        )
        updates[key].append([*values, old.id, values[_MODIFIED_AT]])
        name = values[_BUYER_NAME] or old.buyer_name
        email = values[_BUYER_EMAIL] or old.buyer_email
        if name != old.buyer_name or email != old.buyer_email:
            renamed.append((old.id, order_terms(remote.remote_id, name, email)))
    if not written:
        return outcome

    if new:
        w.insert_order.execute(session, [values for _, values in new])
        ids = _ids(session, scope.account_id, [remote.remote_id for remote, _ in new])
    else:
        ids = {}
    for key, rows in updates.items():
        w.update_order(*key).execute(session, rows)
    for remote, old in written:
        if old is None:
            outcome.created.append(ids[remote.remote_id])
        else:
            ids[remote.remote_id] = old.id
            outcome.updated.append(old.id)
    outcome.ids.update(ids)
    _store_lines(session, w, written, ids)
    if events:
        w.insert_event.execute(session, [(ids[remote_id], *event) for remote_id, event in events])
        outcome.events = len(events)
    terms = [
        (ids[remote.remote_id], term, values[_PURCHASED_AT])
        for remote, values in new
        for term in sorted(order_terms(remote.remote_id, values[_BUYER_NAME], values[_BUYER_EMAIL]))
    ]
    terms.sort(key=itemgetter(1))  # in term order: the term index is walked once, not jumped about
    w.insert_terms.execute(session, terms)
    if renamed:
        _replace_terms(session, w, renamed)
    outcome.confirmed_actions = confirm_visible_actions(session, {ids[r.remote_id]: r for r, _ in written}, now)
    for store_id, skus in dirty.items():
        mark_dirty(session, store_id, skus, REASON_ORDER, now)
    return outcome


# ---------------------------------------------------------------------- statements

#: Columns of an order row as store_remote_orders builds it (the insert's columns).
ORDER_COLUMNS = (
    "account_id",
    "channel_id",
    "store_id",
    "marketplace",
    "marketplace_order_id",
    "market",
    "country",
    "marketplace_status",
    "status",
    "purchased_at",
    "modified_at",
    "harvested_at",
    "updated_at",
    "total",
    "shipping_price",
    "discount_total",
    "currency",
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "shipping_address",
    "billing_address",
    "shipping_method",
    "payment_method",
    "carrier",
    "tracking_number",
    "tracking_url",
    "address_missing",
    "gift",
    "weight_grams",
    "accept_by",
    "ship_by",
    "buyer_note",
    "payload",
    "allowed_actions",
    "unread_fields",
)
_AT = {name: n for n, name in enumerate(ORDER_COLUMNS)}
_PURCHASED_AT, _MODIFIED_AT, _ADDRESS_MISSING = _AT["purchased_at"], _AT["modified_at"], _AT["address_missing"]
_BUYER_NAME, _BUYER_EMAIL = _AT["buyer_name"], _AT["buyer_email"]
#: Set only when they change: each is in indexes SQLite would otherwise rewrite for nothing.
_CHANNEL_COLUMNS = ("channel_id", "store_id")
_ALWAYS_SET = tuple(
    c
    for c in ORDER_COLUMNS
    if c not in ORDER_KEY and c not in IMMUTABLE_COLUMNS and c not in (*_CHANNEL_COLUMNS, "status", "address_missing", "modified_at")
)
LINE_COLUMNS = (
    "order_id",
    "marketplace_line_id",
    "sku",
    "title",
    "quantity",
    "unit_price",
    "marketplace_status",
    "status",
    "imei",
    "serial_number",
    "options",
)
EVENT_COLUMNS = ("order_id", "at", "source", "kind", "field", "old_value", "new_value", "actor", "message")
TERM_COLUMNS = ("order_id", "term", "purchased_at")


class _Writer:
    """The statements of store_remote_orders and the value conversions, made once per dialect.

    Values are converted here by the columns' own bind processors (Money to
    cents, enums to strings, datetimes and JSON to the driver's form), the
    invariant ones (enum members, booleans, ``now``) once, and rows go to the
    driver's executemany as they are (see :class:`~shelfdesk.db.upsert.DriverStatement`).
    """

    def __init__(self, dialect: Dialect) -> None:
        from shelfdesk.db.models import Order, OrderEvent, OrderLine
        from shelfdesk.db.models.orders import SEARCH_TERM_TYPE, OrderSearchTerm
        from shelfdesk.db.upsert import DriverStatement, bind_converters, insert_for

        self.dialect = dialect
        orders = Order.__table__
        convert = dict(zip(ORDER_COLUMNS, bind_converters(orders, ORDER_COLUMNS, dialect)))
        self.dt = _fast_datetime(convert["purchased_at"])
        self.allowed = _AllowedMemo()
        self.money = _Memo(convert["total"] or _same)  # amounts repeat (prices): convert each once
        self.json = {c: _fast_json(convert[c]) for c in ("shipping_address", "billing_address", "payload")}
        self.status = _members(NormalizedStatus, convert["status"])
        self.marketplace = _members(Marketplace, convert["marketplace"])
        self.bool = {flag: (convert["gift"] or _same)(flag) for flag in (False, True)}
        self._compile = lambda statement, keys, insert=False: DriverStatement.compile(statement, dialect, keys, insert=insert)
        self.insert_order = self._compile(insert(orders), ORDER_COLUMNS, True)
        self._updates: dict[tuple[bool, ...], Any] = {}

        lines = OrderLine.__table__
        line_convert = dict(zip(LINE_COLUMNS, bind_converters(lines, LINE_COLUMNS, dialect)))
        self.line_money = _Memo(line_convert["unit_price"] or _same)
        self.line_json = _fast_json(line_convert["options"])
        self.no_options = self.line_json({})
        self.line_status = _members(NormalizedStatus, line_convert["status"])
        upsert = insert_for(dialect.name, lines)
        upsert = upsert.on_conflict_do_update(
            index_elements=list(LINE_KEY),
            set_={
                c: func.coalesce(upsert.excluded[c], lines.c[c]) if c in STICKY_LINE_COLUMNS else upsert.excluded[c]
                for c in LINE_COLUMNS
                if c not in LINE_KEY
            },
        )
        self.upsert_lines = self._compile(upsert, LINE_COLUMNS, True)
        self.insert_lines = self._compile(insert(lines), LINE_COLUMNS, True)

        self.event_source = _members(EventSource, bind_converters(OrderEvent, ["source"], dialect)[0])
        self.insert_event = self._compile(insert(OrderEvent.__table__), EVENT_COLUMNS, True)

        terms = OrderSearchTerm.__table__
        self.insert_terms = self._compile(insert(terms), TERM_COLUMNS, True)
        # Terms added to an existing order copy its purchase time as stored.
        copy = select(orders.c.id, cast(bindparam("term"), SEARCH_TERM_TYPE), orders.c.purchased_at)
        copy = copy.where(orders.c.id == bindparam("order_id"))
        self.add_terms = self._compile(insert(terms).from_select(list(TERM_COLUMNS), copy), ("order_id", "term"))
        drop = delete(terms).where(terms.c.order_id == bindparam("order_id"), terms.c.term == bindparam("term"))
        self.drop_terms = self._compile(drop, ("order_id", "term"))

    def update_order(self, moved: bool, status: bool, address_missing: bool, modified: bool) -> Any:
        """UPDATE of an existing order by id, under the modified_at guard; sticky columns are COALESCEd.

        Rows are the order's values in ORDER_COLUMNS order, then its id and its
        new modified_at (for the guard). Columns that did not change and sit in
        indexes are left out of the SET list, so their index entries stay put.
        """
        key = (moved, status, address_missing, modified)
        statement = self._updates.get(key)
        if statement is None:
            from shelfdesk.db.models import Order

            orders = Order.__table__
            columns = [
                *_ALWAYS_SET,
                *(_CHANNEL_COLUMNS if moved else ()),
                *(("status",) if status else ()),
                *(("address_missing",) if address_missing else ()),
                *(("modified_at",) if modified else ()),
            ]
            keys = [*ORDER_COLUMNS, "id_", "guard_"]
            values = {}
            for column in columns:
                bound = bindparam(column, type_=orders.c[column].type)
                values[column] = func.coalesce(bound, orders.c[column]) if column in STICKY_ORDER_COLUMNS else bound
            guard = bindparam("guard_", type_=orders.c.modified_at.type)
            stmt = (
                update(orders)
                .where(orders.c.id == bindparam("id_"), or_(orders.c.modified_at.is_(None), orders.c.modified_at <= guard))
                .values(values)
            )
            statement = self._updates[key] = self._compile(stmt, keys)
        return statement


_WRITERS: dict[tuple[str, str, str], _Writer] = {}


def _writer(session: Session) -> _Writer:
    dialect = session.get_bind().dialect
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    writer = _WRITERS.get(key)
    if writer is None:
        writer = _WRITERS[key] = _Writer(dialect)
    return writer


def _same(value: Any) -> Any:
    return value


def _fast_json(convert: Any) -> Any:
    """The JSON column's bind processor, or the same serialization through one reused C encoder.

    ``json.dumps`` builds its encoder anew for every value; when the dialect's
    processor is exactly ``json.dumps`` (the same text for a sample, SQL NULL
    for None), one encoder made here serves every value: the text stored is
    the same, a few microseconds sooner per document.
    """
    from json import JSONEncoder
    from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

    if convert is None or c_make_encoder is None:
        return convert or _same
    encoder = c_make_encoder(None, JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True)

    def fast(value: Any) -> str | None:
        return None if value is None else "".join(encoder(value, 0))

    sample = {"name": 'Zoé "Z"', "n": [1, 2.5, None, True, {}], "empty": ""}
    return fast if convert(None) is None and convert(sample) == fast(sample) else convert


def _fast_datetime(convert: Any) -> Any:
    """The datetime column's bind processor, with a shortcut for UTC datetimes when it gives the same text.

    SQLite's processor formats each field through a dict (about 3 µs, twice an
    order); ``isoformat`` does the same in C. The shortcut is taken only when
    it agrees with the processor on samples, and only for datetimes in UTC:
    anything else (naive values, which the column type refuses, other zones,
    another database's driver) goes through the processor itself.
    """
    from datetime import datetime, timezone

    if convert is None:
        return _same
    utc = timezone.utc

    def fast(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is utc:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return convert(value)

    samples = (
        datetime(2026, 3, 2, 9, 30, tzinfo=utc),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=utc),
        datetime(2026, 1, 1, 0, 0, 0, 7, tzinfo=utc),
    )
    return fast if all(fast(sample) == convert(sample) for sample in samples) else convert


class _AllowedMemo(dict[Any, str]):
    """``format_allowed`` remembered per set of actions (a handful of distinct sets per marketplace)."""

    def __call__(self, kinds: Any) -> str:
        try:
            return self[kinds]
        except KeyError:
            text = self[kinds] = format_allowed(kinds)
            return text
        except TypeError:  # a list: not hashable
            return format_allowed(kinds)


class _Memo(dict[Decimal, Any]):
    """A money converter that remembers its results for Decimals (prices repeat); bounded.

    Only Decimals are remembered: a float equal to a remembered amount must
    still reach the converter, which refuses it.
    """

    def __init__(self, convert: Any, size: int = 4096) -> None:
        super().__init__()
        self.convert, self.size = convert, size

    def __call__(self, value: Any) -> Any:
        if type(value) is not Decimal:
            return self.convert(value)
        try:
            return self[value]
        except TypeError:  # a signaling NaN cannot be hashed: the converter refuses it
            return self.convert(value)
        except KeyError:
            if len(self) >= self.size:
                self.clear()
            result = self[value] = self.convert(value)
            return result


def _members(enum: type[StrEnum], convert: Any) -> dict[Any, Any]:
    return {member: (convert or _same)(member) for member in enum}


# ---------------------------------------------------------------------- rows


def _order_values(w: _Writer, scope: AccountScope, channel: ChannelScope, remote: RemoteOrder, at: Any, old: _Existing | None) -> list[Any]:
    """The order's row in ORDER_COLUMNS order, already in the driver's form; a silent sticky column is None."""
    # Hot path of the harvest (tens of thousands of orders a second): plain lookups, few calls.
    raw = remote.raw or {}
    get = raw.get
    address = remote.shipping_address or None
    billing = remote.billing_address if remote.billing_address is not None else get("billing_address")
    buyer = get("buyer")
    if not isinstance(buyer, Mapping):
        buyer = {}
    shipping = get("shipping")
    status = remote.status
    deadline = remote.deadline
    email = phone = None
    if address:
        email, phone = address.get("email"), address.get("phone")
    dt, money, json = w.dt, w.money, w.json
    discount = get("discount_total") or get("discount") or get("coupon_amount")
    shipping_json = json["shipping_address"](address)
    if billing and isinstance(billing, Mapping):
        # Marketplaces often bill where they ship: the same document is serialized once.
        billing_json = shipping_json if billing == address else json["billing_address"](dict(billing))
    else:
        billing_json = None
    return [
        scope.account_id,
        channel.id,
        channel.store_id,
        w.marketplace[scope.marketplace],
        remote.remote_id,
        channel.market,
        country_of(remote.country)[0],
        remote.raw_status,
        w.status[status],
        dt(remote.created_at),
        dt(remote.modified_at),
        at,
        at,
        money(remote.total),
        money(remote.shipping_price),
        None if discount is None else money(to_decimal(discount)),
        remote.currency,
        remote.customer_name or text_or_none(buyer.get("name")),
        text_or_none(email or buyer.get("email") or get("customer_email")),
        text_or_none(phone or buyer.get("phone")),
        shipping_json,
        billing_json,
        text_or_none(get("shipping_method") or (shipping.get("method") if isinstance(shipping, Mapping) else None)),
        text_or_none(get("payment_method")),
        remote.shipper or None,
        remote.tracking_number or None,
        text_or_none(get("tracking_url")),
        w.bool[status is S.InProgress and not (address or (old is not None and old.shipping_address))],
        w.bool[bool(get("gift") or get("is_gift"))],
        int_or_none(get("weight_grams") or get("weight")),
        dt(deadline) if deadline is not None and status is S.New else None,
        dt(deadline) if deadline is not None and status is S.InProgress else None,
        text_or_none(get("buyer_note") or get("buyer_message") or get("customer_note")),
        json["payload"](raw),
        w.allowed(remote.allowed_actions),
        ", ".join(remote.problems) or None,
    ]


def _store_lines(session: Session, w: _Writer, written: Sequence[tuple[RemoteOrder, _Existing | None]], ids: Mapping[str, int]) -> None:
    """Lines of new orders are inserted (a line listed twice keeps its last copy); others are upserted."""
    inserted, upserted = [], []
    money, status_of, options_json, no_options = w.line_money, w.line_status, w.line_json, w.no_options
    for remote, old in written:
        order_id = ids[remote.remote_id]
        rows = {}
        for line in remote.lines:
            raw = line.raw
            options = {k: str(raw[k]) for k in _OPTION_KEYS if raw.get(k) not in (None, "")} if raw else None
            rows[line.remote_id] = (
                order_id,
                line.remote_id,
                line.sku or None,
                line.title or None,
                line.quantity,
                money(line.unit_price),
                line.raw_status,
                status_of[line.status],
                line.imei or None,
                line.serial_number or None,
                options_json(options) if options else no_options,
            )
        (inserted if old is None else upserted).extend(rows.values())
    w.insert_lines.execute(session, inserted)
    w.upsert_lines.execute(session, upserted)


_OPTION_KEYS = ("color", "colour", "size", "storage", "grade", "condition")


def _replace_terms(session: Session, w: _Writer, renamed: Sequence[tuple[int, set[str]]]) -> None:
    """Bring the search terms of existing orders to ``renamed``'s (their buyer's name or e-mail changed).

    The stored terms are read (not recomputed from the stored name: a term
    rule changed since would leave old terms behind), with their purchase time
    as the database holds it, so new terms are plain inserts.
    """
    from sqlalchemy.types import NullType

    from shelfdesk.db.models.orders import OrderSearchTerm

    terms = OrderSearchTerm.__table__
    stored: dict[int, set[str]] = defaultdict(set)
    purchased: dict[int, Any] = {}
    order_ids = [order_id for order_id, _ in renamed]
    for start in range(0, len(order_ids), CHUNK):
        rows = (
            session.connection()
            .execute(
                # NullType: the purchase time comes back as stored and goes back the same way, unconverted.
                select(terms.c.order_id, terms.c.term, type_coerce(terms.c.purchased_at, NullType())).where(
                    terms.c.order_id.in_(order_ids[start : start + CHUNK])
                )
            )
            .all()
        )
        for order_id, term, at in rows:
            stored[order_id].add(term)
            purchased[order_id] = at
    added, copied, dropped = [], [], []
    for order_id, new_terms in renamed:
        had = stored.get(order_id, set())
        at = purchased.get(order_id)
        for term in sorted(new_terms - had):
            if at is None:  # no term yet (cannot happen: the order id is one): copy the order's time
                copied.append((order_id, term))
            else:
                added.append((order_id, term, at))
        dropped += [(order_id, term) for term in sorted(had - new_terms)]
    w.drop_terms.execute(session, dropped)
    w.insert_terms.execute(session, added)
    w.add_terms.execute(session, copied)


def _existing(session: Session, account_id: int, remote_ids: Sequence[str]) -> dict[str, _Existing]:
    from shelfdesk.db.models import Order

    found: dict[str, _Existing] = {}
    for start in range(0, len(remote_ids), CHUNK):
        chunk = remote_ids[start : start + CHUNK]
        rows = (
            session.connection()
            .execute(
                select(
                    Order.marketplace_order_id,
                    Order.id,
                    Order.status,
                    Order.marketplace_status,
                    Order.total,
                    Order.shipping_price,
                    Order.shipping_address,
                    Order.modified_at,
                    Order.channel_id,
                    Order.store_id,
                    Order.address_missing,
                    Order.buyer_name,
                    Order.buyer_email,
                    Order.unread_fields,
                ).where(Order.account_id == account_id, Order.marketplace_order_id.in_(chunk))  # type: ignore[attr-defined]
            )
            .all()
        )
        for r in rows:
            found[r[0]] = _Existing(*r[1:])
    return found


def _ids(session: Session, account_id: int, remote_ids: Sequence[str]) -> dict[str, int]:
    from shelfdesk.db.models import Order

    ids: dict[str, int] = {}
    for start in range(0, len(remote_ids), CHUNK):
        chunk = remote_ids[start : start + CHUNK]
        rows = (
            session.connection()
            .execute(
                select(Order.marketplace_order_id, Order.id).where(
                    Order.account_id == account_id,
                    Order.marketplace_order_id.in_(chunk),  # type: ignore[attr-defined]
                )
            )
            .all()
        )
        ids.update({r[0]: r[1] for r in rows})
    return ids


# ---------------------------------------------------------------------- events


def _changes(
    old: _Existing | None, remote: RemoteOrder, at: Any, source: EventSource, source_value: Any, actor: str | None
) -> list[tuple[Any, ...]]:
    """Events (EVENT_COLUMNS rows without the order id) for what changed between the stored order and the marketplace's copy."""
    unread = ", ".join(remote.problems) or None
    if unread and unread != (old.unread_fields if old is not None else None):
        # Said once, when it starts (or the fields change): the order is kept, its payload as sent.
        first = [
            (
                at,
                source_value,
                "unreadable",
                remote.problems[0],
                None,
                unread,
                actor,
                f"the marketplace sent {unread} in a shape shelfdesk cannot read; kept as sent in the payload",
            )
        ]
    else:
        first = []
    return first + _field_changes(old, remote, at, source, source_value, actor)


def _field_changes(
    old: _Existing | None, remote: RemoteOrder, at: Any, source: EventSource, source_value: Any, actor: str | None
) -> list[tuple[Any, ...]]:
    if old is None:
        # A first sight is not a change (the order's harvested_at says when it arrived); one row
        # less per new order keeps the harvest fast. Orders created by an action still get one.
        if source is EventSource.harvest:
            return []
        return [(at, source_value, "created", "status", None, remote.status.value, actor, f"marketplace status {remote.raw_status}")]
    changes = []
    if old.status != remote.status:
        changes.append(
            (
                at,
                source_value,
                "status_changed",
                "status",
                str(old.status),
                remote.status.value,
                actor,
                f"marketplace status {old.marketplace_status} → {remote.raw_status}",
            )
        )
    elif (old.marketplace_status or None) != (remote.raw_status or None):
        changes.append((at, source_value, "status_changed", "marketplace_status", old.marketplace_status, remote.raw_status, actor, None))
    if old.total != remote.total:
        changes.append((at, source_value, "amount_changed", "total", amount_text(old.total), amount_text(remote.total), actor, None))
    if old.shipping_price != remote.shipping_price:
        changes.append(
            (
                at,
                source_value,
                "amount_changed",
                "shipping_price",
                amount_text(old.shipping_price),
                amount_text(remote.shipping_price),
                actor,
                None,
            )
        )
    new_address = remote.shipping_address or None
    if new_address and new_address != (old.shipping_address or None):
        message = "address revealed" if not old.shipping_address else "address changed"
        changes.append(
            (
                at,
                source_value,
                "address_changed",
                "shipping_address",
                format_address(old.shipping_address),
                format_address(new_address),
                actor,
                message,
            )
        )
    return changes


def format_address(address: Mapping[str, Any] | None) -> str | None:
    """One line for an address: name, street, postal code and city, country."""
    if not address:
        return None
    name = " ".join(str(address[k]) for k in ("first_name", "last_name") if address.get(k)) or str(address.get("name") or "")
    street = " ".join(str(address[k]) for k in ("street", "street2") if address.get(k))
    city = " ".join(str(address[k]) for k in ("postal_code", "zip", "city") if address.get(k))
    return ", ".join(p for p in (name, address.get("company") or "", street, city, str(address.get("country") or "")) if p)


# ---------------------------------------------------------------------- confirmation


def action_visible(kind: ActionKind | str, payload: Mapping[str, Any], remote: RemoteOrder) -> bool:
    """True when the marketplace's state shows ``kind`` applied (the outbox's definition of done)."""
    kind = ActionKind(kind)
    skus = list(payload.get("skus") or [])
    lines = [remote.line_by_sku(s) for s in skus] if skus else list(remote.lines)
    if kind is ActionKind.accept:
        return bool(lines) and all(l is not None and l.status in (S.InProgress, S.Shipped, S.Closed) for l in lines)
    if kind is ActionKind.cancel:
        if skus:
            return all(l is not None and l.status is S.Canceled for l in lines)
        return remote.status is S.Canceled
    if kind is ActionKind.confirm_availability:
        return remote.status in (S.InProgress, S.Shipped, S.Closed)
    if kind in (ActionKind.ship, ActionKind.confirm_shipping):
        if remote.status not in (S.Shipped, S.Closed):
            return False
        ours = (payload.get("fields") or {}).get("tracking_number")
        # A marketplace that reports a tracking number must report ours; one that never does (Leboncoin) cannot.
        return not (ours and remote.tracking_number and remote.tracking_number != ours)
    return False


def confirm_visible_actions(session: Session, remotes: Mapping[int, RemoteOrder], now: datetime) -> int:
    """Mark ``synchronizing`` actions confirmed where the marketplace's state now shows them."""
    from shelfdesk.db.models import OrderAction

    if not remotes:
        return 0
    confirmed = 0
    order_ids = list(remotes)
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        rows = (
            session.connection()
            .execute(
                select(OrderAction.id, OrderAction.order_id, OrderAction.kind, OrderAction.payload, OrderAction.actor).where(
                    OrderAction.order_id.in_(chunk),
                    OrderAction.state == ActionState.synchronizing,  # type: ignore[attr-defined]
                )
            )
            .all()
        )
        for action_id, order_id, kind, payload, actor in rows:
            if action_visible(kind, payload or {}, remotes[order_id]):
                confirmed += mark_confirmed(session, action_id, order_id, ActionKind(kind), payload or {}, now, actor)
    return confirmed


def mark_confirmed(
    session: Session, action_id: int, order_id: int, kind: ActionKind, payload: Mapping[str, Any], now: datetime, actor: str | None
) -> int:
    """Confirm one action (only if still open), keep its local fields on the order, add the event."""
    from shelfdesk.db.models import Order, OrderAction, OrderEvent

    result = session.execute(
        update(OrderAction)
        .where(OrderAction.id == action_id, OrderAction.state.in_([s.value for s in ActionState if s.is_open]))  # type: ignore[attr-defined]
        .values(state=ActionState.confirmed, confirmed_at=now, updated_at=now, claimed_by=None, claimed_at=None, next_attempt_at=None)
    )
    if not result.rowcount:
        return 0
    local = {k: v for k, v in (payload.get("local") or {}).items() if k in ("carrier", "tracking_number", "tracking_url")}
    if local:
        session.execute(update(Order).where(Order.id == order_id).values(**local, updated_at=now))
    session.add(
        OrderEvent(
            order_id=order_id,
            at=now,
            source=_source_for(actor),
            kind="action_confirmed",
            field=kind.value,
            actor=actor,
            message=f"{kind.value} confirmed by the marketplace's state",
        )
    )
    return 1


def _source_for(actor: str | None) -> EventSource:
    return EventSource.rule if actor and actor.startswith("rule:") else EventSource.operator


# ---------------------------------------------------------------------- small converters


def _first(raw: Mapping[str, Any], *paths: str | tuple[str, ...]) -> Any:
    for path in paths:
        value: Any = raw
        for key in (path,) if isinstance(path, str) else path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value not in (None, "", {}):
            return value
    return None
