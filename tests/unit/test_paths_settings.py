"""Workspace discovery, settings files and the secrets store."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shelfdesk.paths import default_home, demo_home, resolve_paths
from shelfdesk.secrets import SecretError, SecretStore, mask, mask_url
from shelfdesk.settings import SettingsError, load_preferences, load_workspace_settings


@pytest.mark.sqlite  # the database's default place is the workspace's SQLite file
def test_shelfdesk_home_moves_every_workspace_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFDESK_HOME", str(tmp_path / "ws"))
    paths = resolve_paths()
    assert paths.home == (tmp_path / "ws").resolve()
    for path in (paths.workspace_config, paths.secrets, paths.log_dir, paths.exports_dir):
        assert paths.home in path.parents
    assert paths.database_file == paths.home / "shelfdesk.db"
    assert not paths.database_overridden


def test_database_url_override_and_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFDESK_DATABASE_URL", "postgresql://ops:hunter2@db/shelf")
    paths = resolve_paths()
    assert paths.database_overridden and paths.database_file is None
    shown = dict(paths.as_rows())["database"]
    assert "hunter2" not in shown and "ops" in shown


def test_explicit_home_beats_environment(tmp_path: Path) -> None:
    assert resolve_paths(tmp_path / "other").home == (tmp_path / "other").resolve()


def test_demo_workspace_is_never_the_default_one() -> None:
    assert demo_home() != default_home()


def test_preferences_follow_shelfdesk_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefs = tmp_path / "prefs.toml"
    prefs.write_text('theme = "shelfdesk-light"\n[keymap]\norders = "o"\n')
    monkeypatch.setenv("SHELFDESK_CONFIG", str(prefs))
    loaded = load_preferences(resolve_paths().preferences)
    assert loaded.theme == "shelfdesk-light" and loaded.keymap == {"orders": "o"}


def test_settings_defaults_and_type_errors(tmp_path: Path) -> None:
    assert load_workspace_settings(tmp_path / "missing.toml").harvest_lookback_days == 14
    bad = tmp_path / "config.toml"
    bad.write_text('harvest_lookback_days = "two weeks"\n')
    with pytest.raises(SettingsError, match="harvest_lookback_days"):
        load_workspace_settings(bad)
    bad.write_text("this is = = not toml")
    with pytest.raises(SettingsError, match=str(bad)):
        load_workspace_settings(bad)


def test_unknown_settings_are_kept_aside(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('company = "Refurb SAS"\nfuture_setting = 3\n')
    settings = load_workspace_settings(cfg)
    assert settings.company == "Refurb SAS" and settings.extra == {"future_setting": 3}


def test_secrets_file_is_owner_only_and_resolves_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SecretStore(tmp_path / "secrets.toml")
    ref = store.set("backmarket-eu", 'tok"en\\with quotes')
    assert ref == "secret:backmarket-eu"
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    assert store.resolve(ref) == 'tok"en\\with quotes'
    monkeypatch.setenv("BM_TOKEN", "from-env")
    assert store.resolve("env:BM_TOKEN") == "from-env"
    with pytest.raises(SecretError, match="NOPE is not set"):
        store.resolve("env:NOPE")
    with pytest.raises(SecretError, match="missing"):
        store.resolve("secret:other")
    store.delete("backmarket-eu")
    assert store.names() == []


def test_mask_never_shows_short_secrets_and_keeps_a_hint_of_long_ones() -> None:
    assert mask("abc") == "••••••••"
    assert mask("0123456789abcdefXYZ1").endswith("XYZ1")
    assert "0123" not in mask("0123456789abcdefXYZ1")
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
