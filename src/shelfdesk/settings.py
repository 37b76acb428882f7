"""Workspace settings (shared) and personal preferences.

``config.toml`` in the workspace holds what everyone using that workspace
shares (retention, harvest look-back, company identity for User-Agents).
The preferences file in the user's config folder holds what is personal
(theme, key remaps). Both are optional: missing keys take the defaults below,
and unknown keys are kept but ignored so a newer shelfdesk can add settings.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from shelfdesk.files import write_atomic


class SettingsError(ValueError):
    """A settings file that cannot be read; the message names the file and key."""


@dataclass
class WorkspaceSettings:
    """Settings shared by everyone using one workspace."""

    company: str = "Merchant"
    contact_email: str = "ops@example.com"
    harvest_lookback_days: int = 14
    harvest_overlap_minutes: int = 10
    retention_job_runs_days: int = 30
    retention_failed_job_runs_days: int = 90
    retention_skipped_job_runs_days: int = 2  #: runs that found nothing to do (the outbox every few seconds)
    retention_publication_items_days: int = 90
    retention_order_history_days: int = 730  #: events and finished actions of closed or canceled orders
    page_size: int = 200
    #: A catalog import that would reject, or flag gone, more than this share of the catalog at once is
    #: refused (nothing stored) until forced: a broken export or a cut download, not the new catalog.
    catalog_implausible_share: float = 0.33
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preferences:
    """One operator's own preferences."""

    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    mouse: bool = False


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def _typed(cls: type, data: dict[str, Any], path: Path) -> Any:
    """Build ``cls`` from ``data``, checking simple types against the defaults."""
    known = {f.name: f for f in fields(cls) if f.name != "extra"}
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        spec = known.get(key)
        if spec is None:
            extra[key] = value
            continue
        if spec.default is not MISSING and spec.default is not None:
            if not isinstance(value, type(spec.default)):
                raise SettingsError(f"{path}: {key} should be {type(spec.default).__name__}, got {value!r}")
        kwargs[key] = value
    obj = cls(**kwargs)
    if hasattr(obj, "extra"):
        obj.extra = extra
    return obj


def load_workspace_settings(path: Path) -> WorkspaceSettings:
    return _typed(WorkspaceSettings, _read_toml(path), path)


def load_preferences(path: Path) -> Preferences:
    data = _read_toml(path)
    prefs = _typed(Preferences, {k: v for k, v in data.items() if k in {"theme", "keymap", "mouse"}}, path)
    if not isinstance(prefs.keymap, dict):
        raise SettingsError(f"{path}: keymap should be a table of binding id = keys")
    return prefs


_TOP_LEVEL_KEY = "{key} = {value}"


def save_preference(path: Path, key: str, value: str) -> None:
    """Set one top-level string preference (``theme``) in the preferences file, keeping everything else.

    The standard library reads TOML but cannot write it, so the file is
    edited as lines: the key's line is replaced (or added before the first
    table), comments and key remaps stay as the operator wrote them. The
    new file replaces the old one atomically, owner-only like the workspace.
    """
    import json
    import re

    if key not in {"theme"}:
        raise ValueError(f"{key!r} is not a preference that can be saved")
    line = _TOP_LEVEL_KEY.format(key=key, value=json.dumps(value))  # a JSON string is a valid TOML basic string
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    first_table = next((i for i, text in enumerate(lines) if text.lstrip().startswith("[")), len(lines))
    found = next((i for i, text in enumerate(lines[:first_table]) if pattern.match(text)), None)
    if found is None:
        lines.insert(first_table, line)
    else:
        lines[found] = line
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # never leave a file the next start could not read
    write_atomic(path, text, mode=0o600)


DEFAULT_WORKSPACE_CONFIG = """\
# shelfdesk workspace settings, shared by everyone using this workspace.
company = "Merchant"
contact_email = "ops@example.com"
harvest_lookback_days = 14
harvest_overlap_minutes = 10
retention_job_runs_days = 30
retention_failed_job_runs_days = 90
retention_skipped_job_runs_days = 2
retention_publication_items_days = 90
retention_order_history_days = 730
# A catalog import that would reject or flag gone more than this share at once is refused until forced.
catalog_implausible_share = 0.33
"""


def write_default_workspace_config(path: Path) -> None:
    """Write the commented defaults once; a read-only workspace simply runs on the defaults."""
    if not path.exists():
        try:
            path.write_text(DEFAULT_WORKSPACE_CONFIG, encoding="utf-8")
        except OSError:
            pass
