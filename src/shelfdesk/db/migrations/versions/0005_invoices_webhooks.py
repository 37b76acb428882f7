"""Invoices (settings, gapless sequences, immutable invoices and credit notes) and push notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-03-02

Types are spelled as their storage types, as in 0001: money and percentages
are BIGINT (cents, ten-thousandths), datetimes aware UTC. ``invoices`` gets
triggers that refuse UPDATE and DELETE (SQLite and PostgreSQL spell them
differently; the same statements are attached to the model for
``create_all``), so an issued invoice can never change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_IMMUTABLE = {
    "sqlite": (
        "CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices "
        "BEGIN SELECT RAISE(ABORT, 'invoices are immutable: issue a credit note instead'); END",
        "CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices "
        "BEGIN SELECT RAISE(ABORT, 'invoices are immutable: issue a credit note instead'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION shelfdesk_invoices_immutable() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'invoices are immutable: issue a credit note instead'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION shelfdesk_invoices_immutable()",
    ),
}


def _id(*, big: bool = False) -> sa.Column:
    type_ = sa.BigInteger().with_variant(sa.Integer(), "sqlite") if big else sa.Integer()
    return sa.Column("id", type_, nullable=False)


def _str(name: str, length: int | None = None, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _text(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _bool(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _bigint(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(none_as_null=True), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str, target_column: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{target_column}"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "invoice_settings",
        sa.Column("store_id", sa.Integer(), nullable=False),
        _str("language", 2),
        _bigint("product_vat_rate"),
        _bigint("shipping_vat_rate"),
        _str("prefix", 24),
        _int("number_digits"),
        _str("seller_name"),
        _text("seller_address", nullable=False),
        _str("seller_vat_number", nullable=True),
        _str("seller_registration", nullable=True),
        _text("header_html", nullable=False),
        _text("footer_html", nullable=False),
        _bool("upload"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("store_id", name="pk_invoice_settings"),
        _fk("invoice_settings", "store_id", "stores", "CASCADE"),
    )
    op.create_table(
        "invoice_sequences",
        _str("prefix", 24),
        _int("next_number"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("prefix", name="pk_invoice_sequences"),
    )
    op.create_table(
        "invoices",
        _id(),
        _str("number", 48),
        _str("prefix", 24),
        _int("sequence_number"),
        _str("kind", 16),
        _int("order_id"),
        _int("store_id", nullable=True),
        _int("credited_invoice_id", nullable=True),
        _ts("issued_at"),
        _str("language", 2),
        _str("currency", 3),
        _bigint("total_net"),
        _bigint("total_vat"),
        _bigint("total"),
        _json("vat_breakdown"),
        _json("document"),
        _text("html", nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        _str("pdf_sha256", 64),
        _text("reason"),
        _str("created_by", 128),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        _fk("invoices", "credited_invoice_id", "invoices", "RESTRICT"),
        _fk("invoices", "order_id", "orders", "RESTRICT"),
        _fk("invoices", "store_id", "stores", "RESTRICT"),
        sa.UniqueConstraint("credited_invoice_id", name="uq_invoices_credited_invoice_id"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.UniqueConstraint("prefix", "sequence_number", name="uq_invoices_prefix_sequence_number"),
    )
    op.create_index("ix_invoices_issued", "invoices", ["issued_at", "id"])
    op.create_index("ix_invoices_order", "invoices", ["order_id", "id"])
    op.create_index("ix_invoices_store_issued", "invoices", ["store_id", "issued_at", "id"])
    for statement in _IMMUTABLE.get(op.get_context().dialect.name, ()):
        op.execute(statement)

    op.create_table(
        "webhook_subscriptions",
        _id(),
        _str("name", 64),
        _str("url"),
        _str("events"),
        _str("secret_ref"),
        _str("state", 16),
        _text("paused_reason"),
        _bool("auto_paused"),
        _int("max_failures"),
        _int("failures_in_a_row"),
        _ts("since"),
        _ts("last_success_at", nullable=True),
        _ts("last_failure_at", nullable=True),
        _text("last_error"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
        sa.UniqueConstraint("name", name="uq_webhook_subscriptions_name"),
    )
    op.create_table(
        "webhook_events",
        _id(big=True),
        _str("event_uid", 64),
        _str("type", 48),
        _str("ordering_key", 64),
        _str("source_key", 64, nullable=True),
        _ts("occurred_at"),
        _json("payload"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("event_uid", name="uq_webhook_events_event_uid"),
        sa.UniqueConstraint("source_key", name="uq_webhook_events_source_key"),
    )
    op.create_index("ix_webhook_events_occurred", "webhook_events", ["occurred_at", "id"])
    op.create_table(
        "webhook_deliveries",
        _id(big=True),
        _int("subscription_id"),
        _int("event_id"),
        _int("replay"),
        _str("ordering_key", 64),
        _str("state", 16),
        _int("attempts"),
        _ts("next_attempt_at"),
        _str("claimed_by", nullable=True),
        _ts("claimed_at", nullable=True),
        _int("last_status", nullable=True),
        _text("last_error"),
        _ts("created_at"),
        _ts("delivered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        _fk("webhook_deliveries", "event_id", "webhook_events", "CASCADE"),
        _fk("webhook_deliveries", "subscription_id", "webhook_subscriptions", "CASCADE"),
        sa.UniqueConstraint("subscription_id", "event_id", "replay", name="uq_webhook_deliveries_subscription_id_event_id_replay"),
    )
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["event_id"])
    op.create_index("ix_webhook_deliveries_state_next", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_sub_id", "webhook_deliveries", ["subscription_id", "id"])
    op.create_index("ix_webhook_deliveries_sub_key", "webhook_deliveries", ["subscription_id", "ordering_key", "state", "id"])
    op.create_table(
        "webhook_attempts",
        _id(big=True),
        _int("subscription_id"),
        _int("delivery_id", nullable=True),
        _str("event_uid", 64),
        _str("event_type", 48),
        _int("attempt"),
        _ts("at"),
        _int("status_code", nullable=True),
        _int("duration_ms"),
        _bool("ok"),
        _text("error"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        _fk("webhook_attempts", "delivery_id", "webhook_deliveries", "CASCADE"),
        _fk("webhook_attempts", "subscription_id", "webhook_subscriptions", "CASCADE"),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id"])
    op.create_index("ix_webhook_attempts_sub_at", "webhook_attempts", ["subscription_id", "at", "id"])
    op.create_table(
        "webhook_cursors",
        _str("name", 32),
        _int("position"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_webhook_cursors"),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursors")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_subscriptions")
    op.drop_table("invoices")  # its triggers go with it
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS shelfdesk_invoices_immutable()")
    op.drop_table("invoice_sequences")
    op.drop_table("invoice_settings")
