"""Search terms of an order: what the Orders filter box matches, word by word, from the start of a word.

An operator types the beginning of what they see: an order id ("4012"), a
buyer's first or last name ("mart" finds "Camille Martin"), an e-mail address
("camille.mar"). Each order gets a small set of lowercased, accent-free terms
(``order_search_terms``, one row per term, kept by
:func:`shelfdesk.orders.store.store_remote_orders` in the order's own
transaction):

* its marketplace order id, whole;
* each word of the buyer's name, and the parts of a composed word
  ("jean-pierre" gives "jean-pierre", "jean" and "pierre");
* the buyer's e-mail address, whole, and the words of its local part
  ("camille.martin87@gmail.com" also gives "martin87"; the domain is not a word).

A typed text matches an order when every whitespace-separated word of it is
the start of one of the order's terms: "camille mart", "MARTIN", "zoe" (for
"Zoé") and "4012" (for order 40123456) all match, "artin" (inside a word) does
not. Comparing terms as plain code points keeps a prefix a range
``term >= :p AND term < :p_next`` on every database, which an index serves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_SPLIT = re.compile(r"[\W_]+")
_TOP = chr(0x10FFFF)
#: Longest term kept (a longer e-mail or id is cut: a prefix that long still finds it).
MAX_TERM = 120


def normalize(text: str) -> str:
    """Lowercase without accents: "Zoé" → "zoe", "STRASSE" and "Straße" → "strasse"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str) -> Iterator[str]:
    for chunk in normalize(text).split():
        yield chunk[:MAX_TERM]
        if not chunk.isalnum():
            yield from (w[:MAX_TERM] for w in _SPLIT.split(chunk) if w)


def order_terms(marketplace_order_id: str, buyer_name: str | None, buyer_email: str | None) -> set[str]:
    """The terms of one order (see the module docstring)."""
    terms = set()
    order_id = normalize(marketplace_order_id).strip()
    if order_id:
        terms.add(order_id[:MAX_TERM])
    if buyer_name:
        terms.update(_words(buyer_name))
    if buyer_email:
        for email in normalize(buyer_email).split():
            terms.add(email[:MAX_TERM])
            local = email.partition("@")[0]
            if not local.isalnum():
                terms.update(w[:MAX_TERM] for w in _SPLIT.split(local) if w)
    return terms


def query_words(text: str) -> tuple[str, ...]:
    """The words a typed text must all find, as term prefixes.

    A word that starts another word of the query is dropped: any term starting
    with "martin" also starts with "mar".
    """
    words = sorted({w[:MAX_TERM] for w in normalize(text).split()}, key=len, reverse=True)
    kept: list[str] = []
    for word in words:
        if not any(other.startswith(word) for other in kept):
            kept.append(word)
    return tuple(kept)


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """``(low, high)``: ``low <= term < high`` exactly when ``term`` starts with ``prefix`` (None: no upper bound)."""
    if not prefix:
        raise ValueError("an empty prefix has no bounds")
    stem = prefix.rstrip(_TOP)
    if not stem:
        return prefix, None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no text: the next code point is U+E000
        following = 0xE000
    return prefix, stem[:-1] + chr(following)


#: Orders read per batch when filling the terms of existing orders.
FILL_BATCH = 20_000


def fill_search_terms(conn: Connection, *, after_id: int = 0) -> int:
    """Write the terms of every order with an id above ``after_id``; returns the rows written.

    For orders written without :func:`~shelfdesk.orders.store.store_remote_orders`
    (benchmark data; migration 0006 has its own frozen copy). Plain SQL on the
    given connection, in its transaction; ``purchased_at`` is copied as the
    database returns it, so it is stored exactly like the order's. Rows go in
    order by (order id, term), the primary key's order, so the table grows at
    its end.
    """
    from sqlalchemy import column, insert, table, text

    from shelfdesk.db.upsert import DriverStatement

    read = text(
        "SELECT id, marketplace_order_id, buyer_name, buyer_email, purchased_at FROM orders WHERE id > :after ORDER BY id LIMIT :batch"
    )
    # Straight to the driver's executemany: millions of rows, values as the database returned them.
    keys = ("order_id", "term", "purchased_at")
    write = DriverStatement.compile(insert(table("order_search_terms", *map(column, keys))), conn.dialect, keys, insert=True)
    written = 0
    while True:
        orders = conn.execute(read, {"after": after_id, "batch": FILL_BATCH}).all()
        if not orders:
            return written
        rows = [
            (order_id, term, purchased)
            for order_id, remote_id, name, email, purchased in orders
            for term in sorted(order_terms(remote_id, name, email))
        ]
        write.execute(conn, rows)
        written += len(rows)
        after_id = orders[-1][0]
