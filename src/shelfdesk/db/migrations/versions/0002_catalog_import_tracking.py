"""Catalog imports: which import last saw a product, and a table of rejected rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-02

``products.last_import_id`` lets an import find duplicate SKUs across its
batches and flag vanished products as gone without holding every SKU in
memory. ``catalog_import_rejections`` keeps every refused row (line, field,
reason, raw values) where the console can page through it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("last_import_id", sa.Integer(), nullable=True))

    op.create_table(
        "catalog_import_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(), nullable=True),
        sa.Column("field", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("raw", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_import_rejections"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["catalog_imports.id"],
            name="fk_catalog_import_rejections_import_id_catalog_imports",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_catalog_import_rejections_import_line", "catalog_import_rejections", ["import_id", "line", "id"])


def downgrade() -> None:
    op.drop_table("catalog_import_rejections")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("last_import_id")
