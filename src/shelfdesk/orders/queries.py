"""Reading lists of orders for the console and the CLI: filters, keyset pages, counts.

One order in full (lines, history, actions) is ``orders/detail.py``.

Every list is ``ORDER BY purchased_at DESC, id DESC`` and every filter
combination has a composite index ending in ``(purchased_at, id)``
(``db/models/orders.py``), so a page reads the index in order with no
temporary sort, whatever the table's size. Paging is keyset in the expanded
form ``purchased_at <= :ts AND (purchased_at < :ts OR id < :id)``: SQLite uses
it as an index bound, where the row-value form ``(purchased_at, id) < (:ts, :id)``
is not (SQLite 3.40 scanned with it: slower than OFFSET).
Results are plain dataclasses; no session leaves this module.

The text filter matches word prefixes (``orders/terms.py``): every word typed
must start one of the order's terms (its marketplace id, a word of the
buyer's name, the buyer's e-mail or a word of its local part), so "mart"
finds "Camille Martin" and "4012" finds order 40123456, which is what an
operator types. It reads ``order_search_terms``, never the orders' text:

* the typed word with the fewest term rows leads (counted up to
  :data:`COUNT_CAP`); it expands to the distinct terms it starts (a skip-scan
  of the term index, one query);
* up to :data:`MAX_MERGED_TERMS` terms, the page is a ``UNION ALL`` of one
  branch per term, each reading ``(term, purchased_at, order_id)`` newest
  first from the cursor, which the database merges in order (SQLite's
  "MERGE (UNION ALL)"); an order found by two terms is kept in the branch of
  its smallest one only. The other words are index probes of the order's
  terms;
* a word that starts more terms than that but has fewer than
  :data:`RANGE_CAP` term rows (an order-id prefix of any length, say
  "B00009" starting 10,000 ids) reads its term range newest first, a bounded
  sort of at most that many index entries per batch of candidates, and
  looks the candidates up by id;
* a word with more rows (one or two letters, a common name) pages the
  orders' own list index newest first and probes each order's terms, which
  finds a page quickly because such words match many orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, or_, select, text, union_all
from sqlalchemy.sql import Select

from shelfdesk.db.tables import table
from shelfdesk.domain import ActionState, NormalizedStatus
from shelfdesk.orders.terms import prefix_bounds, query_words

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfdesk.context import AppContext

PAGE_SIZE = 100
#: The console's DataTable never holds more than this many rows: it measures every cell on the
#: first paint, which froze the UI about 1.2 s at 10,000 rows; a 500-row page swap takes about 0.1 s.
MAX_WINDOW = 500
#: A typed word starting at most this many distinct terms is paged by merging their index ranges.
MAX_MERGED_TERMS = 64
#: Term rows counted at most per typed word, to choose the one that leads.
COUNT_CAP = 5000
#: A leading word with fewer term rows than this pages by sorting its rows (see ``_few_rows``): reading
#: them costs less than probing the orders one by one, which finds one match in total / rows orders.
RANGE_CAP = 20_000


@dataclass(frozen=True)
class OrderFilter:
    """What the operator filters on; also how "all matching" is kept (as the filter, never a list of ids)."""

    purchased_after: datetime | None = None  #: inclusive
    purchased_before: datetime | None = None  #: exclusive
    store_id: int | None = None
    channel_id: int | None = None
    status: NormalizedStatus | None = None
    text: str = ""  #: words, each the start of a word of the order id, buyer name or e-mail (accents and case ignored)
    invoiced: bool | None = None  #: True: has an invoice not cancelled by a credit note; False: has none
    refunded: bool | None = None  #: True: some of it was refunded (see shelfdesk.care.refunded); False: none

    def with_(self, **changes: Any) -> OrderFilter:
        return replace(self, **changes)

    @property
    def is_empty(self) -> bool:
        return self == OrderFilter()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("purchased_after", "purchased_before"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        if self.status is not None:
            data["status"] = self.status.value
        return {k: v for k, v in data.items() if v not in (None, "")}

    def describe(self, names: Lookups | None = None) -> str:
        """The filter in words, for titles and confirmations ("status New, store Refurb Paris")."""
        parts = []
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.store_id is not None:
            parts.append(f"store {names.stores.get(self.store_id, self.store_id) if names else self.store_id}")
        if self.channel_id is not None:
            parts.append(f"channel {names.channels.get(self.channel_id, self.channel_id) if names else self.channel_id}")
        if self.purchased_after is not None:
            parts.append(f"from {self.purchased_after:%Y-%m-%d}")
        if self.purchased_before is not None:
            parts.append(f"before {self.purchased_before:%Y-%m-%d}")
        if self.text:
            parts.append(f"matching {self.text!r}")
        if self.invoiced is not None:
            parts.append("invoiced" if self.invoiced else "not invoiced")
        if self.refunded is not None:
            parts.append("refunded" if self.refunded else "not refunded")
        return ", ".join(parts) or "all orders"


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order list."""

    purchased_at: datetime
    id: int


