"""shelfdesk's colour themes: where they live, how they load, which one starts.

Themes are TOML files so an operator can add one without writing Python: the
ones shipped in the top-level ``themes/`` folder (packaged as
``shelfdesk/themes`` in the wheel) and any in a ``themes/`` folder beside the
operator's preferences file. A broken file must never stop the console from
opening over SSH at 3 a.m., so :func:`load_themes` skips it and returns the
reason, which the app shows as a toast and writes to the log.

The default theme follows the terminal, not our taste: without
``COLORTERM=truecolor`` (the usual case over SSH, which does not forward it)
or with ``NO_COLOR`` set, Textual's ``ansi-dark`` uses the terminal's own
palette and stays readable in 16 or 256 colours. Only a truecolor terminal
gets ``shelfdesk-dark``.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

import shelfdesk

log = logging.getLogger("shelfdesk.tui.themes")

DARK = "shelfdesk-dark"
LIGHT = "shelfdesk-light"
ANSI_DEFAULT = "ansi-dark"

COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
OTHER_KEYS = {"name", "dark", "luminosity_spread", "text_alpha", "variables"}

# Status colours every screen may use as ``$status-…``. A theme file may set
# them under [variables]; any theme that does not (Textual's built-in ones)
# gets them from its own success/warning/error colours, see status_variables().
STATUS_VARIABLES = ("status-ok", "status-warning", "status-error", "status-info", "status-muted")


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass
class ThemeLoad:
    """The themes found, and one line per file that was skipped."""

    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def bundled_themes_dir() -> Path:
    """The shipped ``themes`` folder, in an installed wheel or in the repository.

    A wheel carries it as ``shelfdesk/themes``; an editable install runs from
    ``src/shelfdesk``, so the repository's top-level ``themes/`` is two levels up.
    """
    package = Path(shelfdesk.__file__).resolve().parent
    packaged = package / "themes"
    if packaged.is_dir():
        return packaged
    return package.parents[1] / "themes"


def theme_dirs(preferences_file: Path | None = None) -> list[Path]:
    """Folders searched for theme files, shipped ones first.

    The operator's own folder (``themes/`` beside the preferences file) comes
    last, so a personal file with a shipped theme's name replaces it.
    """
    dirs = [bundled_themes_dir()]
    if preferences_file is not None:
        dirs.append(preferences_file.parent / "themes")
    return dirs


def _colour(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{path.name}: {key} should be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{path.name}: {key} = {value!r} is not a colour") from None
    return value


def parse_theme(data: Mapping[str, Any], path: Path) -> Theme:
    """Build a Textual theme from one file's table, refusing anything doubtful.

    Values are checked here rather than left to the CSS engine, because a bad
    colour found while switching themes would break the whole stylesheet.
    """
    unknown = set(data) - set(COLOUR_KEYS) - OTHER_KEYS
    if unknown:
        raise ThemeFileError(f"{path.name}: unknown keys {', '.join(sorted(unknown))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{path.name}: name is missing")
    if "primary" not in data:
        raise ThemeFileError(f"{path.name}: primary colour is missing")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{path.name}: dark should be true or false")
    colours: dict[str, Any] = {key: _colour(path, key, data[key]) for key in COLOUR_KEYS if key in data}
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{path.name}: [variables] should be a table")
    checked_variables = {str(key): _colour(path, f"variables.{key}", value) for key, value in variables.items()}
    extra: dict[str, Any] = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            if not isinstance(data[key], (int, float)) or isinstance(data[key], bool):
                raise ThemeFileError(f"{path.name}: {key} should be a number")
            extra[key] = float(data[key])
    return Theme(name=name.strip(), dark=dark, variables=checked_variables, **colours, **extra)


def load_theme_file(path: Path) -> Theme:
    """Read one ``.toml`` theme file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path.name}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ThemeFileError(f"{path.name}: cannot be read ({exc.strerror})") from None
    return parse_theme(data, path)


def load_themes(dirs: Iterable[Path]) -> ThemeLoad:
    """Every usable theme in ``dirs`` (missing folders are fine), plus what was skipped."""
    result = ThemeLoad()
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                result.themes.append(load_theme_file(path))
            except ThemeFileError as exc:
                message = f"Theme file skipped: {exc}"
                log.warning("%s (%s)", message, path)
                result.problems.append(message)
    return result


def default_theme_name(environ: Mapping[str, str] | None = None) -> str:
    """The theme to start with when neither ``--theme`` nor the preferences name one."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return ANSI_DEFAULT
    if env.get("COLORTERM", "").strip().lower() in {"truecolor", "24bit"}:
        return DARK
    return ANSI_DEFAULT


def status_variables(theme: Theme) -> dict[str, str]:
    """Fallback ``$status-*`` values for a theme whose file does not set them.

    They follow the theme's own success/warning/error colours, so Textual's
    built-in themes (ANSI ones included) still colour statuses sensibly.
    """
    muted = "ansi_bright_black" if theme.ansi else ("#7A828E" if theme.dark else "#6E7781")
    return {
        "status-ok": theme.success or theme.primary,
        "status-warning": theme.warning or theme.primary,
        "status-error": theme.error or theme.primary,
        "status-info": theme.primary,
        "status-muted": muted,
    }
