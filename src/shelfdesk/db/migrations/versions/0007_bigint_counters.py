"""BIGINT for ids and positions that outgrow int4 on PostgreSQL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

- ``channel_listings.id``: every publication run upserts every listing it
  touched, and PostgreSQL's ``INSERT … ON CONFLICT`` draws a sequence value per
  row even when the row exists (about 1,000 a run for 2,000 listings): with
  20k listings and an offers run every 5 minutes an int4 id runs out in about
  a year. Its sequence becomes BIGINT too (a SERIAL's sequence is ``AS
  integer``, capped at 2^31 - 1, whatever the column's type).
- ``webhook_deliveries.event_id`` and ``webhook_attempts.delivery_id`` point
  at BIGINT ids.
- ``webhook_cursors.position`` holds ``order_events.id`` (BIGINT) and Unix
  seconds (past 2038-01-19).

SQLite's INTEGER is always 64-bit and the models' BIGINT renders there as
plain INTEGER (so ``id`` stays the rowid alias): nothing to do, and no table
is rebuilt. On PostgreSQL each ``ALTER COLUMN … TYPE BIGINT`` rewrites its
table under an exclusive lock; these tables are small next to the orders.
The downgrade fails (and changes nothing) once a value no longer fits int4.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

#: (table, column, nullable) widened to BIGINT on PostgreSQL.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("channel_listings", "id", False),
    ("webhook_deliveries", "event_id", False),
    ("webhook_attempts", "delivery_id", True),
    ("webhook_cursors", "position", False),
)

#: Sequences of the widened serial ids (PostgreSQL's default name for a SERIAL's sequence).
SEQUENCES: tuple[str, ...] = ("channel_listings_id_seq",)


def _is_sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    if _is_sqlite():
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=nullable)
    for sequence in SEQUENCES:
        op.execute(f"ALTER SEQUENCE {sequence} AS BIGINT")


def downgrade() -> None:
    if _is_sqlite():
        return
    for sequence in SEQUENCES:
        op.execute(f"ALTER SEQUENCE {sequence} AS INTEGER")
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=nullable)