@dataclass(frozen=True)
class OrderRow:
    """One line of the orders table."""

    id: int
    marketplace: str
    marketplace_order_id: str
    channel: str
    status: NormalizedStatus
    marketplace_status: str | None
    purchased_at: datetime
    buyer_name: str | None
    total: Decimal | None
    currency: str | None
    lines: int
    sync: str = ""  #: "", "synchronizing" (an action in flight) or "failed"
    address_missing: bool = False
    deadline: datetime | None = None
    invoiced: bool = False  #: has an invoice not cancelled by a credit note
    refunded: Decimal | None = None  #: amount refunded so far (None: nothing); the status stays one of the seven
    channel_code: str = ""  #: short channel name for the table ("BM FR")

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.purchased_at, self.id)


@dataclass(frozen=True)
class OrderPage:
    rows: list[OrderRow]
    has_next: bool
    has_prev: bool

    @property
    def first(self) -> Cursor | None:
        return self.rows[0].cursor if self.rows else None

    @property
    def last(self) -> Cursor | None:
        return self.rows[-1].cursor if self.rows else None


@dataclass(frozen=True)
class Lookups:
    """Names of stores and channels, for filters and table cells."""

    stores: dict[int, str] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    channel_store: dict[int, int] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    """Short channel names for narrow columns: marketplace and country ("BM FR", "LBC FR")."""


def lookups(ctx: AppContext) -> Lookups:
    from shelfdesk.channel_refs import codes

    store, channel = table("stores").c, table("channels").c
    with ctx.read_connection() as conn:
        stores = {i: n for i, n in conn.execute(select(store.id, store.name).order_by(store.name))}
        channels: dict[int, str] = {}
        channel_store: dict[int, int] = {}
        rows: list[tuple[int, str, str]] = []
        query = select(channel.id, channel.name, channel.store_id, channel.marketplace, channel.country).order_by(channel.name)
        for i, n, s, marketplace, country in conn.execute(query):
            channels[i], channel_store[i] = n, s
            rows.append((i, marketplace, country))
    return Lookups(stores, channels, channel_store, codes(rows))  # two BM FR accounts: BM FR3


def resolve_filter_names(ctx: AppContext, *, store: str | None = None, channel: str | None = None) -> tuple[int | None, int | None]:
    """Store and channel ids from names (or ids) typed by an operator; a clear error when unknown.

    The channel takes every form of ``channel_refs`` (id, name, slug, market), among the store's channels
    when a store is given too.
    """
    from shelfdesk.channel_refs import resolve_channel
    from shelfdesk.orders.errors import OrderError

    store_id = None
    if store:
        names = lookups(ctx)
        store_id = next((key for key, name in names.stores.items() if name.casefold() == store.casefold() or str(key) == store), None)
        if store_id is None:
            raise OrderError(f"no store {store!r} (known: {', '.join(sorted(names.stores.values())) or 'none yet'})")
    channel_id = resolve_channel(ctx, channel, store=store_id).id if channel else None
    return store_id, channel_id


