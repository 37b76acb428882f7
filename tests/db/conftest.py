"""Fixtures for the database tests: engines on throwaway SQLite files, or the test's PostgreSQL database.

Migrating costs a few hundred milliseconds, so one database is migrated per
session and copied for each test that needs the schema (on PostgreSQL the
test's database is already that copy: see ``tests/pgserver.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from shelfdesk.db.engine import make_engine

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path, test_database_url: str | None) -> str:
    return test_database_url or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database file (no schema)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shelfdesk.db.migrate import ensure_schema

    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture
def engine(tmp_path: Path, test_database_url: str | None, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a database migrated to head (a copy of the session's template)."""
    if test_database_url:
        engine = make_engine(test_database_url)
    else:
        path = tmp_path / "migrated.db"
        shutil.copyfile(request.getfixturevalue("migrated_template"), path)
        engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
