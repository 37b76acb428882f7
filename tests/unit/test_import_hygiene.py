"""The CLI and headless code paths must not import Textual (startup time, servers without a UI)."""

from __future__ import annotations

import subprocess
import sys

HEADLESS_SNIPPET = """
import sys
import shelfdesk.cli
shelfdesk.cli.build_parser()
import shelfdesk.context, shelfdesk.paths, shelfdesk.settings, shelfdesk.clock
for name in {modules!r}:
    __import__(name)
leaked = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(",".join(leaked))
"""

# Modules that must stay importable without Textual; add every headless entry point here.
HEADLESS_MODULES = [
    "shelfdesk.db.models",
    "shelfdesk.channels.registry",
    "shelfdesk.sandbox.server",
    "shelfdesk.services.alerts",
    "shelfdesk.demo.build",
    "shelfdesk.cli.sandbox_cmd",
    "shelfdesk.invoices.service",
    "shelfdesk.webhooks.delivery",
    "shelfdesk.cli.invoices_cmd",
    "shelfdesk.cli.webhooks_cmd",
    "shelfdesk.webhooks.jobs",
    "shelfdesk.jobs.worker",
    "shelfdesk.cli.worker_cmd",
    "shelfdesk.cli.jobs_cmd",
    "shelfdesk.cli.status_cmd",
    "shelfdesk.jobs.health",
]


def test_cli_and_headless_modules_do_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HEADLESS_SNIPPET.format(modules=HEADLESS_MODULES)],
        capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == "", f"Textual imported by headless code: {result.stdout}"


def test_paths_command_runs_without_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shelfdesk", "paths"],
        capture_output=True, text=True, check=True,
    )
    assert "workspace" in result.stdout
    assert " textual" not in result.stderr


def test_building_the_cli_parser_does_not_load_the_database_layer() -> None:
    """Every ``shelfdesk`` start builds the parser: it must not pay for SQLAlchemy or httpx."""
    snippet = (
        "import sys, shelfdesk.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'httpx', 'textual') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
