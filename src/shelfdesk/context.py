"""The service context: one object that carries what every service call needs.

The console, the CLI and the headless worker each open one :class:`AppContext`
for a workspace and pass it to service functions. It owns the engine, the
clock, the secrets store and the read-only switch, so "read-only" is enforced
in one place: :meth:`AppContext.write_session` refuses to open.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from shelfdesk.clock import Clock, default_clock
from shelfdesk.paths import Paths, ensure_workspace, resolve_paths
from shelfdesk.secrets import SecretStore
from shelfdesk.settings import WorkspaceSettings, load_workspace_settings, write_default_workspace_config

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session


class ReadOnlyError(PermissionError):
    """A write was attempted while the workspace is opened read-only."""


class DatabaseUnreachable(RuntimeError):
    """The workspace's database cannot be opened; the message names it (password masked) and says why."""


@dataclass
class AppContext:
    """Everything a service function needs, for one workspace."""

    paths: Paths
    clock: Clock = field(default_factory=default_clock)
    read_only: bool = False
    actor: str = field(default_factory=lambda: _os_user())
    #: Why the workspace is read-only, for the refusal: the option, or the disk it sits on.
    read_only_reason: str = "--read-only"

    @cached_property
    def settings(self) -> WorkspaceSettings:
        return load_workspace_settings(self.paths.workspace_config)

    @cached_property
    def secrets(self) -> SecretStore:
        return SecretStore(self.paths.secrets)

    @cached_property
    def engine(self) -> Engine:
        from shelfdesk.db.engine import make_engine

        return make_engine(self.paths.database_url)

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for reading, never committed: what read commands use with ``db.tables``,
        so answering one loads neither the ORM nor SQLModel (see ``db/tables.py``)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading; never committed."""
        from sqlmodel import Session

        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        Raises :class:`ReadOnlyError` before touching the database when the
        workspace was opened with ``--read-only``.
        """
        self.require_write()
        from sqlmodel import Session

        from shelfdesk.db.engine import IMMEDIATE

        # BEGIN IMMEDIATE on SQLite: writers queue on the busy timeout instead of failing.
        with Session(self.engine, expire_on_commit=False, execution_options={IMMEDIATE: True}) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def require_write(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"this workspace is open read-only ({self.read_only_reason}): nothing was changed")

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


def open_context(
    paths: Paths | None = None,
    *,
    clock: Clock | None = None,
    read_only: bool = False,
    migrate: bool = True,
    upgrade: bool = True,
) -> AppContext:
    """Open a workspace: create its folders, bring the schema up to date, return the context.

    ``upgrade=False`` (a worker) still creates the schema of a fresh database
    but refuses, with :class:`~shelfdesk.db.migrate.SchemaError`, a database at
    another revision, which other workers may be using.
    """
    paths = paths or resolve_paths()
    from shelfdesk.db.engine import read_only_file_system

    reason = "--read-only"
    if paths.home.is_dir() and read_only_file_system(paths.home):
        read_only, reason = True, "it sits on a read-only disk"  # nothing could be written: say so before trying
    ensure_workspace(paths)
    _refuse_empty_database(paths)
    write_default_workspace_config(paths.workspace_config)
    _configure_logging(paths)
    ctx = AppContext(paths=paths, clock=clock or default_clock(), read_only=read_only, read_only_reason=reason)
    if migrate:
        from shelfdesk.db.migrate import ensure_schema, require_head

        _check_reachable(ctx)
        try:
            if upgrade or read_only:
                ensure_schema(ctx.engine, allow_upgrade=not read_only)
            else:
                require_head(ctx.engine)
        except BaseException:
            ctx.close()
            raise
    return ctx


def _refuse_empty_database(paths: Paths) -> None:
    """A zero-byte database file is a lost one (a copy cut short, a full disk), not a new workspace.

    SQLite would happily treat it as empty and shelfdesk would build a blank
    workspace on top, hiding the loss behind exit 0.
    """
    file = paths.database_file
    try:
        empty = file is not None and file.is_file() and file.stat().st_size == 0
    except OSError:
        return
    if empty:
        raise DatabaseUnreachable(
            f"the database file {file} is empty (0 bytes): it was cut short or lost; restore it "
            "from a backup, or delete it to start a new workspace"
        )


def _check_reachable(ctx: AppContext) -> None:
    """Open one connection, so a wrong host, password or path is one clear error, not a traceback.

    Raises :class:`DatabaseUnreachable` with the database (password masked) and
    the driver's reason. The connection goes back to the pool for what follows.
    """
    from sqlalchemy.exc import DBAPIError

    from shelfdesk.db.engine import unavailable_reason
    from shelfdesk.db.migrate import describe_database

    try:
        with ctx.engine.connect():
            pass
    except DBAPIError as exc:
        ctx.close()
        raise DatabaseUnreachable(f"cannot open {describe_database(ctx.engine.url)}: {unavailable_reason(exc)}") from exc


_logging_configured: set[str] = set()


def _configure_logging(paths: Paths) -> None:
    """Log to the workspace log folder (once per process and workspace)."""
    key = str(paths.log_file)
    if key in _logging_configured:
        return
    _logging_configured.add(key)
    from shelfdesk.logs import install_file_handler, install_stderr_handler

    try:
        install_file_handler(paths.log_file)
    except OSError as exc:  # a read-only workspace, a full disk, `logs` being a file: say so once, go on
        install_stderr_handler(logging.WARNING)
        logging.getLogger("shelfdesk").warning(
            "cannot write the log file %s (%s); logging warnings to stderr",
            paths.log_file,
            "logs is not a folder" if paths.log_dir.exists() and not paths.log_dir.is_dir() else exc.strerror or exc,
        )
    logging.getLogger("shelfdesk").setLevel(logging.INFO)
