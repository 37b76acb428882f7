"""Orders: the actions the marketplace allows in the order's current state, and the address alert index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-02

``orders.allowed_actions`` keeps what the connector read from the raw states
(Back Market's "New" covers states where accepting is not possible yet), so
validation and the console's greyed keys follow the marketplace, not a guess.
``ix_orders_address_missing_status`` keeps the "accepted without an address"
alert an index lookup on a large workspace.

Plain ``ADD COLUMN`` (no table rebuild): a nullable column is added in place
on SQLite and PostgreSQL alike, so a workspace with a million orders migrates
in well under a second.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("allowed_actions", sa.String(), nullable=True))
    op.create_index("ix_orders_address_missing_status", "orders", ["address_missing", "status"])


def downgrade() -> None:
    op.drop_index("ix_orders_address_missing_status", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("allowed_actions")