def parse_time(text: str | None, what: str) -> datetime | None:
    """A filter's date or ISO time as typed (naive is UTC); an :class:`OrderError` naming ``what`` when unreadable."""

    from shelfdesk.orders.errors import OrderError

    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise OrderError(f"{what}: {text!r} is not a date (YYYY-MM-DD or an ISO time)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_filter(
    ctx: AppContext,
    *,
    status: str | None = None,
    store: str | None = None,
    channel: str | None = None,
    after: str | None = None,
    before: str | None = None,
    search: str = "",
    invoiced: bool | None = None,
    option: str = "--",
    refunded: bool | None = None,
) -> OrderFilter:
    """The Orders screen's filter from typed options (the CLI's and the HTTP API's); ``option`` prefixes names in errors."""
    from shelfdesk.orders.errors import OrderError

    try:
        state = NormalizedStatus(status) if status else None
    except ValueError:
        raise OrderError(f"{option}status: {status!r} is not one of {', '.join(s.value for s in NormalizedStatus)}") from None
    store_id, channel_id = resolve_filter_names(ctx, store=store, channel=channel)
    return OrderFilter(
        purchased_after=parse_time(after, f"{option}after"),
        purchased_before=parse_time(before, f"{option}before"),
        store_id=store_id,
        channel_id=channel_id,
        status=state,
        text=search or "",
        invoiced=invoiced,
        refunded=refunded,
    )


def format_cursor(cursor: Cursor) -> str:
    """A page position as text (``2026-03-02T09:30:00Z/123``: no character a URL query must escape)."""
    return f"{cursor.purchased_at.isoformat().replace('+00:00', 'Z')}/{cursor.id}"


def parse_cursor(text: str, what: str = "--cursor") -> Cursor:
    """The text :func:`format_cursor` wrote; an :class:`OrderError` naming ``what`` otherwise."""
    from shelfdesk.orders.errors import OrderError

    stamp, _, ident = text.rpartition("/")
    try:
        when = parse_time(stamp, what) if stamp else None
    except OrderError:
        when = None
    if when is None or not ident.isdigit() or len(ident) > 18:
        raise OrderError(f"{what} {text!r} is not a cursor given by a previous page")
    return Cursor(when, int(ident))


# ---------------------------------------------------------------------- SQL


@dataclass(frozen=True)
class TextSearch:
    """How a page finds the orders matching a text: what :func:`plan_text_search` chose.

    ``words`` must all match; the first leads. ``rows`` are the leading word's
    term rows, counted up to :data:`RANGE_CAP`. ``terms`` are the distinct terms
    it starts (empty: nothing matches), or None when there are more than
    :data:`MAX_MERGED_TERMS`.
    """

    words: tuple[str, ...]
    terms: tuple[str, ...] | None = None
    rows: int = RANGE_CAP

    @property
    def mode(self) -> str:
        """ "merge" (a branch per term), "few" (its rows sorted by the database) or "scan" (the orders' list index)."""
        if self.terms is not None:
            return "merge"
        return "few" if self.rows < RANGE_CAP else "scan"


