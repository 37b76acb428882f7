"""Orders and order actions: indexes for the deadline counts of ``shelfdesk status`` and the deadline alerts.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

``shelfdesk status`` counts the open orders whose rule deadline has passed
from the ``(channel_id, status, purchased_at)`` index and computes the rest one
by one: those the marketplace dated, found by ``ix_orders_status_accept_by`` and
``ix_orders_status_ship_by`` (which also serve the deadline alerts, ordered by
that date), and those accepted recently, found by
``ix_order_actions_sent_at`` and ``ix_order_actions_confirmed_at``. Without
them each of these reads every open order or action row.

Each is partial (``WHERE column IS NOT NULL``, on SQLite and PostgreSQL alike):
it holds only the dated orders and the actions sent, and a query that does not
name its column cannot pick it. A full ``(status, ship_by)`` index made SQLite
read every New order's row and sort them for a page of the Orders list, which
``(status, purchased_at, id)`` reads in order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

INDEXES = (
    ("ix_orders_status_accept_by", "orders", ["status", "accept_by"], "accept_by"),
    ("ix_orders_status_ship_by", "orders", ["status", "ship_by"], "ship_by"),
    ("ix_order_actions_sent_at", "order_actions", ["sent_at"], "sent_at"),
    ("ix_order_actions_confirmed_at", "order_actions", ["confirmed_at"], "confirmed_at"),
)


def upgrade() -> None:
    for name, table, columns, dated in INDEXES:
        where = sa.text(f"{dated} IS NOT NULL")
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
