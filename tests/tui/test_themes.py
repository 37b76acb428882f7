"""Themes: the shipped files, the default that follows the terminal, --theme, and bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shelfdesk.settings import Preferences, load_preferences, save_preference
from shelfdesk.tui import themes
from shelfdesk.tui.themes import (
    ANSI_DEFAULT,
    DARK,
    LIGHT,
    ThemeFileError,
    bundled_themes_dir,
    default_theme_name,
    load_theme_file,
    load_themes,
)

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _no_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shelfdesk.tui.app.count_open_alerts", lambda ctx: 0)


def test_shipped_themes_load() -> None:
    folder = bundled_themes_dir()
    loaded = load_themes([folder])
    assert loaded.problems == []
    by_name = {t.name: t for t in loaded.themes}
    assert {DARK, LIGHT} <= set(by_name)
    assert by_name[DARK].dark and not by_name[LIGHT].dark
    for theme in by_name.values():
        assert set(themes.STATUS_VARIABLES) <= set(theme.variables), theme.name


def test_shipped_folder_is_the_one_packaged_into_the_wheel() -> None:
    # pyproject force-includes the top-level themes/ as shelfdesk/themes.
    repo_root = Path(__file__).resolve().parents[2]
    assert bundled_themes_dir() == repo_root / "themes" or bundled_themes_dir().parent.name == "shelfdesk"
    assert '"themes" = "shelfdesk/themes"' in (repo_root / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ANSI_DEFAULT),
        ({"COLORTERM": "truecolor"}, DARK),
        ({"COLORTERM": "24bit"}, DARK),
        ({"COLORTERM": "yes"}, ANSI_DEFAULT),
        ({"COLORTERM": "truecolor", "NO_COLOR": "1"}, ANSI_DEFAULT),
    ],
)
def test_default_theme_follows_the_terminal(environ: dict[str, str], expected: str) -> None:
    assert default_theme_name(environ) == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("name = 'x'\nprimary = 'not-a-colour'\n", "primary = 'not-a-colour' is not a colour"),
        ("primary = '#ffffff'\n", "name is missing"),
        ("name = 'x'\n", "primary colour is missing"),
        ("name = 'x'\nprimary = '#fff'\nsparkle = 1\n", "unknown keys sparkle"),
        ("name = 'x'\nprimary = '#fff'\n[variables]\nstatus-ok = 'nope'\n", "variables.status-ok"),
        ("name = 'x'\nprimary = = \n", "not valid TOML"),
        ("name = 'x'\nprimary = '#fff'\ndark = 'yes'\n", "dark should be true or false"),
    ],
)
def test_bad_theme_file_is_refused_with_its_reason(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ThemeFileError, match="bad.toml") as info:
        load_theme_file(path)
    assert problem in str(info.value)


async def test_default_is_ansi_when_colorterm_is_unset(make_app: Any) -> None:
    app = make_app(theme=None)
    async with app.run_test(size=SIZE):
        assert app.theme == ANSI_DEFAULT
        # The status variables exist for Textual's own themes too.
        assert app.get_css_variables()["status-ok"] == "ansi_green"


async def test_shelfdesk_dark_when_truecolor(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")
    app = make_app(theme=None)
    async with app.run_test(size=SIZE):
        assert app.theme == DARK


async def test_theme_option_wins_over_preferences_and_default(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")
    app = make_app(theme=LIGHT, preferences=Preferences(theme="nord"))
    async with app.run_test(size=SIZE):
        assert app.theme == LIGHT
    app = make_app(theme=None, preferences=Preferences(theme="nord"))
    async with app.run_test(size=SIZE):
        assert app.theme == "nord"


async def test_unknown_theme_falls_back_with_a_message(make_app: Any) -> None:
    app = make_app(theme="no-such-theme")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == ANSI_DEFAULT
        assert any("Unknown theme 'no-such-theme' (from --theme)" in n.message for n in app._notifications)


async def test_bad_theme_file_is_skipped_not_fatal(make_app: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    own = tmp_path / "themes"
    own.mkdir()
    (own / "broken.toml").write_text("name = 'broken'\nprimary = 'purple-ish'\n")
    (own / "mine.toml").write_text("name = 'mine'\nprimary = '#336699'\ndark = true\n")
    monkeypatch.setattr("shelfdesk.tui.app.theme_dirs", lambda preferences: [bundled_themes_dir(), own])
    app = make_app(theme="mine")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.is_running
        assert app.theme == "mine" and DARK in app.available_themes
        assert "broken" not in app.available_themes
        assert any("broken.toml" in n.message and "not a colour" in n.message for n in app._notifications)


async def test_colon_theme_switches_among_all_registered(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for name in (LIGHT, "gruvbox"):
            app.open_command_line()
            await pilot.pause()
            app.screen.query_one("Input").value = f"theme {name}"
            await pilot.press("enter")
            await pilot.pause()
            assert app.theme == name
        await pilot.press("colon", *"theme nope", "enter")
        await pilot.pause()
        assert app.theme == "gruvbox"
        assert any("Unknown theme 'nope'" in n.message for n in app._notifications)


async def test_a_theme_chosen_in_the_console_is_saved_and_opens_next_time(make_app: Any, ctx: Any) -> None:
    prefs = ctx.paths.preferences
    prefs.parent.mkdir(parents=True, exist_ok=True)
    prefs.write_text('# mine\nmouse = false\n\n[keymap]\n"app.quit" = "q"\n', encoding="utf-8")
    app = make_app(theme=LIGHT)  # --theme is a one-off: starting with it writes nothing
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "theme" not in prefs.read_text(encoding="utf-8")
        app.open_command_line()
        await pilot.pause()
        app.screen.query_one("Input").value = "theme gruvbox"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
    saved = load_preferences(prefs)
    assert saved.theme == "gruvbox" and saved.keymap == {"app.quit": "q"} and saved.mouse is False
    assert prefs.read_text(encoding="utf-8").startswith("# mine\n") and prefs.stat().st_mode & 0o077 == 0
    app = make_app(theme=None, preferences=saved)
    async with app.run_test(size=SIZE):
        assert app.theme == "gruvbox"


def test_save_preference_replaces_the_key_and_keeps_tables(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_preference(path, "theme", "nord")
    save_preference(path, "theme", 'odd "name"')
    assert load_preferences(path).theme == 'odd "name"' and path.read_text().count("theme =") == 1
    with pytest.raises(ValueError):
        save_preference(path, "keymap", "x")