def plan_text_search(session: Session, text_: str) -> TextSearch | None:
    """Choose how to page ``text_``: the word with the fewest term rows leads, expanded to its terms."""
    words = query_words(text_)
    if not words:
        return None
    counted = []
    for word in words:
        low, high = prefix_bounds(word)
        rows = session.execute(_COUNT[high is None], {"low": low, "high": high, "cap": COUNT_CAP}).scalar_one()
        if not rows:
            return TextSearch((word, *(w for w in words if w != word)), (), 0)
        counted.append((rows, -len(word), word))
    rows, _, lead = min(counted)
    low, high = prefix_bounds(lead)
    if rows >= COUNT_CAP:  # only the leader is counted further, to choose between sorting its rows and a scan
        rows = session.execute(_COUNT[high is None], {"low": low, "high": high, "cap": RANGE_CAP}).scalar_one()
    terms = session.execute(_EXPAND[high is None], {"low": low, "high": high, "n": MAX_MERGED_TERMS + 1}).scalars().all()
    merged = tuple(terms) if len(terms) <= MAX_MERGED_TERMS else None
    return TextSearch((lead, *(w for w in words if w != lead)), merged, rows)


def _bounded(sql: str) -> tuple[Any, Any]:
    """``sql`` with and without its ``< :high`` bound (a prefix of U+10FFFF characters has none)."""
    return text(sql.replace("{high}", "AND term < :high")), text(sql.replace("{high}", ""))


#: Term rows of a prefix, counted up to :cap (an index range read, stopped early).
_COUNT = dict(enumerate(_bounded("SELECT count(*) FROM (SELECT 1 FROM order_search_terms WHERE term >= :low {high} LIMIT :cap) AS found")))
#: The distinct terms of a prefix, in order, up to :n: one index seek each (a "loose index scan",
#: in the recursive form both SQLite and PostgreSQL run), however many rows each term has.
_EXPAND = dict(
    enumerate(
        _bounded(
            "WITH RECURSIVE expanded(term) AS ("
            " SELECT min(term) FROM order_search_terms WHERE term >= :low {high}"
            " UNION ALL"
            " SELECT (SELECT min(term) FROM order_search_terms WHERE term > expanded.term {high})"
            " FROM expanded WHERE expanded.term IS NOT NULL"
            ") SELECT term FROM expanded WHERE term IS NOT NULL LIMIT :n"
        )
    )
)


def _terms(name: str) -> Any:
    """An alias of ``order_search_terms``."""
    return _alias(table("order_search_terms"), name)


@cache
def _alias(of: Any, name: str) -> Any:
    """Made once per table object (building one costs more than running a page); keyed by the table, since
    the models' tables replace the cached copy's once a process loads the models (``db/tables.py``)."""
    return of.alias(name)


def _word_condition(order_id: Any, word: str) -> Any:
    """The order ``order_id`` has a term starting with ``word`` (a probe of its primary key)."""
    found = _terms("word")
    low, high = prefix_bounds(word)
    bounds = [found.c.term >= low] + ([found.c.term < high] if high is not None else [])
    return exists().where(found.c.order_id == order_id, *bounds)


def filter_conditions(flt: OrderFilter, *, with_status: bool = True, search: TextSearch | None = None) -> list[Any]:
    """The filter as conditions on ``orders``, for reading every match (counts).

    The text's leading word (``search``'s, or the longest) is an ``IN`` of its
    term rows, so a rare word reads only its orders; every other word, and a
    leading word that matches too many orders for that to pay, is a probe of
    each order's terms.
    """
    orders = table("orders").c

    where: list[Any] = _plain_conditions(flt, with_status=with_status)
    words = search.words if search is not None else query_words(flt.text)
    if words and search is not None and search.mode == "scan":
        where += [_word_condition(orders.id, word) for word in words]
    elif words:
        found = _terms("found")
        low, high = prefix_bounds(words[0])
        bounds = [found.c.term >= low] + ([found.c.term < high] if high is not None else [])
        where.append(orders.id.in_(select(found.c.order_id).where(*bounds)))
        where += [_word_condition(orders.id, word) for word in words[1:]]
    return where


