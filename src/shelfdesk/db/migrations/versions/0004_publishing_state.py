"""Publishing: per-channel listing state, repricer decisions, and crash-safe publication items.

Revision ID: 0004
Revises: 0003
Create Date: 2026-03-02

``channel_listings`` keeps, per channel and SKU, the latest reading of the
marketplace's listings and what shelfdesk last published there: the baseline
of update mode, and how SKUs the marketplace lists but the catalog lost are
found. ``reprice_changes`` logs every repricer decision with its reason.
``publication_items.batch_key`` is written before a batch is posted, so an
item whose batch answer was lost in a crash is found and reconciled instead
of being sent twice. ``publications.planned``/``summary`` carry the "n of N"
and what counters do not say (skip reasons, quota).

Plain ``ADD COLUMN`` of nullable columns: no table rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("publications", sa.Column("planned", sa.Integer(), nullable=True))
    op.add_column("publications", sa.Column("summary", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("publication_items", sa.Column("batch_key", sa.String(), nullable=True))
    op.add_column("publication_items", sa.Column("content_hash", sa.String(), nullable=True))
    op.create_index("ix_publications_started", "publications", ["started_at", "id"])

    op.create_table(
        "channel_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("sku_key", sa.String(), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=True),
        sa.Column("remote_price", sa.BigInteger(), nullable=True),
        sa.Column("remote_quantity", sa.Integer(), nullable=True),
        sa.Column("remote_state", sa.String(), nullable=True),
        sa.Column("remote_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_price", sa.BigInteger(), nullable=True),
        sa.Column("published_quantity", sa.Integer(), nullable=True),
        sa.Column("published_hash", sa.String(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("last_publication_id", sa.Integer(), nullable=True),
        sa.Column("repriced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_listings"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name="fk_channel_listings_channel_id_channels", ondelete="CASCADE"),
        sa.UniqueConstraint("channel_id", "sku_key", name="uq_channel_listings_channel_id_sku_key"),
    )

    op.create_table(
        "reprice_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("run_key", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("old_price", sa.BigInteger(), nullable=True),
        sa.Column("new_price", sa.BigInteger(), nullable=True),
        sa.Column("minimum_price", sa.BigInteger(), nullable=True),
        sa.Column("default_price", sa.BigInteger(), nullable=True),
        sa.Column("price_to_win", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reprice_changes"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name="fk_reprice_changes_channel_id_channels", ondelete="CASCADE"),
    )
    op.create_index("ix_reprice_changes_channel_at", "reprice_changes", ["channel_id", "at", "id"])
    op.create_index("ix_reprice_changes_channel_sku", "reprice_changes", ["channel_id", "sku", "at"])


def downgrade() -> None:
    op.drop_index("ix_reprice_changes_channel_sku", table_name="reprice_changes")
    op.drop_index("ix_reprice_changes_channel_at", table_name="reprice_changes")
    op.drop_table("reprice_changes")
    op.drop_table("channel_listings")
    with op.batch_alter_table("publication_items") as batch:
        batch.drop_column("content_hash")
        batch.drop_column("batch_key")
    op.drop_index("ix_publications_started", table_name="publications")
    with op.batch_alter_table("publications") as batch:
        batch.drop_column("summary")
        batch.drop_column("planned")
