"""After-sales (Care): cases, messages, attachments, refunds, returned units, saved replies, harvest cursors and budgets.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08

``care_cases`` holds one row per marketplace Care folder (unique per account
and folder id) with its claims and raw payload; ``care_messages`` and
``care_attachments`` its thread. ``care_refunds`` records every refund (asked
in shelfdesk or seen in a harvest) once, by ``refund_key``, with its credit
note. ``returned_units`` is the "returned, to inspect" stock the publishable
quantity holds back. ``care_cursors`` and ``care_budget`` keep each account's
harvest watermarks, poll interval and calls per day and endpoint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int | None = None, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str, target_column: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{target_column}"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "care_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        _str("marketplace", 32, nullable=False),
        _str("case_ref", 64, nullable=False),
        _str("state", 16, nullable=False),
        _str("raw_state"),
        _str("order_ref"),
        _str("line_ref"),
        _str("sku"),
        _str("buyer_name"),
        _str("buyer_email"),
        _str("country_code", 16),
        sa.Column("problem", sa.Text(), nullable=True),
        _str("resolution", 32),
        _str("return_label", 16),
        _ts("opened_at"),
        _ts("modified_at", nullable=True),
        _ts("last_message_at", nullable=True),
        _str("last_message_from", 16),
        _ts("closed_at", nullable=True),
        sa.Column("messages_count", sa.Integer(), nullable=False),
        _ts("due_at", nullable=True),
        _str("due_what", 16),
        _ts("detailed_at", nullable=True),
        _ts("harvested_at"),
        _ts("updated_at"),
        sa.Column("claims", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=False),
        _str("unread_fields"),
        sa.PrimaryKeyConstraint("id", name="pk_care_cases"),
        _fk("care_cases", "account_id", "marketplace_accounts", "RESTRICT"),
        _fk("care_cases", "channel_id", "channels", "SET NULL"),
        _fk("care_cases", "order_id", "orders", "SET NULL"),
        sa.UniqueConstraint("account_id", "case_ref", name="uq_care_cases_account_id_case_ref"),
    )
    op.create_index("ix_care_cases_state_due_at", "care_cases", ["state", "due_at"])
    op.create_index("ix_care_cases_order_id", "care_cases", ["order_id"])
    op.create_table(
        "care_messages",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        _str("message_ref", 64, nullable=False),
        _ts("sent_at", nullable=True),
        _str("sender", 16, nullable=False),
        _str("initiator"),
        _str("kind"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("informative", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_care_messages"),
        _fk("care_messages", "case_id", "care_cases", "CASCADE"),
        sa.UniqueConstraint("case_id", "message_ref", name="uq_care_messages_case_id_message_ref"),
    )
    op.create_index("ix_care_messages_case_id_sent_at", "care_messages", ["case_id", "sent_at"])
    op.create_table(
        "care_attachments",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        _str("attachment_ref"),
        _str("url", nullable=False),
        _str("name", nullable=False),
        _ts("created_at", nullable=True),
        _str("local_path"),
        _ts("downloaded_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_care_attachments"),
        _fk("care_attachments", "case_id", "care_cases", "CASCADE"),
        _fk("care_attachments", "message_id", "care_messages", "SET NULL"),
        sa.UniqueConstraint("case_id", "url", name="uq_care_attachments_case_id_url"),
    )
    op.create_table(
        "care_refunds",
        sa.Column("id", _BIG_ID, nullable=False),
        _str("refund_key", nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.BigInteger(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        _str("line_ref"),
        _str("sku"),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        _str("currency", 3, nullable=False),
        sa.Column("refund_type", sa.Integer(), nullable=True),
        _str("source", 16, nullable=False),
        _str("state", 16, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("confirmed_at", nullable=True),
        _str("created_by", 128, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_care_refunds"),
        _fk("care_refunds", "order_id", "orders", "RESTRICT"),
        _fk("care_refunds", "order_line_id", "order_lines", "SET NULL"),
        _fk("care_refunds", "case_id", "care_cases", "SET NULL"),
        _fk("care_refunds", "credit_note_id", "invoices", "RESTRICT"),
        sa.UniqueConstraint("refund_key", name="uq_care_refunds_refund_key"),
    )
    op.create_index("ix_care_refunds_order_id", "care_refunds", ["order_id", "id"])
    op.create_table(
        "returned_units",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("unit_key", nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        _str("sku", nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _str("state", 16, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.BigInteger(), nullable=True),
        _str("case_ref"),
        sa.Column("reason", sa.Text(), nullable=True),
        _ts("returned_at"),
        _ts("released_at", nullable=True),
        _str("released_by"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_returned_units"),
        _fk("returned_units", "store_id", "stores", "CASCADE"),
        _fk("returned_units", "order_id", "orders", "SET NULL"),
        _fk("returned_units", "refund_id", "care_refunds", "SET NULL"),
        sa.UniqueConstraint("unit_key", name="uq_returned_units_unit_key"),
    )
    op.create_index("ix_returned_units_store_id_state_sku", "returned_units", ["store_id", "state", "sku"])
    op.create_table(
        "care_saved_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("name", 64, nullable=False),
        _str("language", 8, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_care_saved_replies"),
        sa.UniqueConstraint("name", "language", name="uq_care_saved_replies_name_language"),
    )
    op.create_table(
        "care_cursors",
        sa.Column("account_id", sa.Integer(), nullable=False),
        _ts("modified_watermark", nullable=True),
        _ts("message_watermark", nullable=True),
        _ts("last_poll_at", nullable=True),
        _ts("next_poll_at", nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("account_id", name="pk_care_cursors"),
        _fk("care_cursors", "account_id", "marketplace_accounts", "CASCADE"),
    )
    op.create_table(
        "care_budget",
        sa.Column("account_id", sa.Integer(), nullable=False),
        _str("day", 10, nullable=False),
        _str("endpoint", 16, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "day", "endpoint", name="pk_care_budget"),
        _fk("care_budget", "account_id", "marketplace_accounts", "CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("care_budget")
    op.drop_table("care_cursors")
    op.drop_table("care_saved_replies")
    op.drop_index("ix_returned_units_store_id_state_sku", table_name="returned_units")
    op.drop_table("returned_units")
    op.drop_index("ix_care_refunds_order_id", table_name="care_refunds")
    op.drop_table("care_refunds")
    op.drop_table("care_attachments")
    op.drop_index("ix_care_messages_case_id_sent_at", table_name="care_messages")
    op.drop_table("care_messages")
    op.drop_index("ix_care_cases_order_id", table_name="care_cases")
    op.drop_index("ix_care_cases_state_due_at", table_name="care_cases")
    op.drop_table("care_cases")