def _plain_conditions(flt: OrderFilter, *, with_status: bool = True, purchased_at: Any = None) -> list[Any]:
    """Every part of the filter but its text."""
    orders = table("orders").c

    purchased = orders.purchased_at if purchased_at is None else purchased_at
    where: list[Any] = []
    if flt.channel_id is not None:
        where.append(orders.channel_id == flt.channel_id)
    if flt.store_id is not None and flt.channel_id is None:
        where.append(orders.store_id == flt.store_id)
    if with_status and flt.status is not None:
        where.append(orders.status == flt.status)
    if flt.purchased_after is not None:
        where.append(purchased >= flt.purchased_after)
    if flt.purchased_before is not None:
        where.append(purchased < flt.purchased_before)
    if flt.invoiced is not None:
        from shelfdesk.invoices.invoiced import has_invoice_clause

        where.append(has_invoice_clause() if flt.invoiced else ~has_invoice_clause())
    if flt.refunded is not None:
        from shelfdesk.care.refunded import has_refund_clause

        where.append(has_refund_clause() if flt.refunded else ~has_refund_clause())
    return where


def _list_columns(order_id: Any, purchased_at: Any) -> list[Any]:
    orders = table("orders").c

    return [
        order_id.label("id"),
        orders.marketplace,
        orders.marketplace_order_id,
        orders.channel_id,
        orders.status,
        orders.marketplace_status,
        purchased_at.label("purchased_at"),
        orders.buyer_name,
        orders.total,
        orders.currency,
        orders.address_missing,
        orders.accept_by,
        orders.ship_by,
    ]


def _cursor_conditions(purchased_at: Any, order_id: Any, after: Cursor | None, before: Cursor | None) -> list[Any]:
    if after is not None:
        return [purchased_at <= after.purchased_at, or_(purchased_at < after.purchased_at, order_id < after.id)]
    if before is not None:
        return [purchased_at >= before.purchased_at, or_(purchased_at > before.purchased_at, order_id > before.id)]
    return []


def list_query(
    flt: OrderFilter, *, after: Cursor | None = None, before: Cursor | None = None, limit: int = PAGE_SIZE, search: TextSearch | None = None
) -> Any:
    """The page query (exposed so a test can EXPLAIN every filter combination).

    A text filter is paged as ``search`` says (:func:`plan_text_search`); without
    one, by the orders' list index with a term probe per order.
    """
    orders = table("orders").c

    words = query_words(flt.text)
    if words and search is not None and search.terms is not None:
        return _merged_terms_query(flt, search, after, before, limit)
    query = select(*_list_columns(orders.id, orders.purchased_at)).where(*_plain_conditions(flt))
    query = query.where(*(_word_condition(orders.id, word) for word in words))
    query = query.where(*_cursor_conditions(orders.purchased_at, orders.id, after, before))
    if before is not None:
        return query.order_by(orders.purchased_at.asc(), orders.id.asc()).limit(limit + 1)
    return query.order_by(orders.purchased_at.desc(), orders.id.desc()).limit(limit + 1)


def _merged_terms_query(flt: OrderFilter, search: TextSearch, after: Cursor | None, before: Cursor | None, limit: int) -> Any:
    """One branch per term of the leading word, each newest first from its index; the database merges them."""
    orders = table("orders").c

    lead, *others = search.words
    low, _ = prefix_bounds(lead)
    terms = search.terms or (lead,)  # no term: one branch that finds nothing
    hit, earlier = _terms("hit"), _terms("earlier")
    columns = _list_columns(hit.c.order_id, hit.c.purchased_at)
    plain = _plain_conditions(flt, purchased_at=hit.c.purchased_at)
    probes = [_word_condition(hit.c.order_id, word) for word in others]
    cursor = _cursor_conditions(hit.c.purchased_at, hit.c.order_id, after, before)
    branches = []
    for term in terms:
        branch = (
            select(*columns)
            .select_from(hit.join(table("orders"), orders.id == hit.c.order_id))
            .where(hit.c.term == term, *plain, *probes, *cursor)
        )
        if len(terms) > 1:  # an order is listed by its smallest matching term only
            branch = branch.where(~exists().where(earlier.c.order_id == hit.c.order_id, earlier.c.term >= low, earlier.c.term < term))
        branches.append(branch)
    if len(branches) == 1:
        query: Any = branches[0]
        purchased, order_id = hit.c.purchased_at, hit.c.order_id
    else:
        query = union_all(*branches)
        purchased, order_id = query.selected_columns.purchased_at, query.selected_columns.id
    if before is not None:
        return query.order_by(purchased.asc(), order_id.asc()).limit(limit + 1)
    return query.order_by(purchased.desc(), order_id.desc()).limit(limit + 1)


