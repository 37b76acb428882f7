"""The Textual console.

Nothing outside ``shelfdesk.tui`` imports Textual: the CLI's ``open`` and
``demo`` commands call :func:`run_console`, which imports the App only when
called, so ``shelfdesk paths`` or the headless worker never pay for it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shelfdesk.context import AppContext

STARTUP_PROBE_ENV = "SHELFDESK_STARTUP_PROBE"
"""If set, the console writes ``time.time()`` to this file at its first frame and exits (startup benchmark)."""

log = logging.getLogger("shelfdesk.tui")


def run_console(ctx: AppContext, *, theme: str | None = None, mouse: bool = False, jobs: bool = True) -> int:
    """Open the console on ``ctx`` and return its exit code.

    ``theme`` comes from ``--theme``; the mouse is captured only with
    ``mouse=True`` or ``mouse = true`` in the preferences, so terminal
    selection keeps working over SSH by default. ``jobs`` runs the
    workspace's scheduled jobs inside the console (not when read-only);
    leases keep them to one run per interval alongside workers.
    """
    from shelfdesk.settings import Preferences, SettingsError, load_preferences
    from shelfdesk.tui.app import ShelfdeskApp

    try:
        preferences = load_preferences(ctx.paths.preferences)
    except SettingsError as exc:
        log.warning("preferences ignored: %s", exc)
        print(f"shelfdesk: preferences ignored: {exc}", file=sys.stderr)
        preferences = Preferences()
    probe = os.environ.get(STARTUP_PROBE_ENV)
    app = ShelfdeskApp(
        ctx,
        theme=theme,
        preferences=preferences,
        startup_probe=Path(probe) if probe else None,
        embedded_jobs=jobs,
    )
    app.run(mouse=mouse or preferences.mouse)
    return app.return_code or 0
