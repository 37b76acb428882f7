"""Where a workspace and the user's preferences live.

A *workspace* is one folder shared by everyone who runs shelfdesk against the
same merchant data: the SQLite database, the shared ``config.toml``, the
owner-only secrets file and the logs. *Preferences* (theme, key remaps) are
personal and live in the user's config folder.

Discovery happens in :func:`resolve_paths` only, so tests patch one seam:
``SHELFDESK_HOME`` moves the workspace, ``SHELFDESK_DATABASE_URL`` moves the
database (a PostgreSQL URL, say), ``SHELFDESK_CONFIG`` moves the preferences file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "shelfdesk"
ENV_HOME = "SHELFDESK_HOME"
ENV_DATABASE_URL = "SHELFDESK_DATABASE_URL"
ENV_CONFIG = "SHELFDESK_CONFIG"
ENV_CACHE = "SHELFDESK_CACHE_DIR"


@dataclass(frozen=True)
class Paths:
    """Every path shelfdesk uses for one workspace."""

    home: Path
    database_url: str
    database_overridden: bool
    workspace_config: Path
    secrets: Path
    log_dir: Path
    exports_dir: Path
    sandbox_dir: Path
    preferences: Path

    @property
    def database_file(self) -> Path | None:
        """The SQLite file, or None when the database is elsewhere."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None

    @property
    def log_file(self) -> Path:
        return self.log_dir / "shelfdesk.log"

    def as_rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs for ``shelfdesk paths``; never includes secrets' content."""
        from shelfdesk.secrets import mask_url

        return [
            ("workspace", str(self.home)),
            ("database", mask_url(self.database_url)),
            ("workspace config", str(self.workspace_config)),
            ("secrets", str(self.secrets)),
            ("logs", str(self.log_dir)),
            ("exports", str(self.exports_dir)),
            ("sandbox state", str(self.sandbox_dir)),
            ("preferences", str(self.preferences)),
            ("cache (safe to delete)", str(cache_dir())),
        ]


def cache_dir() -> Path:
    """The user's cache folder: what shelfdesk can rebuild (the tables' copy of ``db/tables.py``)."""
    override = os.environ.get(ENV_CACHE)
    return Path(override).expanduser() if override else platformdirs.user_cache_path(APP_NAME, appauthor=False)


def default_home() -> Path:
    """The default workspace folder from platformdirs."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "workspace"


def demo_home() -> Path:
    """The demo workspace: its own folder, never the user's real one."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "demo"


def preferences_file() -> Path:
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def resolve_paths(home: Path | str | None = None, database_url: str | None = None) -> Paths:
    """Work out every path, explicit arguments first, then the environment, then defaults."""
    if home is None:
        env_home = os.environ.get(ENV_HOME)
        home = Path(env_home).expanduser() if env_home else default_home()
    home = Path(home).expanduser().resolve()
    env_url = os.environ.get(ENV_DATABASE_URL)
    url = database_url or env_url or f"sqlite:///{home / 'shelfdesk.db'}"
    return Paths(
        home=home,
        database_url=url,
        database_overridden=bool(database_url or env_url),
        workspace_config=home / "config.toml",
        secrets=home / "secrets.toml",
        log_dir=home / "logs",
        exports_dir=home / "exports",
        sandbox_dir=home / "sandbox",
        preferences=preferences_file(),
    )


def ensure_workspace(paths: Paths) -> None:
    """Create the workspace folders (owner-only, since they hold merchant data).

    Only the home folder is required: on a read-only workspace, or where
    ``logs`` is a file, logging falls back to stderr and exports say why they
    cannot be written when asked for.
    """
    paths.home.mkdir(parents=True, exist_ok=True)
    for folder in (paths.log_dir, paths.exports_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
    try:
        os.chmod(paths.home, 0o700)
    except OSError:  # pragma: no cover - e.g. a folder owned by someone else
        pass
