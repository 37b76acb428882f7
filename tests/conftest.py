"""Shared fixtures: a throwaway workspace, a fixed clock, no leaks from the developer's setup.

The suite runs on SQLite (each workspace's own file). With
``SHELFDESK_TEST_DATABASE_URL`` set (``scripts/pg-test.sh`` sets it) every test
runs on a PostgreSQL database of its own instead, through
``SHELFDESK_DATABASE_URL``, except the tests marked ``sqlite`` (they are about
SQLite itself). Tests marked ``postgres`` need that server and are skipped,
with the reason, without it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shelfdesk.clock import FakeClock
from tests.pgserver import TEST_DATABASE_ENV, TestServer, test_server_url

FIXED_NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


#: Fixtures that hand a test a database already migrated to head.
MIGRATED_FIXTURES = frozenset({"ctx", "engine"})


@pytest.fixture(scope="session")
def _pg_server(worker_id: str) -> Iterator[TestServer | None]:
    """This test process's access to the PostgreSQL test server, or None on SQLite."""
    url = test_server_url()
    if url is None:
        yield None
        return
    server = TestServer(url, worker_id)
    yield server
    server.close()


@pytest.fixture
def test_database_url(request: pytest.FixtureRequest, _pg_server: TestServer | None) -> Iterator[str | None]:
    """This test's own PostgreSQL database (migrated when the test asks for a migrated one), or None on SQLite."""
    if _pg_server is None or request.node.get_closest_marker("sqlite"):
        yield None
        return
    name = _pg_server.create(migrated=bool(MIGRATED_FIXTURES & set(request.fixturenames)))
    yield _pg_server.url_of(name)
    _pg_server.drop(name)


@pytest.fixture(autouse=True)
def _isolated_environment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the developer's real workspace and preferences."""
    if request.node.get_closest_marker("postgres") and test_server_url() is None:
        pytest.skip(f"needs a PostgreSQL server: set {TEST_DATABASE_ENV} (scripts/pg-test.sh does)")
    base = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("SHELFDESK_HOME", str(base / "workspace"))
    monkeypatch.setenv("SHELFDESK_CONFIG", str(base / "prefs" / "config.toml"))
    monkeypatch.setenv("SHELFDESK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))  # db/tables.py's copy
    monkeypatch.delenv("SHELFDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("TZ", "UTC")
    database_url = request.getfixturevalue("test_database_url")
    if database_url:
        monkeypatch.setenv("SHELFDESK_DATABASE_URL", database_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FIXED_NOW)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "ws"
    monkeypatch.setenv("SHELFDESK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated to head per session; workspaces start from a copy (migrating is slow)."""
    from shelfdesk.db.engine import make_engine
    from shelfdesk.db.migrate import ensure_schema

    path = tmp_path_factory.mktemp("migrated") / "shelfdesk.db"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture
def ctx(workspace: Path, clock: FakeClock, migrated_database: Path) -> Iterator[AppContext]:  # noqa: F821
    """An opened, migrated workspace with the fixed clock."""
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths

    workspace.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("SHELFDESK_DATABASE_URL"):  # on PostgreSQL the test's database is a migrated copy
        shutil.copyfile(migrated_database, workspace / "shelfdesk.db")
    context = open_context(resolve_paths(workspace), clock=clock)
    yield context
    context.close()
