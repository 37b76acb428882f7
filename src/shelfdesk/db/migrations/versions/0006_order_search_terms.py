"""Order search terms: the Orders text filter reads an index instead of scanning every order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-03-03

``order_search_terms`` holds one row per word an order is found by (its
marketplace id, the words of the buyer's name, the buyer's e-mail and the
words of its local part), with the order's
purchase time, so a word prefix is a range of the index
``(term, purchased_at, order_id)`` read newest first. No rowid on SQLite
(``sqlite_with_rowid``; PostgreSQL ignores it); the term compares in the "C"
collation on PostgreSQL, as plain code points like SQLite.

Existing orders are filled here, in primary-key order, before the index is
built: one sort at the end costs far less than keeping the index up to date
row by row. A million orders (4 million terms) take about 25 s on a 2-core
machine, most of it tokenizing and inserting.

A migration is frozen when written: the tokenizer below is a copy of
``orders/terms.py`` as it was then, so a later change there cannot change what
this revision does. Later term rules are applied by a later revision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "order_search_terms",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(120).with_variant(sa.String(120, collation="C"), "postgresql"), nullable=False),
        sa.Column("purchased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_search_terms_order_id_orders", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_id", "term", name="pk_order_search_terms"),
        sqlite_with_rowid=False,
    )
    if not op.get_context().as_sql:  # rendering the DDL alone (a test does, for PostgreSQL) reads no orders
        _fill_search_terms(op.get_bind())
    op.create_index("ix_order_search_terms_term_purchased", "order_search_terms", ["term", "purchased_at", "order_id"])


_SPLIT = re.compile(r"[\W_]+")
_MAX_TERM = 120
_FILL_BATCH = 20_000


def _normalize(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str) -> Iterator[str]:
    for chunk in _normalize(text).split():
        yield chunk[:_MAX_TERM]
        if not chunk.isalnum():
            yield from (w[:_MAX_TERM] for w in _SPLIT.split(chunk) if w)


def _order_terms(marketplace_order_id: str, buyer_name: str | None, buyer_email: str | None) -> set[str]:
    terms = set()
    order_id = _normalize(marketplace_order_id).strip()
    if order_id:
        terms.add(order_id[:_MAX_TERM])
    if buyer_name:
        terms.update(_words(buyer_name))
    if buyer_email:
        for email in _normalize(buyer_email).split():
            terms.add(email[:_MAX_TERM])
            local = email.partition("@")[0]
            if not local.isalnum():
                terms.update(w[:_MAX_TERM] for w in _SPLIT.split(local) if w)
    return terms


def _fill_search_terms(conn: sa.Connection) -> None:
    """The terms of every existing order, in primary-key order; ``purchased_at`` copied as the database returns it."""
    read = sa.text(
        "SELECT id, marketplace_order_id, buyer_name, buyer_email, purchased_at FROM orders WHERE id > :after ORDER BY id LIMIT :batch"
    )
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    write = f"INSERT INTO order_search_terms (order_id, term, purchased_at) VALUES ({mark}, {mark}, {mark})"
    after_id = 0
    while orders := conn.execute(read, {"after": after_id, "batch": _FILL_BATCH}).all():
        rows = [
            (order_id, term, purchased)
            for order_id, remote_id, name, email, purchased in orders
            for term in sorted(_order_terms(remote_id, name, email))
        ]
        conn.exec_driver_sql(write, rows)  # the driver's executemany: millions of rows, values as read
        after_id = orders[-1][0]


def downgrade() -> None:
    op.drop_index("ix_order_search_terms_term_purchased", table_name="order_search_terms")
    op.drop_table("order_search_terms")
