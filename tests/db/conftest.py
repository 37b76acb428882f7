"""Fixtures for the database tests: engines on throwaway SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from shelfdesk.db.engine import make_engine


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database file (no schema)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """An engine on a database holding every shelfdesk table (created from the models)."""
    from shelfdesk.db.models import metadata

    metadata.create_all(bare_engine)
    return bare_engine
