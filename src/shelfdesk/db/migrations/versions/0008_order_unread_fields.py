"""Orders: the fields of the marketplace's copy that could not be read, and their alert index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A marketplace answer in an unexpected shape (a ``country_code`` that names no
market, a line price that is not a number) never drops the order: it is kept
with what could be read and its raw payload, and ``orders.unread_fields``
names the fields that could not be read (comma-separated; NULL when all
were). ``ix_orders_unread_fields`` keeps the alert that lists them an index
lookup on a large workspace.

Plain ``ADD COLUMN`` (no table rebuild) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("unread_fields", sa.String(), nullable=True))
    op.create_index("ix_orders_unread_fields", "orders", ["unread_fields"])


def downgrade() -> None:
    op.drop_index("ix_orders_unread_fields", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("unread_fields")
