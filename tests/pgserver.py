"""Throwaway PostgreSQL databases for the tests, one per test, when the suite runs on PostgreSQL.

``SHELFDESK_TEST_DATABASE_URL`` names a server the tests may create and drop
databases on (``scripts/pg-test.sh`` starts one and sets it). Each test that
runs on PostgreSQL gets a database of its own, created for it and dropped after
it with every connection still open to it (a worker subprocess, a pool a test
did not dispose of). Under pytest-xdist each test process names its databases
after its worker id and pid, so parallel test processes never share one.

Creating a database from a template costs tens of milliseconds where migrating
one costs seconds: each test process migrates one template database once, and
tests that start from a migrated workspace (``ctx``, ``engine``) are copies of it.
"""

from __future__ import annotations

import itertools
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

#: The environment variable the test fixtures read; unset, the suite runs on SQLite only.
TEST_DATABASE_ENV = "SHELFDESK_TEST_DATABASE_URL"


def test_server_url() -> str | None:
    """The admin URL of the test server, or None when the suite runs on SQLite."""
    return os.environ.get(TEST_DATABASE_ENV) or None


class TestServer:
    """Creates and drops the per-test databases of one test process on the test server."""

    __test__ = False  # not a test class, whatever pytest's naming rule says

    def __init__(self, admin_url: str, worker: str) -> None:
        self._url = make_url(admin_url)
        self._admin: Engine = create_engine(self._url, isolation_level="AUTOCOMMIT", pool_size=1)
        self._prefix = f"sdt_{worker}_{os.getpid()}"
        self._counter = itertools.count(1)
        self._template: str | None = None

    def url_of(self, database: str) -> str:
        return self._url.set(database=database).render_as_string(hide_password=False)

    def create(self, *, migrated: bool) -> str:
        """A new database (an empty one, or a copy of the migrated template); returns its name."""
        name = f"{self._prefix}_{next(self._counter)}"
        template = self._migrated_template() if migrated else "template0"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return name

    def drop(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._template:
            self.drop(self._template)
        self._admin.dispose()

    def _migrated_template(self) -> str:
        if self._template is None:
            from shelfdesk.db.engine import make_engine
            from shelfdesk.db.migrate import ensure_schema

            name = f"{self._prefix}_template"
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            engine = make_engine(self.url_of(name))
            try:
                ensure_schema(engine)
            finally:
                engine.dispose()  # a template with open connections cannot be copied
            self._template = name
        return self._template

    def _execute(self, sql: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(sql))
