"""Bring a workspace database to the schema this shelfdesk expects.

Every process calls :func:`ensure_schema` on start. The usual case, a database
already at :data:`HEAD_REVISION`, costs one plain query and imports neither
Alembic nor the models (startup has a 1 s budget to the first frame). Anything
else goes through Alembic, whose scripts ship inside the package
(``shelfdesk/db/migrations``), so an installed wheel migrates without an
``alembic.ini``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL, Connection, Engine

#: The newest migration shipped with this shelfdesk; a test checks it is Alembic's head.
HEAD_REVISION = "0014"

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this shelfdesk; the message says what to do."""


def current_revision(engine: Engine) -> str | None:
    """The database's migration revision, or None when it has no shelfdesk schema yet."""
    versions = _read_versions(engine)
    if not versions:
        return None
    if len(versions) > 1:
        raise SchemaError(f"the database records several migration heads ({', '.join(versions)})")
    return versions[0]


def ensure_schema(engine: Engine, allow_upgrade: bool = True) -> str:
    """Make sure the database is at :data:`HEAD_REVISION`, migrating it if allowed.

    Raises :class:`SchemaError` when the database was migrated by a newer
    shelfdesk, or when it needs creating or upgrading but ``allow_upgrade`` is
    False (a read-only session must not change the schema). Returns the revision.
    """
    if _read_versions(engine) == [HEAD_REVISION]:
        return HEAD_REVISION
    return _migrate(engine, allow_upgrade)


def require_head(engine: Engine) -> str:
    """For a process that runs beside others on one database (a worker): never change a schema in use.

    A fresh database gets its schema (nothing else can be using it); a database
    at :data:`HEAD_REVISION` is used as it is; any other revision raises
    :class:`SchemaError` saying what to do, where :func:`ensure_schema` would
    upgrade it under the feet of workers of the previous version.
    """
    if _read_versions(engine) == [HEAD_REVISION]:
        return HEAD_REVISION
    current = current_revision(engine)
    if current is None:
        return _migrate(engine, allow_upgrade=True)
    where = describe_database(engine.url)
    if current in _known_revisions():
        raise SchemaError(
            f"{where} is at schema revision {current} and this shelfdesk expects {HEAD_REVISION}: "
            "stop the workers, run `shelfdesk migrate`, then start them again"
        )
    raise SchemaError(
        f"{where} is at schema revision {current}, which this shelfdesk ({HEAD_REVISION}) does not know: "
        "it was upgraded by a newer shelfdesk. Upgrade shelfdesk on this machine to run a worker on it."
    )


def at_head(engine: Engine) -> bool:
    """True when the database is still at :data:`HEAD_REVISION` (a running worker checks this each heartbeat)."""
    return _read_versions(engine) == [HEAD_REVISION]


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _read_versions(engine: Engine) -> list[str] | None:
    """Revisions in ``alembic_version``; None when the table does not exist."""
    with engine.connect() as conn:
        try:
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError:
            conn.rollback()
            from sqlalchemy import inspect

            if inspect(conn).has_table("alembic_version"):
                raise  # the table exists: this is a real error (locked, unreadable …)
            return None


def alembic_config() -> Config:
    """Alembic's configuration built in code, pointing at the packaged scripts."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def script_head() -> str:
    """The head revision of the packaged migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _migrate(engine: Engine, allow_upgrade: bool) -> str:
    config = alembic_config()
    head = script_head()
    known = _known_revisions()
    current = current_revision(engine)
    where = describe_database(engine.url)
    if current is not None and current not in known:
        raise SchemaError(
            f"{where} is at schema revision {current}, which this shelfdesk does not know "
            f"(its newest is {head}): it was upgraded by a newer shelfdesk. Upgrade shelfdesk to open it."
        )
    if current == head:
        return head
    if not allow_upgrade:
        state = f"at schema revision {current}" if current else "not initialised"
        raise SchemaError(
            f"{where} is {state} and needs upgrading to {head}, but it is open read-only. "
            "Open it once without --read-only (or run `shelfdesk migrate`) to upgrade it."
        )
    log.info("migrating %s from %s to %s", where, current or "empty", head)
    try:
        _upgrade(engine, config, where)
    except Exception:
        # Two processes may start on one fresh database: the loser fails, the winner migrated.
        if current_revision(engine) == head:
            return head
        raise
    return head


def _upgrade(engine: Engine, config: Config, where: str) -> None:
    """Run ``alembic upgrade head`` in one transaction.

    A SQLite file is migrated through a private engine whose transactions start
    with ``BEGIN IMMEDIATE``: a second process starting on the same fresh
    database waits for the first to commit (busy timeout), then finds the
    schema at head, instead of failing half-way. That engine also runs with
    foreign keys off (they can only be switched outside a transaction): batch
    migrations rebuild tables, and dropping the old table with foreign keys on
    would cascade deletes to its children. ``PRAGMA foreign_key_check`` before
    commit proves nothing was left dangling.
    """
    from alembic import command

    url = engine.url
    private = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    target = _sqlite_migration_engine(url) if private else engine
    try:
        with target.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":  # rewriting a large table takes longer than any statement may
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            # Checked under the migration's lock: another process may have migrated meanwhile.
            if not _has_version_table(conn) and _has_shelfdesk_tables(conn):
                raise SchemaError(
                    f"{where} holds shelfdesk tables but no migration history (alembic_version); "
                    "it was not created by shelfdesk's migrations, so it cannot be upgraded safely."
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            if private:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"migration left rows with broken foreign keys: {broken[:5]}")
    finally:
        config.attributes.pop("connection", None)
        if private:
            target.dispose()


def _sqlite_migration_engine(url: URL) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    from shelfdesk.db.engine import BUSY_TIMEOUT_MS

    target = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(target, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        for pragma in ("journal_mode=WAL", "foreign_keys=OFF", f"busy_timeout={BUSY_TIMEOUT_MS}"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(target, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return target


def _has_version_table(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return inspect(conn).has_table("alembic_version")


def _has_shelfdesk_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool({"stores", "orders", "products"} & set(inspect(conn).get_table_names()))


def describe_database(url: URL) -> str:
    """How messages name a database: its file for SQLite, else its URL with the password masked."""
    if url.get_backend_name() == "sqlite":
        return f"the database {url.database or ':memory:'}"
    return f"the database {url.render_as_string(hide_password=True)}"