def page_rows(
    session: Session,
    flt: OrderFilter,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
    search: TextSearch | None = None,
) -> list[Any]:
    """Up to ``limit + 1`` rows of :func:`list_query`'s shape, in page order, whichever way ``search`` pages."""
    if search is not None and search.mode == "few":
        return _few_rows(session, flt, search, after, before, limit)
    return list(session.execute(list_query(flt, after=after, before=before, limit=limit, search=search)).all())


def candidates_query(
    word: str, *, flt: OrderFilter | None = None, after: Cursor | None = None, before: Cursor | None = None, limit: int = PAGE_SIZE
) -> Select[Any]:
    """The next ``limit`` (purchase time, order id) of the term rows ``word`` starts whose order passes ``flt`` but its text.

    One range of the term index and a bounded sort of its at most
    :data:`RANGE_CAP` entries (``search.mode == "few"``). The channel, store,
    status, dates and invoice filters are checked in the same query on each
    candidate's order (a primary-key probe), which costs far less than reading
    the candidates back or reading the filter's own index for them.
    """
    hit = _terms("hit")
    low, high = prefix_bounds(word)
    bounds = [hit.c.term >= low] + ([hit.c.term < high] if high is not None else [])
    cursor = _cursor_conditions(hit.c.purchased_at, hit.c.order_id, after, before)
    query = select(hit.c.purchased_at, hit.c.order_id).where(*bounds, *cursor)
    plain = _plain_conditions(flt) if flt is not None else []
    if plain:  # correlated: a probe per candidate, where a join lets SQLite read the filter's index first instead
        orders = table("orders").c
        query = query.where(exists().where(orders.id == hit.c.order_id, *plain))
    if before is not None:
        return query.order_by(hit.c.purchased_at.asc(), hit.c.order_id.asc()).limit(limit)
    return query.order_by(hit.c.purchased_at.desc(), hit.c.order_id.desc()).limit(limit)


def rows_by_id_query(flt: OrderFilter, ids: list[int], words: tuple[str, ...] = ()) -> Select[Any]:
    """The list columns (and the store) of the orders ``ids`` that have every word: primary-key lookups.

    The parts of the filter an index could serve (channel, store, status,
    dates) are left to :func:`_passes`, so the database looks the ids up
    rather than reading a list index in their stead.
    """
    orders = table("orders").c

    query = select(*_list_columns(orders.id, orders.purchased_at), orders.store_id).where(orders.id.in_(ids))
    query = query.where(*(_word_condition(orders.id, word) for word in words))
    if flt.invoiced is not None:
        from shelfdesk.invoices.invoiced import has_invoice_clause

        query = query.where(has_invoice_clause() if flt.invoiced else ~has_invoice_clause())
    if flt.refunded is not None:
        from shelfdesk.care.refunded import has_refund_clause

        query = query.where(has_refund_clause() if flt.refunded else ~has_refund_clause())
    return query


def _passes(flt: OrderFilter, row: Any) -> bool:
    """The channel, store, status and dates of the filter, on a row of :func:`rows_by_id_query`."""
    return (
        (flt.channel_id is None or row.channel_id == flt.channel_id)
        and (flt.store_id is None or flt.channel_id is not None or row.store_id == flt.store_id)
        and (flt.status is None or row.status == flt.status)
        and (flt.purchased_after is None or row.purchased_at >= flt.purchased_after)
        and (flt.purchased_before is None or row.purchased_at < flt.purchased_before)
    )


