"""Deadlines: the merchant's working time per store, and the escalation's watch list.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-08

``stores.settings`` (JSON, NULL = defaults) holds the store's cut-off hour and
working days, which its channels inherit. ``deadline_watch`` holds one row per
thing due (an order, an account's token …) with its deadline and the tightest
escalation threshold already announced, unique per subject: the conditional
UPDATE of ``alerted_seconds`` is what makes a threshold fire once across
restarts and processes. ``ix_deadline_watch_due_at`` makes the status bar's
counts one index range.

Plain ``ADD COLUMN`` and ``CREATE TABLE`` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("stores", sa.Column("settings", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "deadline_watch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alerted_seconds", sa.Integer(), nullable=True),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deadline_watch"),
        sa.UniqueConstraint("subject_type", "subject_id", name="uq_deadline_watch_subject_type_subject_id"),
    )
    op.create_index("ix_deadline_watch_due_at", "deadline_watch", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_deadline_watch_due_at", table_name="deadline_watch")
    op.drop_table("deadline_watch")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("settings")
