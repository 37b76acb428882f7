"""Migrations: they build exactly the models' schema, and ensure_schema guards every case."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from shelfdesk.db import migrate
from shelfdesk.db.engine import BUSY_TIMEOUT_MS, make_engine
from shelfdesk.db.migrate import HEAD_REVISION, SchemaError, current_revision, ensure_schema
from shelfdesk.db.models import metadata


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything the inspector sees, normalized, table by table."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table),
            "fks": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"], str(fk["options"]))
                for fk in insp.get_foreign_keys(table)
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)),
            "checks": sorted((c["name"], " ".join(c["sqltext"].split())) for c in insp.get_check_constraints(table)),
        }
    return out


def test_head_revision_is_alembics_head() -> None:
    assert HEAD_REVISION == migrate.script_head()


def test_migrations_produce_the_models_schema_on_either_engine(bare_engine: Engine) -> None:
    """On PostgreSQL too: a column a migration left INTEGER where the model says BIGINT shows here."""
    assert ensure_schema(bare_engine) == HEAD_REVISION
    with bare_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, metadata) == []


@pytest.mark.sqlite
def test_migrations_produce_exactly_the_models_schema(bare_engine: Engine, tmp_path: Path) -> None:
    assert ensure_schema(bare_engine) == HEAD_REVISION
    # compare_metadata ignores check constraints and some FK details: compare everything
    # the inspector reports with a database created straight from the models.
    from_models = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    metadata.create_all(from_models)
    try:
        migrated, expected = _schema(bare_engine), _schema(from_models)
        assert sorted(migrated) == sorted(metadata.tables)
        for table in expected:
            assert migrated[table] == expected[table], table
    finally:
        from_models.dispose()


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    config = migrate.alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert current_revision(engine) is None
    assert ensure_schema(engine) == HEAD_REVISION
    assert "orders" in inspect(engine).get_table_names()


def test_fast_path_at_head_skips_alembic(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_migration(*_args: object) -> str:
        raise AssertionError("the fast path must not reach Alembic")

    monkeypatch.setattr(migrate, "_migrate", no_migration)
    assert ensure_schema(engine) == HEAD_REVISION
    assert ensure_schema(engine, allow_upgrade=False) == HEAD_REVISION


def test_fast_path_imports_neither_alembic_nor_the_models(engine: Engine) -> None:
    db_url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    code = textwrap.dedent(
        f"""
        import sys
        from shelfdesk.db.engine import make_engine
        from shelfdesk.db.migrate import ensure_schema
        ensure_schema(make_engine({db_url!r}), allow_upgrade=False)
        print(sorted(m for m in ("alembic", "sqlmodel", "shelfdesk.db.models") if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_read_only_refuses_a_database_that_needs_upgrading(bare_engine: Engine) -> None:
    with pytest.raises(SchemaError, match="read-only"):
        ensure_schema(bare_engine, allow_upgrade=False)
    assert inspect(bare_engine).get_table_names() == []  # nothing was created


def test_open_context_read_only_on_a_fresh_workspace_refuses(workspace: Path) -> None:
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths

    with pytest.raises(SchemaError, match="read-only"):
        open_context(resolve_paths(workspace), read_only=True)


def test_database_from_a_newer_shelfdesk_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for allow in (True, False):
        with pytest.raises(SchemaError, match="newer shelfdesk"):
            ensure_schema(engine, allow_upgrade=allow)


def test_tables_without_migration_history_are_not_touched(bare_engine: Engine) -> None:
    metadata.create_all(bare_engine)
    with pytest.raises(SchemaError, match="no migration history"):
        ensure_schema(bare_engine)


@pytest.mark.sqlite
def test_a_second_migrator_waits_for_the_first_then_finds_the_schema_at_head(bare_engine: Engine) -> None:
    """Two processes starting on one fresh database: the second must not fail half-way."""
    first = migrate._sqlite_migration_engine(bare_engine.url)
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            outcome["revision"] = ensure_schema(bare_engine)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    try:
        with first.connect() as conn:
            transaction = conn.begin()  # BEGIN IMMEDIATE: the first process, mid-migration
            config = migrate.alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(0.3)
            assert thread.is_alive(), outcome  # waiting on the lock, not failed
            transaction.commit()
        thread.join(10)
    finally:
        first.dispose()
    assert outcome == {"revision": HEAD_REVISION}


@pytest.mark.sqlite
def test_connections_use_wal_foreign_keys_and_a_busy_timeout(ctx: Any) -> None:
    with ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
    assert current_revision(ctx.engine) == HEAD_REVISION


@pytest.mark.sqlite
def test_foreign_keys_are_back_on_after_a_migration(bare_engine: Engine) -> None:
    ensure_schema(bare_engine)  # the slow path runs with foreign keys off, on its own connection
    for _ in range(3):  # every pooled connection
        with bare_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_every_migration_renders_for_postgresql() -> None:
    """No SQLite-only SQL: each migration's upgrade and downgrade render as PostgreSQL DDL."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    for revision in reversed(list(script.walk_revisions())):
        for step in ("upgrade", "downgrade"):
            assert _render(revision.revision, step, "postgresql").strip(), (revision.revision, step)


def _render(revision: str, step: str, dialect: str) -> str:
    """The SQL one migration's upgrade or downgrade emits for ``dialect``, rendered offline."""
    import io

    from alembic.operations import Operations
    from alembic.script import ScriptDirectory

    module = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision).module
    buffer = io.StringIO()
    context = MigrationContext.configure(dialect_name=dialect, opts={"as_sql": True, "output_buffer": buffer})
    with Operations.context(context):
        getattr(module, step)()
    return buffer.getvalue()


WIDENED_IN_0007 = {
    ("channel_listings", "id"),
    ("webhook_deliveries", "event_id"),
    ("webhook_attempts", "delivery_id"),
    ("webhook_cursors", "position"),
}
#: Every table an upsert writes (ON CONFLICT draws a sequence value per row given), and the ones growing with use.
WIDENED_IN_0009 = {
    ("products", "id"),
    ("publication_items", "product_id"),
    ("job_leases", "id"),
    ("job_schedules", "id"),
    ("order_lines", "id"),
    ("order_actions", "id"),
    ("catalog_import_rejections", "id"),
    ("reprice_changes", "id"),
}
WIDENED = {"0007": WIDENED_IN_0007, "0009": WIDENED_IN_0009}


@pytest.mark.parametrize("revision", sorted(WIDENED))
def test_widening_migrations_widen_exactly_their_int4_counters_to_bigint_on_postgresql(revision: str) -> None:
    import re

    widened = WIDENED[revision]
    sql = _render(revision, "upgrade", "postgresql")
    statements = [" ".join(s.split()) for s in sql.split(";") if s.strip()]
    altered = {m.groups() for s in statements if (m := re.fullmatch(r"ALTER TABLE (\w+) ALTER COLUMN (\w+) TYPE BIGINT", s))}
    assert altered == widened
    # A SERIAL's sequence is "AS integer" (capped at 2^31 - 1) whatever its column's type.
    sequences = sorted(f"ALTER SEQUENCE {table}_id_seq AS BIGINT" for table, column in widened if column == "id")
    assert sorted(s for s in statements if s.split()[:2] != ["ALTER", "TABLE"]) == sequences
    assert len(statements) == len(widened) + len(sequences)  # nothing else
    down = " ".join(_render(revision, "downgrade", "postgresql").split())
    for table, column in widened:
        assert f"ALTER TABLE {table} ALTER COLUMN {column} TYPE INTEGER" in down


@pytest.mark.parametrize("revision", sorted(WIDENED))
def test_widening_migrations_change_nothing_on_sqlite(revision: str) -> None:
    """SQLite's INTEGER is already 64-bit: no statement, so no table rebuild."""
    assert _render(revision, "upgrade", "sqlite").strip() == ""
    assert _render(revision, "downgrade", "sqlite").strip() == ""


def test_the_models_widened_columns_are_bigint_on_postgresql_and_integer_on_sqlite() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    for table, column in WIDENED_IN_0007 | WIDENED_IN_0009:
        type_ = metadata.tables[table].c[column].type
        assert type_.compile(dialect=postgresql.dialect()) == "BIGINT", (table, column)
        assert type_.compile(dialect=sqlite.dialect()) == "INTEGER", (table, column)


@pytest.mark.postgres
def test_every_serial_id_and_its_sequence_is_64_bit_where_rows_are_upserted(engine: Engine) -> None:
    """On a migrated PostgreSQL database: no upserted table is left with an int4 id or an int4 sequence."""
    with engine.connect() as conn:
        narrow = set(
            conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND data_type = 'integer'"
                )
            ).all()
        )
        sequences = dict(conn.execute(text("SELECT sequencename, data_type::text FROM pg_sequences")).all())
    assert not narrow & (WIDENED_IN_0007 | WIDENED_IN_0009)
    for table, column in WIDENED_IN_0007 | WIDENED_IN_0009:
        if column == "id":
            assert sequences[f"{table}_id_seq"] == "bigint", table


def test_models_and_upserts_compile_for_postgresql() -> None:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    from shelfdesk.db.models import Order
    from shelfdesk.db.upsert import _insert_for

    dialect = postgresql.dialect()
    ddl = {table.name: str(CreateTable(table).compile(dialect=dialect)) for table in metadata.sorted_tables}
    assert "id BIGSERIAL NOT NULL" in ddl["publication_items"]  # grows without bound
    assert "purchased_at TIMESTAMP WITH TIME ZONE NOT NULL" in ddl["orders"]
    assert "total BIGINT" in ddl["orders"]  # money in cents
    stmt = _insert_for("postgresql", Order.__table__)
    stmt = stmt.on_conflict_do_update(index_elements=["account_id", "marketplace_order_id"], set_={"status": stmt.excluded.status})
    assert "ON CONFLICT (account_id, marketplace_order_id) DO UPDATE" in str(stmt.compile(dialect=dialect))