def _few_rows(session: Session, flt: OrderFilter, search: TextSearch, after: Cursor | None, before: Cursor | None, limit: int) -> list[Any]:
    """A word with many terms but fewer than RANGE_CAP rows (an order-id prefix): its rows sorted by the database.

    Its orders may be anywhere in time, so the list index could be read far
    for one page (one match in total / rows orders); its term rows instead
    come in page order from one range of the term index
    (:func:`candidates_query`, a bounded sort), a batch at a time, and are
    looked up by id until the page is full. The channel, store, status and
    dates are checked in that query; the other words on the rows found, so
    each batch is larger than the last. Rows keep one extra column (the store).
    """
    lead, *others = search.words
    rows: list[Any] = []
    batch = 2 * (limit + 1)
    if others:  # some candidates will not have the other words: start with more of them
        batch = max(batch, min(search.rows, COUNT_CAP))
    while True:
        keys = session.execute(candidates_query(lead, flt=flt, after=after, before=before, limit=batch)).all()
        ids = list(dict.fromkeys(order_id for _, order_id in keys))  # an order with two terms of the prefix, once
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found = {r[0]: r for r in session.execute(rows_by_id_query(flt, chunk, tuple(others))) if _passes(flt, r)}
            rows += [found[order_id] for order_id in chunk if order_id in found]
        if len(rows) > limit or len(keys) < batch:
            return rows[: limit + 1]
        last = Cursor(keys[-1][0], keys[-1][1])
        after, before = (last, None) if before is None else (None, last)
        batch = min(4 * batch, RANGE_CAP)


def count_query(flt: OrderFilter, *, search: TextSearch | None = None) -> Select[Any]:
    orders = table("orders").c

    where = filter_conditions(flt, with_status=False, search=search)
    return select(orders.status, func.count()).where(*where).group_by(orders.status)


def list_orders(
    ctx: AppContext,
    flt: OrderFilter,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
    names: Lookups | None = None,
) -> OrderPage:
    """One page, newest first: the first page, the one after ``after``, or the one before ``before``."""
    order_actions, order_lines = table("order_actions").c, table("order_lines").c

    if after is not None and before is not None:
        raise ValueError("page after a cursor or before one, not both")
    limit = max(1, min(limit, MAX_WINDOW))
    names = names or lookups(ctx)
    with ctx.read_connection() as session:
        search = plan_text_search(session, flt.text) if flt.text.strip() else None
        rows = page_rows(session, flt, after=after, before=before, limit=limit, search=search)
        more = len(rows) > limit
        rows = rows[:limit]
        if before is not None:
            rows.reverse()
        ids = [r[0] for r in rows]
        sync: dict[int, str] = {}
        counts: dict[int, int] = {}
        invoiced: set[int] = set()
        refunded: dict[int, Decimal] = {}
        if ids:
            for order_id, state in session.execute(
                select(order_actions.order_id, order_actions.state).where(
                    order_actions.order_id.in_(ids),
                    order_actions.state.in_([*(s.value for s in ActionState if s.is_open), ActionState.failed.value]),
                )
            ):
                open_ = ActionState(state).is_open
                if open_ or order_id not in sync:
                    sync[order_id] = "synchronizing" if open_ else "failed"
            from shelfdesk.invoices.invoiced import invoiced_order_ids

            invoiced = invoiced_order_ids(session, ids)
            from shelfdesk.care.refunded import refunded_amounts

            refunded = refunded_amounts(session, ids)
            counts = dict(
                session.execute(
                    select(order_lines.order_id, func.sum(order_lines.quantity))
                    .where(order_lines.order_id.in_(ids))
                    .group_by(order_lines.order_id)
                ).all()
            )
    result = [
        OrderRow(
            id=r[0],
            marketplace=str(r[1]),
            marketplace_order_id=r[2],
            channel=names.channels.get(r[3], "—") if r[3] else "—",
            channel_code=names.codes.get(r[3], "—") if r[3] else "—",
            status=NormalizedStatus(r[4]),
            marketplace_status=r[5],
            purchased_at=r[6],
            buyer_name=r[7],
            total=r[8],
            currency=r[9],
            lines=int(counts.get(r[0], 0)),
            sync=sync.get(r[0], ""),
            address_missing=bool(r[10]),
            deadline=r[11] if NormalizedStatus(r[4]) is NormalizedStatus.New else r[12],
            invoiced=r[0] in invoiced,
            refunded=refunded.get(r[0]),
        )
        for r in rows
    ]
    if before is not None:
        return OrderPage(result, has_next=True, has_prev=more)
    return OrderPage(result, has_next=more, has_prev=after is not None)


