"""The stock loop: dirty SKUs waiting for the stock pusher, and the feeds a store is polled from.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-07

``stock_dirty`` holds one row per channel and SKU whose publishable quantity
changed and has not been pushed yet: written in the transaction of the change
(an order stored, a catalog or stock row changed, a stock set by hand), so a
worker killed mid-push loses nothing. ``store_feeds`` keeps, per store, the
scheduled refresh of its catalog source and its optional stock feed with what
the source answered last (ETag, Last-Modified, a hash of the body), so an
unchanged feed costs one request and no import.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "stock_dirty",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("sku_key", sa.String(), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("first_marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stock_dirty"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name="fk_stock_dirty_channel_id_channels", ondelete="CASCADE"),
        sa.UniqueConstraint("channel_id", "sku_key", name="uq_stock_dirty_channel_id_sku_key"),
    )
    op.create_index("ix_stock_dirty_first_marked_at", "stock_dirty", ["first_marked_at"])
    op.create_table(
        "store_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("content_hash", sa.String(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_store_feeds"),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name="fk_store_feeds_store_id_stores", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "kind", name="uq_store_feeds_store_id_kind"),
    )


def downgrade() -> None:
    op.drop_table("store_feeds")
    op.drop_index("ix_stock_dirty_first_marked_at", table_name="stock_dirty")
    op.drop_table("stock_dirty")
