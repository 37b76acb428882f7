"""The settings files checked against their declared types, and preferences saved without losing the operator's edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfdesk.settings import SettingsError, load_preferences, load_workspace_settings, save_preference


def test_a_number_written_as_text_is_refused_with_the_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('page_size = "50"\n')  # strict: text is not taken for a number
    with pytest.raises(SettingsError, match=rf"{cfg}: page_size should be a whole number, got '50'"):
        load_workspace_settings(cfg)
    cfg.write_text("page_size = true\n")  # nor is a bool
    with pytest.raises(SettingsError, match="page_size should be a whole number, got True"):
        load_workspace_settings(cfg)
    cfg.write_text("catalog_implausible_share = 1\n")  # a float setting takes a whole number
    assert load_workspace_settings(cfg).catalog_implausible_share == 1
    cfg.write_text("mouse = 1\n")
    assert load_workspace_settings(cfg).extra == {"mouse": 1}  # another file's key: set aside, not refused


def test_a_keymap_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    prefs = tmp_path / "prefs.toml"
    prefs.write_text('keymap = "o"\n')
    with pytest.raises(SettingsError, match="keymap should be a table of text values"):
        load_preferences(prefs)
    prefs.write_text("theme = 5\n")  # optional, but text when given
    with pytest.raises(SettingsError, match="theme should be text, got 5"):
        load_preferences(prefs)


def test_saving_the_theme_keeps_comments_order_and_tables(tmp_path: Path) -> None:
    prefs = tmp_path / "prefs.toml"
    text = '# mine\nmouse = true  # I like it\ntheme = "nord"\n\n[keymap]\n# quitting\n"app.quit" = "q"\n'
    prefs.write_text(text)
    save_preference(prefs, "theme", "gruvbox")
    assert prefs.read_text() == text.replace('"nord"', '"gruvbox"')
    assert load_preferences(prefs).keymap == {"app.quit": "q"}