def count_by_status(ctx: AppContext, flt: OrderFilter, *, at_most: int | None = None) -> dict[NormalizedStatus, int]:
    """Orders per status under every part of the filter except the status (counts at a glance).

    Exact counts read every matching order (a third of a second for a million,
    seconds for a broad word). With ``at_most``, each status is counted up to
    that many instead (a range of a status index, stopped early), so without a
    text the answer takes milliseconds whatever the table's size; a count
    equal to ``at_most`` means "at least" (:func:`describe_count` writes it
    ``1,000+``). A text matching many orders in few statuses still reads far.
    """
    with ctx.read_connection() as session:
        search = plan_text_search(session, flt.text) if flt.text.strip() else None
        if at_most is None:
            found = {NormalizedStatus(s): int(n) for s, n in session.execute(count_query(flt, search=search))}
        else:  # per status, the matching rows counted up to at_most: an index range stopped early
            where = filter_conditions(flt, with_status=False, search=search)
            status = table("orders").c.status
            found = {
                s: int(
                    session.execute(
                        select(func.count()).select_from(select(status).where(*where, status == s).limit(at_most).subquery())
                    ).scalar_one()
                )
                for s in NormalizedStatus
            }
    return {status: found.get(status, 0) for status in NormalizedStatus}


#: How far a quick count goes before it says "at least" (each status, each count).
QUICK_COUNT = 1_000


def describe_count(count: int, at_most: int | None = None) -> str:
    """``234``, or ``1,000+`` when a count stopped at its bound."""
    return f"{count:,}+" if at_most is not None and count >= at_most else f"{count:,}"


def count_orders(ctx: AppContext, flt: OrderFilter) -> int:
    counts = count_by_status(ctx, flt)
    return counts[flt.status] if flt.status is not None else sum(counts.values())


def iter_order_ids(ctx: AppContext, flt: OrderFilter, *, batch: int = 1000) -> Iterator[list[int]]:
    """Every id matching ``flt``, newest first, in keyset batches (bulk "all matching", export)."""
    cursor: Cursor | None = None
    search: TextSearch | None = None
    while True:
        with ctx.read_connection() as session:
            if cursor is None and flt.text.strip():
                search = plan_text_search(session, flt.text)
            rows = page_rows(session, flt, after=cursor, limit=batch, search=search)[:batch]
        if not rows:
            return
        yield [r[0] for r in rows]
        if len(rows) < batch:
            return
        cursor = Cursor(rows[-1][6], rows[-1][0])


def has_unsent_actions(ctx: AppContext) -> bool:
    """Whether the outbox holds an action to send or a claim to check (pending or sending).

    The console's periodic sweep asks this first: loading the sender (the
    models, the connectors) for an empty outbox would cost its start and every
    sweep a few hundred milliseconds. One probe of ``ix_order_actions_state_next``.
    """
    actions = table("order_actions").c
    waiting = select(actions.id).where(actions.state.in_([ActionState.pending, ActionState.sending])).limit(1)
    with ctx.read_connection() as conn:
        return conn.execute(waiting).first() is not None
