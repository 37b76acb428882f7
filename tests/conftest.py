"""Shared fixtures: a throwaway workspace, a fixed clock, no leaks from the developer's setup."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from shelfdesk.clock import FakeClock

FIXED_NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the developer's real workspace and preferences."""
    base = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("SHELFDESK_HOME", str(base / "workspace"))
    monkeypatch.setenv("SHELFDESK_CONFIG", str(base / "prefs" / "config.toml"))
    monkeypatch.setenv("SHELFDESK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))  # db/tables.py's copy
    monkeypatch.delenv("SHELFDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("TZ", "UTC")


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
def ctx(workspace: Path, clock: FakeClock, migrated_database: Path) -> Iterator["AppContext"]:  # noqa: F821
    """An opened, migrated workspace with the fixed clock."""
    from shelfdesk.context import open_context
    from shelfdesk.paths import resolve_paths

    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_database, workspace / "shelfdesk.db")
    context = open_context(resolve_paths(workspace), clock=clock)
    yield context
    context.close()
