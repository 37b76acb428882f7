"""BIGINT for the ids of every table written by an upsert, and of the rows that grow with use.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07

PostgreSQL's ``INSERT … ON CONFLICT`` draws a sequence value for every row it
is given, even when the row exists and is updated or left alone, so an
upserted table's int4 id runs out long before it holds 2^31 rows:

- ``products``: every catalog import upserts the whole catalog (20k products
  imported hourly draw 175M values a year);
- ``job_leases``: every claim of every job upserts its lease row;
- ``job_schedules``: every scheduler start upserts each schedule;
- ``order_lines``: every harvest upserts the lines of the orders it saw;
- ``order_actions``: every accept, ship or cancel upserts on its idempotency key.

``catalog_import_rejections`` and ``reprice_changes`` grow with every import
and every repricing; ``publication_items.product_id`` points at
``products.id``. Each sequence becomes BIGINT too (a SERIAL's sequence is
``AS integer`` whatever its column's type).

As in 0007: SQLite's INTEGER is 64-bit already and nothing happens there; on
PostgreSQL each ``ALTER COLUMN … TYPE BIGINT`` rewrites its table under an
exclusive lock (``products`` is the largest: minutes for millions of rows, so
run ``shelfdesk migrate`` with the workers stopped). The downgrade fails (and
changes nothing) once a value no longer fits int4.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

#: (table, column, nullable) widened to BIGINT on PostgreSQL.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("products", "id", False),
    ("publication_items", "product_id", True),
    ("job_leases", "id", False),
    ("job_schedules", "id", False),
    ("order_lines", "id", False),
    ("order_actions", "id", False),
    ("catalog_import_rejections", "id", False),
    ("reprice_changes", "id", False),
)

#: Sequences of the widened serial ids (PostgreSQL's default name for a SERIAL's sequence).
SEQUENCES: tuple[str, ...] = tuple(f"{table}_id_seq" for table, column, _ in COLUMNS if column == "id")


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
