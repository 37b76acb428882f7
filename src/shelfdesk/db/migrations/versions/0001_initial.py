"""Initial schema: stores, accounts, channels, catalog, mappings, publications, orders, jobs, audit.

Revision ID: 0001
Revises:
Create Date: 2026-03-02

Written by hand and checked against the models by tests/db/test_migrations.py.
Types are spelled as their storage types (no imports from shelfdesk), so this
file keeps describing the same schema whatever the models become later:
money is BIGINT cents, enums are VARCHAR(32), datetimes are aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _id(*, big: bool = False) -> sa.Column:
    type_ = sa.BigInteger().with_variant(sa.Integer(), "sqlite") if big else sa.Integer()
    return sa.Column("id", type_, nullable=False)


def _str(name: str, length: int | None = None, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _enum(name: str) -> sa.Column:
    return sa.Column(name, sa.String(32), nullable=False)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=True)


def _int(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _bool(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _money(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.JSON(none_as_null=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def upgrade() -> None:
    op.create_table(
        "stores",
        _id(),
        _str("name", nullable=False),
        _str("country", 2, nullable=False),
        _str("currency", 3, nullable=False),
        _str("catalog_source"),
        _str("catalog_format", 16),
        _json("catalog_options"),
        _json("column_roles"),
        _int("safety_stock"),
        _ts("created_at"),
        _ts("updated_at"),
        _pk("stores"),
        sa.UniqueConstraint("name", name="uq_stores_name"),
    )

    op.create_table(
        "marketplace_accounts",
        _id(),
        _enum("marketplace"),
        _str("name", nullable=False),
        _str("credential_ref"),
        _ts("token_expires_at", nullable=True),
        _ts("token_checked_at", nullable=True),
        _str("token_error"),
        _str("region", 16),
        _str("base_url"),
        _str("company"),
        _str("contact_email"),
        _str("user_agent"),
        _json("settings"),
        _ts("orders_watermark", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _pk("marketplace_accounts"),
        sa.UniqueConstraint("marketplace", "name", name="uq_marketplace_accounts_marketplace_name"),
        sa.CheckConstraint(
            "credential_ref LIKE 'secret:%' OR credential_ref LIKE 'env:%'",
            # op.f(): the name is final (the naming convention would prefix it again).
            name=op.f("ck_marketplace_accounts_credential_ref_is_reference"),
        ),
    )

    op.create_table(
        "channels",
        _id(),
        _int("store_id"),
        _int("account_id"),
        _enum("marketplace"),
        _str("market", 16, nullable=False),
        _str("country", 2, nullable=False),
        _str("name", nullable=False),
        _json("settings"),
        _bool("enabled"),
        _bool("products_feed_enabled"),
        _bool("offers_feed_enabled"),
        _bool("quantities_only"),
        _bool("orders_enabled"),
        _enum("orders_scope"),
        _bool("auto_accept"),
        _bool("owns_quantities"),
        _bool("repricer_enabled"),
        _int("safety_stock", nullable=True),
        _ts("activated_at", nullable=True),
        _bool("categories_ok"),
        _bool("columns_ok"),
        _bool("api_ok"),
        _ts("readiness_checked_at", nullable=True),
        _json("readiness_reasons"),
        _ts("created_at"),
        _ts("updated_at"),
        _pk("channels"),
        _fk("channels", "store_id", "stores", "CASCADE"),
        _fk("channels", "account_id", "marketplace_accounts", "RESTRICT"),
        sa.UniqueConstraint("account_id", "market", name="uq_channels_account_id_market"),
    )
    op.create_index("ix_channels_store_id", "channels", ["store_id"])

    op.create_table(
        "products",
        _id(),
        _int("store_id"),
        _str("sku", nullable=False),
        _str("ean", 14),
        _str("title"),
        _str("brand"),
        _str("category_path"),
        _money("price"),
        _int("stock"),
        _ts("stock_imported_at", nullable=True),
        _int("safety_stock", nullable=True),
        _json("attributes"),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        _bool("gone"),
        _ts("gone_at", nullable=True),
        _ts("updated_at"),
        _pk("products"),
        _fk("products", "store_id", "stores", "CASCADE"),
        sa.UniqueConstraint("store_id", "sku", name="uq_products_store_id_sku"),
    )
    op.create_index("ix_products_store_ean", "products", ["store_id", "ean"])
    op.create_index("ix_products_store_category", "products", ["store_id", "category_path"])

    op.create_table(
        "catalog_imports",
        _id(),
        _int("store_id"),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _str("source", nullable=False),
        _str("format", 16),
        _str("actor"),
        _int("rows_read"),
        _int("stored"),
        _int("rejected"),
        _int("gone"),
        _int("duration_ms", nullable=True),
        _str("error"),
        _json("report"),
        _pk("catalog_imports"),
        _fk("catalog_imports", "store_id", "stores", "CASCADE"),
    )
    op.create_index("ix_catalog_imports_store_started", "catalog_imports", ["store_id", "started_at"])

    op.create_table(
        "category_mappings",
        _id(),
        _int("channel_id"),
        _str("merchant_category", nullable=False),
        _str("channel_category_id", nullable=False),
        _str("channel_category_path"),
        _money("commission"),  # Percent: 4 decimals, 12.5 % = 125000
        _money("insertion_fee"),
        _bool("requires_imei_or_serial"),
        _ts("updated_at"),
        _pk("category_mappings"),
        _fk("category_mappings", "channel_id", "channels", "CASCADE"),
        sa.UniqueConstraint("channel_id", "merchant_category", name="uq_category_mappings_channel_id_merchant_category"),
    )

    op.create_table(
        "column_mappings",
        _id(),
        _int("channel_id"),
        _str("channel_attribute", nullable=False),
        _str("catalog_column"),
        _str("constant"),
        _str("default_value"),
        _json("value_map"),
        _ts("updated_at"),
        _pk("column_mappings"),
        _fk("column_mappings", "channel_id", "channels", "CASCADE"),
        sa.UniqueConstraint("channel_id", "channel_attribute", name="uq_column_mappings_channel_id_channel_attribute"),
    )

    op.create_table(
        "exclusion_rules",
        _id(),
        _int("channel_id"),
        _str("name"),
        _str("field", nullable=False),
        _enum("operator"),
        _str("value"),
        _int("group_no"),
        _int("position"),
        _bool("enabled"),
        _ts("updated_at"),
        _pk("exclusion_rules"),
        _fk("exclusion_rules", "channel_id", "channels", "CASCADE"),
    )
    op.create_index("ix_exclusion_rules_channel_group", "exclusion_rules", ["channel_id", "group_no", "position"])

    op.create_table(
        "publications",
        _id(),
        _int("channel_id"),
        _enum("kind"),
        _enum("mode"),
        _enum("state"),
        _bool("dry_run"),
        _str("started_by"),
        _str("holder"),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        *(
            _int(name)
            for name in (
                "items_total",
                "excluded",
                "invalid",
                "sent",
                "succeeded",
                "warnings",
                "failed",
                "skipped",
                "queued",
            )
        ),
        _str("remote_task_id"),
        _str("error"),
        _pk("publications"),
        _fk("publications", "channel_id", "channels", "CASCADE"),
    )
    op.create_index("ix_publications_channel_started", "publications", ["channel_id", "started_at", "id"])
    op.create_index("ix_publications_state", "publications", ["state"])

    op.create_table(
        "publication_items",
        _id(big=True),
        _int("publication_id"),
        _int("product_id", nullable=True),
        _str("sku", nullable=False),
        _enum("action"),
        _enum("outcome"),
        _money("old_price"),
        _money("new_price"),
        _int("old_quantity", nullable=True),
        _int("new_quantity", nullable=True),
        _str("message"),
        _str("error_code"),
        _str("error_key"),
        _str("attribute"),
        _str("warning"),
        _str("remote_task_id"),
        _ts("sent_at", nullable=True),
        _ts("resolved_at", nullable=True),
        _pk("publication_items"),
        _fk("publication_items", "publication_id", "publications", "CASCADE"),
        _fk("publication_items", "product_id", "products", "SET NULL"),
    )
    op.create_index("ix_publication_items_publication", "publication_items", ["publication_id", "id"])
    op.create_index(
        "ix_publication_items_outcome_error",
        "publication_items",
        ["publication_id", "outcome", "error_key", "id"],
    )
    op.create_index("ix_publication_items_sku", "publication_items", ["sku", "publication_id"])
    op.create_index("ix_publication_items_product", "publication_items", ["product_id"])

    op.create_table(
        "orders",
        _id(),
        _int("account_id"),
        _int("channel_id", nullable=True),
        _int("store_id", nullable=True),
        _enum("marketplace"),
        _str("marketplace_order_id", nullable=False),
        _str("market", 16),
        _str("country", 2),
        _str("marketplace_status"),
        _enum("status"),
        _ts("purchased_at"),
        _ts("modified_at", nullable=True),
        _ts("harvested_at"),
        _ts("updated_at"),
        _money("total"),
        _money("shipping_price"),
        _money("discount_total"),
        _str("currency", 3),
        _str("buyer_name"),
        _str("buyer_email"),
        _str("buyer_phone"),
        _json("shipping_address", nullable=True),
        _json("billing_address", nullable=True),
        _str("shipping_method"),
        _str("payment_method"),
        _str("carrier"),
        _str("tracking_number"),
        _str("tracking_url"),
        _bool("address_missing"),
        _bool("gift"),
        _int("weight_grams", nullable=True),
        _ts("accept_by", nullable=True),
        _ts("ship_by", nullable=True),
        _str("hold_reason"),
        _text("buyer_note"),
        _text("internal_note"),
        _json("payload"),
        _pk("orders"),
        _fk("orders", "account_id", "marketplace_accounts", "RESTRICT"),
        _fk("orders", "channel_id", "channels", "SET NULL"),
        _fk("orders", "store_id", "stores", "SET NULL"),
        sa.UniqueConstraint("account_id", "marketplace_order_id", name="uq_orders_account_id_marketplace_order_id"),
    )
    for name, columns in (
        ("ix_orders_channel_status_purchased", ["channel_id", "status", "purchased_at", "id"]),
        ("ix_orders_channel_purchased", ["channel_id", "purchased_at", "id"]),
        ("ix_orders_store_status_purchased", ["store_id", "status", "purchased_at", "id"]),
        ("ix_orders_store_purchased", ["store_id", "purchased_at", "id"]),
        ("ix_orders_status_purchased", ["status", "purchased_at", "id"]),
        ("ix_orders_purchased", ["purchased_at", "id"]),
        ("ix_orders_account_modified", ["account_id", "modified_at"]),
        ("ix_orders_marketplace_order_id", ["marketplace_order_id"]),
    ):
        op.create_index(name, "orders", columns)

    op.create_table(
        "order_lines",
        _id(),
        _int("order_id"),
        _str("marketplace_line_id", nullable=False),
        _str("sku"),
        _str("title"),
        _int("quantity"),
        _money("unit_price"),
        _str("marketplace_status"),
        _enum("status"),
        _str("imei", 15),
        _str("serial_number", 50),
        _str("stock_location"),
        _int("weight_grams", nullable=True),
        _json("options"),
        _pk("order_lines"),
        _fk("order_lines", "order_id", "orders", "CASCADE"),
        sa.UniqueConstraint("order_id", "marketplace_line_id", name="uq_order_lines_order_id_marketplace_line_id"),
    )
    op.create_index("ix_order_lines_sku", "order_lines", ["sku"])

    op.create_table(
        "order_events",
        _id(big=True),
        _int("order_id"),
        _ts("at"),
        _enum("source"),
        _str("kind", 32, nullable=False),
        _str("field"),
        _text("old_value"),
        _text("new_value"),
        _str("actor"),
        _text("message"),
        _pk("order_events"),
        _fk("order_events", "order_id", "orders", "CASCADE"),
    )
    op.create_index("ix_order_events_order_at", "order_events", ["order_id", "at", "id"])
    op.create_index("ix_order_events_at", "order_events", ["at"])

    op.create_table(
        "order_actions",
        _id(),
        _int("order_id"),
        _enum("kind"),
        _json("payload"),
        _enum("state"),
        _int("attempts"),
        _text("last_error"),
        _str("error_code"),
        _str("idempotency_key", nullable=False),
        _str("batch_key"),
        _str("actor"),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("next_attempt_at", nullable=True),
        _str("claimed_by"),
        _ts("claimed_at", nullable=True),
        _ts("sent_at", nullable=True),
        _ts("confirmed_at", nullable=True),
        _pk("order_actions"),
        _fk("order_actions", "order_id", "orders", "CASCADE"),
        sa.UniqueConstraint("idempotency_key", name="uq_order_actions_idempotency_key"),
    )
    op.create_index("ix_order_actions_state_next", "order_actions", ["state", "next_attempt_at"])
    op.create_index("ix_order_actions_order_state", "order_actions", ["order_id", "state"])
    op.create_index("ix_order_actions_batch", "order_actions", ["batch_key"])

    op.create_table(
        "job_schedules",
        _id(),
        _str("key", nullable=False),
        _str("job", 64, nullable=False),
        _int("channel_id", nullable=True),
        _int("interval_seconds"),
        _bool("paused"),
        _int("version"),
        _ts("updated_at"),
        _pk("job_schedules"),
        _fk("job_schedules", "channel_id", "channels", "CASCADE"),
        sa.UniqueConstraint("key", name="uq_job_schedules_key"),
    )
    op.create_index("ix_job_schedules_channel_id", "job_schedules", ["channel_id"])

    op.create_table(
        "job_leases",
        _id(),
        _str("key", nullable=False),
        _str("holder"),
        _ts("acquired_at", nullable=True),
        _ts("expires_at", nullable=True),
        _ts("renewed_at", nullable=True),
        _pk("job_leases"),
        sa.UniqueConstraint("key", name="uq_job_leases_key"),
    )

    op.create_table(
        "job_runs",
        _id(big=True),
        _str("job", 64, nullable=False),
        _int("channel_id", nullable=True),
        _str("trigger", 16),
        _str("holder"),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _enum("outcome"),
        _json("counts"),
        _text("error"),
        _text("traceback"),
        _pk("job_runs"),
        _fk("job_runs", "channel_id", "channels", "CASCADE"),
    )
    op.create_index("ix_job_runs_job_channel_started", "job_runs", ["job", "channel_id", "started_at"])
    op.create_index("ix_job_runs_started", "job_runs", ["started_at"])
    op.create_index("ix_job_runs_channel", "job_runs", ["channel_id"])

    op.create_table(
        "audit_log",
        _id(big=True),
        _ts("at"),
        _str("actor", 128, nullable=False),
        _str("action", 64, nullable=False),
        _str("target_type", 32),
        _str("target_id", 128),
        _json("details"),
        _pk("audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "at"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "job_runs",
        "job_leases",
        "job_schedules",
        "order_actions",
        "order_events",
        "order_lines",
        "orders",
        "publication_items",
        "publications",
        "exclusion_rules",
        "column_mappings",
        "category_mappings",
        "catalog_imports",
        "products",
        "channels",
        "marketplace_accounts",
        "stores",
    ):
        op.drop_table(table)  # drops its indexes with it
