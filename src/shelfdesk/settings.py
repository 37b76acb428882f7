"""Workspace settings (shared) and personal preferences.

``config.toml`` in the workspace holds what everyone using that workspace
shares (retention, harvest look-back, company identity for User-Agents).
The preferences file in the user's config folder holds what is personal
(theme, key remaps). Both are optional: missing keys take the defaults below,
and unknown keys are kept but ignored so a newer shelfdesk can add settings.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

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


_Model = TypeVar("_Model", "WorkspaceSettings", "Preferences")


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from exc


#: The types a settings field may have, and what a TOML value must be to fill it. A float field
#: takes an integer (``0`` for ``0.0``); a bool never counts as a number (TOML keeps them apart).
_CHECKS: dict[str, tuple[str, Any]] = {
    "str": ("text", lambda v: isinstance(v, str)),
    "int": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "dict[str, str]": ("a table of text values", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values())),
}


def _validated(cls: type[_Model], data: dict[str, Any], path: Path) -> _Model:
    """``cls`` from a file's ``data``, each key checked against the field's declared type.

    A wrong value is a :class:`SettingsError` naming the file and the key, when
    the file is read, not later where the value is used. Unknown keys are set
    aside in ``extra``. The check reads the dataclass's own annotations (``str |
    None`` allows None), so a new setting needs no other code; it is plain Python
    because every CLI start reads the settings and a validation library (Pydantic)
    would add about 0.17 s to commands that otherwise never load it.
    """
    known = {f.name: str(f.type) for f in fields(cls) if f.name != "extra"}
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        declared = known.get(key)
        if declared is None:
            extra[key] = value
            continue
        options = [part.strip() for part in declared.split("|")] if "[" not in declared else [declared]
        if not any((option == "None" and value is None) or (option in _CHECKS and _CHECKS[option][1](value)) for option in options):
            wanted = " or ".join(_CHECKS[option][0] for option in options if option in _CHECKS)
            raise SettingsError(f"{path}: {key} should be {wanted}, got {value!r}")
        kwargs[key] = value
    obj = cls(**kwargs)
    if isinstance(obj, WorkspaceSettings):
        obj.extra = extra
    return obj


def load_workspace_settings(path: Path) -> WorkspaceSettings:
    return _validated(WorkspaceSettings, _read_toml(path), path)


def load_preferences(path: Path) -> Preferences:
    data = _read_toml(path)
    return _validated(Preferences, {k: v for k, v in data.items() if k in {"theme", "keymap", "mouse"}}, path)


def save_preference(path: Path, key: str, value: str) -> None:
    """Set one top-level string preference (``theme``) in the preferences file, keeping everything else.

    tomlkit edits the document in place, so the operator's comments, key
    remaps, order and tables stay as written. The new file replaces the old
    one atomically, owner-only like the workspace.
    """
    import tomlkit

    if key not in {"theme"}:
        raise ValueError(f"{key!r} is not a preference that can be saved")
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    document[key] = value
    text = tomlkit.dumps(document)
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
